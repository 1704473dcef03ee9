import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { faults } from '../errors.js';
import type { NeutronCollection } from '../store/neutron-keys.js';
import { objectKey } from '../store/neutron-keys.js';
import { encodeRecord } from '../store/neutron-store.js';
import { timestamp } from '../service/neutron-deps.js';
import type { NeutronServices } from '../service/neutron-services.js';
import type { Authenticator } from './auth.js';
import { applyListQuery, parseQuery, selectFields } from './list-query.js';
import { selfUrl } from './collection-routes.js';
import { AGAIN, casRetry } from '../service/cas-retry.js';

const TAGGABLE: Readonly<Record<string, NeutronCollection>> = {
  networks: 'networks',
  subnets: 'subnets',
  ports: 'ports',
  'security-groups': 'security-groups',
};

/** Agents, quotas and tags: the rest of what Nova's boot path and the CLI use. */
export function registerExtras(app: FastifyInstance, s: NeutronServices, auth: Authenticator): void {
  app.get('/v2.0/agents', async (req, reply) => {
    await auth.authenticate(req.headers);
    const q = parseQuery(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
    const agents = await s.agents.list();
    const attributes = new Set(['id', 'agent_type', 'binary', 'topic', 'host', 'admin_state_up', 'alive', 'availability_zone', 'description']);
    const out = applyListQuery(agents, q, { attributes, selfUrl: selfUrl(req), collection: 'agents' });
    return reply.send({ agents: out.items.map((a) => selectFields(a, q.get('fields'))) });
  });
  app.get<{ Params: { id: string } }>('/v2.0/agents/:id', async (req, reply) => {
    await auth.authenticate(req.headers);
    return reply.send({ agent: await s.agents.get(req.params.id) });
  });

  app.get('/v2.0/quotas', async (req, reply) => {
    const ctx = await auth.authenticate(req.headers);
    if (!ctx.isAdmin) throw faults.policy('rule:get_quota');
    return reply.send({ quotas: await s.quotas.list() });
  });
  app.get<{ Params: { project: string } }>('/v2.0/quotas/:project', async (req, reply) => {
    const ctx = await auth.authenticate(req.headers);
    if (!ctx.isAdmin && req.params.project !== ctx.projectId) throw faults.policy('rule:get_quota');
    return reply.send({ quota: await s.quotas.get(req.params.project) });
  });
  app.put<{ Params: { project: string } }>('/v2.0/quotas/:project', async (req, reply) => {
    const ctx = await auth.authenticate(req.headers);
    if (!ctx.isAdmin) throw faults.policy('rule:update_quota');
    const body = req.body as { quota?: unknown } | undefined;
    if (typeof body?.quota !== 'object' || body.quota === null) throw faults.badRequest("Unable to find 'quota' in request body");
    return reply.send({ quota: await s.quotas.set(req.params.project, body.quota) });
  });
  app.delete<{ Params: { project: string } }>('/v2.0/quotas/:project', async (req, reply) => {
    const ctx = await auth.authenticate(req.headers);
    if (!ctx.isAdmin) throw faults.policy('rule:delete_quota');
    await s.quotas.reset(req.params.project);
    return reply.code(204).send();
  });

  // standard-attr-tag: /v2.0/<collection>/<id>/tags[/<tag>]
  const setTags = async (collection: NeutronCollection, id: string, change: (tags: string[]) => string[]): Promise<string[]> => {
    return casRetry(
      s.deps,
      () => {
        throw faults.conflictRetry('Resource', id);
      },
      async () => {
        const cur = await s.deps.store.get(collection, id);
        if (cur === undefined)
          throw faults.notFound(
            collection === 'networks' ? 'Network' : collection === 'subnets' ? 'Subnet' : collection === 'ports' ? 'Port' : 'SecurityGroup',
            id,
          );
        const record = cur.record as { tags: string[]; revision_number: number; updated_at: string };
        const tags = [...new Set(change([...record.tags]))].sort();
        for (const t of tags)
          if (t.length === 0 || t.length > 255 || t.includes(',')) throw faults.badRequest(`Invalid input for tags. Reason: '${t}' is not a valid tag.`);
        const next = { ...record, tags, revision_number: record.revision_number + 1, updated_at: timestamp(s.deps.clock) };
        const r = await s.deps.kv.put(objectKey(collection, id), encodeRecord(next), { condition: { modRevision: cur.modRevision } });
        return r.succeeded ? tags : AGAIN;
      },
    );
  };
  const tagged = (req: FastifyRequest<{ Params: { collection: string } }>): NeutronCollection => {
    const c = TAGGABLE[req.params.collection];
    if (c === undefined) throw faults.httpNotFound();
    return c;
  };
  app.get<{ Params: { collection: string; id: string } }>('/v2.0/:collection/:id/tags', async (req, reply) => {
    await auth.authenticate(req.headers);
    const cur = await s.deps.store.get(tagged(req), req.params.id);
    if (cur === undefined) throw faults.httpNotFound();
    return reply.send({ tags: (cur.record as { tags: string[] }).tags });
  });
  app.put<{ Params: { collection: string; id: string } }>('/v2.0/:collection/:id/tags', async (req, reply) => {
    await auth.authenticate(req.headers);
    const body = req.body as { tags?: unknown } | undefined;
    if (!Array.isArray(body?.tags) || !body.tags.every((t) => typeof t === 'string'))
      throw faults.badRequest("Invalid input for tags. Reason: 'tags' must be a list of strings.");
    const list = body.tags;
    return reply.send({ tags: await setTags(tagged(req), req.params.id, () => list) });
  });
  app.delete<{ Params: { collection: string; id: string } }>('/v2.0/:collection/:id/tags', async (req, reply) => {
    await auth.authenticate(req.headers);
    await setTags(tagged(req), req.params.id, () => []);
    return reply.code(204).send();
  });
  app.get<{ Params: { collection: string; id: string; tag: string } }>('/v2.0/:collection/:id/tags/:tag', async (req, reply: FastifyReply) => {
    await auth.authenticate(req.headers);
    const cur = await s.deps.store.get(tagged(req), req.params.id);
    if (cur === undefined || !(cur.record as { tags: string[] }).tags.includes(req.params.tag)) throw faults.httpNotFound();
    return reply.code(204).send();
  });
  app.put<{ Params: { collection: string; id: string; tag: string } }>('/v2.0/:collection/:id/tags/:tag', async (req, reply) => {
    await auth.authenticate(req.headers);
    await setTags(tagged(req), req.params.id, (tags) => [...tags, req.params.tag]);
    return reply.code(201).send();
  });
  app.delete<{ Params: { collection: string; id: string; tag: string } }>('/v2.0/:collection/:id/tags/:tag', async (req, reply) => {
    await auth.authenticate(req.headers);
    let found = false;
    await setTags(tagged(req), req.params.id, (tags) => {
      found = tags.includes(req.params.tag);
      return tags.filter((t) => t !== req.params.tag);
    });
    if (!found) throw faults.httpNotFound();
    return reply.code(204).send();
  });
}
