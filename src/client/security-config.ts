// Client security from configuration: Kafka/librdkafka property names (security.protocol,
// ssl.ca.location, sasl.mechanism, ...) and the topology file's tls/sasl blocks become the
// connect and authenticate hooks of ClusterOptions. Secrets may be given as ${env:NAME} or
// ${file:PATH} (Kafka's config-provider syntax), are resolved here, and never appear in errors.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ClusterOptions } from "./cluster.ts";
import { saslAuthenticator, SASL_MECHANISMS, type SaslMechanism } from "./sasl.ts";
import { tlsSocketFactory, type TlsOptions } from "./tls.ts";

export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";
const PROTOCOLS: readonly SecurityProtocol[] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];

/** How to reach one cluster securely; file paths and secret references are not yet read. */
export interface ClientSecurity {
  protocol: SecurityProtocol;
  tls?: {
    caFile?: string;
    certFile?: string;
    keyFile?: string;
    /** A secret: text, ${env:NAME} or ${file:PATH}. */
    keyPassword?: string;
    serverName?: string;
    verifyHostname?: boolean;
    verifyCertificate?: boolean;
  };
  sasl?: { mechanism: SaslMechanism; username: string; /** A secret, as keyPassword. */ password: string };
}

/** A security setting that cannot be used; names the setting, never a secret's value. */
export class SecurityConfigError extends Error {
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = "SecurityConfigError";
    this.setting = setting;
  }
}

/** Where secrets and files are looked up; tests pass their own. */
export interface SecretSource {
  env?: Readonly<Record<string, string | undefined>>;
  /** Relative file paths resolve against this directory (default the working directory). */
  baseDir?: string;
}

/** Placeholder shown wherever a secret would be. */
export const REDACTED = "[redacted]";

const REFERENCE = /^\$\{(env|file):([^}]+)\}$/;

/** True for "${env:NAME}" or "${file:PATH}": a pointer to a secret, safe to show. */
export function isSecretReference(text: string): boolean {
  return REFERENCE.test(text);
}

/** Resolves a secret: ${env:NAME}, ${file:PATH} (contents, trailing newline dropped) or the text itself. */
export function resolveSecret(setting: string, text: string, source: SecretSource = {}): string {
  const m = REFERENCE.exec(text);
  if (m === null) return text;
  const [, kind, ref] = m as unknown as [string, "env" | "file", string];
  if (kind === "env") {
    const value = (source.env ?? process.env)[ref];
    if (value === undefined || value === "")
      throw new SecurityConfigError(setting, `environment variable ${ref} is not set`);
    return value;
  }
  return readText(setting, ref, source).replace(/\r?\n$/, "");
}

