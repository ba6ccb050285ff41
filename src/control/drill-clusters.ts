// Where a drill runs: two fresh Ferry brokers in a temporary directory (the default), or the
// two clusters of a link in a topology file. Only a process the drill runs can be killed with
// `kill -9`, so the file's embedded clusters are started by the drill itself as child processes
// on their data directories, ports and settings (refused while another process, e.g. `ferry
// up`, holds a data directory); an external primary is killed and restarted only by commands
// the user gives, and the drills that need that are refused without them. On a file's clusters
// the drill uses a topic, group and link name of its own and removes them afterwards.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin } from "../client/admin.ts";
import type { ClusterOptions } from "../client/cluster.ts";
import { LinkStateStore, type StateWrite } from "../link/link-state-store.ts";
import type { LinkTuning } from "../link/link-context.ts";
import type { ModeChoice } from "../link/topic-sync.ts";
import { clusterClientOptions } from "./cluster-security.ts";
import { assertDataDirFree, DataDirInUseError, spawnDrillBroker, type DrillBroker } from "./drill-brokers.ts";
import { drillCluster, type DrillEndpoint } from "./drill-load.ts";
import type { DrillScenario } from "./drill.ts";
import { divergedTopicName, reverseLinkName } from "./failback.ts";
import { reachable } from "./failover.ts";
import type { ClusterSpec, LinkSpec, Topology } from "./topology-schema.ts";

/** The drill's consumer group, on every setup. */
export const DRILL_GROUP = "drill-consumers";

/** One of a drill's two clusters. */
export interface DrillNode extends DrillEndpoint {
  /** The cluster's name (the topology's, or primary/dr). */
  readonly name: string;
  readonly client: Partial<ClusterOptions>;
  /** kill -9 (or the user's kill command); resolves once the cluster no longer answers. */
  kill9(): Promise<void>;
  /** Starts it again on the same data and port; resolves once it answers. */
  restart(): Promise<void>;
}

/** The link a drill runs between its clusters. */
export interface DrillLinkSettings {
  name: string;
  prefix: string;
  mode: ModeChoice;
  /** Over the drill's own fast defaults (a topology link's intervals). */
  tuning: Partial<LinkTuning>;
}

export interface DrillClusters {
  readonly primary: DrillNode;
  readonly dr: DrillNode;
  readonly link: DrillLinkSettings;
  /** The drill's topic on the primary; on DR it is `link.prefix + topic`. */
  readonly topic: string;
  /** What the drill runs on, for its report. */
  readonly setup: string;
  /** Stops what the drill started and removes what it created; resolves to what it could not remove. */
  close(): Promise<string[]>;
}

/** The drill cannot run as asked; nothing was started or changed. */
export class DrillRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DrillRefusedError";
  }
}

function brokerNode(b: DrillBroker, sessionTimeoutMs?: number): DrillNode {
  return {
    name: b.name,
    bootstrap: b.bootstrap,
    client: {},
    ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }),
    kill9: () => b.kill9(),
    restart: async () => {
      if (!b.running) await b.restart();
    },
  };
}

/** Two fresh Ferry brokers (child processes) in a temporary directory, removed by close(). */
export async function temporaryClusters(): Promise<DrillClusters> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-drill-"));
  const brokers: DrillBroker[] = [];
  const close = async (): Promise<string[]> => {
    await Promise.allSettled(brokers.map((b) => b.kill9()));
    await rm(dir, { recursive: true, force: true });
    return [];
  };
  try {
    brokers.push(await spawnDrillBroker("primary", join(dir, "primary")));
    brokers.push(await spawnDrillBroker("dr", join(dir, "dr")));
  } catch (e) {
    await close();
    throw e;
  }
  const [primary, dr] = brokers as [DrillBroker, DrillBroker];
  return {
    primary: brokerNode(primary),
    dr: brokerNode(dr),
    link: { name: "drill", prefix: "", mode: "auto", tuning: {} },
    topic: "drill.orders",
    setup: "two embedded brokers in a temporary directory",
    close,
  };
}

export interface TopologyDrillOptions {
  topology: Topology;
  /** The file, for messages. */
  file: string;
  /** The link whose source is the primary and whose target is DR. */
  link: string;
  scenario: DrillScenario;
  /** Kills an external primary (run with /bin/sh -c); dr and failback need it. */
  killCommand?: string;
  /** Starts an external primary again, returning once it is starting; failback needs it. */
  restartCommand?: string;
}

