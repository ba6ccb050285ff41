// Record batches that kcat (librdkafka 2.0.2) produced with each compression codec,
// captured on the wire (fixtures/kcat-compressed.json), decode to exactly the records sent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ApiKey } from "../../../src/protocol/generated/index.ts";
import { decodeRequestAs } from "../../../src/protocol/messages.ts";
import { decodeBatches } from "../../../src/protocol/records/batch-codec.ts";
import { compressionOf } from "../../../src/protocol/records/batch-header.ts";

interface SentRecord {
  key: string;
  value: string;
  headers: { key: string; value: string }[];
}
interface CodecCapture {
  codec: string;
  compressionAttribute: number;
  records: SentRecord[];
  produceRequests: { hex: string }[];
}
const capture = JSON.parse(
  readFileSync(new URL("../fixtures/kcat-compressed.json", import.meta.url), "utf8"),
) as { codecs: CodecCapture[] };

test("the capture has kcat batches for none, gzip, snappy, lz4 and zstd", () => {
  assert.deepEqual(capture.codecs.map((c) => c.codec).sort(), ["gzip", "lz4", "none", "snappy", "zstd"]);
});

for (const c of capture.codecs) {
  test(`kcat -z ${c.codec}: batches decode to exactly the records sent`, () => {
    const got: SentRecord[] = [];
    for (const frame of c.produceRequests) {
      const { body } = decodeRequestAs(ApiKey.Produce, Buffer.from(frame.hex, "hex"));
      for (const topic of body.topicData) {
        for (const p of topic.partitionData) {
          assert.ok(p.records !== null);
          for (const batch of decodeBatches(p.records, { verifyCrc: true })) {
            assert.equal(compressionOf(batch.header.attributes), c.compressionAttribute, "compression bits");
            for (const r of batch.records) {
              got.push({
                key: r.key === null ? "<null>" : r.key.toString("utf8"),
                value: r.value === null ? "<null>" : r.value.toString("utf8"),
                headers: r.headers.map((h) => ({
                  key: h.key,
                  value: h.value === null ? "<null>" : h.value.toString("utf8"),
                })),
              });
            }
          }
        }
      }
    }
    const byKey = (a: SentRecord, b: SentRecord): number => a.key.localeCompare(b.key);
    assert.equal(got.length, c.records.length);
    assert.deepEqual(got.sort(byKey), [...c.records].sort(byKey));
  });
}
