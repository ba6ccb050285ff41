// The allocation-free record walker used to validate uncompressed batches, checked against
// the full codec: whatever the codec writes, the walker accepts with the same timestamps.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeBatch } from "../../../src/protocol/records/batch-codec.ts";
import { RECORDS_OFFSET, readBatchHeader } from "../../../src/protocol/records/batch-header.ts";
import { newRecordScanResult, scanRecords } from "../../../src/broker/log/record-scan.ts";
import { lastSequence } from "../../../src/broker/log/producer-state.ts";

const recordArb = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
  headers: fc.array(
    fc.record({
      key: fc.string({ maxLength: 10 }),
      value: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
    }),
    {
      maxLength: 3,
    },
  ),
});

test("every batch the codec writes passes the walker with its min and max timestamps", () => {
  fc.assert(
    fc.property(fc.array(recordArb, { minLength: 1, maxLength: 20 }), (records) => {
      const b = encodeBatch({ records });
      const h = readBatchHeader(b);
      const out = newRecordScanResult();
      assert.equal(scanRecords(b, RECORDS_OFFSET, b.length, h.recordCount, h.baseTimestamp, out), null);
      assert.equal(out.maxTimestamp, Math.max(...records.map((r) => r.timestamp)));
      assert.equal(out.minTimestamp, Math.min(...records.map((r) => r.timestamp)));
      assert.equal(
        out.allKeyed,
        records.every((r) => r.key !== null),
      );
    }),
  );
});

test("the walker refuses cut records, extra bytes and wrong offset deltas", () => {
  const b = encodeBatch({
    records: [{ value: Buffer.from("abc") }, { value: Buffer.from("def") }],
    timestamp: 1,
  });
  const out = newRecordScanResult();
  assert.notEqual(scanRecords(b, RECORDS_OFFSET, b.length - 1, 2, 1, out), null);
  assert.notEqual(scanRecords(b, RECORDS_OFFSET, b.length, 1, 1, out), null);
  assert.notEqual(scanRecords(b, RECORDS_OFFSET, b.length, 3, 1, out), null);
  const gap = encodeBatch({
    records: [{ value: Buffer.from("a") }, { value: Buffer.from("b"), offsetDelta: 2 }],
    timestamp: 1,
  });
  assert.match(scanRecords(gap, RECORDS_OFFSET, gap.length, 2, 1, out) ?? "", /offset delta 2/);
  assert.equal(out.errorIndex, 1);
});

test("sequence numbers wrap at int32 max", () => {
  assert.equal(lastSequence(0, 4), 4);
  assert.equal(lastSequence(0x7fffffff, 0), 0x7fffffff);
  assert.equal(lastSequence(0x7fffffff, 1), 0);
  assert.equal(lastSequence(0x7ffffffe, 5), 3);
});
