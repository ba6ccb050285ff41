// A small schema language: one definition yields both the published JSON Schema and a validator
// that walks the YAML syntax tree, so every error names file:line:column and what was expected.
import { isMap, isScalar, isSeq, type LineCounter, type Node } from "yaml";

interface Described {
  description?: string;
}

export interface StringShape extends Described {
  kind: "string";
  pattern?: string;
  /** Said instead of the pattern when a value does not match it. */
  patternHint?: string;
  enum?: readonly string[];
  /** The value is a regular expression that must compile. */
  regex?: boolean;
  default?: string;
}

export interface IntegerShape extends Described {
  kind: "integer";
  minimum?: number;
  maximum?: number;
  default?: number;
}

export interface BooleanShape extends Described {
  kind: "boolean";
  default?: boolean;
}

export interface ObjectShape extends Described {
  kind: "object";
  properties: Record<string, Shape>;
  required?: readonly string[];
  /** Left out when absent, its presence meaning something (a `tls` block turns TLS on); default: filled with defaults. */
  optional?: boolean;
}

/** A map with free keys (names) and values of one shape. */
export interface MapShape extends Described {
  kind: "map";
  keyPattern: string;
  keyHint: string;
  values: Shape;
}

export interface ArrayShape extends Described {
  kind: "array";
  items: Shape;
  minItems?: number;
}

/** A map of scalar values with free keys (e.g. Kafka-named settings). */
export interface ScalarsShape extends Described {
  kind: "scalars";
}

/** Objects told apart by one string property (`type: embedded`). */
export interface TaggedShape extends Described {
  kind: "tagged";
  tag: string;
  variants: Record<string, ObjectShape>;
}

/** A string, or a list of strings (normalised to a list). */
export interface StringListShape extends Described {
  kind: "stringList";
  item: StringShape;
}

export type Shape =
  | StringShape
  | IntegerShape
  | BooleanShape
  | ObjectShape
  | MapShape
  | ArrayShape
  | ScalarsShape
  | TaggedShape
  | StringListShape;

type JsonSchema = Record<string, unknown>;

/** The JSON Schema (draft 2020-12) of a shape. */
export function toJsonSchema(shape: Shape): JsonSchema {
  const base: JsonSchema = shape.description === undefined ? {} : { description: shape.description };
  switch (shape.kind) {
    case "string":
      return {
        ...base,
        type: "string",
        ...(shape.pattern === undefined ? {} : { pattern: shape.pattern }),
        ...(shape.enum === undefined ? {} : { enum: shape.enum }),
        ...(shape.regex === true ? { format: "regex" } : {}),
        ...(shape.default === undefined ? {} : { default: shape.default }),
      };
    case "integer":
      return {
        ...base,
        type: "integer",
        ...(shape.minimum === undefined ? {} : { minimum: shape.minimum }),
        ...(shape.maximum === undefined ? {} : { maximum: shape.maximum }),
        ...(shape.default === undefined ? {} : { default: shape.default }),
      };
    case "boolean":
      return { ...base, type: "boolean", ...(shape.default === undefined ? {} : { default: shape.default }) };
    case "object":
      return {
        ...base,
        type: "object",
        properties: Object.fromEntries(
          Object.entries(shape.properties).map(([k, v]) => [k, toJsonSchema(v)]),
        ),
        ...(shape.required === undefined || shape.required.length === 0 ? {} : { required: shape.required }),
        additionalProperties: false,
      };
    case "map":
      return {
        ...base,
        type: "object",
        propertyNames: { pattern: shape.keyPattern },
        additionalProperties: toJsonSchema(shape.values),
      };
    case "array":
      return {
        ...base,
        type: "array",
        items: toJsonSchema(shape.items),
        ...(shape.minItems === undefined ? {} : { minItems: shape.minItems }),
      };
    case "scalars":
      return {
        ...base,
        type: "object",
        additionalProperties: { type: ["string", "number", "boolean"] },
      };
    case "tagged":
      return {
        ...base,
        type: "object",
        required: [shape.tag],
        oneOf: Object.entries(shape.variants).map(([tag, variant]) => {
          const schema = toJsonSchema(variant);
          const props = schema.properties as Record<string, unknown>;
          return {
            ...schema,
            properties: { [shape.tag]: { const: tag }, ...props },
            required: [shape.tag, ...(variant.required ?? [])],
          };
        }),
      };
    case "stringList":
      return {
        ...base,
        oneOf: [toJsonSchema(shape.item), { type: "array", items: toJsonSchema(shape.item) }],
      };
  }
}

