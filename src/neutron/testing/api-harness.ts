import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { KvStore } from '../../datastore/index.js';
import { silentLogger } from '../../lib/index.js';
import { felixHostStatusKey } from '../../model/index.js';
import { startNeutronApi, type NeutronApiOptions, type RunningNeutronApi } from '../neutron-api.js';

export interface CallResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** A real `brindle api` in this process on a random loopback port, and a JSON client for it. */
export interface TestApi {
  readonly api: RunningNeutronApi;
  readonly url: string;
  readonly services: RunningNeutronApi['services'];
  readonly resyncDone: RunningNeutronApi['resyncDone'];
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<CallResult>;
  close(): Promise<void>;
}

export async function startTestApi(kv: KvStore, options: Partial<NeutronApiOptions> = {}): Promise<TestApi> {
  const api = await startNeutronApi({ kv, listen: { host: '127.0.0.1', port: 0 }, logger: silentLogger(), ...options });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<CallResult> => {
    const r = await fetch(`${api.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };
  return { api, url: api.url, services: api.services, resyncDone: api.resyncDone, call, close: () => api.close() };
}

/** Pretends a Calico agent runs on `host`: its status key, on a lease the caller may revoke. */
export async function fakeAgentAlive(kv: KvStore, host: string, regionStr = 'no-region'): Promise<{ lease: string }> {
  const lease = await kv.grantLease(60);
  await kv.put(felixHostStatusKey(regionStr, host), JSON.stringify({ time: new Date().toISOString(), uptime: 5, first_update: true }), { lease: lease.id });
  return { lease: lease.id };
}

/** A stand-in for Nova's os-server-external-events that records what it receives. */
export interface FakeNova {
  readonly url: string;
  readonly events: Record<string, unknown>[];
  readonly headers: IncomingMessage['headers'][];
  close(): Promise<void>;
}

/** `refuseFirst`: statuses to answer the first POSTs with (recorded in `headers`, their events not taken), e.g. [503, 401]. */
export async function startFakeNova(options: { refuseFirst?: readonly number[] } = {}): Promise<FakeNova> {
  const events: Record<string, unknown>[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const refusals = [...(options.refuseFirst ?? [])];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v2.1/os-server-external-events') {
        headers.push(req.headers);
        const refusal = refusals.shift();
        if (refusal !== undefined) {
          res.writeHead(refusal, { 'content-type': 'application/json' }).end('{}');
          return;
        }
        const parsed = JSON.parse(body) as { events: Record<string, unknown>[] };
        events.push(...parsed.events);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events: parsed.events.map((e) => ({ ...e, code: 200 })) }));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/v2.1`, events, headers, close: () => new Promise((r) => server.close(() => r())) };
}
