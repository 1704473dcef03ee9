import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { faults, NeutronApiError, type ResourceName } from '../errors.js';
import type { CallerPolicy, Target } from '../policy/index.js';
import type { RequestContext } from '../service/neutron-deps.js';
import { parseCreate, parseUpdate, type Attributes, type CreateInput, type ResourceDecl, type UpdateInput } from '../resources/index.js';
import type { Authenticator } from './auth.js';
import { attributeFilter, authorizeAll, authorizeOn, callerPolicy, writeRules, type PolicySource } from './policy-enforcement.js';
import { jsonChunks } from './json-chunks.js';
import { applyListQuery, parseQuery, selectFields, type QueryParams } from './list-query.js';

/** How one Neutron collection maps onto a service. */
export interface CollectionDef<R extends { id: string }, D extends ResourceDecl<Attributes>> {
  /** The URL segment (`security-groups`). */
  readonly path: string;
  /** The resource's declaration: body keys, attributes (validation, defaults, what may be filtered and sorted on). */
  readonly decl: D;
  list(ctx: RequestContext): Promise<R[]>;
  get(ctx: RequestContext, id: string): Promise<R>;
  create(ctx: RequestContext, attrs: CreateInput<D>): Promise<R>;
  /** A bulk create done by the service as one (all or nothing); without it, items go one by one, undone on failure. */
  createMany?(ctx: RequestContext, items: readonly CreateInput<D>[]): Promise<R[]>;
  update?(ctx: RequestContext, id: string, attrs: UpdateInput<D>, ifRevision: number | undefined): Promise<R>;
  remove(ctx: RequestContext, id: string): Promise<void>;
  /** The record as the API shows it (default: all of it; Brindle's bookkeeping removed where there is some); policy then removes what the caller may not see. */
  view?(record: R): Record<string, unknown>;
  /**
   * What policy rules check a record or a create's attributes against: the object with its
   * parent's attributes (`network:tenant_id`, the network's `shared`). Default: the object.
   * A parent that does not exist is the parent's 404.
   */
  readonly target?: (obj: Target) => Promise<Target>;
  /**
   * Ports and subnets: a non-admin may create one only on a network of the new object's project
   * or a shared one, else the network's existence is hidden (404), as Neutron's
   * `_validate_network_tenant_ownership`. Needs `target` to give the network's owner.
   */
  readonly parentMustBeTheirs?: boolean;
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

/** A NotFound while building a record's target means its parent is gone: the record is skipped. */
function notFoundAsUndefined(err: unknown): undefined {
  if (err instanceof NeutronApiError && err.status === 404) return undefined;
  throw err;
}

/** 404 (as Neutron: the network's existence is not revealed) unless the network is the project's or shared. */
function refuseOthersNetwork(target: Target, project: string): Promise<void> {
  const t = target as { 'network:tenant_id'?: unknown; shared?: unknown };
  if (t.shared === true || t['network:tenant_id'] === project) return Promise.resolve();
  return Promise.reject(faults.httpNotFound());
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
export function registerCollection<R extends { id: string }, D extends ResourceDecl<Attributes>>(
  app: FastifyInstance,
  def: CollectionDef<R, D>,
  auth: Authenticator,
  policy: PolicySource,
): void {
  const base = `/v2.0/${def.path}`;
  const { resource, collection } = def.decl;
  const specs = def.decl.attributes;
  /** What a list may be filtered and sorted on: every declared attribute. */
  const filterable = new Set(Object.keys(specs));
  const ctxOf = (req: FastifyRequest): Promise<RequestContext> => auth.authenticate(req.headers);
  const query = (req: FastifyRequest) => parseQuery(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');

  const viewOf = (r: R): Record<string, unknown> => def.view?.(r) ?? { ...r };
  const targetOf = (obj: Target): Promise<Target> => def.target?.(obj) ?? Promise.resolve(obj);
  const getRule = `get_${resource}`;
  const name = resourceName(resource);

  /**
   * The records this caller may see, each as it may see it (Neutron's get_<resource> rule per
   * record, then get_<resource>:<attr> per attribute). Targets are built only when a rule
   * depends on the record (an admin's do not).
   */
  const viewsFor = async (ctx: RequestContext, records: readonly R[]): Promise<(Record<string, unknown> & { id: string })[]> => {
    const caller = callerPolicy(policy, ctx);
    const visible = caller.decide(getRule);
    if (visible === false) return [];
    const filter = attributeFilter(caller, resource);
    const needTargets = visible !== true || filter !== undefined;
    const out: (Record<string, unknown> & { id: string })[] = [];
    for (const r of records) {
      // A record whose parent is gone (a race with its deletion) is not shown: one orphan must not fail a list.
      const target = needTargets ? await targetOf(r).catch(notFoundAsUndefined) : undefined;
      if (needTargets && target === undefined) continue;
      if (visible !== true && target !== undefined && !visible(target)) continue;
      const view = { ...viewOf(r), id: r.id };
      if (filter !== undefined && target !== undefined) filter(view, target);
      out.push(view);
    }
    return out;
  };

  /** An existing record the caller acts on: 404 when it may not even see it, 403 naming the rule when it may see but not do this. */
  const authorizeAct = async (ctx: RequestContext, record: R, action: 'update' | 'delete', changes: Readonly<Record<string, unknown>> = {}) => {
    const caller = callerPolicy(policy, ctx);
    await authorizeOn(caller, {
      getRule,
      rules: action === 'update' ? writeRules({ policy: caller.policy, action, resource, specs, attrs: changes }) : [`${action}_${resource}`],
      existing: () => targetOf(record),
      // As Neutron: the update's rules see the object as it would be after the change.
      acted: (existing) => ({ ...existing, ...changes }),
      notFound: () => faults.notFound(name, record.id),
    });
  };

  /** A record its creator or updater gets back: every attribute the caller may see (no get check: it just acted on it). */
  const ownView = async (caller: CallerPolicy, r: R): Promise<Record<string, unknown>> => {
    const view = viewOf(r);
    const filter = attributeFilter(caller, resource);
    if (filter !== undefined) filter(view, await targetOf(r));
    return view;
  };

  const list = async (req: FastifyRequest, reply: FastifyReply) => {
    const ctx = await ctxOf(req);
    const q = query(req);
    const narrowed = narrowing(def.indexed ?? [], q);
    const candidates = (narrowed === undefined ? undefined : await def.listWhere?.(ctx, narrowed.attribute, narrowed.values)) ?? (await def.list(ctx));
    // The query's filters all apply below, the narrowing one included.
    const views = await viewsFor(ctx, candidates);
    const outcome = applyListQuery(views, q, { attributes: filterable, selfUrl: selfUrl(req), collection: collection });
    const fields = q.get('fields');
    const items = outcome.items.map((r) => selectFields(r, fields));
    const links = outcome.links === undefined ? {} : { [`${collection}_links`]: outcome.links };
    if (items.length > STREAM_FROM) {
      void reply.header('content-type', 'application/json; charset=utf-8');
      return reply.send(Readable.from(jsonChunks(collection, items, links)));
    }
    return reply.send({ [collection]: items, ...links });
  };
  const show = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const ctx = await ctxOf(req);
    const [view] = await viewsFor(ctx, [await def.get(ctx, req.params.id)]);
    if (view === undefined) throw faults.notFound(name, req.params.id);
    return reply.send({ [resource]: selectFields(view, query(req).get('fields')) });
  };
  const create = async (req: FastifyRequest, reply: FastifyReply) => {
    const ctx = await ctxOf(req);
    const { items, bulk } = parseCreate(req.body, def.decl);
    const caller = callerPolicy(policy, ctx);
    for (const attrs of items) {
      // The new object's project is the caller's unless it names another (which only admins may).
      // Every declaration has both owner attributes (standard-attributes.ts); D is generic here.
      const owner = attrs as { project_id?: string | undefined; tenant_id?: string | undefined };
      const project = owner.project_id ?? owner.tenant_id ?? ctx.projectId;
      const rules = writeRules({ policy: caller.policy, action: 'create', resource, specs, attrs });
      let target: Target | undefined;
      const targetOnce = async (): Promise<Target> => (target ??= await targetOf({ ...attrs, project_id: project, tenant_id: project }));
      // Neutron's order: the network's ownership (404), then the policy (403).
      if (def.parentMustBeTheirs === true && !ctx.isAdmin) await refuseOthersNetwork(await targetOnce(), project);
      await authorizeAll(caller, rules, targetOnce);
    }
    let made: R[] = [];
    if (bulk && def.createMany !== undefined && items.length > 1) made = await def.createMany(ctx, items);
    else {
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
    }
    // The creator sees what it made as a later GET would show it.
    const views: Record<string, unknown>[] = [];
    for (const r of made) views.push(await ownView(caller, r));
    return reply.code(201).send(bulk ? { [collection]: views } : { [resource]: views[0] });
  };
  const update = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const ctx = await ctxOf(req);
    if (def.update === undefined) throw faults.methodNotAllowed();
    const attrs = parseUpdate(req.body, def.decl);
    await authorizeAct(ctx, await def.get(ctx, req.params.id), 'update', attrs);
    const updated = await def.update(ctx, req.params.id, attrs, ifMatchRevision(req));
    return reply.send({ [resource]: await ownView(callerPolicy(policy, ctx), updated) });
  };
  const remove = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const ctx = await ctxOf(req);
    const existing = await def.get(ctx, req.params.id);
    await authorizeAct(ctx, existing, 'delete');
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
