// The embedded single-node broker: opens the data directory (metadata, logs, group state),
// listens for Kafka clients, and shuts down cleanly. `startBroker` is the programmatic
// entry; `ferry broker` runs it in the foreground.
import { mkdir, readdir } from "node:fs/promises";
import { MEDIUM_DIRECT_MIN_BYTES } from "../net/frame-decoder.ts";
import { FramePool } from "../net/frame-pool.ts";
import { ConnectionQuotas, listen, type Listener } from "../net/server.ts";
import { createLogger, type Logger } from "../util/logger.ts";
import { API_HANDLERS } from "./apis/index.ts";
import type { BrokerContext } from "./broker-context.ts";
import { BrokerConfig, type SettingValue } from "./config/broker-config.ts";
import { openGroupCoordinator } from "./group-state.ts";
import { lockDataDir } from "./metadata/data-dir-lock.ts";
import { MetadataStore } from "./metadata/metadata-store.ts";
import { ConnectionError } from "../net/errors.ts";
import { EncodeError, ProtocolError } from "../protocol/errors.ts";
import { RefusedRequestError, RequestDispatcher } from "./request-dispatcher.ts";
import { LogCleaner } from "./log/cleaner.ts";
import { BrokerSecurity } from "./security/broker-security.ts";
import { resolveListeners, type SecurityProtocol } from "./security/listeners.ts";
import { TopicManager } from "./topic-manager.ts";
import { openTxnCoordinator } from "./txn-state.ts";

export interface BrokerOptions {
  dataDir: string;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 9092; 0 picks a free one). */
  port?: number;
  /** Host name given to clients (default: the listen host, or 127.0.0.1 for 0.0.0.0). */
  advertisedHost?: string;
  nodeId?: number;
  /** Fixes the cluster id of a new data directory; must match an existing one. */
  clusterId?: string;
  /** Kafka-named broker settings (e.g. "log.segment.bytes"). */
  settings?: Record<string, SettingValue>;
  logger?: Logger;
}

/** One open listener of a running broker. */
export interface RunningListener {
  readonly name: string;
  readonly protocol: SecurityProtocol;
  readonly host: string;
  readonly port: number;
  readonly advertised: { host: string; port: number };
}

export interface RunningBroker {
  /** The first listener's bind address (see listeners for all). */
  readonly host: string;
  readonly port: number;
  readonly advertised: { host: string; port: number };
  readonly clusterId: string;
  readonly nodeId: number;
  readonly dataDir: string;
  /** "host:port" of the first listener, for clients. */
  readonly bootstrap: string;
  /** Every listener, in the order of the `listeners` setting. */
  readonly listeners: readonly RunningListener[];
  /** Internals for tests and the control plane. */
  readonly context: BrokerContext;
  /** The log cleaner (compaction), null when log.cleaner.enable=false. */
  readonly cleaner: LogCleaner | null;
  close(): Promise<void>;
}

