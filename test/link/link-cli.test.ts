// `ferry link` as a real process: its HTTP endpoint, filter changes while it runs, clear
// errors for bad options, and kill -9 at random moments under load with the target checked
// against the source afterwards (mirror mode: byte for byte; translation mode: each record
// exactly once, in order).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { Producer } from "../../src/client/producer.ts";
import { CompressionCodec } from "../../src/protocol/compression/index.ts";
import { startTestBroker, type TestBroker } from "../broker/broker-helpers.ts";
import { Admin, clusterOf, endOffset, readAllBatches, readRecords, waitFor } from "./link-helpers.ts";
import { getJson, spawnLink } from "./link-process.ts";

const FERRY = fileURLToPath(new URL("../../bin/ferry", import.meta.url));
const KILLS = 5;

describe("ferry link (process)", () => {
  let a: TestBroker;
  let b: TestBroker;
  before(async () => {
    a = await startTestBroker();
    b = await startTestBroker();
  });
  after(async () => {
    await a.destroy();
    await b.destroy();
  });

  test("bad options fail with the option named and exit code 2", () => {
    const run = (...args: string[]): { status: number | null; stderr: string } => {
      const r = spawnSync(FERRY, ["link", ...args], { encoding: "utf8" });
      return { status: r.status, stderr: r.stderr };
    };
    let r = run("--source", "x:1", "--target", "y:1");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--name: is required/);
    r = run("--name", "n", "--source", a.bootstrap, "--target", b.bootstrap, "--topics", "(");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--topics: '\(' is not a valid regular expression/);
    r = run("--name", "bad name", "--source", a.bootstrap, "--target", b.bootstrap);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--name: 'bad name' must be/);
    r = run("--name", "n", "--source", a.bootstrap, "--target", b.bootstrap, "--mode", "fast");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--mode: expected auto, mirror or translate/);
    r = run(
      "--name",
      "n",
      "--source",
      a.bootstrap,
      "--target",
      b.bootstrap,
      "--http",
      "0",
      "--http-host",
      "0.0.0.0",
    );
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /--http-host: serving beyond loopback \(0\.0\.0\.0\) needs a bearer token in FERRY_API_TOKEN/,
    );
  });

  test("serves /status, /metrics and /filters, and applies a filter change without a restart", async () => {
    const source = clusterOf(a.bootstrap);
    const target = clusterOf(b.bootstrap);
    try {
      await new Admin(source).createTopics([
        { name: "http.a", numPartitions: 1 },
        { name: "http.b", numPartitions: 1 },
      ]);
      await new Producer(source).send("http.a", [{ value: Buffer.from("a") }]);
      await new Producer(source).send("http.b", [{ value: Buffer.from("b") }]);
      const link = await spawnLink([
        "--name",
        "http1",
        "--source",
        a.bootstrap,
        "--target",
        b.bootstrap,
        "--topics",
        "http\\.a",
        "--topics-interval-ms",
        "200",
      ]);
      try {
        await waitFor(
          "http.a copied",
          async () => (await endOffset(target, "http.a", 0).catch(() => -1n)) === 1n,
        );
        const status = (await getJson(`${link.url}/status`)) as {
          name: string;
          topics: { source: string; mode: string }[];
          totals: { records: number };
        };
        assert.equal(status.name, "http1");
        assert.deepEqual(
          status.topics.map((t) => [t.source, t.mode]),
          [["http.a", "mirror"]],
        );
        assert.equal(status.totals.records, 1);
        const metrics = await (await fetch(`${link.url}/metrics`)).text();
        assert.match(
          metrics,
          /^ferry_link_records_copied_total\{link="http1",topic="http.a",partition="0"\} 1$/m,
        );
        assert.match(metrics, /^# TYPE ferry_link_replication_latency_seconds histogram$/m);
        assert.match(metrics, /^ferry_link_lag_records\{link="http1",topic="http.a",partition="0"\} 0$/m);
        const bad = await fetch(`${link.url}/filters`, {
          method: "PUT",
          body: JSON.stringify({ topics: "[" }),
        });
        assert.equal(bad.status, 400);
        assert.match(
          ((await bad.json()) as { error: string }).error,
          /topics: '\[' is not a valid regular expression/,
        );
        const ok = await fetch(`${link.url}/filters`, {
          method: "PUT",
          body: JSON.stringify({ topics: "http\\..*" }),
        });
        assert.equal(ok.status, 200);
        await waitFor(
          "http.b copied after PUT /filters",
          async () => (await endOffset(target, "http.b", 0).catch(() => -1n)) === 1n,
        );
        assert.equal(await link.stop(), 0);
      } finally {
        await link.kill9();
      }
    } finally {
      await source.close();
      await target.close();
    }
  });

  for (const mode of ["mirror", "translate"] as const) {
    test(`kill -9 under load, ${mode} mode: the target matches the source afterwards`, async () => {
      const topic = `crash-${mode}`;
      const source = clusterOf(a.bootstrap);
      const target = clusterOf(b.bootstrap);
      try {
        await new Admin(source).createTopics([{ name: topic, numPartitions: 4 }]);
        const producer = new Producer(source, { idempotent: true });
        let producing = true;
        let sent = 0;
        const load = (async () => {
          while (producing) {
            await producer.send(
              topic,
              Array.from({ length: 50 }, (_, i) => ({
                key: Buffer.from(`k${sent + i}`),
                value: Buffer.from(`value-${sent + i}-`.padEnd(200, "x")),
              })),
              { compression: CompressionCodec.LZ4 },
            );
            sent += 50;
            await new Promise((r) => setTimeout(r, 5));
          }
        })();
        const args = [
          "--name",
          `crash-${mode}`,
          "--source",
          a.bootstrap,
          "--target",
          b.bootstrap,
          "--topics",
          topic,
          "--mode",
          mode,
        ];
        let kills = 0;
        for (let i = 0; i < KILLS; i++) {
          const link = await spawnLink(args);
          await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 700)));
          await link.kill9();
          kills++;
        }
        producing = false;
        await load;
        const link = await spawnLink(args);
        try {
          for (let p = 0; p < 4; p++) {
            const end = await endOffset(source, topic, p);
            if (mode === "mirror") {
              await waitFor(
                `partition ${p} caught up`,
                async () => (await endOffset(target, topic, p)) === end,
                30_000,
              );
              const digest = (buf: Buffer): string => createHash("sha256").update(buf).digest("hex");
              assert.equal(
                digest(await readAllBatches(target, topic, p)),
                digest(await readAllBatches(source, topic, p)),
                `partition ${p} differs`,
              );
            } else {
              await waitFor(
                `partition ${p} caught up`,
                async () => (await endOffset(target, topic, p)) >= end,
                30_000,
              );
              await new Promise((r) => setTimeout(r, 300));
              const src = (await readRecords(source, topic, p)).map((r) => `${r.key}=${r.value}`);
              const tgt = (await readRecords(target, topic, p)).map((r) => `${r.key}=${r.value}`);
              assert.equal(
                tgt.length,
                src.length,
                `partition ${p}: ${tgt.length - src.length} extra records on the target`,
              );
              assert.deepEqual(tgt, src);
            }
          }
          assert.ok(sent > 0 && kills === KILLS);
        } finally {
          await link.stop();
        }
      } finally {
        await source.close();
        await target.close();
      }
    });
  }
});