/** Checks what the drill needs before anything starts; throws DrillRefusedError. */
async function checkTopologyDrill(
  o: TopologyDrillOptions,
): Promise<{ spec: LinkSpec; source: ClusterSpec; target: ClusterSpec }> {
  const spec = o.topology.links[o.link];
  if (spec === undefined) {
    const names = Object.keys(o.topology.links);
    throw new DrillRefusedError(
      `${o.file} has no link '${o.link}' (links: ${names.length === 0 ? "none" : names.join(", ")})`,
    );
  }
  if (spec.source === spec.target)
    throw new DrillRefusedError(
      `link '${o.link}' copies within cluster '${spec.source}': there is no DR to move to`,
    );
  const source = o.topology.clusters[spec.source];
  const target = o.topology.clusters[spec.target];
  if (source === undefined || target === undefined)
    throw new DrillRefusedError(`link '${o.link}' names a cluster ${o.file} does not declare`);
  if (source.type === "embedded") {
    if (o.killCommand !== undefined || o.restartCommand !== undefined)
      throw new DrillRefusedError(
        `--kill-command and --restart-command are for an external primary; '${spec.source}' is embedded: the drill runs it and kills it itself`,
      );
  } else {
    const why = (flag: string, what: string): string =>
      `the ${o.scenario} drill ${what} the primary '${spec.source}', an external cluster the drill does not run: ` +
      `give ${flag} (a shell command that does it), or run the switchover drill, which kills nothing`;
    if (o.scenario !== "switchover" && o.killCommand === undefined)
      throw new DrillRefusedError(why("--kill-command", "kills"));
    if (o.scenario === "failback" && o.restartCommand === undefined)
      throw new DrillRefusedError(why("--restart-command", "restarts"));
  }
  for (const [name, c] of [
    [spec.source, source],
    [spec.target, target],
  ] as const) {
    if (c.type !== "embedded") continue;
    try {
      await assertDataDirFree(c.dataDir);
    } catch (e) {
      if (!(e instanceof DataDirInUseError)) throw e;
      throw new DrillRefusedError(
        `cluster '${name}': ${e.message} (a running \`ferry up\`?). A drill kills the primary with kill -9, so it ` +
          `starts the file's embedded brokers itself; stop that process first. Nothing was changed`,
      );
    }
  }
  return { spec, source, target };
}

async function runCommand(what: string, command: string): Promise<void> {
  const child = spawn("/bin/sh", ["-c", command], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-2_000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`${what} \`${command}\` exited with ${String(code)}: ${stderr.trim()}`);
}

