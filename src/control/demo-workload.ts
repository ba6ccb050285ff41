// The demo's synthetic workload at each edge site: payments (a few a second, critical) and
// telemetry (hundreds a second, bulk), written with Ferry's own producer.
import { Admin } from "../client/admin.ts";
import { Cluster } from "../client/cluster.ts";
import { Producer, type ProducerRecord } from "../client/producer.ts";
import type { Logger } from "../util/logger.ts";

export interface WorkloadSite {
  name: string;
  bootstrap: string;
  /** Telemetry records a second. */
  telemetryPerSec: number;
  /** Payments a second (on average). */
  paymentsPerSec: number;
}

export interface Workload {
  /** Records written so far, by site and topic ("edge1/payments"). */
  readonly written: Map<string, number>;
  stop(): Promise<void>;
}

const TICK_MS = 100;
const SENSORS = ["engine.temp", "engine.rpm", "fuel.level", "gps.speed", "hull.vibration", "cabin.power"];

async function ensureTopics(cluster: Cluster): Promise<void> {
  const admin = new Admin(cluster);
  const existing = new Set(await admin.listTopics());
  const wanted = [
    { name: "payments", numPartitions: 3 },
    { name: "telemetry", numPartitions: 6 },
  ].filter((t) => !existing.has(t.name));
  if (wanted.length > 0) await admin.createTopics(wanted);
}

function payment(site: string, seq: number): ProducerRecord {
  const amount = Math.round((5 + Math.random() * 195) * 100) / 100;
  const id = `${site}-p${seq}`;
  return {
    key: Buffer.from(`card-${1000 + Math.floor(Math.random() * 50)}`),
    value: Buffer.from(
      JSON.stringify({
        id,
        site,
        amount,
        currency: "EUR",
        at: new Date().toISOString(),
        terminal: `pos-${seq % 7}`,
      }),
    ),
  };
}

function reading(site: string, seq: number): ProducerRecord {
  const sensor = SENSORS[seq % SENSORS.length] ?? "sensor";
  return {
    key: Buffer.from(`${site}.${sensor}`),
    value: Buffer.from(
      JSON.stringify({ site, sensor, value: Math.round(Math.random() * 10_000) / 100, seq }),
    ),
  };
}

/** Starts writing at every site; resolves once the topics exist. */
export async function startWorkload(sites: readonly WorkloadSite[], logger: Logger): Promise<Workload> {
  const written = new Map<string, number>();
  const abort = new AbortController();
  const runs = await Promise.all(
    sites.map(async (site) => {
      const cluster = new Cluster({ bootstrap: site.bootstrap, clientId: `ferry-demo-${site.name}` });
      await ensureTopics(cluster);
      const producer = new Producer(cluster, { idempotent: true });
      let seq = 0;
      let paymentDebt = 0;
      const loop = (async () => {
        while (!abort.signal.aborted) {
          const started = Date.now();
          const telemetry: ProducerRecord[] = [];
          const n = Math.round((site.telemetryPerSec * TICK_MS) / 1000);
          for (let i = 0; i < n; i++) telemetry.push(reading(site.name, seq++));
          paymentDebt += (site.paymentsPerSec * TICK_MS) / 1000;
          const payments: ProducerRecord[] = [];
          while (paymentDebt >= 1 || (paymentDebt > 0 && Math.random() < paymentDebt)) {
            payments.push(payment(site.name, seq++));
            paymentDebt = Math.max(0, paymentDebt - 1);
          }
          try {
            await Promise.all([
              telemetry.length > 0 ? producer.send("telemetry", telemetry) : undefined,
              payments.length > 0 ? producer.send("payments", payments) : undefined,
            ]);
            written.set(
              `${site.name}/telemetry`,
              (written.get(`${site.name}/telemetry`) ?? 0) + telemetry.length,
            );
            written.set(
              `${site.name}/payments`,
              (written.get(`${site.name}/payments`) ?? 0) + payments.length,
            );
          } catch (e) {
            if (!abort.signal.aborted)
              logger.warn("demo workload write failed", { site: site.name, error: (e as Error).message });
          }
          const wait = TICK_MS - (Date.now() - started);
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        await producer.close().catch(() => undefined);
        await cluster.close();
      })();
      // Wrapped: an async function returning the promise itself would wait for it.
      return { loop };
    }),
  );
  return {
    written,
    stop: async () => {
      abort.abort();
      await Promise.allSettled(runs.map((r) => r.loop));
    },
  };
}
