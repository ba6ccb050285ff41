// Drills on the clusters of a topology file's link (`ferry drill SCENARIO --topology FILE --link
// NAME`): the file's embedded clusters are started by the drill itself on their data
// directories, the drill uses the link's prefix under a name and topic of its own, and the
// file's data and links are as they were afterwards. Refused: a data directory a running `ferry
// up` holds, and a kill or restart of an external primary without a command to do it. An
// external primary killed by --kill-command.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { DrillReport } from "../../src/control/drill.ts";
import type { LinkSummary, TopicView } from "../../src/control/views.ts";
import { waitFor } from "../link/link-helpers.ts";
import { ferry, recordsIn, startUp } from "./control-process.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

const TOPOLOGY = `control:
  port: 0
clusters:
  main: { type: embedded, dataDir: ./main }
  dr: { type: embedded, dataDir: ./dr }
links:
  main-to-dr:
    source: main
    target: dr
    topics: "orders"
    prefix: "main."
    intervals: { topicsMs: 200, groupsMs: 200, checkpointMs: 200 }
`;

async function topicNames(api: string, cluster: string): Promise<string[]> {
  const res = await fetch(`${api}/api/clusters/${cluster}/topics`);
  return ((await res.json()) as { topics: TopicView[] }).topics.map((t) => t.name).sort();
}

test(
  "a failback drill on a topology link's embedded clusters runs with the link's prefix and leaves the file's data as it was",
  { timeout: 180_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-drill-topology-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "ferry.yaml");
    let up = await startUp(TOPOLOGY, dir);
    try {
      const orders = Array.from({ length: 30 }, (_, i) => `order ${i}`).join("\n") + "\n";
      assert.equal((await ferry(["produce", "main", "orders", "--api", up.api], orders)).code, 0);
      await waitFor("main.orders on dr", async () => (await recordsIn(up.api, "dr", "main.orders")) === 30);
      // While `ferry up` holds the data directories, the drill cannot own (and kill) the brokers.
      const busy = await ferry(["drill", "dr", "--topology", file, "--link", "main-to-dr"]);
      assert.equal(busy.code, 6, busy.stderr);
      assert.match(busy.stderr, /cluster 'main': .* is in use by process \d+ \(a running `ferry up`\?\)/);
    } finally {
      await up.stop();
    }

    const run = await ferry([
      "drill",
      "failback",
      "--topology",
      file,
      "--link",
      "main-to-dr",
      "--load-ms",
      "800",
      "--json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const r = JSON.parse(run.stdout) as DrillReport;
    assert.match(r.setup, /link 'main-to-dr' of .*ferry\.yaml: main \(embedded\) -> dr \(embedded\)/);
    assert.deepEqual(r.leftOver, []);
    assert.ok(r.failback !== null);
    assert.equal(r.failback.link, "main-to-dr.drill");
    assert.deepEqual(
      [r.failback.reverseLink.prefix, r.failback.reverseLink.stripPrefix],
      ["", "main."],
      "the reverse link strips the link's prefix",
    );
    assert.ok(r.failover.partitions.every((p) => p.targetTopic === `main.${p.sourceTopic}`));
    const figures = JSON.stringify({ ...r, failover: undefined, failback: undefined });
    assert.ok((r.divergedRecords ?? 0) > 0, figures);
    assert.equal(r.divergedKept, true, figures);
    assert.ok(r.rpoRecords <= (r.unreplicatedAtKill ?? 0), figures);
    assert.equal(r.skipped, 0, figures);

    // The file's link, topics and data are as they were, and nothing of the drill is left.
    up = await startUp(TOPOLOGY, dir);
    try {
      await waitFor("main-to-dr running", async () =>
        ((await (await fetch(`${up.api}/api/links`)).json()) as LinkSummary[]).some(
          (l) => l.name === "main-to-dr" && l.state === "running",
        ),
      );
      assert.deepEqual(await topicNames(up.api, "main"), ["orders"]);
      assert.deepEqual(await topicNames(up.api, "dr"), ["main.orders"]);
      assert.equal(await recordsIn(up.api, "dr", "main.orders"), 30);
      assert.equal(
        (await ferry(["produce", "main", "orders", "--api", up.api], "after the drill\n")).code,
        0,
      );
      await waitFor(
        "the file's link to copy",
        async () => (await recordsIn(up.api, "dr", "main.orders")) === 31,
      );
    } finally {
      await up.stop();
    }
  },
);

test(
  "drills that must kill or restart an external primary are refused without a command to do it",
  { timeout: 180_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-drill-topology-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "ferry.yaml");
    await writeFile(
      file,
      `clusters:
  core: { type: external, bootstrap: "127.0.0.1:1" }
  dr: { type: embedded, dataDir: ./dr }
links:
  core-to-dr: { source: core, target: dr }
`,
    );
    const dr = await ferry(["drill", "dr", "--topology", file, "--link", "core-to-dr"]);
    assert.equal(dr.code, 6);
    assert.match(
      dr.stderr,
      /the dr drill kills the primary 'core', an external cluster the drill does not run: give --kill-command/,
    );
    const fb = await ferry([
      "drill",
      "failback",
      "--topology",
      file,
      "--link",
      "core-to-dr",
      "--kill-command",
      "true",
    ]);
    assert.equal(fb.code, 6);
    assert.match(fb.stderr, /give --restart-command/);
    const unknown = await ferry(["drill", "dr", "--topology", file, "--link", "nope"]);
    assert.equal(unknown.code, 6);
    assert.match(unknown.stderr, /has no link 'nope' \(links: core-to-dr\)/);
    const alone = await ferry(["drill", "dr", "--topology", file]);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--topology and --link go together/);
  },
);

