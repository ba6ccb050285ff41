// One cluster of the topology as the control plane runs it: an embedded broker it started, or
// an external cluster it only connects to; either way a client for the API and a health probe.
import { Admin } from "../client/admin.ts";
import { Cluster, type ClusterOptions } from "../client/cluster.ts";
import { startBroker, type RunningBroker } from "../broker/broker.ts";
import type { Logger } from "../util/logger.ts";
import { clusterClientOptions } from "./cluster-security.ts";
import type { ClusterSpec } from "./topology-schema.ts";

export type ClusterState = "starting" | "up" | "down" | "stopped";

export class ClusterRuntime {
  readonly name: string;
  readonly spec: ClusterSpec;
  readonly broker: RunningBroker | undefined;
  readonly bootstrap: string;
  readonly client: Cluster;
  /** TLS/SASL hooks from the spec, for every client of this cluster (links included). */
  readonly clientOptions: Partial<ClusterOptions>;
  state: ClusterState = "starting";
  clusterId: string | undefined;
  error: string | undefined;
  checkedAt = 0;
  #probing: Promise<void> | undefined;

  private constructor(name: string, spec: ClusterSpec, broker: RunningBroker | undefined, bootstrap: string) {
    this.name = name;
    this.spec = spec;
    this.broker = broker;
    this.bootstrap = bootstrap;
    this.clientOptions = clusterClientOptions(name, spec);
    this.client = new Cluster({
      ...this.clientOptions,
      bootstrap,
      clientId: "ferry-control",
      retries: 1,
      retryBackoffMs: 100,
      connectTimeoutMs: 3_000,
      requestTimeoutMs: 5_000,
      unknownTopicRetries: 0,
    });
    if (broker !== undefined) {
      this.state = "up";
      this.clusterId = broker.clusterId;
    }
  }

  /** Starts an embedded broker (resolving once it listens) or prepares an external cluster. */
  static async start(name: string, spec: ClusterSpec, logger: Logger): Promise<ClusterRuntime> {
    if (spec.type === "external") {
      const runtime = new ClusterRuntime(name, spec, undefined, spec.bootstrap.join(","));
      await runtime.probe();
      return runtime;
    }
    const broker = await startBroker({
      dataDir: spec.dataDir,
      host: spec.host,
      port: spec.port,
      settings: spec.settings,
      logger: logger.child({ cluster: name }),
    });
    return new ClusterRuntime(name, spec, broker, broker.bootstrap);
  }

  /** Asks the cluster who it is; records up or down. */
  probe(): Promise<void> {
    this.#probing ??= (async () => {
      try {
        const info = await new Admin(this.client).describeCluster();
        this.clusterId = info.clusterId ?? this.clusterId;
        this.state = "up";
        this.error = undefined;
      } catch (e) {
        if (this.broker === undefined) this.state = "down";
        this.error = e instanceof Error ? e.message : String(e);
      } finally {
        this.checkedAt = Date.now();
        this.#probing = undefined;
      }
    })();
    return this.#probing;
  }

  async stop(): Promise<void> {
    this.state = "stopped";
    await this.client.close().catch(() => undefined);
    await this.broker?.close();
  }
}
