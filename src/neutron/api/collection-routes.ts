import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { faults, type ResourceName } from '../errors.js';
import type { RequestContext } from '../service/neutron-deps.js';
import { parseBody, type Specs } from './attributes.js';
import type { Authenticator } from './auth.js';
import { jsonChunks } from './json-chunks.js';
import { applyListQuery, parseQuery, selectFields, type QueryParams } from './list-query.js';

/** How one Neutron collection maps onto a service. */
export interface CollectionDef<R extends { id: string }> {
  /** The URL segment (`security-groups`). */
  readonly path: string;
  /** The JSON key of a list (`security_groups`). */
  readonly collection: string;
  readonly resource: string;
  readonly specs: Specs;
  /** Attributes that may be filtered and sorted on. */
  readonly attributes: ReadonlySet<string>;
  list(ctx: RequestContext): Promise<R[]>;
  get(ctx: RequestContext, id: string): Promise<R>;
  create(ctx: RequestContext, attrs: Record<string, unknown>): Promise<R>;
  /** A bulk create done by the service as one (all or nothing); without it, items go one by one, undone on failure. */
  createMany?(ctx: RequestContext, items: readonly Record<string, unknown>[]): Promise<R[]>;
  update?(ctx: RequestContext, id: string, attrs: Record<string, unknown>, ifRevision: number | undefined): Promise<R>;
  remove(ctx: RequestContext, id: string): Promise<void>;
  /** What this caller may see of a record (admin-only attributes removed). */
  view(ctx: RequestContext, record: R): Record<string, unknown>;
  /** Whether this caller may see the record at all. */
  visible(ctx: RequestContext, record: R): boolean;
  /** Whether this caller may change or delete it (default: whoever sees it). Seen but not mutable is 403. */
  mutable?(ctx: RequestContext, record: R): boolean;
  /**
   * Attributes a list may be narrowed by before filtering (`listWhere`), best first: a query
   * with an equality filter on one of them reads only the records that match it.
   */
  readonly indexed?: readonly string[];
  /** The records whose `attribute` is one of `values`; undefined when no index can say (then `list`). */
  listWhere?(ctx: RequestContext, attribute: string, values: readonly string[]): Promise<R[] | undefined>;
  /**
   * The create's transaction compares every object the new one refers to (exists, not being
   * deleted), so it may read them from the cache as it stands: no sync before it (a miss reads
   * the datastore; a stale hit fails the compare).
   */
  readonly createGuardsReferences?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the request does not bring the cache up to the last change first (see CollectionDef.createGuardsReferences). */
    syncFirst?: boolean;
  }
}

/** Lists longer than this are sent as a stream of JSON chunks (`jsonChunks`). */
const STREAM_FROM = 2_000;
/**
 * The first of `indexed` the query filters on by equality, with the values it accepts:
 * `tenant_id` reads as `project_id`, and `fixed_ips` only when every value is `ip_address=X`.
 */
export function narrowing(indexed: readonly string[], q: QueryParams): { attribute: string; values: string[] } | undefined {
  for (const attribute of indexed) {
    const asked = attribute === 'project_id' ? [...(q.get('project_id') ?? []), ...(q.get('tenant_id') ?? [])] : [...(q.get(attribute) ?? [])];
    if (asked.length === 0) continue;
    if (attribute === 'project_id' && q.has('project_id') && q.has('tenant_id')) continue; // both must hold: not one OR-ed list
    if (attribute !== 'fixed_ips') return { attribute, values: asked };
    if (asked.every((v) => v.startsWith('ip_address='))) return { attribute, values: asked.map((v) => v.slice('ip_address='.length)) };
  }
  return undefined;
}

/** `If-Match: revision_number=N` (revision-if-match extension). */
export function ifMatchRevision(req: FastifyRequest): number | undefined {
  const h: unknown = req.headers['if-match'];
  const text = typeof h === 'string' ? h : Array.isArray(h) && typeof h[0] === 'string' ? h[0] : undefined;
  if (text === undefined) return undefined;
  const m = /^revision_number=(\d+)$/.exec(text.trim());
  if (m === null) throw faults.badRequest(`If-Match header must be revision_number=N, not '${text}'`);
  return Number(m[1]);
}

