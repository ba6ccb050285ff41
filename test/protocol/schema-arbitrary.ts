// Builds fast-check arbitraries and default values for any generated message at any
// version, from the generated schema table. Shared by round-trip tests and fuzzers.
import fc from "fast-check";
import { SCHEMA, type SchemaField, type SchemaMessage } from "../../src/protocol/generated/schema.ts";

type Value = unknown;
type Struct = Record<string, Value>;

export const MESSAGES: readonly SchemaMessage[] = SCHEMA;

function inRange(r: readonly [number, number] | null, v: number): boolean {
  return r !== null && r[0] <= v && v <= r[1];
}

function structFields(msg: SchemaMessage, name: string): readonly SchemaField[] {
  const fields = msg.structs[name];
  if (fields === undefined) throw new Error(`${msg.name}: no struct ${name}`);
  return fields;
}

/** The value a reader returns for a field the version does not carry. */
export function defaultOf(msg: SchemaMessage, f: SchemaField): Value {
  if (f.default === "bytes") return Buffer.alloc(0);
  if (f.default === "struct") return defaultStruct(msg, structFields(msg, f.type));
  if (Array.isArray(f.default)) return [];
  return f.default;
}

export function defaultStruct(msg: SchemaMessage, fields: readonly SchemaField[]): Struct {
  const out: Struct = {};
  for (const f of fields) out[f.name] = defaultOf(msg, f);
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function primitive(type: string): fc.Arbitrary<Value> | null {
  switch (type) {
    case "bool":
      return fc.boolean();
    case "int8":
      return fc.integer({ min: -128, max: 127 });
    case "int16":
      return fc.integer({ min: -32768, max: 32767 });
    case "uint16":
      return fc.integer({ min: 0, max: 65535 });
    case "int32":
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case "uint32":
      return fc.integer({ min: 0, max: 0xffffffff });
    case "int64":
      return fc.bigInt(INT64_MIN, INT64_MAX);
    case "float64":
      return fc.double();
    case "string":
      return fc.string({ unit: "binary", maxLength: 12 });
    case "uuid":
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString("base64url"));
    case "bytes":
    case "records":
      return fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));
    default:
      return null;
  }
}

function fieldArb(msg: SchemaMessage, f: SchemaField, version: number, depth: number): fc.Arbitrary<Value> {
  let arb: fc.Arbitrary<Value>;
  if (f.type.startsWith("[]")) {
    const et = f.type.slice(2);
    const elem = primitive(et) ?? structArb(msg, structFields(msg, et), version, depth + 1);
    arb = fc.array(elem, { maxLength: depth >= 3 ? 0 : 3 });
  } else {
    arb = primitive(f.type) ?? structArb(msg, structFields(msg, f.type), version, depth + 1);
  }
  const nullable = inRange(f.nullable, version) || f.type === "records";
  return nullable ? fc.option(arb, { nil: null, freq: 4 }) : arb;
}

/** A struct with every field the version carries; other fields left out. */
export function structArb(
  msg: SchemaMessage,
  fields: readonly SchemaField[],
  version: number,
  depth = 0,
): fc.Arbitrary<Struct> {
  const model: Record<string, fc.Arbitrary<Value>> = {};
  for (const f of fields) if (inRange(f.versions, version)) model[f.name] = fieldArb(msg, f, version, depth);
  return fc.record(model);
}

/** What a reader returns for `input`: the input with defaults for the fields it left out. */
export function expectedStruct(msg: SchemaMessage, fields: readonly SchemaField[], input: Struct): Struct {
  const out: Struct = {};
  for (const f of fields) {
    const v = input[f.name];
    if (v === undefined) {
      out[f.name] = defaultOf(msg, f);
    } else if (v !== null && f.type.startsWith("[]") && primitive(f.type.slice(2)) === null) {
      const sf = structFields(msg, f.type.slice(2));
      out[f.name] = (v as Struct[]).map((e) => expectedStruct(msg, sf, e));
    } else if (v !== null && !f.type.startsWith("[]") && primitive(f.type) === null) {
      out[f.name] = expectedStruct(msg, structFields(msg, f.type), v as Struct);
    } else {
      out[f.name] = v;
    }
  }
  if (input._unknownTaggedFields !== undefined) out._unknownTaggedFields = input._unknownTaggedFields;
  return out;
}

/** Unknown tagged fields (tags far above any the specs use), sorted as they go on the wire. */
export const unknownTaggedFieldsArb = fc
  .uniqueArray(fc.integer({ min: 1000, max: 5000 }), { minLength: 1, maxLength: 3 })
  .chain((tags) =>
    fc.tuple(
      ...tags
        .sort((a, b) => a - b)
        .map((tag) => fc.uint8Array({ maxLength: 8 }).map((d) => ({ tag, data: Buffer.from(d) }))),
    ),
  );
