import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { applyingPolicies } from '../agent/index.js';
import { ResourceClient, ResourceConflictError, ResourceExistsError, ResourceNotFoundError, type KvStore } from '../datastore/index.js';
import { BrindleError, isLoopbackName, type Clock, type Logger, type Timer } from '../lib/index.js';
import type { ChangeEvent, ErrorReply, SettingsForm } from './api-types.js';
import { SESSION_COOKIE, type ConsoleSessions } from './console-auth.js';
import type { ConsoleState, Topic } from './console-state.js';
import {
  ConsoleBadRequestError,
  ConsoleNotFoundError,
  ForeignHostError,
  ForeignOriginError,
  SettingsConflictError,
  SettingsInvalidError,
  StoredSettingsInvalidError,
} from './errors.js';
import { planSettings, readSettingsForm, settingsConflicts, type SettingsPlan, type SettingsSnapshot } from './settings-plan.js';
import { topology } from './topology.js';
import { endpointsPage, hostDetail, hostsPage, networksPage, overview, vmDetail, type PageQuery } from './views.js';
import { resourceKey } from '../model/index.js';

export interface ConsoleServerOptions {
  readonly state: ConsoleState;
  readonly kv: KvStore;
  readonly sessions: ConsoleSessions;
  readonly logger: Logger;
  /** The built page (index.html, app.js, app.css). */
  readonly assetsDir: string;
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Server-sent events are coalesced this long (default 100 ms). */
  readonly eventDelayMs?: number;
  /** Time and timers (the clock seam). */
  readonly clock: Clock;
}

/** Most resources one apply may write: they must fit in one transaction (etcd allows 128 ops). */
export const MAX_SETTINGS_OPS = 100;
const ALL_TOPICS: readonly Topic[] = ['hosts', 'endpoints', 'networks', 'settings', 'policies'];

