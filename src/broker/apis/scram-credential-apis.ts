// DescribeUserScramCredentials (key 50) and AlterUserScramCredentials (key 51), v0 only (v0
// is flexible). Describing needs DESCRIBE on the cluster, altering ALTER. Upserts carry the
// salted password (the client salts); the broker keeps only StoredKey and ServerKey.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType, CLUSTER_RESOURCE } from "../security/acls.ts";
import {
  credentialFromSaltedPassword,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MECHANISM_CODE,
  SCRAM_MIN_ITERATIONS,
  type ScramCredential,
  type ScramMechanism,
} from "../security/scram.ts";
import { defineApi } from "./api.ts";

function mechanismOf(code: number): ScramMechanism | undefined {
  if (code === SCRAM_MECHANISM_CODE["SCRAM-SHA-256"]) return "SCRAM-SHA-256";
  if (code === SCRAM_MECHANISM_CODE["SCRAM-SHA-512"]) return "SCRAM-SHA-512";
  return undefined;
}

export const describeUserScramCredentials = defineApi({
  key: ApiKey.DescribeUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx) {
    if (!ctx.authorize(AclOperation.DESCRIBE, AclResourceType.CLUSTER, CLUSTER_RESOURCE))
      return Promise.resolve({
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: null,
        results: [],
      });
    const store = ctx.broker.security.credentials;
    const all = req.users === null || req.users.length === 0;
    const names = all ? store.users() : (req.users ?? []).map((u) => u.name);
    const seen = new Set<string>();
    const results = names.map((user) => {
      if (seen.has(user))
        return {
          user,
          errorCode: ErrorCode.DUPLICATE_RESOURCE,
          errorMessage: `user ${user} was asked for twice`,
          credentialInfos: [],
        };
      seen.add(user);
      const infos = store.describe(user);
      if (infos.length === 0)
        return {
          user,
          errorCode: ErrorCode.RESOURCE_NOT_FOUND,
          errorMessage: `attempt to describe a user credential that does not exist: ${user}`,
          credentialInfos: [],
        };
      return {
        user,
        errorCode: 0,
        errorMessage: null,
        credentialInfos: infos.map((i) => ({
          mechanism: SCRAM_MECHANISM_CODE[i.mechanism],
          iterations: i.iterations,
        })),
      };
    });
    return Promise.resolve({ throttleTimeMs: 0, errorCode: 0, errorMessage: null, results });
  },
});

export const alterUserScramCredentials = defineApi({
  key: ApiKey.AlterUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const users = [...new Set([...req.deletions.map((d) => d.name), ...req.upsertions.map((u) => u.name)])];
    if (!ctx.authorize(AclOperation.ALTER, AclResourceType.CLUSTER, CLUSTER_RESOURCE))
      return {
        throttleTimeMs: 0,
        results: users.map((user) => ({
          user,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: null,
        })),
      };
    const store = ctx.broker.security.credentials;
    const errors = new Map<string, { code: number; message: string }>();
    const fail = (user: string, code: number, message: string): void =>
      void (errors.has(user) || errors.set(user, { code, message }));
    // A user named twice for the same mechanism is refused entirely, as Kafka does.
    const pairs = new Set<string>();
    for (const x of [...req.deletions, ...req.upsertions]) {
      const key = `${x.name}\u0000${x.mechanism}`;
      if (pairs.has(key))
        fail(
          x.name,
          ErrorCode.DUPLICATE_RESOURCE,
          `a user credential cannot be altered twice in the same request: ${x.name}`,
        );
      pairs.add(key);
    }
    const deletions: { user: string; mechanism: ScramMechanism }[] = [];
    for (const d of req.deletions) {
      const mechanism = mechanismOf(d.mechanism);
      if (d.name === "") fail(d.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, "username must not be empty");
      else if (mechanism === undefined)
        fail(d.name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, `unknown SCRAM mechanism ${d.mechanism}`);
      else if (store.get(d.name, mechanism) === undefined)
        fail(
          d.name,
          ErrorCode.RESOURCE_NOT_FOUND,
          `attempt to delete a user credential that does not exist: ${d.name}`,
        );
      else deletions.push({ user: d.name, mechanism });
    }
    const upserts: { user: string; mechanism: ScramMechanism; credential: ScramCredential }[] = [];
    for (const u of req.upsertions) {
      const mechanism = mechanismOf(u.mechanism);
      if (u.name === "") fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, "username must not be empty");
      else if (mechanism === undefined)
        fail(u.name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, `unknown SCRAM mechanism ${u.mechanism}`);
      else if (u.iterations < SCRAM_MIN_ITERATIONS || u.iterations > SCRAM_MAX_ITERATIONS)
        fail(
          u.name,
          ErrorCode.UNACCEPTABLE_CREDENTIAL,
          `iterations must be between ${SCRAM_MIN_ITERATIONS} and ${SCRAM_MAX_ITERATIONS}`,
        );
      else if (u.salt.length === 0 || u.saltedPassword.length === 0)
        fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, "salt and salted password must not be empty");
      else
        upserts.push({
          user: u.name,
          mechanism,
          credential: credentialFromSaltedPassword(
            mechanism,
            Buffer.from(u.salt),
            Buffer.from(u.saltedPassword),
            u.iterations,
          ),
        });
    }
    await store.apply(
      deletions.filter((d) => !errors.has(d.user)),
      upserts.filter((u) => !errors.has(u.user)),
    );
    if (deletions.length + upserts.length > 0)
      ctx.broker.log.info("SCRAM credentials altered", {
        users: users.filter((u) => !errors.has(u)).length,
        principal: ctx.session.principal,
      });
    const results = users.map((user) => {
      const e = errors.get(user);
      return { user, errorCode: e?.code ?? 0, errorMessage: e?.message ?? null };
    });
    return { throttleTimeMs: 0, results };
  },
});
