// `ferry users add|delete|list`: manages a broker's SCRAM users through the Kafka admin APIs
// (AlterUserScramCredentials, DescribeUserScramCredentials). The password is read from an
// environment variable or a file, never from the command line, and is salted here.
import { parseCommandLine } from "../command-line.ts";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { openConnection } from "../../net/connection.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import {
  saltPassword,
  SCRAM_MECHANISM_CODE,
  SCRAM_MIN_ITERATIONS,
  type ScramMechanism,
} from "../../broker/security/scram.ts";
import type { Command } from "../command.ts";

const USAGE = `Usage: ferry users add NAME --bootstrap HOST:PORT (--password-env VAR | --password-file FILE) [--mechanism M] [--iterations N]
       ferry users delete NAME --bootstrap HOST:PORT [--mechanism M]
       ferry users list --bootstrap HOST:PORT [--json]

Manages SCRAM users of a Kafka cluster (Ferry's broker or any Kafka 2.7+) over a PLAINTEXT
listener. --mechanism is SCRAM-SHA-256, SCRAM-SHA-512 or both (default both).
`;

export const usersCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("users", USAGE, {
      args,
      allowPositionals: true,
      options: {
        bootstrap: { type: "string" },
        "password-env": { type: "string" },
        "password-file": { type: "string" },
        mechanism: { type: "string", default: "both" },
        iterations: { type: "string", default: String(SCRAM_MIN_ITERATIONS) },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (typeof parsed === "number") return parsed;
    const v = parsed.values;
    const [action, name] = parsed.positionals;
    const bootstrap = v.bootstrap ?? "";
    const m = /^(.+):(\d+)$/.exec(bootstrap);
    if (m?.[1] === undefined || m[2] === undefined || action === undefined) {
      process.stderr.write(`ferry users: --bootstrap HOST:PORT and an action are required\n\n${USAGE}`);
      return 2;
    }
    const mechanisms: ScramMechanism[] =
      v.mechanism === "both" ? ["SCRAM-SHA-256", "SCRAM-SHA-512"] : [v.mechanism as ScramMechanism];
    if (mechanisms.some((x) => SCRAM_MECHANISM_CODE[x] === undefined)) {
      process.stderr.write(`ferry users: unknown mechanism '${v.mechanism ?? ""}'\n`);
      return 2;
    }
    const conn = await openConnection({ host: m[1], port: Number(m[2]), clientId: "ferry-users" });
    try {
      if (action === "list") {
        const r = await conn.send(ApiKey.DescribeUserScramCredentials, 0, { users: null });
        if (r.errorCode !== 0)
          throw new Error(`DescribeUserScramCredentials failed with error ${r.errorCode}`);
        const users = r.results.map((u) => ({
          user: u.user,
          mechanisms: u.credentialInfos.map((c) => ({
            mechanism: c.mechanism === 1 ? "SCRAM-SHA-256" : "SCRAM-SHA-512",
            iterations: c.iterations,
          })),
        }));
        if (v.json === true) process.stdout.write(`${JSON.stringify(users)}\n`);
        else
          for (const u of users)
            process.stdout.write(
              `${u.user}\t${u.mechanisms.map((x) => `${x.mechanism}(${x.iterations})`).join(",")}\n`,
            );
        return 0;
      }
      if (name === undefined || (action !== "add" && action !== "delete")) {
        process.stderr.write(`ferry users: expected add NAME, delete NAME or list\n\n${USAGE}`);
        return 2;
      }
      let request;
      if (action === "add") {
        const password =
          v["password-env"] !== undefined
            ? process.env[v["password-env"]]
            : v["password-file"] !== undefined
              ? (await readFile(v["password-file"], "utf8")).replace(/\r?\n$/, "")
              : undefined;
        if (password === undefined || password === "") {
          process.stderr.write(
            "ferry users: give the password with --password-env VAR or --password-file FILE\n",
          );
          return 2;
        }
        const iterations = Number(v.iterations);
        request = {
          deletions: [],
          upsertions: mechanisms.map((mech) => {
            const salt = randomBytes(32);
            return {
              name,
              mechanism: SCRAM_MECHANISM_CODE[mech],
              iterations,
              salt,
              saltedPassword: saltPassword(mech, password, salt, iterations),
            };
          }),
        };
      } else {
        request = {
          upsertions: [],
          deletions: mechanisms.map((mech) => ({ name, mechanism: SCRAM_MECHANISM_CODE[mech] })),
        };
      }
      const r = await conn.send(ApiKey.AlterUserScramCredentials, 0, request);
      const failed = r.results.find((x) => x.errorCode !== 0);
      if (failed !== undefined) {
        process.stderr.write(
          `ferry users: ${failed.user}: error ${failed.errorCode} ${failed.errorMessage ?? ""}\n`,
        );
        return 1;
      }
      process.stdout.write(`${action === "add" ? "added" : "deleted"} ${name} (${mechanisms.join(", ")})\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`ferry users: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    } finally {
      await conn.close();
    }
  },
};
