import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { DatastoreUnavailableError } from '../../datastore/index.js';
import { BrindleError, type Logger } from '../../lib/index.js';
import { faults, NeutronApiError } from '../errors.js';
import type { NeutronServices } from '../service/neutron-services.js';
import { oncePerRequest, type Authenticator } from './auth.js';
import { UnauthorizedFault } from './keystone-auth.js';
import { registerCollection } from './collection-routes.js';
import { EXTENSIONS } from './extensions.js';
import { registerHealthcheck } from './healthcheck.js';
import { registerExtras } from './extra-routes.js';
import { FLOATING_IP, NETWORK, PORT, ROUTER, SECURITY_GROUP, SECURITY_GROUP_RULE, SUBNET } from '../resources/index.js';
import { registerRouterInterfaces } from './router-interface-routes.js';
import { NEUTRON_DEFAULT_RULES, Policy } from '../policy/index.js';
import { adminByPolicy, fixedPolicy, type PolicySource } from './policy-enforcement.js';
import { policyTargets } from './policy-targets.js';
import { registerTags } from './tag-routes.js';

export interface ApiServerOptions {
  readonly services: NeutronServices;
  readonly auth: Authenticator;
  /** Neutron's policy with the operator's overrides (default: Neutron's defaults alone). */
  readonly policy?: PolicySource;
  readonly logger: Logger;
  /** Largest request body in bytes (Neutron's default max_request_body_size is 114688). */
  readonly bodyLimit?: number;
}

function without(record: object, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record };
  for (const k of keys) delete out[k];
  return out;
}

function toFault(err: unknown): NeutronApiError {
  if (err instanceof NeutronApiError) return err;
  const fe = err as Partial<FastifyError>;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return faults.tooLarge();
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return faults.notAcceptable();
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return faults.badRequest('Body contains invalid data');
  if (err instanceof DatastoreUnavailableError) return faults.unavailable(err);
  if (err instanceof BrindleError && err.status === 503) return new NeutronApiError('ServiceUnavailable', 503, err.message, { cause: err });
  if (err instanceof BrindleError && err.status >= 400 && err.status < 500)
    return new NeutronApiError('HTTPBadRequest', err.status, err.message, { cause: err });
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return new NeutronApiError('HTTPBadRequest', fe.statusCode, fe.message ?? 'Bad request');
  return faults.internal(err);
}

