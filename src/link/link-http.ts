// The small HTTP endpoint of `ferry link --http PORT`: GET /status (JSON), GET /metrics
// (Prometheus), GET and PUT /filters (JSON {topics, exclude, groups}; applied without a
// restart), POST /pause and /resume. Loopback by default; any other interface needs a bearer
// token, which every request must then carry.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { bearerCheck, isLoopback } from "../util/bearer-token.ts";
import { linkMetricsText, linkStatus } from "./link-status.ts";
import type { Link } from "./link.ts";
import { FilterError } from "./topic-filter.ts";

export interface LinkHttpServer {
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/** Serving beyond loopback without a token was asked for. */
export class LinkHttpSecurityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkHttpSecurityError";
  }
}

export async function serveLinkHttp(
  link: Link,
  port: number,
  host = "127.0.0.1",
  token?: string,
): Promise<LinkHttpServer> {
  if (token === undefined && !isLoopback(host)) {
    throw new LinkHttpSecurityError(
      `refusing to serve on ${host} without a token: set FERRY_API_TOKEN, or use a loopback address`,
    );
  }
  let authorized: ((authorization: string | undefined) => boolean) | undefined;
  try {
    authorized = token === undefined ? undefined : bearerCheck(token);
  } catch (e) {
    throw new LinkHttpSecurityError((e as Error).message);
  }
  const server: Server = createServer((req, res) => {
    if (authorized !== undefined && !authorized(req.headers.authorization)) {
      res.setHeader("www-authenticate", 'Bearer realm="ferry"');
      send(res, 401, { error: "missing or wrong bearer token (Authorization: Bearer ...)" });
      return;
    }
    handle(link, req, res).catch((e: unknown) => send(res, 500, { error: (e as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(link: Link, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://link").pathname;
  const method = req.method ?? "GET";
  if (path === "/status" && method === "GET") return send(res, 200, linkStatus(link));
  if (path === "/metrics" && method === "GET") {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    res.end(linkMetricsText([link]));
    return;
  }
  if (path === "/filters" && method === "GET") return send(res, 200, link.filters);
  if (path === "/filters" && method === "PUT") {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (e) {
      return send(res, 400, { error: `body is not JSON: ${(e as Error).message}` });
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return send(res, 400, { error: "body must be an object with topics, exclude and/or groups" });
    }
    const update: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) {
      if (!["topics", "exclude", "groups"].includes(k))
        return send(res, 400, { error: `unknown field '${k}'` });
      if (typeof v !== "string")
        return send(res, 400, { error: `${k} must be a string (a regular expression)` });
      update[k] = v;
    }
    try {
      link.setFilters(update);
    } catch (e) {
      if (e instanceof FilterError) return send(res, 400, { error: e.message, field: e.field });
      throw e;
    }
    return send(res, 200, link.filters);
  }
  if (path === "/pause" && method === "POST") {
    link.pause();
    return send(res, 200, { state: "paused" });
  }
  if (path === "/resume" && method === "POST") {
    link.resume();
    return send(res, 200, { state: "running" });
  }
  send(res, 404, { error: `no route ${method} ${path}` });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body) + "\n");
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error(`body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      parts.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}
