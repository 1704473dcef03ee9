import type { FastifyInstance, FastifyRequest } from 'fastify';
import { faults } from '../errors.js';
import type { NeutronServices } from '../service/neutron-services.js';
import type { Authenticator } from './auth.js';
import { applyListQuery, parseQuery, selectFields } from './list-query.js';
import { selfUrl } from './collection-routes.js';
import { DEFAULT_QUOTA } from '../service/quotas.js';
import { authorize, callerPolicy, type PolicySource } from './policy-enforcement.js';

/** Agents and quotas: the rest of what Nova's boot path and the CLI use (tags: tag-routes.ts). */
export function registerExtras(app: FastifyInstance, s: NeutronServices, auth: Authenticator, policy: PolicySource): void {
  // As Neutron: agents a caller may not get (get_agent) are left out of its list.
  app.get('/v2.0/agents', async (req, reply) => {
    const caller = callerPolicy(policy, await auth.authenticate(req.headers));
    const q = parseQuery(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
    const agents = (await s.agents.list()).filter((a) => caller.allows('get_agent', a));
    const attributes = new Set(['id', 'agent_type', 'binary', 'topic', 'host', 'admin_state_up', 'alive', 'availability_zone', 'description']);
    const out = applyListQuery(agents, q, { attributes, selfUrl: selfUrl(req), collection: 'agents' });
    return reply.send({ agents: out.items.map((a) => selectFields(a, q.get('fields'))) });
  });
  app.get<{ Params: { id: string } }>('/v2.0/agents/:id', async (req, reply) => {
    const caller = callerPolicy(policy, await auth.authenticate(req.headers));
    const agent = await s.agents.get(req.params.id);
    if (!caller.allows('get_agent', agent)) throw faults.notFound('Agent', req.params.id);
    return reply.send({ agent });
  });

  // Quotas: a project reads its own without a rule (as Neutron); anything else is get_quota,
  // update_quota or delete_quota against the project named.
  const quotaRule = async (req: FastifyRequest, rule: 'get_quota' | 'update_quota' | 'delete_quota', project?: string): Promise<void> => {
    const ctx = await auth.authenticate(req.headers);
    if (rule === 'get_quota' && project === ctx.projectId) return;
    authorize(callerPolicy(policy, ctx), rule, { project_id: project ?? ctx.projectId, tenant_id: project ?? ctx.projectId });
  };
  app.get('/v2.0/quotas', async (req, reply) => {
    await quotaRule(req, 'get_quota');
    return reply.send({ quotas: await s.quotas.list() });
  });
  app.get<{ Params: { project: string } }>('/v2.0/quotas/:project', async (req, reply) => {
    await quotaRule(req, 'get_quota', req.params.project);
    return reply.send({ quota: await s.quotas.get(req.params.project) });
  });
  app.get<{ Params: { project: string } }>('/v2.0/quotas/:project/default', async (req, reply) => {
    await quotaRule(req, 'get_quota', req.params.project);
    return reply.send({ quota: { ...DEFAULT_QUOTA } });
  });
  app.put<{ Params: { project: string } }>('/v2.0/quotas/:project', async (req, reply) => {
    await quotaRule(req, 'update_quota', req.params.project);
    const body = req.body as { quota?: unknown } | undefined;
    if (typeof body?.quota !== 'object' || body.quota === null) throw faults.badRequest("Unable to find 'quota' in request body");
    return reply.send({ quota: await s.quotas.set(req.params.project, body.quota) });
  });
  app.delete<{ Params: { project: string } }>('/v2.0/quotas/:project', async (req, reply) => {
    await quotaRule(req, 'delete_quota', req.params.project);
    await s.quotas.reset(req.params.project);
    return reply.code(204).send();
  });
}
