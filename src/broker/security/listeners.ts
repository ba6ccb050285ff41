// The broker's listeners from Kafka's settings: `listeners` (NAME://host:port, ...),
// `advertised.listeners` and `listener.security.protocol.map`, plus each listener's TLS
// material and SASL mechanisms (`listener.name.<name>.<setting>` wins over `<setting>`).
import { readFile } from "node:fs/promises";
import type { ListenerTls } from "../../net/server.ts";
import { ConfigError, type BrokerConfig } from "../config/broker-config.ts";

export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";
const PROTOCOLS: readonly SecurityProtocol[] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];

export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** One listener as configured: where it binds, what it advertises, how clients authenticate. */
export interface ListenerSpec {
  /** Upper-case listener name, e.g. "PLAINTEXT" or "EXTERNAL". */
  name: string;
  protocol: SecurityProtocol;
  host: string;
  port: number;
  /** What Metadata tells clients that connected to this listener; port 0 = the bound port. */
  advertised: { host: string; port: number };
  tls: ListenerTls | undefined;
  /** Mechanisms offered on SASL listeners, empty on others. */
  saslMechanisms: SaslMechanism[];
  /** `ferry.sasl.plain.users.file` for this listener, "" for none. */
  plainUsersFile: string;
}

interface Endpoint {
  name: string;
  host: string;
  port: number;
}

/** Parses "NAME://host:port,NAME2://[::1]:9093"; an empty host means all interfaces. */
export function parseEndpoints(text: string, setting: string): Endpoint[] {
  const out: Endpoint[] = [];
  for (const part of text.split(",").map((p) => p.trim())) {
    if (part === "") continue;
    const m = /^([A-Za-z0-9_-]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(part);
    if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined)
      throw new ConfigError(setting, `expected NAME://host:port, got '${part}'`);
    const port = Number(m[3]);
    if (port > 65535) throw new ConfigError(setting, `port out of range in '${part}'`);
    const name = m[1].toUpperCase();
    if (out.some((e) => e.name === name)) throw new ConfigError(setting, `listener ${name} is named twice`);
    out.push({ name, host: m[2].replace(/^\[|\]$/g, ""), port });
  }
  return out;
}

/** Parses `listener.security.protocol.map` ("NAME:PROTOCOL,..."). */
export function parseProtocolMap(text: string): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>();
  for (const part of text.split(",").map((p) => p.trim())) {
    if (part === "") continue;
    const [name, protocol] = part.split(":");
    const p = protocol?.toUpperCase() as SecurityProtocol;
    if (name === undefined || name === "" || !PROTOCOLS.includes(p))
      throw new ConfigError("listener.security.protocol.map", `expected NAME:PROTOCOL, got '${part}'`);
    map.set(name.toUpperCase(), p);
  }
  return map;
}

/** A setting for one listener: its listener.name.<name>.<setting> override, else the broker-wide value. */
export function listenerSetting(config: BrokerConfig, listener: string, setting: string): string {
  const own = `listener.name.${listener.toLowerCase()}.${setting}`;
  return config.isExplicit(own) ? config.get(own) : config.get(setting);
}

/**
 * The listeners to open. With `listeners` empty: one PLAINTEXT listener on `host:port`
 * advertised as `advertisedHost` (Ferry's --host/--port/--advertised-host).
 */
