import type { FastifyInstance, FastifyRequest } from 'fastify';
import { faults, type ResourceName } from '../errors.js';
import { AGAIN, casRetry } from '../service/cas-retry.js';
import { timestamp, type RequestContext } from '../service/neutron-deps.js';
import type { NeutronServices } from '../service/neutron-services.js';
import type { NeutronCollection } from '../store/neutron-keys.js';
import { objectKey } from '../store/neutron-keys.js';
import { encodeRecord } from '../store/neutron-store.js';
import type { Authenticator } from './auth.js';
import { authorizeOn, callerPolicy, type PolicySource } from './policy-enforcement.js';
import type { PolicyTargets } from './policy-targets.js';

type Taggable = Extract<NeutronCollection, 'networks' | 'subnets' | 'ports' | 'security-groups' | 'routers' | 'floatingips'>;

/** A taggable collection: its store name, its name in a 404, its resource (get_<resource>) and its rule stem (get_<stem>_tags). */
interface TaggableDef {
  readonly collection: Taggable;
  readonly name: ResourceName;
  readonly resource: string;
  readonly rules: string;
  readonly withParent: keyof PolicyTargets | undefined;
}

/** standard-attr-tag's resources, by URL segment. */
const TAGGABLE: Readonly<Record<string, TaggableDef>> = {
  networks: { collection: 'networks', name: 'Network', resource: 'network', rules: 'networks', withParent: undefined },
  subnets: { collection: 'subnets', name: 'Subnet', resource: 'subnet', rules: 'subnets', withParent: 'withNetwork' },
  ports: { collection: 'ports', name: 'Port', resource: 'port', rules: 'ports', withParent: 'withNetwork' },
  'security-groups': { collection: 'security-groups', name: 'SecurityGroup', resource: 'security_group', rules: 'security_groups', withParent: undefined },
  routers: { collection: 'routers', name: 'Router', resource: 'router', rules: 'routers', withParent: undefined },
  floatingips: { collection: 'floatingips', name: 'FloatingIP', resource: 'floatingip', rules: 'floatingips', withParent: undefined },
};

type TagParams = { collection: string; id: string };

/**
 * standard-attr-tag: `/v2.0/<collection>/<id>/tags[/<tag>]`. A caller that may not see the
 * object gets its 404; one that may see it is held to `get_`, `update_` or `delete_<collection>_tags`.
 */
export interface TagRouteDeps {
  readonly services: NeutronServices;
  readonly auth: Authenticator;
  readonly policy: PolicySource;
  readonly targets: PolicyTargets;
}

export function registerTags(app: FastifyInstance, deps: TagRouteDeps): void {
  const { services: s, auth, policy, targets } = deps;
  const defOf = (req: FastifyRequest<{ Params: TagParams }>): TaggableDef => {
    const d = TAGGABLE[req.params.collection];
    if (d === undefined) throw faults.httpNotFound();
    return d;
  };
  /** The object's tags, once the caller is allowed `action` on them. */
  const allowed = async (req: FastifyRequest<{ Params: TagParams }>, action: 'get' | 'update' | 'delete'): Promise<{ d: TaggableDef; tags: string[] }> => {
    const d = defOf(req);
    const ctx: RequestContext = await auth.authenticate(req.headers);
    const cur = await s.deps.store.get(d.collection, req.params.id);
    if (cur === undefined) throw faults.notFound(d.name, req.params.id);
    const record = cur.record as unknown as Record<string, unknown> & { tags: string[] };
    const parent = d.withParent === undefined ? undefined : targets[d.withParent];
    await authorizeOn(callerPolicy(policy, ctx), {
      getRule: `get_${d.resource}`,
      rules: [`${action}_${d.rules}_tags`],
      existing: () => (parent === undefined ? Promise.resolve(record) : parent(record)),
      notFound: () => faults.notFound(d.name, req.params.id),
    });
    return { d, tags: record.tags };
  };
  const setTags = async (d: TaggableDef, id: string, change: (tags: string[]) => string[]): Promise<string[]> =>
    casRetry(
      s.deps,
      () => {
        throw faults.conflictRetry('Resource', id);
      },
      async () => {
        const cur = await s.deps.store.get(d.collection, id);
        if (cur === undefined) throw faults.notFound(d.name, id);
        const record = cur.record as { tags: string[]; revision_number: number; updated_at: string };
        const tags = [...new Set(change([...record.tags]))].sort();
        for (const t of tags)
          if (t.length === 0 || t.length > 255 || t.includes(',')) throw faults.badRequest(`Invalid input for tags. Reason: '${t}' is not a valid tag.`);
        const next = { ...record, tags, revision_number: record.revision_number + 1, updated_at: timestamp(s.deps.clock) };
        const r = await s.deps.kv.put(objectKey(d.collection, id), encodeRecord(next), { condition: { modRevision: cur.modRevision } });
        return r.succeeded ? tags : AGAIN;
      },
    );

  app.get<{ Params: TagParams }>('/v2.0/:collection/:id/tags', async (req, reply) => {
    const { tags } = await allowed(req, 'get');
    return reply.send({ tags });
  });
  app.put<{ Params: TagParams }>('/v2.0/:collection/:id/tags', async (req, reply) => {
    const body = req.body as { tags?: unknown } | undefined;
    if (!Array.isArray(body?.tags) || !body.tags.every((t) => typeof t === 'string'))
      throw faults.badRequest("Invalid input for tags. Reason: 'tags' must be a list of strings.");
    const list = body.tags;
    const { d } = await allowed(req, 'update');
    return reply.send({ tags: await setTags(d, req.params.id, () => list) });
  });
  app.delete<{ Params: TagParams }>('/v2.0/:collection/:id/tags', async (req, reply) => {
    const { d } = await allowed(req, 'delete');
    await setTags(d, req.params.id, () => []);
    return reply.code(204).send();
  });
  app.get<{ Params: TagParams & { tag: string } }>('/v2.0/:collection/:id/tags/:tag', async (req, reply) => {
    const { tags } = await allowed(req, 'get');
    if (!tags.includes(req.params.tag)) throw faults.httpNotFound();
    return reply.code(204).send();
  });
  app.put<{ Params: TagParams & { tag: string } }>('/v2.0/:collection/:id/tags/:tag', async (req, reply) => {
    const { d } = await allowed(req, 'update');
    await setTags(d, req.params.id, (tags) => [...tags, req.params.tag]);
    return reply.code(201).send();
  });
  app.delete<{ Params: TagParams & { tag: string } }>('/v2.0/:collection/:id/tags/:tag', async (req, reply) => {
    const { d } = await allowed(req, 'delete');
    let found = false;
    await setTags(d, req.params.id, (tags) => {
      found = tags.includes(req.params.tag);
      return tags.filter((t) => t !== req.params.tag);
    });
    if (!found) throw faults.httpNotFound();
    return reply.code(204).send();
  });
}
