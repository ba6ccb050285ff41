// `ferry up` as a user runs it: three embedded clusters and two links from a topology file, the
// REST API and CLI read commands, a live filter change without a restart, and a clean SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import type { LinkDetail, StatusView } from "../../src/control/views.ts";
import { waitFor } from "../link/link-helpers.ts";
import { ferry, recordsIn as records, startUp } from "./control-process.ts";

function topology(topicsOfAtoB: string): string {
  return `# three embedded clusters: a -> b (identity names) -> c (prefix dr.)
control:
  port: 0
clusters:
  a: { type: embedded, dataDir: ./a, site: factory }
  b: { type: embedded, dataDir: ./b }
  c: { type: embedded, dataDir: ./c, region: dr }
links:
  a-to-b:
    source: a
    target: b
    topics: "${topicsOfAtoB}"
    intervals: { topicsMs: 200, checkpointMs: 200 }
  b-to-c:
    source: b
    target: c
    prefix: dr.
    intervals: { topicsMs: 200, checkpointMs: 200 }
`;
}

async function get<T>(api: string, path: string): Promise<T> {
  const res = await fetch(api + path);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

test("ferry up runs three clusters and two links, applies a filter change live, and stops on SIGTERM", async () => {
  const up = await startUp(topology("orders"));
  const { api, file } = up;
  try {
    assert.equal((await fetch(`${api}/healthz`)).status, 200);

    // Records written to a with `ferry produce` (cluster by name) reach b and, prefixed, c.
    const orders = Array.from({ length: 20 }, (_, i) => `o${i}:order ${i}`).join("\n");
    const produced = await ferry(["produce", "a", "orders", "-K", ":", "--api", api], orders);
    assert.equal(produced.code, 0, produced.stderr);
    const audit = await ferry(["produce", "a", "audit", "--api", api], "login\nlogout\n");
    assert.equal(audit.code, 0, audit.stderr);
    await waitFor("orders on b", async () => (await records(api, "b", "orders")) === 20);
    await waitFor("dr.orders on c", async () => (await records(api, "c", "dr.orders")) === 20);
    assert.equal(await records(api, "b", "audit"), -1, "audit is outside a-to-b's filter");

    const consumed = await ferry(["consume", "c", "dr.orders", "--keys", "--api", api]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(consumed.stdout.trim().split("\n").length, 20);
    assert.match(consumed.stdout, /^o3\torder 3$/m);

    // The read commands: JSON answers and exit codes.
    const status = await ferry(["status", "--json", "--api", api]);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const view = JSON.parse(status.stdout) as StatusView;
    assert.deepEqual(view.clusters.map((c) => c.name).sort(), ["a", "b", "c"]);
    assert.deepEqual(view.links.map((l) => [l.name, l.health]).sort(), [
      ["a-to-b", "ok"],
      ["b-to-c", "ok"],
    ]);
    const lag = await ferry(["lag", "a-to-b", "--api", api]);
    assert.equal(lag.code, 0, lag.stderr);
    assert.match(lag.stdout, /^orders\s+orders\s+0\s+\d+\s+\d+\s+0\s/m);
    assert.equal((await ferry(["lag", "no-such-link", "--api", api])).code, 4);
    const topics = await ferry(["topics", "c", "--api", api]);
    assert.equal(topics.code, 0, topics.stderr);
    assert.match(topics.stdout, /^dr\.orders\s/m);
    assert.equal((await ferry(["status", "--api", "http://127.0.0.1:9"])).code, 3);

    // A filter change is applied to the running link: no restart, the new topic follows.
    const before = await get<LinkDetail>(api, "/api/links/a-to-b");
    await writeFile(file, topology("orders|audit"));
    await waitFor("audit on b", async () => (await records(api, "b", "audit")) === 2);
    await waitFor("dr.audit on c", async () => (await records(api, "c", "dr.audit")) === 2);
    const after = await get<LinkDetail>(api, "/api/links/a-to-b");
    assert.equal(after.filters.topics, "orders|audit");
    assert.ok(after.uptimeMs > before.uptimeMs, "a-to-b kept running (its uptime did not restart)");
    assert.equal(after.records, before.records + 2);

    // An invalid edit is reported and the running topology stays.
    await writeFile(file, topology("orders|audit").replace("source: a", "source: nowhere"));
    await waitFor("the invalid file reported", async () => {
      const t = await get<{ lastError: { message: string } | null }>(api, "/api/topology");
      return t.lastError?.message.includes("links.a-to-b.source: unknown cluster 'nowhere'") === true;
    });
    assert.equal((await get<StatusView>(api, "/api/status")).links.length, 2);

    // Pause through the API; a paused link is not unhealthy.
    const paused = await fetch(`${api}/api/links/b-to-c/pause`, { method: "POST" });
    assert.equal(((await paused.json()) as LinkDetail).state, "paused");
    assert.equal((await ferry(["links", "--api", api])).code, 0);
    const metrics = await (await fetch(`${api}/metrics`)).text();
    assert.match(metrics, /^ferry_link_paused\{link="b-to-c"\} 1$/m);
    assert.match(metrics, /^ferry_cluster_up\{cluster="a",type="embedded"\} 1$/m);
    assert.match(
      metrics,
      /^ferry_link_records_copied_total\{link="a-to-b",topic="orders",partition="0"\} \d+$/m,
    );

    const code = await up.stop();
    assert.equal(code, 0, up.stderr());
  } finally {
    await up.stop();
  }
});