export function selfUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? 'localhost'}${req.url.split('?')[0] ?? ''}`;
}

/** Registers GET (list, show), POST (one or bulk), PUT and DELETE for a collection. */
export function registerCollection<R extends { id: string }>(app: FastifyInstance, def: CollectionDef<R>, auth: Authenticator): void {
  const base = `/v2.0/${def.path}`;
  const ctxOf = (req: FastifyRequest): Promise<RequestContext> => auth.authenticate(req.headers);
  const query = (req: FastifyRequest) => parseQuery(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');

  const list = async (req: FastifyRequest, reply: FastifyReply) => {
    const ctx = await ctxOf(req);
    const q = query(req);
    const narrowed = narrowing(def.indexed ?? [], q);
    const candidates = (narrowed === undefined ? undefined : await def.listWhere?.(ctx, narrowed.attribute, narrowed.values)) ?? (await def.list(ctx));
    // The query's filters all apply below, the narrowing one included.
    const records = candidates.filter((r) => def.visible(ctx, r));
    const views = records.map((r) => ({ ...def.view(ctx, r), id: r.id }));
    const outcome = applyListQuery(views, q, { attributes: def.attributes, selfUrl: selfUrl(req), collection: def.collection });
    const fields = q.get('fields');
    const items = outcome.items.map((r) => selectFields(r, fields));
    const links = outcome.links === undefined ? {} : { [`${def.collection}_links`]: outcome.links };
    if (items.length > STREAM_FROM) {
      void reply.header('content-type', 'application/json; charset=utf-8');
      return reply.send(Readable.from(jsonChunks(def.collection, items, links)));
    }
    return reply.send({ [def.collection]: items, ...links });
  };
  const show = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const ctx = await ctxOf(req);
    const record = await def.get(ctx, req.params.id);
    if (!def.visible(ctx, record)) throw faults.notFound(resourceName(def.resource), req.params.id);
    return reply.send({ [def.resource]: selectFields(def.view(ctx, record), query(req).get('fields')) });
  };
  const create = async (req: FastifyRequest, reply: FastifyReply) => {
    const ctx = await ctxOf(req);
    const items = parseBody(req.body, def.specs, { resource: def.resource, collection: def.collection, mode: 'create', isAdmin: ctx.isAdmin });
    const bulk = typeof req.body === 'object' && req.body !== null && def.collection in req.body;
    if (bulk && def.createMany !== undefined && items.length > 1) {
      const created = await def.createMany(ctx, items);
      return reply.code(201).send({ [def.collection]: created.map((r) => def.view(ctx, r)) });
    }
    const made: R[] = [];
    try {
      for (const attrs of items) made.push(await def.create(ctx, attrs));
    } catch (err) {
      // Bulk create is all or nothing: undo what was made before the failure.
      for (const r of made.reverse()) {
        await def
          .remove(ctx, r.id)
          .catch((undoErr: unknown) => req.log.error({ err: undoErr, id: r.id }, 'bulk create: could not undo an item after a later one failed'));
      }
      throw err;
    }
    const views = made.map((r) => def.view(ctx, r));
    return reply.code(201).send(bulk ? { [def.collection]: views } : { [def.resource]: views[0] });
  };
  const update = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const ctx = await ctxOf(req);
    if (def.update === undefined) throw faults.methodNotAllowed();
    const [attrs] = parseBody(req.body, def.specs, { resource: def.resource, collection: def.collection, mode: 'update', isAdmin: ctx.isAdmin });
    const existing = await def.get(ctx, req.params.id);
    if (!def.visible(ctx, existing)) throw faults.notFound(resourceName(def.resource), req.params.id);
    if (def.mutable?.(ctx, existing) === false) throw faults.policy(`rule:update_${def.resource}`);
    const updated = await def.update(ctx, req.params.id, attrs ?? {}, ifMatchRevision(req));
    return reply.send({ [def.resource]: def.view(ctx, updated) });
  };
  const remove = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const ctx = await ctxOf(req);
    const existing = await def.get(ctx, req.params.id);
    if (!def.visible(ctx, existing)) throw faults.notFound(resourceName(def.resource), req.params.id);
    if (def.mutable?.(ctx, existing) === false) throw faults.policy(`rule:delete_${def.resource}`);
    const wanted = ifMatchRevision(req);
    const current = (existing as { revision_number?: number }).revision_number;
    if (wanted !== undefined && current !== undefined && wanted !== current) throw faults.revisionConflict(wanted, current);
    await def.remove(ctx, req.params.id);
    return reply.code(204).send();
  };

  for (const suffix of ['', '.json']) {
    app.get(`${base}${suffix}`, list);
    app.post(`${base}${suffix}`, { config: { syncFirst: def.createGuardsReferences !== true } }, create);
    app.get(`${base}/:id${suffix}`, show);
    app.put(`${base}/:id${suffix}`, update);
    app.delete(`${base}/:id${suffix}`, remove);
  }
}

export function resourceName(resource: string): ResourceName {
  switch (resource) {
    case 'router':
      return 'Router';
    case 'floatingip':
      return 'FloatingIP';
    case 'network':
      return 'Network';
    case 'subnet':
      return 'Subnet';
    case 'port':
      return 'Port';
    case 'security_group':
      return 'SecurityGroup';
    case 'security_group_rule':
      return 'SecurityGroupRule';
    default:
      return 'Agent';
  }
}