async function answers(bootstrap: string, client: Partial<ClusterOptions>): Promise<boolean> {
  const r = await reachable(bootstrap, 1_000, client);
  await r?.cluster.close();
  return r !== undefined;
}

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`drill: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** An external cluster: killed and restarted through the user's commands, if any. */
function externalNode(
  name: string,
  spec: ClusterSpec & { type: "external" },
  o: TopologyDrillOptions,
): DrillNode {
  const bootstrap = spec.bootstrap.join(",");
  const client = clusterClientOptions(name, spec);
  let killed = false;
  return {
    name,
    bootstrap,
    client,
    // Kafka's group.min.session.timeout.ms defaults to 6 s.
    sessionTimeoutMs: 10_000,
    async kill9() {
      if (o.killCommand === undefined) throw new DrillRefusedError(`no --kill-command for '${name}'`);
      await runCommand("--kill-command", o.killCommand);
      killed = true;
      await until(
        `'${name}' still answers after --kill-command`,
        async () => !(await answers(bootstrap, client)),
        30_000,
      );
    },
    async restart() {
      if (o.restartCommand === undefined) throw new DrillRefusedError(`no --restart-command for '${name}'`);
      if (!killed) return;
      await runCommand("--restart-command", o.restartCommand);
      await until(
        `'${name}' did not answer within 120 s of --restart-command`,
        () => answers(bootstrap, client),
        120_000,
      );
      killed = false;
    },
  };
}

/** The clusters of a topology link; see the module comment. Throws DrillRefusedError before starting anything it may not. */
export async function topologyClusters(o: TopologyDrillOptions): Promise<DrillClusters> {
  const { spec, source, target } = await checkTopologyDrill(o);
  const started: DrillBroker[] = [];
  const start = async (name: string, c: ClusterSpec): Promise<DrillNode> => {
    if (c.type === "external") return externalNode(name, c, o);
    const settings: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.settings)) settings[k] = String(v);
    const b = await spawnDrillBroker(name, c.dataDir, settings, { host: c.host, port: c.port });
    started.push(b);
    const min = settings["group.min.session.timeout.ms"];
    return brokerNode(b, min === undefined ? undefined : Math.max(3_000, Number(min)));
  };
  const stopStarted = (): Promise<unknown> => Promise.allSettled(started.map((b) => b.stop()));
  let primary: DrillNode;
  let dr: DrillNode;
  try {
    primary = await start(spec.source, source);
    dr = await start(spec.target, target);
    for (const n of [primary, dr]) {
      if (!(await answers(n.bootstrap, n.client)))
        throw new DrillRefusedError(`cluster '${n.name}' (${n.bootstrap}) does not answer`);
    }
  } catch (e) {
    await stopStarted();
    throw e;
  }
  const link: DrillLinkSettings = {
    // Its own name: the file's link keeps its state, and a failed-over drill link blocks nothing.
    name: `${o.link}.drill`,
    prefix: spec.prefix,
    mode: spec.mode,
    tuning: {
      topicsIntervalMs: spec.intervals.topicsMs,
      groupsIntervalMs: spec.intervals.groupsMs,
      configsIntervalMs: spec.intervals.configsMs,
      checkpointIntervalMs: spec.intervals.checkpointMs,
    },
  };
  const topic = `ferry-drill.${Date.now().toString(36)}`;
  return {
    primary,
    dr,
    link,
    topic,
    setup: `link '${o.link}' of ${o.file}: ${spec.source} (${source.type}) -> ${spec.target} (${target.type})`,
    async close() {
      const left: string[] = [];
      // A primary the drill killed comes back to be cleaned up (an external one only with --restart-command).
      try {
        await primary.restart();
        left.push(...(await removeDrillData(primary, [topic], link.name)));
      } catch (e) {
        left.push(leftOn(primary, [topic], link.name, `it is down: ${(e as Error).message}`));
      }
      left.push(
        ...(await removeDrillData(dr, [link.prefix + topic, divergedTopicName(link.name, topic)], link.name)),
      );
      await stopStarted();
      return left;
    },
  };
}

function leftOn(node: DrillNode, topics: readonly string[], link: string, why: string): string {
  return `${node.name}: topics ${topics.join(", ")}, group ${DRILL_GROUP} and link ${link}'s state (${why})`;
}

/** Runs one clean-up step; a failure is reported, and the other steps still run. */
async function step(left: string[], what: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    left.push(`${what} (${(e as Error).message})`);
  }
}

/** Deletes the drill's topics and group on a cluster and forgets its links' state there; returns what is left. */
async function removeDrillData(node: DrillNode, topics: readonly string[], link: string): Promise<string[]> {
  const c = drillCluster(node.bootstrap, "ferry-drill-cleanup", node.client);
  const left: string[] = [];
  try {
    const admin = new Admin(c);
    await step(left, `topics ${topics.join(", ")}`, async () => {
      const existing = new Set(await admin.listTopics());
      const mine = topics.filter((t) => existing.has(t));
      if (mine.length > 0) await admin.deleteTopics(mine);
    });
    await step(left, `group ${DRILL_GROUP}`, async () => {
      // Members of a killed broker's group are back with it until their sessions expire.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const g = (await admin.listGroups()).find((x) => x.groupId === DRILL_GROUP);
        if (g === undefined) return;
        if (g.state === "Empty" || g.state === "Dead" || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await admin.deleteGroups([DRILL_GROUP]);
    });
    await step(left, `link ${link}'s state`, async () => {
      const store = await LinkStateStore.openReadOnly(c, admin);
      const writes: StateWrite[] = [];
      for (const name of [link, reverseLinkName(link)]) {
        for (const key of [`link/${name}`, `failover/${name}`, `failback/${name}`])
          if (store.get(key) !== undefined) writes.push({ key, value: null });
        for (const prefix of [`ckpt/${name}/`, `run/${name}/`])
          for (const [key] of store.entries(prefix)) writes.push({ key, value: null });
      }
      await store.write(writes);
    });
  } finally {
    await c.close();
  }
  return left.length === 0 ? [] : [`${node.name}: ${left.join(", ")}`];
}
