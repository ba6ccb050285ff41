// The topology file's tls/sasl blocks of an external cluster as client hooks (for the control
// plane's own client and for the links to or from that cluster), and the topology as the API
// may show it: every inline secret replaced by a placeholder.
import type { ClusterOptions } from "../client/cluster.ts";
import {
  clusterSecurityOptions,
  isSecretReference,
  REDACTED,
  SecurityConfigError,
  type ClientSecurity,
} from "../client/security-config.ts";
import type { ClusterSpec, Topology } from "./topology-schema.ts";

/** The connect/authenticate hooks a cluster's spec asks for; reads files and secrets now. */
export function clusterClientOptions(
  name: string,
  spec: ClusterSpec,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Pick<ClusterOptions, "connect" | "authenticate"> {
  if (spec.type !== "external") return {};
  const tls = spec.tls !== undefined && spec.tls.enabled ? spec.tls : undefined;
  const sasl = spec.sasl;
  if (tls === undefined && sasl === undefined) return {};
  const protocol = sasl === undefined ? "SSL" : tls === undefined ? "SASL_PLAINTEXT" : "SASL_SSL";
  const security: ClientSecurity = { protocol };
  if (tls !== undefined) {
    security.tls = {
      ...(tls.ca === undefined ? {} : { caFile: tls.ca }),
      ...(tls.cert === undefined ? {} : { certFile: tls.cert }),
      ...(tls.key === undefined ? {} : { keyFile: tls.key }),
      ...(tls.keyPassword === undefined ? {} : { keyPassword: tls.keyPassword }),
      ...(tls.serverName === undefined ? {} : { serverName: tls.serverName }),
      verifyHostname: tls.verifyHostname,
      verifyCertificate: !tls.insecureSkipVerify,
    };
  }
  if (sasl !== undefined) {
    const given = [sasl.password, sasl.passwordEnv, sasl.passwordFile].filter((x) => x !== undefined);
    if (given.length !== 1)
      throw new SecurityConfigError(
        `clusters.${name}.sasl`,
        "needs exactly one of password, passwordEnv and passwordFile",
      );
    const password =
      sasl.passwordEnv !== undefined
        ? `\${env:${sasl.passwordEnv}}`
        : sasl.passwordFile !== undefined
          ? `\${file:${sasl.passwordFile}}`
          : (sasl.password ?? "");
    security.sasl = { mechanism: sasl.mechanism, username: sasl.username, password };
  }
  try {
    return clusterSecurityOptions(security, { env });
  } catch (e) {
    if (e instanceof SecurityConfigError)
      throw new SecurityConfigError(`clusters.${name}: ${e.setting}`, e.message.slice(e.setting.length + 2));
    throw e;
  }
}

/** A copy of the topology with inline passwords and key passphrases replaced by "[redacted]". */
export function redactTopology(topology: Topology): Topology {
  const clusters: Topology["clusters"] = {};
  for (const [name, spec] of Object.entries(topology.clusters)) {
    if (spec.type !== "external") {
      clusters[name] = { ...spec, settings: redactSettings(spec.settings) };
      continue;
    }
    clusters[name] = {
      ...spec,
      ...(spec.tls === undefined ? {} : { tls: { ...spec.tls, ...redactField(spec.tls, "keyPassword") } }),
      ...(spec.sasl === undefined ? {} : { sasl: { ...spec.sasl, ...redactField(spec.sasl, "password") } }),
    };
  }
  return { ...topology, clusters };
}

function redactField<K extends string>(obj: Partial<Record<K, string>>, key: K): Partial<Record<K, string>> {
  const v = obj[key];
  return v === undefined || isSecretReference(v) ? {} : ({ [key]: REDACTED } as Record<K, string>);
}

// Embedded brokers' settings may hold ssl.key.password or similar (Kafka's password-typed settings).
function redactSettings(
  settings: Record<string, string | number | boolean>,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(settings))
    out[k] =
      /password|secret|token/i.test(k) && !(typeof v === "string" && isSecretReference(v)) ? REDACTED : v;
  return out;
}