/** A Host header naming this machine's loopback (a DNS-rebound name would not). */
function loopbackHost(host: string | undefined): boolean {
  return isLoopbackName((host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1'));
}

const formSchema = z.strictObject({
  asNumber: z.string().max(64),
  mesh: z.boolean(),
  reflectorClusterId: z.string().max(64),
  reflectorNodes: z.array(z.string().max(253)).max(10_000),
  reflectorIds: z.record(z.string().max(253), z.string().max(64)),
  externalPeers: z
    .array(
      z.strictObject({
        name: z.string().max(253),
        peerIP: z.string().max(64),
        asNumber: z.string().max(64),
        node: z.string().max(253),
        nodeSelector: z.string().max(4096),
      }),
    )
    .max(1_000),
  ipPools: z.array(z.strictObject({ name: z.string().max(253), cidr: z.string().max(64), natOutgoing: z.boolean(), disabled: z.boolean() })).max(1_000),
  ipv6: z.boolean(),
}) satisfies z.ZodType<SettingsForm>;
const settingsRequestSchema = z.strictObject({ base: formSchema, desired: formSchema });
const loginSchema = z.strictObject({ password: z.string().max(4096).optional(), token: z.string().max(16_384).optional() });
const pageQuerySchema = z.object({
  q: z.string().max(256).optional(),
  page: z.coerce.number().int().min(1).optional(),
  pageSize: z.coerce.number().int().min(1).max(500).optional(),
  state: z.enum(['alive', 'dead']).optional(),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new ConsoleBadRequestError(`${what}: ${i === undefined ? 'invalid' : `${i.path.join('.') || '(top)'}: ${i.message}`}`);
}

function cookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/**
 * The settings resources as they are in the datastore now, each with its resourceVersion. A
 * stored one that does not validate is refused: the page cannot show it, and writing around it
 * would hide it from the operator.
 */
async function readSnapshot(kv: KvStore): Promise<SettingsSnapshot> {
  const rc = new ResourceClient(kv);
  const [bgpConfigurations, felixConfigurations, bgpPeers, ipPools, nodes] = await Promise.all([
    rc.list('BGPConfiguration'),
    rc.list('FelixConfiguration'),
    rc.list('BGPPeer'),
    rc.list('IPPool'),
    rc.list('Node'),
  ]);
  const invalid = [bgpConfigurations, felixConfigurations, bgpPeers, ipPools, nodes].flatMap((l) => l.invalid);
  if (invalid.length > 0) throw new StoredSettingsInvalidError(invalid.map((i) => `${i.key}: ${i.error.message}`));
  return {
    bgpConfigurations: bgpConfigurations.items,
    felixConfigurations: felixConfigurations.items,
    bgpPeers: bgpPeers.items,
    ipPools: ipPools.items,
    nodes: nodes.items,
  };
}

/** Plans `desired` over the datastore as it is now, refusing when someone changed the settings since `base`. */
async function planAgainstNow(kv: KvStore, base: SettingsForm, desired: SettingsForm): Promise<SettingsPlan> {
  const snapshot = await readSnapshot(kv);
  const now = readSettingsForm(snapshot);
  const conflicts = settingsConflicts(base, now);
  if (conflicts.length > 0) throw new SettingsConflictError(conflicts, now);
  const plan = planSettings(snapshot, desired);
  if (plan.errors.length > 0) throw new SettingsInvalidError(plan.errors);
  if (plan.ops.length > MAX_SETTINGS_OPS)
    throw new SettingsInvalidError([
      { field: 'form', message: `${plan.ops.length} resources would change at once; apply at most ${MAX_SETTINGS_OPS} at a time` },
    ]);
  return plan;
}

/**
 * The console's HTTP server: the built page, a JSON API over the watch-fed state, settings
 * written with compare-and-swap, and server-sent events telling pages what changed. Every
 * /api route but the session ones needs a login when one is configured; every write must carry
 * the page's `X-Console` header (a cross-site form cannot).
 */
export async function buildConsoleServer(
  o: ConsoleServerOptions,
): Promise<{ app: FastifyInstance; notify: (topics: ReadonlySet<Topic>) => void; close: () => Promise<void> }> {
  const app = Fastify({
    loggerInstance: o.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1_048_576,
    ...(o.tls === undefined ? {} : { https: { cert: o.tls.cert, key: o.tls.key } }),
  }) as unknown as FastifyInstance;
  const secure = o.tls !== undefined;

  app.addHook('onSend', async (_req, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'");
    if (secure) reply.header('Strict-Transport-Security', 'max-age=31536000');
  });

  app.setErrorHandler((err: unknown, _req, reply) => {
    const e = err as { statusCode?: number; validation?: unknown; code?: string; message?: string };
    if (err instanceof BrindleError) {
      const body: ErrorReply = {
        error: {
          code: err.code,
          message: err.message,
          ...(err instanceof SettingsInvalidError ? { fields: [...err.fields] } : {}),
          ...(err instanceof SettingsConflictError ? { conflicts: [...err.conflicts], ...(err.current === undefined ? {} : { current: err.current }) } : {}),
        },
      };
      if (err.status >= 500) o.logger.error({ err }, 'console request failed');
      return reply.status(err.status).send(body);
    }
    if (typeof e.statusCode === 'number' && e.statusCode < 500) {
      return reply.status(e.statusCode).send({ error: { code: 'CONSOLE_BAD_REQUEST', message: e.message ?? 'bad request' } } satisfies ErrorReply);
    }
    o.logger.error({ err }, 'console request failed');
    return reply.status(500).send({ error: { code: 'CONSOLE_INTERNAL', message: 'internal error (see the console log)' } } satisfies ErrorReply);
  });

  await app.register(fastifyStatic, { root: o.assetsDir, prefix: '/', index: ['index.html'], cacheControl: false, wildcard: false });

  // Browsers ask for it on every page; the console has none.
  app.get('/favicon.ico', (_req, reply) => reply.code(204).send());

  const open = new Set(['/api/session', '/api/login', '/api/logout']);
  app.addHook('onRequest', (req, _reply, done) => {
    try {
      // Without a login, only a page loaded from loopback may ask (no DNS rebinding).
      if (!o.sessions.required && !loopbackHost(req.headers.host)) throw new ForeignHostError(req.headers.host ?? '');
      // The route matched (after the router decoded the path: /%61pi/ is /api/).
      const route = req.routeOptions.url ?? '';
      if (route.startsWith('/api/')) {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          const site = req.headers['sec-fetch-site'];
          const origin = req.headers.origin;
          const sameOrigin = origin === undefined || origin === `${secure ? 'https' : 'http'}://${req.headers.host ?? ''}`;
          if (req.headers['x-console'] !== '1' || !sameOrigin || (site !== undefined && site !== 'same-origin')) throw new ForeignOriginError();
        }
        if (!open.has(route)) o.sessions.check(cookie(req, SESSION_COOKIE));
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  });

  const q = (req: FastifyRequest): PageQuery & { state?: 'alive' | 'dead' } => {
    const p = parse(pageQuerySchema, req.query, 'query');
    return {
      ...(p.q === undefined ? {} : { q: p.q }),
      ...(p.page === undefined ? {} : { page: p.page }),
      ...(p.pageSize === undefined ? {} : { pageSize: p.pageSize }),
      ...(p.state === undefined ? {} : { state: p.state }),
    };
  };
  const { state, kv } = o;

  app.get('/api/session', (req) => {
    let loggedIn = true;
    try {
      o.sessions.check(cookie(req, SESSION_COOKIE));
    } catch {
      loggedIn = false;
    }
    return { login: o.sessions.kind, loggedIn };
  });
  app.post('/api/login', async (req, reply) => {
    const id = await o.sessions.login(parse(loginSchema, req.body, 'login'), req.ip);
    reply.header('Set-Cookie', `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`);
    return { loggedIn: true };
  });
  app.post('/api/logout', (req, reply) => {
    o.sessions.logout(cookie(req, SESSION_COOKIE));
    reply.header('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`);
    return { loggedIn: false };
  });

  app.get('/api/overview', () => overview(state, o.clock.now()));
  app.get('/api/hosts', (req) => hostsPage(state, q(req), o.clock.now()));
  app.get<{ Params: { name: string } }>('/api/hosts/:name', (req) => {
    const d = hostDetail(state, req.params.name, q(req), o.clock.now());
    if (d === undefined) throw new ConsoleNotFoundError(`Host ${req.params.name}`);
    return d;
  });
  app.get('/api/endpoints', (req) => endpointsPage(state, q(req)));
  app.get('/api/networks', (req) => networksPage(state, q(req)));
  app.get('/api/topology', () => topology(state, o.clock.now()));
  app.get<{ Params: { workload: string } }>('/api/vms/:workload', async (req) => {
    const workload = req.params.workload;
    // The endpoints' stored values, read now: the resolver runs over exactly what the agents see.
    const stored = new Map<string, { key: string; value: string | undefined }>();
    for (const id of state.endpointsByWorkload.get(workload) ?? []) {
      const e = state.endpoints.get(id);
      if (e === undefined) continue;
      const key = resourceKey({ kind: 'WorkloadEndpoint', namespace: e.namespace, name: e.name });
      stored.set(id, { key, value: (await kv.get(key))?.value });
    }
    const policies = [...state.policies].map(([key, value]) => ({ key, value }));
    const d = vmDetail(state, workload, (id) => {
      const endpoint = stored.get(id);
      return endpoint === undefined ? [] : applyingPolicies(endpoint, policies);
    });
    if (d === undefined) throw new ConsoleNotFoundError(`VM ${workload}`);
    return d;
  });

  app.get('/api/settings', async () => {
    const snapshot = await readSnapshot(kv);
    return { form: readSettingsForm(snapshot), nodes: snapshot.nodes.map((n) => n.metadata.name).sort() };
  });
  app.post('/api/settings/plan', async (req) => {
    const body = parse(settingsRequestSchema, req.body, 'settings');
    const plan = await planAgainstNow(kv, body.base, body.desired);
    return { changes: plan.changes, warnings: plan.warnings };
  });
  app.post('/api/settings/apply', async (req) => {
    const body = parse(settingsRequestSchema, req.body, 'settings');
    const plan = await planAgainstNow(kv, body.base, body.desired);
    try {
      // One transaction, each write a compare-and-swap on the version just read.
      await new ResourceClient(kv).commit(plan.ops);
    } catch (err) {
      if (err instanceof ResourceConflictError || err instanceof ResourceExistsError || err instanceof ResourceNotFoundError) {
        const now = readSettingsForm(await readSnapshot(kv));
        throw new SettingsConflictError(settingsConflicts(body.base, now), now, err);
      }
      throw err;
    }
    o.logger.info({ changes: plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`) }, 'settings applied from the console');
    // Read again, not derived from the plan: the page's next base must be what is stored now.
    return { changes: plan.changes, warnings: plan.warnings, form: readSettingsForm(await readSnapshot(kv)) };
  });

  // Server-sent events: each page is told which topics changed, at most every eventDelayMs.
  const clients = new Set<ServerResponse>();
  app.get('/api/events', (req, reply: FastifyReply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    // Every topic at (re)connection: a page that was cut off may have missed changes.
    res.write(`retry: 1000\ndata: ${JSON.stringify({ topics: [...ALL_TOPICS].sort(), revision: state.revision } satisfies ChangeEvent)}\n\n`);
    clients.add(res);
    req.raw.on('close', () => clients.delete(res));
  });
  // A comment line every 15 s keeps proxies from closing an idle stream.
  let heartbeat: Timer | undefined;
  const beat = (): void => {
    for (const c of clients) c.write(': keepalive\n\n');
    heartbeat = o.clock.setTimer(beat, 15_000);
  };
  heartbeat = o.clock.setTimer(beat, 15_000);
  let pending = new Set<Topic>();
  let timer: Timer | undefined;
  const flush = (): void => {
    timer = undefined;
    const event: ChangeEvent = { topics: [...pending].sort(), revision: state.revision };
    pending = new Set();
    const line = `data: ${JSON.stringify(event)}\n\n`;
    for (const c of clients) c.write(line);
  };
  const notify = (topics: ReadonlySet<Topic>): void => {
    for (const t of topics) pending.add(t);
    if (pending.size > 0 && timer === undefined) timer = o.clock.setTimer(flush, o.eventDelayMs ?? 100);
  };
  const close = async (): Promise<void> => {
    heartbeat?.cancel();
    timer?.cancel();
    for (const c of clients) c.end();
    clients.clear();
    await app.close();
  };
  return { app, notify, close };
}
