// `ferry produce CLUSTER TOPIC`: writes each line of stdin as a record (optionally KEY<sep>VALUE)
// to a topic of any cluster: a name from the running topology or host:port.
import { parseCommandLine } from "../command-line.ts";
import { createInterface } from "node:readline";
import { Cluster } from "../../client/cluster.ts";
import { Producer, type ProducerRecord } from "../../client/producer.ts";
import { ApiError, apiBase, EXIT, exitCodeOf } from "../api-client.ts";
import { resolveCluster } from "../cluster-address.ts";
import type { Command } from "../command.ts";

const USAGE = `Usage: ferry produce CLUSTER TOPIC [options] < lines

Writes each line of stdin as one record. CLUSTER is a cluster name of the running topology
(looked up through the control plane) or bootstrap servers (host:port[,host:port]).

Options:
  -K, --key-separator SEP   split each line at the first SEP into key and value
  --partition N             write every record to partition N
  --acks N                  0, 1 or -1 (default -1)
  --api URL                 the control plane, for cluster names (default $FERRY_API, else http://127.0.0.1:7070)

Exit codes: 0 written, 1 write failed, 2 bad usage, 3 control plane unreachable, 4 unknown cluster.
`;

const BATCH = 500;

export const produceCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("produce", USAGE, {
      args,
      allowPositionals: true,
      options: {
        "key-separator": { type: "string", short: "K" },
        partition: { type: "string" },
        acks: { type: "string" },
        api: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (typeof parsed === "number") return parsed;
    const v = parsed.values;
    const [clusterArg, topic] = parsed.positionals;
    if (clusterArg === undefined || topic === undefined || parsed.positionals.length !== 2) {
      process.stderr.write(`ferry produce: expected CLUSTER TOPIC\n\n${USAGE}`);
      return EXIT.USAGE;
    }
    if (v.partition !== undefined && !/^\d+$/.test(v.partition)) {
      process.stderr.write(`ferry produce: --partition: expected a partition number, got '${v.partition}'\n`);
      return EXIT.USAGE;
    }
    const acks = v.acks ?? "-1";
    if (acks !== "0" && acks !== "1" && acks !== "-1") {
      process.stderr.write(`ferry produce: --acks: expected 0, 1 or -1, got '${acks}'\n`);
      return EXIT.USAGE;
    }
    let bootstrap: string;
    try {
      bootstrap = await resolveCluster(clusterArg, apiBase(v.api));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      process.stderr.write(`ferry produce: ${clusterArg}: ${e.message}\n`);
      return exitCodeOf(e);
    }
    // Like other Kafka producers: a missing topic is created when the broker allows it.
    const cluster = new Cluster({ bootstrap, clientId: "ferry-produce", allowAutoTopicCreation: true });
    const producer = new Producer(cluster, { acks: Number(acks) as 0 | 1 | -1 });
    const sep = v["key-separator"];
    const partition = v.partition === undefined ? undefined : Number(v.partition);
    let pending: ProducerRecord[] = [];
    let count = 0;
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const records = pending;
      pending = [];
      await producer.send(topic, records, partition === undefined ? {} : { partition });
      count += records.length;
    };
    try {
      for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
        const at = sep === undefined ? -1 : line.indexOf(sep);
        pending.push(
          at < 0 || sep === undefined
            ? { value: Buffer.from(line) }
            : { key: Buffer.from(line.slice(0, at)), value: Buffer.from(line.slice(at + sep.length)) },
        );
        if (pending.length >= BATCH) await flush();
      }
      await flush();
      await producer.close();
      process.stderr.write(`ferry produce: ${count} records written to ${topic} on ${clusterArg}\n`);
      return EXIT.OK;
    } catch (e) {
      process.stderr.write(`ferry produce: ${topic} on ${clusterArg}: ${(e as Error).message}\n`);
      return EXIT.UNHEALTHY;
    } finally {
      await cluster.close();
    }
  },
};
