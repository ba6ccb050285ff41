// Message codec throughput on the hot paths: Produce requests and Fetch responses carrying
// record bytes (copied as opaque bytes), and a large Metadata response. MB/s and msgs/s.
import { randomBytes } from "node:crypto";
import { ApiKey } from "../src/protocol/generated/index.ts";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../src/protocol/messages.ts";

function measure(seconds: number, f: () => number): { perSecond: number; mbPerSecond: number } {
  let ops = 0;
  let bytes = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) bytes += f();
    ops += 50;
  }
  return { perSecond: Math.round(ops / seconds), mbPerSecond: Number((bytes / seconds / 1e6).toFixed(1)) };
}

export function run(): Record<string, number> {
  const records = randomBytes(16 * 1024);
  const produce = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topicData: [
      { name: "orders", partitionData: Array.from({ length: 8 }, (_, i) => ({ index: i, records })) },
    ],
  };
  const fetch = {
    responses: [
      {
        topic: "orders",
        topicId: "AAAAAAAAAAAAAAAAAAAAAA",
        partitions: Array.from({ length: 8 }, (_, i) => ({
          partitionIndex: i,
          highWatermark: 1000n,
          lastStableOffset: 1000n,
          logStartOffset: 0n,
          abortedTransactions: [],
          records,
        })),
      },
    ],
  };
  const metadata = {
    brokers: [{ nodeId: 1, host: "localhost", port: 9092, rack: null }],
    topics: Array.from({ length: 200 }, (_, t) => ({
      name: `topic-${t}`,
      topicId: "AAAAAAAAAAAAAAAAAAAAAA",
      partitions: Array.from({ length: 12 }, (_, p) => ({
        partitionIndex: p,
        leaderId: 1,
        replicaNodes: [1],
        isrNodes: [1],
      })),
    })),
  };
  const opts = { correlationId: 1, clientId: "bench" };
  const produceFrame = encodeRequest(ApiKey.Produce, 9, opts, produce).subarray(4);
  const fetchFrame = encodeResponse(ApiKey.Fetch, 12, 1, fetch).subarray(4);
  const metadataFrame = encodeResponse(ApiKey.Metadata, 12, 1, metadata).subarray(4);
  const s = Number(process.env.FERRY_BENCH_SECONDS ?? 2);
  const pe = measure(s, () => encodeRequest(ApiKey.Produce, 9, opts, produce).length);
  const pd = measure(s, () => (decodeRequest(produceFrame), produceFrame.length));
  const fe = measure(s, () => encodeResponse(ApiKey.Fetch, 12, 1, fetch).length);
  const fd = measure(s, () => (decodeResponse(fetchFrame, ApiKey.Fetch, 12), fetchFrame.length));
  const me = measure(s, () => encodeResponse(ApiKey.Metadata, 12, 1, metadata).length);
  const md = measure(s, () => (decodeResponse(metadataFrame, ApiKey.Metadata, 12), metadataFrame.length));
  return {
    produceV9EncodeMBps: pe.mbPerSecond,
    produceV9DecodeMBps: pd.mbPerSecond,
    fetchV12EncodeMBps: fe.mbPerSecond,
    fetchV12DecodeMBps: fd.mbPerSecond,
    metadata2400PartitionsEncodePerSec: me.perSecond,
    metadata2400PartitionsDecodePerSec: md.perSecond,
  };
}
