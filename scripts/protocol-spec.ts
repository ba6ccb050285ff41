// Loads Apache Kafka's message spec JSON files into a typed model for the codec generator:
// version ranges resolved, struct types collected, defaults parsed per field type.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** An inclusive version range; `hi` is Infinity for open ranges ("3+"). */
export interface Range {
  lo: number;
  hi: number;
}

export const NONE: Range = { lo: 1, hi: 0 };

export interface FieldSpec {
  name: string;
  /** Spec type, e.g. "int32", "[]string", "[]FetchTopic", "ReplicaState". */
  type: string;
  versions: Range;
  nullableVersions: Range;
  taggedVersions: Range;
  tag: number | null;
  ignorable: boolean;
  /** Spec default text, if given. */
  default: string | null;
  /** Overrides flexible encoding for this field (only "none" occurs). */
  flexibleVersions: Range | null;
  about: string;
  /** Inline struct definition, for struct and struct-array types. */
  fields: FieldSpec[] | null;
}

export interface StructSpec {
  name: string;
  fields: FieldSpec[];
  /** Versions in which the struct can appear (the field's versions where it is used). */
  versions: Range;
}

export interface MessageSpec {
  name: string;
  /** "request" | "response" | "header" | "data" */
  type: string;
  apiKey: number | null;
  validVersions: Range;
  flexibleVersions: Range;
  deprecatedVersions: Range;
  fields: FieldSpec[];
  commonStructs: StructSpec[];
  file: string;
}

interface RawField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  ignorable?: boolean;
  default?: string | number | boolean;
  flexibleVersions?: string;
  about?: string;
  fields?: RawField[];
}

interface RawMessage {
  name: string;
  type: string;
  apiKey?: number;
  validVersions: string;
  flexibleVersions: string;
  deprecatedVersions?: string;
  fields: RawField[];
  commonStructs?: { name: string; versions: string; fields: RawField[] }[];
}

/** Parses "0+", "3-5", "7", "none". */
export function parseRange(text: string | undefined, where: string): Range {
  if (text === undefined || text === "none" || text === "") return NONE;
  const open = /^(\d+)\+$/.exec(text);
  if (open) return { lo: Number(open[1]), hi: Infinity };
  const closed = /^(\d+)-(\d+)$/.exec(text);
  if (closed) return { lo: Number(closed[1]), hi: Number(closed[2]) };
  if (/^\d+$/.test(text)) return { lo: Number(text), hi: Number(text) };
  throw new Error(`${where}: bad version range ${JSON.stringify(text)}`);
}

export function isEmpty(r: Range): boolean {
  return r.lo > r.hi;
}

export function intersect(a: Range, b: Range): Range {
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  return lo > hi ? NONE : { lo, hi };
}

export function contains(outer: Range, inner: Range): boolean {
  return isEmpty(inner) || (outer.lo <= inner.lo && inner.hi <= outer.hi);
}

function toField(raw: RawField, where: string): FieldSpec {
  const at = `${where}.${raw.name}`;
  return {
    name: raw.name,
    type: raw.type.trim(),
    versions: parseRange(raw.versions, at),
    nullableVersions: parseRange(raw.nullableVersions, at),
    taggedVersions: parseRange(raw.taggedVersions, at),
    tag: raw.tag ?? null,
    ignorable: raw.ignorable === true,
    default: raw.default === undefined ? null : String(raw.default),
    flexibleVersions: raw.flexibleVersions === undefined ? null : parseRange(raw.flexibleVersions, at),
    about: raw.about ?? "",
    fields: raw.fields ? raw.fields.map((f) => toField(f, at)) : null,
  };
}

/** Strips the // line comments the spec files carry before the JSON. */
function stripComments(text: string): string {
  return text.replace(/^\s*\/\/.*$/gm, "");
}

export function loadSpecs(dir: string): MessageSpec[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  return files.map((file) => {
    const raw = JSON.parse(stripComments(readFileSync(join(dir, file), "utf8"))) as RawMessage;
    return {
      name: raw.name,
      type: raw.type,
      apiKey: raw.apiKey ?? null,
      validVersions: parseRange(raw.validVersions, file),
      flexibleVersions: parseRange(raw.flexibleVersions, file),
      deprecatedVersions: parseRange(raw.deprecatedVersions, file),
      fields: raw.fields.map((f) => toField(f, raw.name)),
      commonStructs: (raw.commonStructs ?? []).map((s) => ({
        name: s.name,
        versions: parseRange(s.versions, `${file}:${s.name}`),
        fields: s.fields.map((f) => toField(f, `${raw.name}.${s.name}`)),
      })),
      file,
    };
  });
}

export const PRIMITIVES = new Set([
  "bool",
  "int8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "float64",
  "string",
  "uuid",
  "bytes",
  "records",
]);

export function isArray(type: string): boolean {
  return type.startsWith("[]");
}

export function elementType(type: string): string {
  return type.slice(2);
}
