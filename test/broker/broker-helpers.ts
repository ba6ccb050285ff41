// Starting a broker on a fresh temporary data directory for tests, and talking to it with
// Ferry's own connection.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type RunningBroker } from "../../src/broker/broker.ts";
import type { SettingValue } from "../../src/broker/config/broker-config.ts";
import { openConnection, type Connection } from "../../src/net/connection.ts";
import { silentLogger } from "../../src/util/logger.ts";

export interface TestBroker extends RunningBroker {
  connect(): Promise<Connection>;
  /** Closes the broker and removes its data directory. */
  destroy(): Promise<void>;
}

export async function startTestBroker(
  settings: Record<string, SettingValue> = {},
  dataDir?: string,
): Promise<TestBroker> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), "ferry-broker-")));
  const broker = await startBroker({
    dataDir: dir,
    port: 0,
    logger: silentLogger,
    settings: { "group.initial.rebalance.delay.ms": 0, ...settings },
  });
  return Object.assign(Object.create(broker) as RunningBroker, broker, {
    connect: () => openConnection({ host: broker.host, port: broker.port, clientId: "ferry-test" }),
    destroy: async () => {
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    },
  });
}
