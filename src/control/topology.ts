// Reading a topology file: YAML syntax, the schema, then the checks that span entries (a link's
// clusters exist, embedded brokers do not share ports or data directories).
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument, type Node } from "yaml";
import { validateNode, type SchemaIssue, type ValidationContext } from "./schema-shapes.ts";
import { TOPOLOGY_SHAPE, type ExternalClusterSpec, type Topology } from "./topology-schema.ts";

/** A topology file that cannot be used; `issues` lists every problem found. */
export class TopologyError extends Error {
  readonly issues: SchemaIssue[];

  constructor(issues: SchemaIssue[]) {
    super(issues.map((i) => `${i.where}: ${i.path}: ${i.message}`).join("\n"));
    this.name = "TopologyError";
    this.issues = issues;
  }
}

/** Reads and validates a topology file; relative data directories resolve against its folder. */
export async function loadTopology(path: string): Promise<Topology> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new TopologyError([{ where: path, path: "(file)", message: (e as Error).message }]);
  }
  return parseTopology(text, path, dirname(resolve(path)));
}

/** Validates topology text; `file` names it in errors, `baseDir` anchors relative paths. */
export function parseTopology(text: string, file: string, baseDir: string): Topology {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const ctx: ValidationContext = { file, lines, issues: [] };
  for (const err of doc.errors) {
    const p = lines.linePos(err.pos[0]);
    ctx.issues.push({
      where: `${file}:${p.line}:${p.col}`,
      path: "(syntax)",
      message: err.message.split("\n")[0] ?? "invalid YAML",
    });
  }
  if (ctx.issues.length > 0) throw new TopologyError(ctx.issues);
  const root = doc.contents as Node | null;
  const value = validateNode(ctx, root, TOPOLOGY_SHAPE, "");
  if (ctx.issues.length > 0 || value === undefined) throw new TopologyError(ctx.issues);
  const topology = value as Topology;
  for (const spec of Object.values(topology.clusters)) {
    if (spec.type === "embedded") spec.dataDir = resolve(baseDir, spec.dataDir);
    else resolveSecurityPaths(spec, baseDir);
  }
  checkReferences(topology, ctx, root);
  if (ctx.issues.length > 0) throw new TopologyError(ctx.issues);
  return topology;
}

/** Makes the tls/sasl blocks' file paths (and ${file:PATH} secrets) absolute, against the file's folder. */
function resolveSecurityPaths(spec: ExternalClusterSpec, baseDir: string): void {
  const file = (text: string): string =>
    text.replace(/^\$\{file:([^}]+)\}$/, (_m, path: string) => `\${file:${resolve(baseDir, path)}}`);
  const tls = spec.tls;
  if (tls !== undefined) {
    for (const key of ["ca", "cert", "key"] as const) {
      const v = tls[key];
      if (v !== undefined) tls[key] = resolve(baseDir, v);
    }
    if (tls.keyPassword !== undefined) tls.keyPassword = file(tls.keyPassword);
  }
  const sasl = spec.sasl;
  if (sasl !== undefined) {
    if (sasl.passwordFile !== undefined) sasl.passwordFile = resolve(baseDir, sasl.passwordFile);
    if (sasl.password !== undefined) sasl.password = file(sasl.password);
  }
}

/** The YAML node at a property path (for positions of cross-entry errors). */
function nodeAt(root: Node | null, path: readonly string[]): Node | null {
  let node = root;
  for (const key of path) {
    if (!isMap(node)) return node;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair === undefined) return node;
    node = pair.value as Node | null;
  }
  return node;
}

function checkReferences(topology: Topology, ctx: ValidationContext, root: Node | null): void {
  const issue = (path: string[], message: string): void => {
    const node = nodeAt(root, path);
    const p = ctx.lines.linePos(node?.range?.[0] ?? 0);
    ctx.issues.push({ where: `${ctx.file}:${p.line}:${p.col}`, path: path.join("."), message });
  };
  const clusters = Object.keys(topology.clusters);
  for (const [name, link] of Object.entries(topology.links)) {
    for (const side of ["source", "target"] as const) {
      if (topology.clusters[link[side]] === undefined) {
        const known = clusters.length === 0 ? "none are declared" : `declared: ${clusters.join(", ")}`;
        issue(["links", name, side], `unknown cluster '${link[side]}' (${known})`);
      }
    }
    if (link.source === link.target && link.prefix === "")
      issue(
        ["links", name, "prefix"],
        "a link within one cluster needs a prefix, or it would copy topics onto themselves",
      );
  }
  const ports = new Map<number, string>();
  const dirs = new Map<string, string>();
  for (const [name, spec] of Object.entries(topology.clusters)) {
    if (spec.type !== "embedded") continue;
    if (spec.port !== 0) {
      const other = ports.get(spec.port);
      if (other !== undefined)
        issue(["clusters", name, "port"], `port ${spec.port} is already used by cluster '${other}'`);
      ports.set(spec.port, name);
    }
    const other = dirs.get(spec.dataDir);
    if (other !== undefined)
      issue(
        ["clusters", name, "dataDir"],
        `data directory '${spec.dataDir}' is already used by cluster '${other}'`,
      );
    dirs.set(spec.dataDir, name);
  }
}
