// Load generator for bench/broker.ts, run as its own process so the broker's CPU time is
// its own: produces pre-built 1 KiB-record batches (acks=all, pipelined) or fetches them
// back, for a number of seconds, and prints {bytes, records, seconds} as JSON.
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { openConnection } from "../../src/net/connection.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    topic: { type: "string" },
    partitions: { type: "string" },
    mode: { type: "string" },
    seconds: { type: "string" },
    connections: { type: "string", default: "2" },
  },
});
const port = Number(values.port);
const topic = values.topic ?? "bench";
const partitions = Number(values.partitions);
const seconds = Number(values.seconds);
const RECORD = 1024;
const PER_BATCH = 16;

async function produce(): Promise<{ bytes: number; records: number }> {
  const payloads = Array.from({ length: PER_BATCH }, () => randomBytes(RECORD));
  const batch = encodeBatch({ records: payloads.map((value) => ({ value })) });
  const end = Date.now() + seconds * 1000;
  let bytes = 0;
  let records = 0;
  const worker = async (c: number): Promise<void> => {
    const conn = await openConnection({ host: "127.0.0.1", port, clientId: `load-${c}`, maxInFlight: 5 });
    let p = c;
    const lane = async (): Promise<void> => {
      while (Date.now() < end) {
        const partitionData = [];
        // One request carries a batch for each of up to 8 partitions, round-robin.
        for (let i = 0; i < Math.min(8, partitions); i++)
          partitionData.push({ index: p++ % partitions, records: batch });
        const res = await conn.send(ApiKey.Produce, 9, {
          acks: -1,
          timeoutMs: 30000,
          topicData: [{ name: topic, partitionData }],
        });
        for (const r of res.responses[0]?.partitionResponses ?? [])
          if (r.errorCode !== 0) throw new Error(`produce error ${r.errorCode}`);
        bytes += partitionData.length * PER_BATCH * RECORD;
        records += partitionData.length * PER_BATCH;
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    await conn.close();
  };
  await Promise.all(Array.from({ length: Number(values.connections) }, (_, c) => worker(c)));
  return { bytes, records };
}

async function fetchAll(): Promise<{ bytes: number; records: number }> {
  const conn = await openConnection({ host: "127.0.0.1", port, clientId: "load-fetch", maxInFlight: 1 });
  const offsets = new Array<bigint>(partitions).fill(0n);
  const end = Date.now() + seconds * 1000;
  let bytes = 0;
  let records = 0;
  while (Date.now() < end) {
    const res = await conn.send(ApiKey.Fetch, 12, {
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 16 << 20,
      topics: [
        {
          topic,
          partitions: offsets.map((o, i) => ({ partition: i, fetchOffset: o, partitionMaxBytes: 1 << 20 })),
        },
      ],
    });
    let got = 0;
    for (const p of res.responses[0]?.partitions ?? []) {
      const recs = p.records;
      if (recs === null || recs.length === 0) continue;
      // Walk batch headers only: a consumer's byte count without decoding records.
      let pos = 0;
      while (pos + 61 <= recs.length) {
        const len = recs.readInt32BE(pos + 8);
        if (pos + 12 + len > recs.length) break;
        const base = recs.readBigInt64BE(pos);
        const lastDelta = recs.readInt32BE(pos + 23);
        const count = recs.readInt32BE(pos + 57);
        offsets[p.partitionIndex] = base + BigInt(lastDelta) + 1n;
        records += count;
        got += count;
        bytes += count * RECORD;
        pos += 12 + len;
      }
    }
    if (got === 0) break; // everything produced has been read
  }
  await conn.close();
  return { bytes, records };
}

const t0 = performance.now();
const result = values.mode === "fetch" ? await fetchAll() : await produce();
process.stdout.write(JSON.stringify({ ...result, seconds: (performance.now() - t0) / 1000 }) + "\n");
