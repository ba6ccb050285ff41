// The broker's effective settings: defaults, overridden by a YAML file, overridden by
// explicit options. Every value is validated against its definition; errors name the file,
// line and column.
import { readFile } from "node:fs/promises";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { BROKER_CONFIGS, brokerConfigDef, invalidReason, longValue, TOPIC_CONFIGS } from "./config-defs.ts";

/** A setting that is unknown or invalid; `where` is "file:line:column" or the option name. */
export class ConfigError extends Error {
  readonly where: string;

  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = "ConfigError";
    this.where = where;
  }
}

/** Settings of the process, not of Kafka's broker config: where to listen and store. */
export const PROCESS_SETTINGS = ["data.dir", "host", "port", "advertised.host", "cluster.id"] as const;

export type SettingValue = string | number | boolean;

export class BrokerConfig {
  readonly #values = new Map<string, string>();
  /** Names set explicitly (file or options), for DescribeConfigs sources. */
  readonly #explicit = new Set<string>();

  constructor(settings: Record<string, SettingValue> = {}, where = "option") {
    for (const def of BROKER_CONFIGS) this.#values.set(def.name, def.default);
    for (const [name, value] of Object.entries(settings)) this.set(name, String(value), `${where} ${name}`);
  }

  /** Sets one Kafka-named setting, validating it. */
  set(name: string, value: string, where: string): void {
    const def = brokerConfigDef(name);
    if (def === undefined) throw new ConfigError(where, `unknown broker setting '${name}'`);
    const reason = invalidReason(def, value);
    if (reason !== null) throw new ConfigError(where, reason);
    this.#values.set(name, value);
    this.#explicit.add(name);
  }

  get(name: string): string {
    const v = this.#values.get(name);
    if (v === undefined) throw new ConfigError("broker", `unknown broker setting '${name}'`);
    return v;
  }

  int(name: string): number {
    return Number(this.get(name));
  }

  /** A long as a number; Long.MAX_VALUE ("never") becomes Infinity. */
  long(name: string): number {
    return longValue(this.get(name));
  }

  bool(name: string): boolean {
    return this.get(name) === "true";
  }

  isExplicit(name: string): boolean {
    return this.#explicit.has(name);
  }

  /** Every setting with its value, sorted by name. */
  entries(): [string, string][] {
    return [...this.#values.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }

  /** The broker-level default of a topic setting (through its synonym). */
  topicDefault(topicSetting: string): string {
    const def = TOPIC_CONFIGS.find((t) => t.name === topicSetting);
    if (def === undefined) throw new ConfigError("topic", `unknown topic setting '${topicSetting}'`);
    if (def.synonym === null)
      throw new ConfigError("topic", `topic setting '${topicSetting}' has no broker default`);
    return this.get(def.synonym);
  }
}

/** Settings read from a YAML file: Kafka broker names plus the process settings. */
export interface BrokerFileSettings {
  kafka: Record<string, { value: string; where: string }>;
  process: Partial<Record<(typeof PROCESS_SETTINGS)[number], { value: string; where: string }>>;
}

/** Reads a broker YAML file: a flat map of setting names to scalar values. */
export async function readBrokerConfigFile(path: string): Promise<BrokerFileSettings> {
  const text = await readFile(path, "utf8");
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined): string => {
    const p = lines.linePos(offset ?? 0);
    return `${path}:${p.line}:${p.col}`;
  };
  const firstError = doc.errors[0];
  if (firstError !== undefined)
    throw new ConfigError(at(firstError.pos[0]), firstError.message.split("\n")[0] ?? "");
  const out: BrokerFileSettings = { kafka: {}, process: {} };
  if (doc.contents === null) return out;
  if (!isMap(doc.contents)) throw new ConfigError(at(0), "expected a map of setting names to values");
  for (const pair of doc.contents.items) {
    const key = pair.key;
    const value = pair.value;
    if (!isScalar(key)) throw new ConfigError(at(0), "setting names must be plain strings");
    const name = String(key.value);
    const where = at(key.range?.[0]);
    const raw: unknown = isScalar(value) ? value.value : null;
    if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
      throw new ConfigError(where, `${name}: expected a single value (string, number or boolean)`);
    }
    const str = String(raw);
    if ((PROCESS_SETTINGS as readonly string[]).includes(name)) {
      out.process[name as (typeof PROCESS_SETTINGS)[number]] = { value: str, where };
      continue;
    }
    const def = brokerConfigDef(name);
    if (def === undefined) throw new ConfigError(where, `unknown broker setting '${name}'`);
    const reason = invalidReason(def, str);
    if (reason !== null) throw new ConfigError(at(isScalar(value) ? value.range?.[0] : undefined), reason);
    out.kafka[name] = { value: str, where };
  }
  return out;
}