export async function resolveListeners(
  config: BrokerConfig,
  fallback: { host: string; port: number; advertisedHost: string | undefined },
): Promise<ListenerSpec[]> {
  const protocols = parseProtocolMap(config.get("listener.security.protocol.map"));
  let endpoints = parseEndpoints(config.get("listeners"), "listeners");
  if (endpoints.length === 0) endpoints = [{ name: "PLAINTEXT", host: fallback.host, port: fallback.port }];
  const advertised = parseEndpoints(config.get("advertised.listeners"), "advertised.listeners");
  const specs: ListenerSpec[] = [];
  for (const e of endpoints) {
    const protocol = protocols.get(e.name);
    if (protocol === undefined)
      throw new ConfigError(
        "listener.security.protocol.map",
        `listener ${e.name} has no security protocol; add ${e.name}:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL)`,
      );
    const host = e.host === "" ? "0.0.0.0" : e.host;
    const adv = advertised.find((a) => a.name === e.name);
    const defaultHost = fallback.advertisedHost ?? (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host);
    specs.push({
      name: e.name,
      protocol,
      host,
      port: e.port,
      advertised:
        adv !== undefined
          ? { host: adv.host === "" ? defaultHost : adv.host, port: adv.port }
          : { host: defaultHost, port: 0 },
      tls: protocol === "SSL" || protocol === "SASL_SSL" ? await loadTls(config, e.name) : undefined,
      saslMechanisms: protocol.startsWith("SASL_") ? saslMechanisms(config, e.name) : [],
      plainUsersFile: listenerSetting(config, e.name, "ferry.sasl.plain.users.file"),
    });
  }
  for (const a of advertised) {
    if (!specs.some((s) => s.name === a.name))
      throw new ConfigError("advertised.listeners", `listener ${a.name} is not in listeners`);
  }
  return specs;
}

function saslMechanisms(config: BrokerConfig, listener: string): SaslMechanism[] {
  const text = listenerSetting(config, listener, "sasl.enabled.mechanisms");
  const out: SaslMechanism[] = [];
  for (const m of text.split(",").map((x) => x.trim().toUpperCase())) {
    if (m === "") continue;
    if (!(SASL_MECHANISMS as readonly string[]).includes(m))
      throw new ConfigError(
        "sasl.enabled.mechanisms",
        `unsupported SASL mechanism '${m}' (Ferry offers ${SASL_MECHANISMS.join(", ")})`,
      );
    out.push(m as SaslMechanism);
  }
  if (out.length === 0)
    throw new ConfigError("sasl.enabled.mechanisms", `listener ${listener} offers no mechanism`);
  return out;
}

/** Reads a TLS listener's PEM key store (key and certificate chain in one file) and trust store. */
async function loadTls(config: BrokerConfig, listener: string): Promise<ListenerTls> {
  const get = (s: string): string => listenerSetting(config, listener, s);
  const keystore = get("ssl.keystore.location");
  if (keystore === "")
    throw new ConfigError("ssl.keystore.location", `listener ${listener} uses TLS and needs a PEM key store`);
  const pem = await readPem(keystore, "ssl.keystore.location");
  const key = pem.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/)?.[0];
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (key === undefined || certs === null)
    throw new ConfigError(
      "ssl.keystore.location",
      `${keystore} must hold a private key and its certificate chain (PEM)`,
    );
  const truststore = get("ssl.truststore.location");
  const clientAuth = get("ssl.client.auth") as ListenerTls["clientAuth"];
  if (clientAuth !== "none" && truststore === "")
    throw new ConfigError(
      "ssl.truststore.location",
      `ssl.client.auth=${clientAuth} needs a trust store of client CAs`,
    );
  const protocols = get("ssl.enabled.protocols")
    .split(",")
    .map((p) => p.trim());
  if (protocols.some((p) => p !== "TLSv1.2" && p !== "TLSv1.3"))
    throw new ConfigError("ssl.enabled.protocols", "only TLSv1.2 and TLSv1.3 are supported");
  const password = get("ssl.key.password");
  return {
    key,
    cert: certs.join("\n"),
    clientAuth,
    minVersion: protocols.includes("TLSv1.2") ? "TLSv1.2" : "TLSv1.3",
    ...(password !== "" ? { passphrase: password } : {}),
    ...(truststore !== "" ? { ca: await readPem(truststore, "ssl.truststore.location") } : {}),
  };
}

async function readPem(path: string, setting: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new ConfigError(setting, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}
