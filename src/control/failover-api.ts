// REST routes for failover and failback of the control plane's links:
// POST /api/links/:name/failover?force=true&topics=REGEX and POST /api/links/:name/failback.
// The link's clusters are the topology's; a failed-over link stops and leaves the running set,
// and failback starts the reverse link (named "<link>.reverse") in its place.
import type { FastifyInstance } from "fastify";
import type { ControlPlane } from "./control-plane.ts";
import { failback, reverseLinkName } from "./failback.ts";
import { failover, FailoverTimeoutError } from "./failover.ts";
import { LinkStateError } from "./failover-state.ts";
import { LinkRuntime } from "./link-runtime.ts";
import { TopicFilter } from "../link/topic-filter.ts";

interface NameParams {
  name: string;
}

function errorStatus(e: unknown): number {
  if (e instanceof LinkStateError) return 409;
  if (e instanceof FailoverTimeoutError) return 504;
  return 502;
}

/** Adds the failover and failback routes to the API. */
export function registerFailoverRoutes(app: FastifyInstance, cp: ControlPlane): void {
  app.post<{ Params: NameParams; Querystring: { force?: string; topics?: string; timeoutMs?: string } }>(
    "/api/links/:name/failover",
    async (req, reply) => {
      const runtime = cp.links.get(req.params.name);
      const spec = runtime?.spec ?? cp.topology?.links[req.params.name];
      if (spec === undefined) return reply.code(404).send({ error: `no link '${req.params.name}'` });
      const target = cp.clusters.get(spec.target);
      if (target === undefined)
        return reply.code(409).send({ error: `cluster '${spec.target}' is not running` });
      let topics: RegExp | undefined;
      try {
        topics = req.query.topics === undefined ? undefined : new RegExp(`^(?:${req.query.topics})$`);
      } catch (e) {
        return reply.code(400).send({ error: `topics: ${(e as Error).message}` });
      }
      const groups = new TopicFilter({ groups: spec.groups });
      try {
        const report = await failover({
          link: req.params.name,
          target: target.bootstrap,
          ...(cp.clusters.get(spec.source) === undefined
            ? {}
            : { source: (cp.clusters.get(spec.source) as { bootstrap: string }).bootstrap }),
          ...(topics === undefined ? {} : { topics }),
          groups: (g) => groups.matchesGroup(g),
          force: req.query.force === "true",
          ...(req.query.timeoutMs === undefined ? {} : { waitTimeoutMs: Number(req.query.timeoutMs) }),
          stopLink: async () => {
            cp.links.delete(req.params.name);
            await runtime?.stop();
          },
        });
        return report;
      } catch (e) {
        return reply.code(errorStatus(e)).send({ error: (e as Error).message });
      }
    },
  );
  app.post<{ Params: NameParams }>("/api/links/:name/failback", async (req, reply) => {
    const spec = cp.topology?.links[req.params.name] ?? cp.links.get(req.params.name)?.spec;
    if (spec === undefined) return reply.code(404).send({ error: `no link '${req.params.name}'` });
    const old = cp.clusters.get(spec.source);
    const current = cp.clusters.get(spec.target);
    if (old === undefined || current === undefined) {
      return reply.code(409).send({ error: `clusters '${spec.source}' and '${spec.target}' must both run` });
    }
    try {
      const report = await failback({
        link: req.params.name,
        oldPrimary: old.bootstrap,
        current: current.bootstrap,
      });
      const name = reverseLinkName(req.params.name);
      const reverseSpec = {
        ...spec,
        source: spec.target,
        target: spec.source,
        topics: report.reverseLink.topics,
        paused: false,
      };
      const bootstrapOf = (c: string): string => {
        const running = cp.clusters.get(c);
        if (running === undefined) throw new Error(`cluster '${c}' is not running`);
        return running.bootstrap;
      };
      const reverse = new LinkRuntime(name, reverseSpec, bootstrapOf, cp.logger.child({ link: name }));
      cp.links.set(name, reverse);
      await reverse.started;
      return report;
    } catch (e) {
      return reply.code(errorStatus(e)).send({ error: (e as Error).message });
    }
  });
}
