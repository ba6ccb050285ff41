// The control plane's HTTP server (fastify): the REST API under /api, Prometheus /metrics,
// /healthz and /readyz, and the dashboard's static files from src/web/. Loopback by default;
// listening elsewhere needs a bearer token, which every request but the static files and
// /healthz must then carry. Secrets in the topology are shown redacted.
import { bearerCheck, isLoopback, MIN_TOKEN_LENGTH } from "../util/bearer-token.ts";
import { readdir, readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { redactTopology } from "./cluster-security.ts";
import type { ControlPlane } from "./control-plane.ts";
import { registerFailoverRoutes } from "./failover-api.ts";
import { registerMigrationRoutes } from "./migrate-api.ts";
import { controlPlaneMetricsText } from "./metrics.ts";
import { clusterTopics, clusterView, linkDetail, linkSummary, statusView } from "./views.ts";

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface ApiOptions {
  host?: string;
  port?: number;
  /** Where the dashboard's files are (default: src/web next to this module). */
  webDir?: URL;
  /** Bearer token every API request must carry; required unless host is a loopback address. */
  token?: string;
}

/** The API would listen beyond loopback without a token. */
export class ApiSecurityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ApiSecurityError";
  }
}

export { isLoopback };

// Served without the token: the dashboard's own files (it asks for the token) and liveness.
const OPEN_PATHS = /^\/(?:$|healthz$|web\/)/;

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

interface NameParams {
  name: string;
}

function notFound(reply: FastifyReply, what: string): FastifyReply {
  return reply.code(404).send({ error: `no ${what}` });
}

/** Builds the fastify app (not listening); tests can inject requests into it. */
export async function buildApi(
  cp: ControlPlane,
  webDir = new URL("../web/", import.meta.url),
  security: { token?: string } = {},
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const token = security.token;
  if (token !== undefined) {
    if (token.length < MIN_TOKEN_LENGTH)
      throw new ApiSecurityError(`the API token must be at least ${MIN_TOKEN_LENGTH} characters`);
    const authorized = bearerCheck(token);
    app.addHook("onRequest", async (req, reply) => {
      if (OPEN_PATHS.test(req.url.split("?")[0] ?? "")) return;
      if (!authorized(req.headers.authorization)) {
        await reply
          .code(401)
          .header("www-authenticate", 'Bearer realm="ferry"')
          .send({ error: "missing or wrong bearer token (Authorization: Bearer ...)" });
      }
    });
  }
  app.get("/healthz", () => ({ status: "ok" }));
  app.get("/readyz", (_req, reply) => {
    const view = statusView(cp);
    if (view.ready) return { status: "ready" };
    const waiting = [
      ...view.clusters.filter((c) => c.health !== "ok").map((c) => `cluster ${c.name}: ${c.health}`),
      ...view.links
        .filter((l) => l.state === "starting" || l.state === "down")
        .map((l) => `link ${l.name}: ${l.state}`),
    ];
    return reply.code(503).send({ status: "not ready", waiting });
  });
  app.get("/metrics", (_req, reply) =>
    reply.type("text/plain; version=0.0.4; charset=utf-8").send(controlPlaneMetricsText(cp)),
  );
  app.get("/api/status", () => statusView(cp));
  app.get("/api/topology", () => ({
    topology: cp.topology === undefined ? null : redactTopology(cp.topology),
    appliedAt: cp.appliedAt ?? null,
    lastError: cp.lastError ?? null,
  }));
  app.get("/api/clusters", () => statusView(cp).clusters);
  app.get<{ Params: NameParams }>("/api/clusters/:name", (req, reply) => {
    const c = statusView(cp).clusters.find((x) => x.name === req.params.name);
    return c === undefined ? notFound(reply, `cluster '${req.params.name}'`) : c;
  });
  app.get<{ Params: NameParams; Querystring: { internal?: string } }>(
    "/api/clusters/:name/topics",
    async (req, reply) => {
      const c = cp.clusters.get(req.params.name);
      if (c === undefined) return notFound(reply, `running cluster '${req.params.name}'`);
      try {
        return { cluster: clusterView(c), topics: await clusterTopics(c, req.query.internal === "true") };
      } catch (e) {
        return reply.code(502).send({ error: `cluster '${c.name}' did not answer: ${(e as Error).message}` });
      }
    },
  );
  app.get("/api/links", () => [...cp.links.values()].map(linkSummary));
  app.get<{ Params: NameParams }>("/api/links/:name", (req, reply) => {
    const l = cp.links.get(req.params.name);
    return l === undefined ? notFound(reply, `link '${req.params.name}'`) : linkDetail(l);
  });
  app.get<{ Params: NameParams; Querystring: { since?: string } }>(
    "/api/links/:name/history",
    (req, reply) => {
      const l = cp.links.get(req.params.name);
      if (l === undefined) return notFound(reply, `link '${req.params.name}'`);
      const since = Number(req.query.since ?? 0);
      return { link: l.name, samples: l.history.since(Number.isFinite(since) ? since : 0) };
    },
  );
  for (const action of ["pause", "resume"] as const) {
    app.post<{ Params: NameParams }>(`/api/links/:name/${action}`, (req, reply) => {
      const l = cp.links.get(req.params.name);
      if (l === undefined) return notFound(reply, `link '${req.params.name}'`);
      l.setUserPaused(action === "pause");
      return linkSummary(l);
    });
  }
  registerFailoverRoutes(app, cp);
  registerMigrationRoutes(app, cp);
  const files = new Set((await readdir(webDir)).filter((f) => /^[a-z0-9-]+\.(html|js|css|svg)$/.test(f)));
  const serve = async (file: string, reply: FastifyReply): Promise<FastifyReply> => {
    if (!files.has(file)) return notFound(reply, `file '${file}'`);
    const ext = file.slice(file.lastIndexOf(".") + 1);
    const body = await readFile(new URL(file, webDir));
    return reply
      .type(CONTENT_TYPES[ext] ?? "application/octet-stream")
      .header("cache-control", "no-cache")
      .send(body);
  };
  app.get("/", (_req, reply) => serve("index.html", reply));
  app.get<{ Params: { file: string } }>("/web/:file", (req, reply) => serve(req.params.file, reply));
  return app;
}

/** Starts the API and dashboard on host:port (default 127.0.0.1:7070; port 0 picks one). */
export async function startApi(cp: ControlPlane, options: ApiOptions = {}): Promise<ApiServer> {
  const host = options.host ?? "127.0.0.1";
  if (!isLoopback(host) && options.token === undefined)
    throw new ApiSecurityError(
      `refusing to serve the API on ${host} without a token: set FERRY_API_TOKEN or --api-token-file, or use a loopback address`,
    );
  const app = await buildApi(cp, options.webDir, options.token === undefined ? {} : { token: options.token });
  await app.listen({ host, port: options.port ?? 7070 });
  const port = (app.server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    port,
    close: () => app.close(),
  };
}