/** Builds the Neutron v2.0 API (without listening: the caller decides where). */
export function buildApiServer(o: ApiServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: o.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimit ?? 1_048_576,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  const s = o.services;
  const policy: PolicySource = o.policy ?? fixedPolicy(new Policy(NEUTRON_DEFAULT_RULES));
  const auth = oncePerRequest(adminByPolicy(o.auth, policy));
  const targets = policyTargets(s);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(faults.badRequest('Body contains invalid data'), undefined);
    }
  });
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof UnauthorizedFault) {
      void reply.code(err.status).headers(err.headers).header('content-type', 'application/json').send(err.body);
      return;
    }
    const fault = toFault(err);
    if (fault.status >= 500) req.log.error({ err, url: req.url, method: req.method }, 'request failed');
    void reply.code(fault.status).header('content-type', 'application/json').send(fault.toBody());
  });
  // Whatever this request reads is at least as new as any change a client was told of before
  // it arrived, on this server or another (the cache catches up, else reads bypass it). Creates
  // whose transaction compares what they refer to skip it (CollectionDef.createGuardsReferences).
  app.addHook('preHandler', async (req) => {
    if (req.url.startsWith('/v2.0/') && req.routeOptions.config.syncFirst !== false) await s.deps.store.sync();
  });
  // Every /v2.0 request shows who it is before anything else is done for it (the collection
  // routes read the context again: a cached token costs a hash and a lookup).
  app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/v2.0')) await auth.authenticate(req.headers);
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).send(faults.httpNotFound().toBody());
  });

  app.get('/', (req, reply) => {
    const href = `${req.protocol}://${req.headers.host ?? 'localhost'}/v2.0/`;
    void reply.send({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href }] }] });
  });
  registerHealthcheck(app, s.deps.kv);
  app.get('/v2.0/', (req, reply) => {
    const base = `${req.protocol}://${req.headers.host ?? 'localhost'}/v2.0`;
    void reply.send({
      resources: ['network', 'subnet', 'port', 'router', 'floatingip'].map((name) => ({
        name,
        collection: `${name}s`,
        links: [{ rel: 'self', href: `${base}/${name}s` }],
      })),
    });
  });
  app.get('/v2.0/extensions', (_req, reply) => void reply.send({ extensions: EXTENSIONS }));
  app.get<{ Params: { alias: string } }>('/v2.0/extensions/:alias', (req, reply) => {
    const e = EXTENSIONS.find((x) => x.alias === req.params.alias);
    if (e === undefined)
      void reply.code(404).send(new NeutronApiError('HTTPNotFound', 404, `Extension with alias ${req.params.alias} does not exist`).toBody());
    else void reply.send({ extension: e });
  });

  registerCollection(
    app,
    {
      path: 'networks',
      decl: NETWORK,
      list: () => s.networks.list(),
      get: (_ctx, id) => s.networks.get(id),
      // The network and port quotas are held in the create's own transaction (quota-guard.ts).
      create: (ctx, a) => s.networks.create(ctx, a),
      update: (ctx, id, a, rev) => s.networks.update(ctx, id, a, rev),
      remove: (_ctx, id) => s.networks.delete(id),
    },
    auth,
    policy,
  );
  registerCollection(
    app,
    {
      path: 'subnets',
      decl: SUBNET,
      list: () => s.subnets.list(),
      get: (_ctx, id) => s.subnets.get(id),
      create: (ctx, a) => s.subnets.create(ctx, a),
      update: (_ctx, id, a, rev) => s.subnets.update(id, a, rev),
      remove: (_ctx, id) => s.subnets.delete(id),
      target: targets.withNetwork,
      parentMustBeTheirs: true,
    },
    auth,
    policy,
  );

  registerCollection(
    app,
    {
      path: 'ports',
      decl: PORT,
      list: () => s.ports.list(),
      // What Nova and the agents look ports up by.
      indexed: ['device_id', 'fixed_ips', 'mac_address', 'network_id', 'project_id'],
      listWhere: (_ctx, attribute, values) => Promise.resolve(s.ports.listWhere(attribute, values)),
      get: (_ctx, id) => s.ports.get(id),
      create: (ctx, a) => s.ports.create(ctx, a),
      createMany: (ctx, items) => s.ports.createBulk(ctx, items),
      // claimPorts compares the network, subnets and security groups (present, not being deleted).
      createGuardsReferences: true,
      update: (ctx, id, a, rev) => s.ports.update(ctx, id, a, rev),
      remove: async (_ctx, id) => {
        await s.ports.delete(id);
      },
      target: targets.withNetwork,
      parentMustBeTheirs: true,
    },
    auth,
    policy,
  );

  registerCollection(
    app,
    {
      path: 'security-groups',
      decl: SECURITY_GROUP,
      list: async (ctx) => {
        await s.groups.ensureDefault(ctx.projectId);
        return s.groups.list();
      },
      get: (_ctx, id) => s.groups.get(id),
      create: async (ctx, a) => {
        const project = a.project_id ?? a.tenant_id ?? ctx.projectId;
        await s.quotas.check(project, 'security_group', async () => (await s.groups.list()).filter((g) => g.project_id === project).length);
        return s.groups.create(ctx, a);
      },
      update: (_ctx, id, a, rev) => s.groups.update(id, a, rev),
      remove: (ctx, id) => s.groups.delete(ctx, id),
    },
    auth,
    policy,
  );

  registerCollection(
    app,
    {
      path: 'security-group-rules',
      decl: SECURITY_GROUP_RULE,
      list: async () => (await s.groups.list()).flatMap((g) => g.security_group_rules),
      get: (_ctx, id) => s.groups.getRule(id),
      create: (ctx, a) => s.groups.createRule(ctx, a),
      remove: (_ctx, id) => s.groups.deleteRule(id),
      target: targets.withSecurityGroup,
    },
    auth,
    policy,
  );

  registerCollection(
    app,
    {
      path: 'routers',
      decl: ROUTER,
      list: () => s.routers.list(),
      get: (_ctx, id) => s.routers.get(id),
      create: async (ctx, a) => {
        const project = a.project_id ?? a.tenant_id ?? ctx.projectId;
        await s.quotas.check(project, 'router', async () => (await s.routers.list()).filter((r) => r.project_id === project).length);
        return s.routers.create(ctx, a);
      },
      update: (ctx, id, a, rev) => s.routers.update(ctx, id, a, rev),
      remove: (_ctx, id) => s.routers.delete(id),
    },
    auth,
    policy,
  );
  registerRouterInterfaces(app, s, auth, policy);

  registerCollection(
    app,
    {
      path: 'floatingips',
      decl: FLOATING_IP,
      list: () => s.floatingIps.list(),
      get: (_ctx, id) => s.floatingIps.get(id),
      create: async (ctx, a) => {
        const project = a.project_id ?? a.tenant_id ?? ctx.projectId;
        await s.quotas.check(project, 'floatingip', async () => (await s.floatingIps.list()).filter((f) => f.project_id === project).length);
        return s.floatingIps.create(ctx, a);
      },
      update: (ctx, id, a, rev) => s.floatingIps.update(ctx, id, a, rev),
      remove: (_ctx, id) => s.floatingIps.delete(id),
      view: (r) => without(r, ['floating_port_id']),
    },
    auth,
    policy,
  );
  registerExtras(app, s, auth, policy);
  registerTags(app, { services: s, auth, policy, targets });
  return app;
}