/** One validation problem: where (file:line:column), the property path, and what was expected. */
export interface SchemaIssue {
  where: string;
  path: string;
  message: string;
}

export interface ValidationContext {
  file: string;
  lines: LineCounter;
  issues: SchemaIssue[];
}

function at(ctx: ValidationContext, node: Node | null | undefined, fallback?: Node | null): string {
  const offset = node?.range?.[0] ?? fallback?.range?.[0] ?? 0;
  const p = ctx.lines.linePos(offset);
  return `${ctx.file}:${p.line}:${p.col}`;
}

function report(
  ctx: ValidationContext,
  node: Node | null | undefined,
  path: string,
  message: string,
  fallback?: Node | null,
): undefined {
  ctx.issues.push({ where: at(ctx, node, fallback), path: path === "" ? "(top level)" : path, message });
  return undefined;
}

function describe(node: Node | null | undefined): string {
  if (node === null || node === undefined) return "nothing";
  if (isMap(node)) return "a map";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return "nothing";
    if (typeof v === "string") return `'${v}'`;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return "a value";
  }
  return "something else";
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** The closest of `options` to `word`, when it is close enough to be a likely typo. */
function closest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestDistance) {
      best = o;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * Validates a YAML node against a shape and returns its plain value with defaults filled in.
 * Problems are appended to ctx.issues; the returned value is only meaningful when there are none.
 */
export function validateNode(
  ctx: ValidationContext,
  node: Node | null | undefined,
  shape: Shape,
  path: string,
  parent?: Node | null,
): unknown {
  switch (shape.kind) {
    case "string": {
      if (!isScalar(node) || typeof node.value !== "string" || node.value === "") {
        if (isScalar(node) && (typeof node.value === "number" || typeof node.value === "boolean")) {
          // An unquoted 9092 or true where a name is expected is still meant as text.
          return validateString(ctx, node, String(node.value), shape, path);
        }
        const expected = shape.enum === undefined ? "a string" : `one of ${shape.enum.join(", ")}`;
        if (isScalar(node) && node.value === "" && shape.regex !== true && shape.enum === undefined)
          return validateString(ctx, node, "", shape, path);
        if (isScalar(node) && node.value === "" && shape.regex === true) return "";
        return report(ctx, node, path, `expected ${expected}, got ${describe(node)}`, parent);
      }
      return validateString(ctx, node, node.value, shape, path);
    }
    case "integer": {
      const v: unknown = isScalar(node) ? node.value : undefined;
      if (typeof v !== "number" || !Number.isInteger(v))
        return report(ctx, node, path, `expected ${integerRange(shape)}, got ${describe(node)}`, parent);
      if (
        (shape.minimum !== undefined && v < shape.minimum) ||
        (shape.maximum !== undefined && v > shape.maximum)
      )
        return report(ctx, node, path, `expected ${integerRange(shape)}, got ${v}`, parent);
      return v;
    }
    case "boolean": {
      const v: unknown = isScalar(node) ? node.value : undefined;
      if (typeof v !== "boolean")
        return report(ctx, node, path, `expected true or false, got ${describe(node)}`);
      return v;
    }
    case "object":
      return validateObject(ctx, node, shape, path, parent);
    case "map": {
      if (isScalar(node) && node.value === null) return {};
      if (!isMap(node))
        return report(ctx, node, path, `expected a map of names, got ${describe(node)}`, parent);
      const out: Record<string, unknown> = {};
      const keyRe = new RegExp(shape.keyPattern);
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : "";
        if (!keyRe.test(key)) {
          report(ctx, keyNode, join(path, key), `'${key}' is not a valid name: ${shape.keyHint}`, node);
          continue;
        }
        out[key] = validateNode(ctx, pair.value as Node | null, shape.values, join(path, key), keyNode);
      }
      return out;
    }
    case "array": {
      if (!isSeq(node)) return report(ctx, node, path, `expected a list, got ${describe(node)}`, parent);
      if (shape.minItems !== undefined && node.items.length < shape.minItems)
        return report(ctx, node, path, `expected at least ${shape.minItems} item(s)`);
      return node.items.map((item, i) => validateNode(ctx, item as Node, shape.items, `${path}[${i}]`, node));
    }
    case "scalars": {
      if (isScalar(node) && node.value === null) return {};
      if (!isMap(node))
        return report(ctx, node, path, `expected a map of settings, got ${describe(node)}`, parent);
      const out: Record<string, string | number | boolean> = {};
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : "";
        const v: unknown = isScalar(pair.value) ? pair.value.value : undefined;
        if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
          report(
            ctx,
            pair.value as Node,
            join(path, key),
            `expected a single value, got ${describe(pair.value as Node)}`,
            keyNode,
          );
          continue;
        }
        out[key] = v;
      }
      return out;
    }
    case "tagged": {
      if (!isMap(node)) return report(ctx, node, path, `expected a map, got ${describe(node)}`, parent);
      const tagNode = node.items.find((p) => isScalar(p.key) && p.key.value === shape.tag);
      const tags = Object.keys(shape.variants);
      if (tagNode === undefined)
        return report(ctx, node, path, `'${shape.tag}' is required: one of ${tags.join(", ")}`);
      const tagValue: unknown = isScalar(tagNode.value) ? tagNode.value.value : undefined;
      const variant = typeof tagValue === "string" ? shape.variants[tagValue] : undefined;
      if (variant === undefined) {
        const got = describe(tagNode.value as Node);
        return report(
          ctx,
          tagNode.value as Node,
          join(path, shape.tag),
          `expected one of ${tags.join(", ")}, got ${got}`,
        );
      }
      const value = validateObject(ctx, node, variant, path, parent, shape.tag);
      return value === undefined ? undefined : { [shape.tag]: tagValue, ...value };
    }
    case "stringList": {
      if (isSeq(node)) {
        if (node.items.length === 0) return report(ctx, node, path, "expected at least one entry");
        return node.items.map((item, i) =>
          validateNode(ctx, item as Node, shape.item, `${path}[${i}]`, node),
        );
      }
      if (isScalar(node) && typeof node.value === "string")
        return node.value.split(",").map((s) => validateString(ctx, node, s.trim(), shape.item, path));
      return report(ctx, node, path, `expected a string or a list of strings, got ${describe(node)}`, parent);
    }
  }
}