function readText(setting: string, path: string, source: SecretSource): string {
  const full = resolve(source.baseDir ?? process.cwd(), path);
  try {
    return readFileSync(full, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "unreadable";
    throw new SecurityConfigError(setting, `cannot read ${full} (${code})`);
  }
}

/** The connect/authenticate hooks for ClusterOptions; reads the files and resolves secrets now. */
export function clusterSecurityOptions(
  security: ClientSecurity,
  source: SecretSource = {},
): Pick<ClusterOptions, "connect" | "authenticate"> {
  const out: Pick<ClusterOptions, "connect" | "authenticate"> = {};
  const usesTls = security.protocol === "SSL" || security.protocol === "SASL_SSL";
  const usesSasl = security.protocol === "SASL_PLAINTEXT" || security.protocol === "SASL_SSL";
  if (usesTls) {
    const t = security.tls ?? {};
    const options: TlsOptions = {
      ...(t.caFile === undefined ? {} : { ca: readText("ssl.ca.location", t.caFile, source) }),
      ...(t.certFile === undefined ? {} : { cert: readText("ssl.certificate.location", t.certFile, source) }),
      ...(t.keyFile === undefined ? {} : { key: readText("ssl.key.location", t.keyFile, source) }),
      ...(t.keyPassword === undefined
        ? {}
        : { keyPassword: resolveSecret("ssl.key.password", t.keyPassword, source) }),
      ...(t.serverName === undefined ? {} : { serverName: t.serverName }),
      ...(t.verifyHostname === undefined ? {} : { verifyHostname: t.verifyHostname }),
      ...(t.verifyCertificate === undefined ? {} : { verifyCertificate: t.verifyCertificate }),
    };
    if ((options.cert === undefined) !== (options.key === undefined))
      throw new SecurityConfigError(
        "ssl.certificate.location",
        "a client certificate needs its key and vice versa",
      );
    out.connect = tlsSocketFactory(options);
  }
  if (usesSasl) {
    const s = security.sasl;
    if (s === undefined)
      throw new SecurityConfigError("sasl.mechanism", `is required with ${security.protocol}`);
    if (s.username === "") throw new SecurityConfigError("sasl.username", "is required");
    out.authenticate = saslAuthenticator({
      mechanism: s.mechanism,
      username: s.username,
      password: resolveSecret("sasl.password", s.password, source),
    });
  }
  return out;
}

/** Parses a Java-style properties file's text: key=value (or key: value) lines, # and ! comments. */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const at = line.search(/[=:]/);
    if (at < 0) out[line] = "";
    else out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

// Settings this module reads; anything else in a client config file is refused (a typo must not
// silently turn security off).
const KNOWN = new Set([
  "security.protocol",
  "ssl.ca.location",
  "ssl.certificate.location",
  "ssl.key.location",
  "ssl.key.password",
  "ssl.endpoint.identification.algorithm",
  "enable.ssl.certificate.verification",
  "ferry.ssl.server.name",
  "sasl.mechanism",
  "sasl.mechanisms",
  "sasl.username",
  "sasl.password",
]);

/** ClientSecurity from Kafka/librdkafka-named properties (e.g. a `--source-config` file). */
export function securityFromProperties(props: Readonly<Record<string, string>>): ClientSecurity {
  for (const key of Object.keys(props)) {
    if (!KNOWN.has(key))
      throw new SecurityConfigError(key, `unknown client setting (known: ${[...KNOWN].join(", ")})`);
  }
  const protocol = (props["security.protocol"] ?? "PLAINTEXT").toUpperCase() as SecurityProtocol;
  if (!PROTOCOLS.includes(protocol))
    throw new SecurityConfigError("security.protocol", `expected one of ${PROTOCOLS.join(", ")}`);
  const bool = (key: string): boolean | undefined => {
    const v = props[key];
    if (v === undefined) return undefined;
    if (v !== "true" && v !== "false") throw new SecurityConfigError(key, "expected true or false");
    return v === "true";
  };
  const identification = props["ssl.endpoint.identification.algorithm"];
  if (identification !== undefined && !["https", "none", ""].includes(identification))
    throw new SecurityConfigError("ssl.endpoint.identification.algorithm", "expected https or none");
  const verifyCertificate = bool("enable.ssl.certificate.verification");
  const tls: NonNullable<ClientSecurity["tls"]> = {
    ...optional("caFile", props["ssl.ca.location"]),
    ...optional("certFile", props["ssl.certificate.location"]),
    ...optional("keyFile", props["ssl.key.location"]),
    ...optional("keyPassword", props["ssl.key.password"]),
    ...optional("serverName", props["ferry.ssl.server.name"]),
    ...(identification === undefined ? {} : { verifyHostname: identification === "https" }),
    ...(verifyCertificate === undefined ? {} : { verifyCertificate }),
  };
  const security: ClientSecurity = { protocol, tls };
  if (protocol === "SASL_PLAINTEXT" || protocol === "SASL_SSL") {
    const mechanism = (props["sasl.mechanism"] ?? props["sasl.mechanisms"] ?? "").toUpperCase();
    if (!SASL_MECHANISMS.includes(mechanism as SaslMechanism))
      throw new SecurityConfigError("sasl.mechanism", `expected one of ${SASL_MECHANISMS.join(", ")}`);
    const username = props["sasl.username"];
    const password = props["sasl.password"];
    if (username === undefined || username === "")
      throw new SecurityConfigError("sasl.username", "is required");
    if (password === undefined || password === "")
      throw new SecurityConfigError("sasl.password", "is required");
    security.sasl = { mechanism: mechanism as SaslMechanism, username, password };
  }
  return security;
}

/** Reads a client config file (properties) into ClusterOptions hooks; relative paths resolve against it. */
export function clusterOptionsFromConfigFile(
  path: string,
  env: SecretSource["env"] = process.env,
): Pick<ClusterOptions, "connect" | "authenticate"> {
  const full = resolve(path);
  const props = parseProperties(readText("(config file)", full, {}));
  return clusterSecurityOptions(securityFromProperties(props), {
    baseDir: resolve(full, ".."),
    ...(env === undefined ? {} : { env }),
  });
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined || value === "" ? {} : ({ [key]: value } as Record<K, string>);
}