/** Starts a broker; resolves once it accepts connections. */
export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const log = opts.logger ?? createLogger();
  const nodeId = opts.nodeId ?? 1;
  const config = new BrokerConfig({ ...opts.settings, "node.id": nodeId });
  await mkdir(opts.dataDir, { recursive: true });
  const unlock = await lockDataDir(opts.dataDir);
  const cleanups: (() => Promise<void>)[] = [unlock];
  const abort = new AbortController();
  try {
    const meta = await MetadataStore.open(opts.dataDir, {
      nodeId,
      ...(opts.clusterId !== undefined ? { clusterId: opts.clusterId } : {}),
    });
    const topics = new TopicManager(meta, config, log);
    cleanups.unshift(() => topics.close());
    await topics.load();
    await topics.removeOrphans((await readdir(opts.dataDir)).filter((d) => /-\d+$/.test(d)));
    const groups = await openGroupCoordinator(topics, config, log);
    cleanups.unshift(() => groups.close());
    const txns = await openTxnCoordinator(topics, groups, meta, config, log);
    cleanups.unshift(() => txns.close());

    const specs = await resolveListeners(config, {
      host: opts.host ?? "127.0.0.1",
      port: opts.port ?? 9092,
      advertisedHost: opts.advertisedHost,
    });
    const security = await BrokerSecurity.open(opts.dataDir, config, specs);
    const advertisedByListener = new Map(specs.map((s) => [s.name, { ...s.advertised }]));
    const first = advertisedByListener.get(specs[0]?.name ?? "");
    if (first === undefined) throw new Error("the broker has no listener");
    const advertised = first;
    const context: BrokerContext = {
      config,
      meta,
      topics,
      groups,
      txns,
      advertised,
      advertisedByListener,
      security,
      apis: API_HANDLERS,
      log,
      now: () => Date.now(),
      closing: abort.signal,
    };
    // Requests of 16 KiB and up (produce requests, mirror appends) are read into reused buffers:
    // at hundreds of MB/s fresh ones cost more in garbage collection and page faults than the
    // append itself.
    const framePool = new FramePool(64 * 1024 * 1024, MEDIUM_DIRECT_MIN_BYTES);
    const dispatcher = new RequestDispatcher(context, specs, framePool);
    const quotas = new ConnectionQuotas({
      maxConnections: config.int("max.connections"),
      maxConnectionsPerIp: config.int("max.connections.per.ip"),
    });
    const listeners: RunningListener[] = [];
    for (const spec of specs) {
      const listener: Listener = await listen({
        name: spec.name,
        host: spec.host,
        port: spec.port,
        ...(spec.tls !== undefined ? { tls: spec.tls } : {}),
        quotas,
        handler: (payload, conn) => dispatcher.dispatch(payload, conn),
        onConnection: (conn) => void dispatcher.open(conn),
        maxFrameBytes: config.int("socket.request.max.bytes"),
        allocateFrame: (size) => framePool.take(size),
        allocateFreeFrame: (size) => framePool.takeFree(size),
        maxInFlightPerConnection: config.int("ferry.connection.max.in.flight.requests"),
        maxBytesInFlightPerConnection: config.long("ferry.connection.max.in.flight.bytes"),
        idleTimeoutMs: config.long("connections.max.idle.ms"),
        onError: (err, conn) => {
          // Idle and slow-client closes are routine; refused requests are worth a warning.
          // Undecodable or refused requests are the client's fault (warn); anything else is a bug.
          const level =
            err instanceof ConnectionError
              ? "info"
              : err instanceof RefusedRequestError ||
                  (err instanceof ProtocolError && !(err instanceof EncodeError))
                ? "warn"
                : "error";
          log[level]("connection closed on error", {
            listener: spec.name,
            remote: conn?.remoteAddress,
            error: err.message,
          });
        },
      });
      cleanups.unshift(() => listener.close());
      const adv = advertisedByListener.get(spec.name) ?? { ...spec.advertised };
      if (adv.port === 0) adv.port = listener.port;
      listeners.push({
        name: spec.name,
        protocol: spec.protocol,
        host: spec.host,
        port: listener.port,
        advertised: adv,
      });
    }
    const firstListener = listeners[0];
    if (firstListener === undefined) throw new Error("the broker has no listener");

    const cleaner = config.bool("log.cleaner.enable") ? startLogCleaner(topics, config, log) : null;
    if (cleaner !== null) cleanups.unshift(() => cleaner.close());

    const retention = setInterval(() => {
      topics.applyRetention().catch((e: unknown) => log.error("retention failed", { error: String(e) }));
    }, config.long("log.retention.check.interval.ms"));
    retention.unref();
    cleanups.unshift(() => {
      clearInterval(retention);
      return Promise.resolve();
    });

    let closing: Promise<void> | undefined;
    return {
      host: firstListener.host,
      port: firstListener.port,
      advertised,
      listeners,
      clusterId: meta.clusterId,
      nodeId,
      dataDir: opts.dataDir,
      bootstrap: `${advertised.host}:${advertised.port}`,
      context,
      cleaner,
      close: () => (closing ??= runCleanups(abort, cleanups, log)),
    };
  } catch (e) {
    await runCleanups(abort, cleanups, log);
    throw e;
  }
}

/** Starts compaction of every compacted partition (__consumer_offsets included) with the log.cleaner.* settings. */
function startLogCleaner(topics: TopicManager, config: BrokerConfig, log: Logger): LogCleaner {
  const cleaner = new LogCleaner({
    logs: function* () {
      for (const t of topics.topics())
        for (const p of topics.partitionsOf(t.name)) yield { name: `${t.name}-${p.index}`, log: p.log };
    },
    settings: {
      dedupeBufferBytes: config.long("log.cleaner.dedupe.buffer.size"),
      loadFactor: Number(config.get("log.cleaner.io.buffer.load.factor")),
      backoffMs: config.long("log.cleaner.backoff.ms"),
      ioMaxBytesPerSecond: Number(config.get("log.cleaner.io.max.bytes.per.second")),
    },
    logger: log.child({ component: "log-cleaner" }),
  });
  cleaner.start();
  return cleaner;
}

async function runCleanups(
  abort: AbortController,
  cleanups: (() => Promise<void>)[],
  log: Logger,
): Promise<void> {
  abort.abort();
  for (const c of cleanups) {
    try {
      await c();
    } catch (e) {
      log.error("shutdown step failed", { error: e instanceof Error ? e.message : String(e) });
    }
  }
}
