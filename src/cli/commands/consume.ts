// `ferry consume CLUSTER TOPIC`: prints records of a topic of any cluster (a name from the
// running topology or host:port), from the start or the end, once or following new records.
import { parseCommandLine } from "../command-line.ts";
import { Cluster } from "../../client/cluster.ts";
import { consume } from "../../client/consumer.ts";
import { ApiError, apiBase, EXIT, exitCodeOf } from "../api-client.ts";
import { resolveCluster } from "../cluster-address.ts";
import type { Command } from "../command.ts";

const USAGE = `Usage: ferry consume CLUSTER TOPIC [options]

Prints the topic's records, one a line: the value, or with --keys KEY<TAB>VALUE, or with
--json an object with partition, offset, timestamp, key, value and headers. CLUSTER is a
cluster name of the running topology or bootstrap servers (host:port[,host:port]).

Options:
  --from WHERE      earliest (default), latest, or an offset for every partition
  --follow, -f      keep printing new records until Ctrl-C (default: stop at the end)
  --count N, -n N   stop after N records
  --partition N     read only partition N
  --keys            print KEY<TAB>VALUE
  --json            one JSON object a line
  --api URL         the control plane, for cluster names (default $FERRY_API, else http://127.0.0.1:7070)

Exit codes: 0 read, 1 read failed, 2 bad usage, 3 control plane unreachable, 4 unknown cluster.
`;

function text(b: Buffer | null): string | null {
  return b === null ? null : b.toString("utf8");
}

export const consumeCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("consume", USAGE, {
      args,
      allowPositionals: true,
      options: {
        from: { type: "string" },
        follow: { type: "boolean", short: "f" },
        count: { type: "string", short: "n" },
        partition: { type: "string" },
        keys: { type: "boolean" },
        json: { type: "boolean" },
        api: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (typeof parsed === "number") return parsed;
    const v = parsed.values;
    const [clusterArg, topic] = parsed.positionals;
    if (clusterArg === undefined || topic === undefined || parsed.positionals.length !== 2) {
      process.stderr.write(`ferry consume: expected CLUSTER TOPIC\n\n${USAGE}`);
      return EXIT.USAGE;
    }
    const fromText = v.from ?? "earliest";
    if (fromText !== "earliest" && fromText !== "latest" && !/^\d+$/.test(fromText)) {
      process.stderr.write(
        `ferry consume: --from: expected earliest, latest or an offset, got '${fromText}'\n`,
      );
      return EXIT.USAGE;
    }
    for (const [flag, value] of [
      ["--count", v.count],
      ["--partition", v.partition],
    ] as const) {
      if (value !== undefined && !/^\d+$/.test(value)) {
        process.stderr.write(`ferry consume: ${flag}: expected a non-negative integer, got '${value}'\n`);
        return EXIT.USAGE;
      }
    }
    let bootstrap: string;
    try {
      bootstrap = await resolveCluster(clusterArg, apiBase(v.api));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      process.stderr.write(`ferry consume: ${clusterArg}: ${e.message}\n`);
      return exitCodeOf(e);
    }
    const cluster = new Cluster({ bootstrap, clientId: "ferry-consume" });
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const limit = v.count === undefined ? Infinity : Number(v.count);
    let seen = 0;
    try {
      if (limit === 0) return EXIT.OK;
      const records = consume(cluster, topic, {
        from: fromText === "earliest" || fromText === "latest" ? fromText : BigInt(fromText),
        untilEnd: v.follow !== true,
        signal: abort.signal,
        ...(v.partition === undefined ? {} : { partitions: [Number(v.partition)] }),
      });
      for await (const r of records) {
        let line: string;
        if (v.json === true) {
          line = JSON.stringify({
            partition: r.partition,
            offset: Number(r.offset),
            timestamp: r.timestamp,
            key: text(r.key),
            value: text(r.value),
            headers: r.headers.map((h) => ({ key: h.key, value: text(h.value) })),
          });
        } else if (v.keys === true) line = `${text(r.key) ?? ""}\t${text(r.value) ?? ""}`;
        else line = text(r.value) ?? "";
        process.stdout.write(line + "\n");
        if (++seen >= limit) break;
      }
      return EXIT.OK;
    } catch (e) {
      if (abort.signal.aborted) return EXIT.OK;
      process.stderr.write(`ferry consume: ${topic} on ${clusterArg}: ${(e as Error).message}\n`);
      return EXIT.UNHEALTHY;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await cluster.close();
    }
  },
};
