// REST routes for a planned migration over a link of the control plane:
// GET /api/links/:name/migration?groups=REGEX (readiness and per-partition progress; changes
// nothing) and POST /api/links/:name/cutover?force=true&groups=REGEX&timeoutMs=N (refuses
// while consumers read the source unless forced, then a planned failover that stops the link).
import type { FastifyInstance } from "fastify";
import type { ControlPlane } from "./control-plane.ts";
import { sendError, switchOptions } from "./failover-api.ts";
import { groupsOf, linkSpecOf, runningCluster, topicsOf } from "./link-clusters.ts";
import { cutover, migrationPlan, type MigrationOptions } from "./migrate.ts";

interface NameParams {
  name: string;
}

type Resolved = { options: MigrationOptions } | { status: number; error: string };

function resolve(cp: ControlPlane, name: string, groups: string | undefined): Resolved {
  const spec = linkSpecOf(cp, name);
  if (spec === undefined) return { status: 404, error: `no link '${name}'` };
  const source = runningCluster(cp, spec.source);
  const target = runningCluster(cp, spec.target);
  if (typeof source === "string") return { status: 409, error: source };
  if (typeof target === "string") return { status: 409, error: target };
  const match = groupsOf(spec, groups, "all");
  return {
    options: {
      link: name,
      source: source.bootstrap,
      sourceClient: source.clientOptions,
      target: target.bootstrap,
      targetClient: target.clientOptions,
      topics: topicsOf(spec),
      ...(match === undefined ? {} : { groups: match }),
    },
  };
}

/** Adds the migration routes to the API. */
export function registerMigrationRoutes(app: FastifyInstance, cp: ControlPlane): void {
  app.get<{ Params: NameParams; Querystring: { groups?: string } }>(
    "/api/links/:name/migration",
    async (req, reply) => {
      try {
        const r = resolve(cp, req.params.name, req.query.groups);
        if ("error" in r) return reply.code(r.status).send({ error: r.error });
        return await migrationPlan(r.options);
      } catch (e) {
        return sendError(reply, e);
      }
    },
  );
  app.post<{ Params: NameParams; Querystring: { force?: string; groups?: string; timeoutMs?: string } }>(
    "/api/links/:name/cutover",
    async (req, reply) => {
      const name = req.params.name;
      try {
        const r = resolve(cp, name, req.query.groups);
        if ("error" in r) return reply.code(r.status).send({ error: r.error });
        return await cutover({ ...r.options, ...switchOptions(cp, name, req.query) });
      } catch (e) {
        return sendError(reply, e);
      }
    },
  );
}
