// Decoder fuzzing at scale: FERRY_FUZZ_FRAMES (default 1,000,000) mutated frames of every
// API and version, plus captured real-client frames. Every failure must be a typed
// ProtocolError; reports throughput, the slowest single decode and peak memory.
import { fixtureCorpus, fuzzDecoders, schemaCorpus } from "../test/protocol/fuzz-frames.ts";

export function run(): Record<string, number | string> {
  const total = Number(process.env.FERRY_FUZZ_FRAMES ?? 1_000_000);
  const seed = Number(process.env.FERRY_FUZZ_SEED ?? 1);
  const corpus = [...schemaCorpus(2, seed), ...fixtureCorpus()];
  const corpusBytes = corpus.reduce((n, f) => n + f.payload.length, 0);
  let decoded = 0;
  let rejected = 0;
  let untyped = 0;
  let slowestMs = 0;
  let peakRss = process.memoryUsage().rss;
  const rssBefore = peakRss;
  const chunk = 50_000;
  const t0 = performance.now();
  for (let done = 0; done < total; done += chunk) {
    const n = Math.min(chunk, total - done);
    const out = fuzzDecoders(corpus, n, seed * 1_000_003 + done);
    decoded += out.decoded;
    rejected += out.rejected;
    untyped += out.untyped.length;
    for (const u of out.untyped)
      console.error(`UNTYPED ${u.direction} key=${u.apiKey} v${u.apiVersion}: ${u.error}\n  ${u.frame}`);
    slowestMs = Math.max(slowestMs, out.slowestMs);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (untyped > 0) process.exitCode = 1;
  return {
    frames: total,
    corpusFrames: corpus.length,
    corpusMaxFrameBytes: Math.max(...corpus.map((f) => f.payload.length)),
    corpusBytes,
    decoded,
    rejectedWithProtocolError: rejected,
    untypedExceptions: untyped,
    framesPerSecond: Math.round(total / seconds),
    slowestDecodeMs: Number(slowestMs.toFixed(3)),
    rssGrowthMiB: Number(((peakRss - rssBefore) / 2 ** 20).toFixed(1)),
    seconds: Number(seconds.toFixed(1)),
  };
}