function integerRange(shape: IntegerShape): string {
  if (shape.minimum !== undefined && shape.maximum !== undefined)
    return `an integer from ${shape.minimum} to ${shape.maximum}`;
  if (shape.minimum !== undefined) return `an integer of at least ${shape.minimum}`;
  return "an integer";
}

function validateString(
  ctx: ValidationContext,
  node: Node,
  value: string,
  shape: StringShape,
  path: string,
): string | undefined {
  if (shape.enum !== undefined && !shape.enum.includes(value))
    return report(ctx, node, path, `expected one of ${shape.enum.join(", ")}, got '${value}'`);
  if (shape.pattern !== undefined && !new RegExp(shape.pattern).test(value))
    return report(ctx, node, path, `'${value}' ${shape.patternHint ?? `does not match ${shape.pattern}`}`);
  if (shape.regex === true) {
    try {
      new RegExp(value);
    } catch (e) {
      return report(ctx, node, path, `expected a regular expression: ${(e as Error).message}`);
    }
  }
  return value;
}

function validateObject(
  ctx: ValidationContext,
  node: Node | null | undefined,
  shape: ObjectShape,
  path: string,
  parent: Node | null | undefined,
  skipKey?: string,
): Record<string, unknown> | undefined {
  // An empty value (`sasl:` or an empty file) is an empty map: its required properties are then named.
  if (node === null || (isScalar(node) && node.value === null)) node = undefined;
  if (node !== undefined && !isMap(node))
    return report(ctx, node, path, `expected a map, got ${describe(node)}`, parent);
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const names = Object.keys(shape.properties);
  for (const pair of node?.items ?? []) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : "";
    if (key === skipKey) continue;
    const prop = shape.properties[key];
    if (prop === undefined) {
      const guess = closest(key, names);
      const hint = guess === undefined ? `expected one of: ${names.join(", ")}` : `did you mean '${guess}'?`;
      report(ctx, keyNode, join(path, key), `unknown property '${key}'; ${hint}`, node);
      continue;
    }
    seen.add(key);
    const value = validateNode(ctx, pair.value as Node | null, prop, join(path, key), keyNode);
    if (value !== undefined) out[key] = value;
  }
  for (const name of shape.required ?? []) {
    if (!seen.has(name)) report(ctx, node, join(path, name), `'${name}' is required`, parent);
  }
  for (const [name, prop] of Object.entries(shape.properties)) {
    if (out[name] !== undefined || seen.has(name)) continue;
    if (prop.kind === "object" && prop.optional === true) continue;
    if (prop.kind === "object" && (prop.required ?? []).length === 0) {
      out[name] = validateObject(ctx, undefined, prop, join(path, name), node);
      continue;
    }
    if (prop.kind === "map" || prop.kind === "scalars") out[name] = {};
    else if (prop.kind === "array") out[name] = [];
    else if ("default" in prop && prop.default !== undefined) out[name] = prop.default;
  }
  return out;
}
