// A batch written out byte by byte from the v2 format description, with its CRC computed
// separately (bitwise CRC-32C); the encoder must produce exactly these bytes and the
// decoder must read them back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeBatch, encodeBatch } from "../../../src/protocol/records/batch-codec.ts";
import { readBatchHeader, verifyBatchCrc } from "../../../src/protocol/records/batch-header.ts";

const GOLDEN = Buffer.from(
  [
    "0000000000000005", // baseOffset 5
    "0000004a", // batchLength 74 (86 - 12)
    "00000003", // partitionLeaderEpoch 3
    "02", // magic 2
    "f33870db", // crc over everything from attributes on
    "0010", // attributes: transactional, no compression, CreateTime
    "00000001", // lastOffsetDelta 1
    "0000018bcfe56800", // baseTimestamp 1700000000000
    "0000018bcfe568fa", // maxTimestamp 1700000000250
    "000000000000002a", // producerId 42
    "0007", // producerEpoch 7
    "00000064", // baseSequence 100
    "00000002", // recordCount 2
    // record 0: length 14, attributes 0, timestampDelta 0, offsetDelta 0,
    // key "k", value "v0", 1 header "h1" = "x"
    "1c",
    "00",
    "00",
    "00",
    "026b",
    "047630",
    "02",
    "046831",
    "0278",
    // record 1: length 9, attributes 0, timestampDelta 250 (zig-zag 500 = f4 03),
    // offsetDelta 1, null key, value "v1", no headers
    "12",
    "00",
    "f403",
    "02",
    "01",
    "047631",
    "00",
  ].join(""),
  "hex",
);

const OPTIONS = {
  baseOffset: 5n,
  partitionLeaderEpoch: 3,
  transactional: true,
  producerId: 42n,
  producerEpoch: 7,
  baseSequence: 100,
  records: [
    {
      key: Buffer.from("k"),
      value: Buffer.from("v0"),
      headers: [{ key: "h1", value: Buffer.from("x") }],
      timestamp: 1700000000000,
    },
    { key: null, value: Buffer.from("v1"), timestamp: 1700000000250 },
  ],
};

test("the encoder writes the golden batch byte for byte", () => {
  assert.equal(encodeBatch(OPTIONS).toString("hex"), GOLDEN.toString("hex"));
});

test("the golden batch's CRC verifies", () => {
  assert.ok(verifyBatchCrc(GOLDEN));
});

test("the golden batch's header reads back field by field", () => {
  assert.deepEqual(readBatchHeader(GOLDEN), {
    baseOffset: 5n,
    batchLength: 74,
    partitionLeaderEpoch: 3,
    magic: 2,
    crc: 0xf33870db,
    attributes: 0x10,
    lastOffsetDelta: 1,
    baseTimestamp: 1700000000000,
    maxTimestamp: 1700000000250,
    producerId: 42n,
    producerEpoch: 7,
    baseSequence: 100,
    recordCount: 2,
  });
});

test("the golden batch's records decode", () => {
  const { records } = decodeBatch(GOLDEN);
  assert.equal(records.length, 2);
  const [r0, r1] = records;
  assert.equal(r0?.timestamp, 1700000000000);
  assert.equal(r0?.offsetDelta, 0);
  assert.equal(r0?.key?.toString(), "k");
  assert.equal(r0?.value?.toString(), "v0");
  assert.deepEqual(
    r0?.headers.map((h) => [h.key, h.value?.toString()]),
    [["h1", "x"]],
  );
  assert.equal(r1?.timestamp, 1700000000250);
  assert.equal(r1?.offsetDelta, 1);
  assert.equal(r1?.key, null);
  assert.equal(r1?.value?.toString(), "v1");
  assert.deepEqual(r1?.headers, []);
});
