// REST routes for failover and failback of the control plane's links:
// POST /api/links/:name/failover?force=true&topics=REGEX&groups=REGEX&timeoutMs=N and
// POST /api/links/:name/failback. The link's clusters are the topology's; a failed-over link
// stops and leaves the running set, and failback starts the reverse link ("<link>.reverse", or
// the file's link again after a round trip) in its place.
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ControlPlane } from "./control-plane.ts";
import { failback, type FailbackReport } from "./failback.ts";
import { failover, FailoverTimeoutError } from "./failover.ts";
import { LinkStateError } from "./failover-state.ts";
import { groupsOf, linkSpecOf, runningCluster, topicsOf, topicsParam } from "./link-clusters.ts";
import { LinkRuntime } from "./link-runtime.ts";
import { MigrationBlockedError } from "./migrate.ts";
import type { LinkSpec } from "./topology-schema.ts";
import { FilterError } from "../link/topic-filter.ts";

interface NameParams {
  name: string;
}

/** The HTTP status for an error of a failover, failback or cutover. */
export function errorStatus(e: unknown): number {
  if (e instanceof LinkStateError || e instanceof MigrationBlockedError) return 409;
  if (e instanceof FailoverTimeoutError) return 504;
  if (e instanceof FilterError || e instanceof SyntaxError) return 400;
  return 502;
}

/** Sends an error answer. */
export function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  return reply.code(errorStatus(e)).send({ error: (e as Error).message });
}

/** Adds the failover and failback routes to the API. */
/**
 * The options a route's failover or cutover shares: `force` and `timeoutMs` from the query,
 * and stopping the control plane's running link (it must not copy over the promoted topics).
 */
export function switchOptions(
  cp: ControlPlane,
  name: string,
  query: { force?: string; timeoutMs?: string },
): { force: boolean; waitTimeoutMs?: number; stopLink: () => Promise<void> } {
  const runtime = cp.links.get(name);
  return {
    force: query.force === "true",
    ...(query.timeoutMs === undefined ? {} : { waitTimeoutMs: Number(query.timeoutMs) }),
    stopLink: async () => {
      cp.links.delete(name);
      await runtime?.stop();
    },
  };
}

export function registerFailoverRoutes(app: FastifyInstance, cp: ControlPlane): void {
  app.post<{
    Params: NameParams;
    Querystring: { force?: string; topics?: string; groups?: string; timeoutMs?: string };
  }>("/api/links/:name/failover", async (req, reply) => {
    const name = req.params.name;
    const runtime = cp.links.get(name);
    const spec = runtime?.spec ?? linkSpecOf(cp, name);
    if (spec === undefined) return reply.code(404).send({ error: `no link '${name}'` });
    const target = runningCluster(cp, spec.target);
    if (typeof target === "string") return reply.code(409).send({ error: target });
    const source = cp.clusters.get(spec.source);
    try {
      return await failover({
        link: name,
        target: target.bootstrap,
        targetClient: target.clientOptions,
        ...(source === undefined ? {} : { source: source.bootstrap, sourceClient: source.clientOptions }),
        topics: topicsParam(req.query.topics) ?? topicsOf(spec),
        groups: groupsOf(spec, req.query.groups, "none"),
        ...switchOptions(cp, name, req.query),
      });
    } catch (e) {
      return sendError(reply, e);
    }
  });
  app.post<{ Params: NameParams }>("/api/links/:name/failback", async (req, reply) => {
    const name = req.params.name;
    const spec = linkSpecOf(cp, name);
    if (spec === undefined) return reply.code(404).send({ error: `no link '${name}'` });
    const old = cp.clusters.get(spec.source);
    const current = cp.clusters.get(spec.target);
    if (old === undefined || current === undefined) {
      return reply.code(409).send({ error: `clusters '${spec.source}' and '${spec.target}' must both run` });
    }
    try {
      const report = await failback({
        link: name,
        oldPrimary: old.bootstrap,
        oldClient: old.clientOptions,
        current: current.bootstrap,
        currentClient: current.clientOptions,
        logger: cp.logger,
      });
      // A failback prepared before (e.g. before a restart of `ferry up`) hands back its reverse link to run again.
      if (!(report.resumed && cp.links.has(report.reverseLink.name))) await startReverse(cp, spec, report);
      return report;
    } catch (e) {
      return sendError(reply, e);
    }
  });
}

/**
 * Runs the failback's reverse link in the control plane. After a round trip the reverse is the
 * file's own link, which starts as the file says; otherwise the failed-over link's settings
 * turned round, with the report's topics and naming, and without ACL sync.
 */
async function startReverse(cp: ControlPlane, spec: LinkSpec, report: FailbackReport): Promise<void> {
  const rl = report.reverseLink;
  const declared = cp.topology?.links[rl.name];
  const reverseSpec: LinkSpec = declared ?? {
    ...spec,
    source: spec.target,
    target: spec.source,
    topics: rl.topics,
    exclude: "",
    prefix: rl.prefix,
    mode: rl.mode,
    paused: false,
    acls: { sync: false, principals: "" },
  };
  await cp.links.get(rl.name)?.stop();
  const runtime = new LinkRuntime(
    rl.name,
    reverseSpec,
    (c) => {
      const running = cp.clusters.get(c);
      if (running === undefined) throw new Error(`cluster '${c}' is not running`);
      return running.bootstrap;
    },
    cp.logger.child({ link: rl.name }),
    (c) => cp.clusters.get(c)?.clientOptions ?? {},
    declared === undefined ? { stripPrefix: rl.stripPrefix } : {},
  );
  cp.links.set(rl.name, runtime);
  await runtime.started;
}