test(
  "a dr drill kills an external primary with --kill-command and reports what it could not clean up there",
  { timeout: 180_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-drill-topology-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // The external primary: a broker this test runs, which the drill can only kill through the command.
    const core = spawn(
      process.execPath,
      [
        "--disable-warning=ExperimentalWarning",
        MAIN,
        "broker",
        "--data-dir",
        join(dir, "core"),
        "--port",
        "0",
        "--set",
        "group.min.session.timeout.ms=1000",
        "--set",
        "group.initial.rebalance.delay.ms=0",
        "--log-level",
        "warn",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const coreExit = once(core, "exit");
    t.after(async () => {
      if (core.exitCode === null && core.signalCode === null) core.kill("SIGKILL");
      await coreExit;
    });
    const port = await new Promise<string>((resolve, reject) => {
      let out = "";
      core.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /listening on \S+:(\d+)/.exec(out);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      core.once("exit", () => reject(new Error("the external broker did not start")));
    });
    const file = join(dir, "ferry.yaml");
    await writeFile(
      file,
      `clusters:
  core: { type: external, bootstrap: "127.0.0.1:${port}" }
  dr: { type: embedded, dataDir: ./dr }
links:
  core-to-dr: { source: core, target: dr, intervals: { topicsMs: 200, groupsMs: 200, checkpointMs: 200 } }
`,
    );
    const run = await ferry([
      "drill",
      "dr",
      "--topology",
      file,
      "--link",
      "core-to-dr",
      "--load-ms",
      "800",
      "--kill-command",
      `kill -9 ${String(core.pid)}`,
      "--json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const r = JSON.parse(run.stdout) as DrillReport;
    await coreExit;
    assert.equal(core.signalCode, "SIGKILL", "the drill killed the external primary through the command");
    const figures = JSON.stringify({ ...r, failover: undefined, failback: undefined });
    assert.equal(r.failover.sourceReachable, false);
    assert.ok(r.rpoRecords <= (r.unreplicatedAtKill ?? 0), figures);
    assert.equal(r.skipped, 0, figures);
    // The killed primary never came back (no --restart-command): its copy of the drill topic is left, and said so.
    assert.equal(r.leftOver.length, 1, figures);
    assert.match(
      r.leftOver[0] ?? "",
      /^core: topics ferry-drill\.\w+, group drill-consumers .*\(it is down: /,
    );
  },
);
