// The measurements, the same for every server: port creates (sequential and 16 in flight),
// bound port creates, binding existing ports with a PUT, and listing every port. For Brindle
// the bind phase also times bind -> WorkloadEndpoint written, by watching the datastore.
import { randomUUID } from 'node:crypto';
import type { KvStore, Watch } from '../../src/datastore/index.js';
import { felixHostStatusKey, regionString, resourcePrefix, workloadEndpointName } from '../../src/model/index.js';
import { checkStop, now, percentile, progress, sleep } from '../datastore/workload.js';
import { ApiClient, type Reply } from './http-client.js';
import { perOp, sample, type CpuPerOp, type Watched } from './proc-stats.js';
import type { RunningServer } from './servers.js';

/** The compute host ports are bound to (Brindle binds only where a live agent reports). */
export const BIND_HOST = 'bench-compute-1';

export interface Target {
  readonly tag: string;
  readonly client: ApiClient;
  readonly server: RunningServer;
  readonly watched: Watched;
  readonly networkId: string;
  /** Names of the port creates that failed (to spot ports that exist all the same). */
  readonly failedCreates: Set<string>;
}

export interface LatencyFigures {
  readonly n: number;
  readonly inFlight: number;
  readonly ok: number;
  readonly failed: number;
  readonly wallSeconds: number;
  /** Successful operations per second of wall time. */
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
  readonly cpuPerOp: CpuPerOp;
}

export interface Stats {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

export function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50Ms: round2(percentile(sorted, 50)),
    p90Ms: round2(percentile(sorted, 90)),
    p99Ms: round2(percentile(sorted, 99)),
    meanMs: round2(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    maxMs: round2(sorted[sorted.length - 1] ?? NaN),
  };
}

function fmt(ms: number): string {
  return ms < 100 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

function checkAlive(t: Target): void {
  const why = t.server.exitedEarly();
  if (why !== undefined) throw new Error(`${t.tag}: the server stopped during the run: ${why}`);
}

/** `n` calls of `op(i)`, `inFlight` at a time; latencies of the successful ones. */
async function timed(t: Target, phase: string, n: number, inFlight: number, op: (i: number) => Promise<{ ok: boolean; ms: number }>): Promise<LatencyFigures> {
  t.client.phase = phase;
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < n; i = next++) {
      if (i % 50 === 0) {
        checkStop();
        checkAlive(t);
      }
      const r = await op(i);
      if (r.ok) latencies.push(r.ms);
      else failed++;
    }
  };
  const before = await sample(t.watched);
  const t0 = now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const wallSeconds = (now() - t0) / 1000;
  const after = await sample(t.watched);
  checkAlive(t);
  const s = stats(latencies);
  const figures: LatencyFigures = {
    n,
    inFlight,
    ok: latencies.length,
    failed,
    wallSeconds: round2(wallSeconds),
    perSecond: round2(latencies.length / wallSeconds),
    ...s,
    cpuPerOp: perOp(before, after, n, t.watched),
  };
  progress(
    t.tag,
    `  ${phase}: ${figures.ok}/${n} ok in ${wallSeconds.toFixed(1)} s, ${figures.perSecond.toFixed(1)}/s, ` +
      `p50 ${fmt(s.p50Ms)} p90 ${fmt(s.p90Ms)} p99 ${fmt(s.p99Ms)} mean ${fmt(s.meanMs)}` +
      `; CPU/op: server ${figures.cpuPerOp.serverMs} ms` +
      `${figures.cpuPerOp.etcdMs === undefined ? '' : `, etcd ${figures.cpuPerOp.etcdMs} ms`}, client ${figures.cpuPerOp.clientMs} ms` +
      `${
        figures.cpuPerOp.etcdCalls === undefined
          ? ''
          : `; etcd calls/op: ${Object.entries(figures.cpuPerOp.etcdCalls)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`
      }` +
      `${figures.cpuPerOp.otherCores >= 0.2 ? `; OTHER PROCESSES used ${figures.cpuPerOp.otherCores} cores` : ''}` +
      `${failed > 0 ? `; ${failed} FAILED` : ''}`,
  );
  return figures;
}

interface PortBody {
  readonly port: { readonly id: string; readonly 'binding:vif_type'?: string };
}

function portOf(r: Reply): PortBody['port'] | undefined {
  try {
    return (JSON.parse(r.body) as PortBody).port;
  } catch {
    return undefined;
  }
}

/** Port creates on the target's network; the new ports' ids are appended to `ids`. */
export async function createPorts(t: Target, phase: string, n: number, inFlight: number, ids: string[]): Promise<LatencyFigures> {
  progress(t.tag, `${phase}: ${n} port creates, ${inFlight} in flight ...`);
  return timed(t, phase, n, inFlight, async (i) => {
    const name = `${phase}-${i}`;
    const r = await t.client.call('POST', '/v2.0/ports', { port: { network_id: t.networkId, name } });
    const port = r.status === 201 ? portOf(r) : undefined;
    if (port !== undefined) ids.push(port.id);
    else t.failedCreates.add(name);
    return { ok: port !== undefined, ms: r.ms };
  });
}

/**
 * Warms a server up before its timed phases: `n` port creates with `inFlight` at once, then the
 * same ports deleted again (the timed network's subnet is left as it was). Brindle's V8 only
 * compiles its hot paths after a few thousand requests; timed from a cold start, its sequential
 * creates fall from about 2.4 ms to 1.7 ms p50 over the first 3,000 (see bench/README).
 */
export async function warmUp(t: Target, n: number, inFlight: number): Promise<void> {
  const ids: string[] = [];
  await createPorts(t, 'warm-up', n, inFlight, ids);
  progress(t.tag, `warm-up: ${ids.length} port deletes, ${inFlight} in flight ...`);
  await timed(t, 'warm-up delete', ids.length, inFlight, async (i) => {
    const r = await t.client.call('DELETE', `/v2.0/ports/${ids[i] ?? ''}`);
    return { ok: r.status === 204, ms: r.ms };
  });
}

/** What Nova sends when it binds a port to an instance on a compute host. */
function bindingBody(): Record<string, string> {
  return { 'binding:host_id': BIND_HOST, device_owner: 'compute:nova', device_id: randomUUID() };
}

/** A reply counts only if the port came back bound (vif_type tap); otherwise it is recorded as a failure. */
function boundOk(t: Target, r: Reply, expected: number, request: { method: string; path: string; body: unknown }): boolean {
  if (r.status !== expected) return false;
  const vif = portOf(r)?.['binding:vif_type'];
  if (vif === 'tap') return true;
  t.client.recordFailure(request.method, request.path, JSON.stringify(request.body), r.status, `binding:vif_type is ${String(vif)}, not tap: ${r.body}`);
  return false;
}

/** The WorkloadEndpoint name networking-calico gives a bound port (from the PUT's reply). */
function endpointName(r: Reply): string | undefined {
  try {
    const port = (JSON.parse(r.body) as { port: { id: string; device_id: string; 'binding:host_id': string } }).port;
    return workloadEndpointName({ node: port['binding:host_id'], orchestrator: 'openstack', workload: port.device_id, endpoint: port.id });
  } catch {
    return undefined;
  }
}

/** Port creates that bind at once (binding:host_id, device_owner compute:nova, device_id). */
/**
 * Bulk creates: `n` requests one after another, each `POST /v2.0/ports` with `size` ports. The
 * latency figures are per request (per `size` ports); `perSecond` counts ports.
 */
export async function createBulk(t: Target, phase: string, n: number, size: number): Promise<LatencyFigures> {
  progress(t.tag, `${phase}: ${n} bulk creates of ${size} ports, one at a time ...`);
  const f = await timed(t, phase, n, 1, async (i) => {
    const ports = Array.from({ length: size }, (_, j) => ({ network_id: t.networkId, name: `${phase}-${i}-${j}` }));
    const r = await t.client.call('POST', '/v2.0/ports', { ports });
    const ok = r.status === 201 && (JSON.parse(r.body) as { ports?: unknown[] }).ports?.length === size;
    if (!ok) t.failedCreates.add(`${phase}-${i}`);
    return { ok, ms: r.ms };
  });
  return { ...f, perSecond: round2(f.perSecond * size) };
}

export async function createBoundPorts(t: Target, phase: string, n: number): Promise<LatencyFigures> {
  progress(t.tag, `${phase}: ${n} bound port creates, one at a time ...`);
  return timed(t, phase, n, 1, async (i) => {
    const body = { port: { network_id: t.networkId, name: `${phase}-${i}`, ...bindingBody() } };
    const r = await t.client.call('POST', '/v2.0/ports', body);
    if (r.status !== 201) t.failedCreates.add(body.port.name);
    return { ok: boundOk(t, r, 201, { method: 'POST', path: '/v2.0/ports', body }), ms: r.ms };
  });
}

export interface BindFigures {
  /** The PUT's own response time. */
  readonly put: LatencyFigures;
  /**
   * From sending the PUT to the WorkloadEndpoint's watch event in this process (Brindle only).
   * `presentAtResponse` counts endpoints a get found right after the PUT returned (the API
   * writes it before answering); `missed` those never seen within 5 s.
   */
  readonly endpoint: (Stats & { readonly n: number; readonly missed: number; readonly presentAtResponse: number }) | undefined;
}

/**
 * Watches the OpenStack WorkloadEndpoints and notes, per port id (spec.endpoint), when this
 * process first saw its endpoint written.
 */
class EndpointWatcher {
  readonly #seen = new Map<string, number>();
  readonly #waiters = new Map<string, (at: number) => void>();
  #watch: Watch | undefined;
  #loop: Promise<void> | undefined;
  #error: unknown;

  async start(kv: KvStore, prefix: string): Promise<void> {
    const fromRevision = (await kv.revision()) + 1;
    const watch = kv.watch(prefix, { fromRevision });
    this.#watch = watch;
    this.#loop = (async () => {
      try {
        for await (const batch of watch) {
          const at = now();
          for (const e of batch.events) {
            if (e.type !== 'put') continue;
            let portId: string | undefined;
            try {
              portId = (JSON.parse(e.kv.value) as { spec?: { endpoint?: string } }).spec?.endpoint;
            } catch {
              portId = undefined;
            }
            if (portId === undefined || this.#seen.has(portId)) continue;
            this.#seen.set(portId, at);
            this.#waiters.get(portId)?.(at);
          }
        }
      } catch (err) {
        this.#error = err;
      }
    })();
  }

  /** When the endpoint of `portId` was seen (now() clock), or undefined after `timeoutMs`. */
  async waitFor(portId: string, timeoutMs: number): Promise<number | undefined> {
    const seen = this.#seen.get(portId);
    if (seen !== undefined) return seen;
    if (this.#error !== undefined)
      throw new Error(`endpoint watch failed: ${this.#error instanceof Error ? this.#error.message : JSON.stringify(this.#error)}`);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(portId);
        resolve(undefined);
      }, timeoutMs);
      this.#waiters.set(portId, (at) => {
        clearTimeout(timer);
        this.#waiters.delete(portId);
        resolve(at);
      });
    });
  }

  async close(): Promise<void> {
    this.#watch?.close();
    await this.#loop;
  }
}

/** The agent's liveness key networking-calico binds on, as Felix writes it: on a lease. */
export async function writeAgentStatus(kv: KvStore): Promise<void> {
  const lease = await kv.grantLease(600);
  const key = felixHostStatusKey(regionString(undefined), BIND_HOST);
  await kv.put(key, JSON.stringify({ time: new Date().toISOString(), uptime: 1, first_update: true }), { lease: lease.id });
}

/**
 * Binds existing unbound ports one at a time with a PUT, as Nova does. With `kv` (Brindle's
 * datastore) it also waits for each port's WorkloadEndpoint and times PUT sent -> endpoint seen.
 */
export async function bindPorts(t: Target, phase: string, portIds: readonly string[], kv: KvStore | undefined): Promise<BindFigures> {
  progress(
    t.tag,
    `${phase}: binding ${portIds.length} existing ports with PUT, one at a time${kv === undefined ? '' : ', waiting for each WorkloadEndpoint'} ...`,
  );
  const watcher = kv === undefined ? undefined : new EndpointWatcher();
  const toEndpoint: number[] = [];
  let missed = 0;
  let presentAtResponse = 0;
  const wepPrefix = resourcePrefix('WorkloadEndpoint', 'openstack');
  try {
    if (kv !== undefined) await watcher?.start(kv, wepPrefix);
    const put = await timed(t, phase, portIds.length, 1, async (i) => {
      const id = portIds[i] ?? '';
      const t0 = now();
      const body = { port: bindingBody() };
      const r = await t.client.call('PUT', `/v2.0/ports/${id}`, body);
      const ok = boundOk(t, r, 200, { method: 'PUT', path: `/v2.0/ports/${id}`, body });
      if (ok && watcher !== undefined && kv !== undefined) {
        const name = endpointName(r);
        if (name !== undefined && (await kv.get(`${wepPrefix}${name}`)) !== undefined) presentAtResponse++;
        const at = await watcher.waitFor(id, 5_000);
        if (at === undefined) missed++;
        else toEndpoint.push(at - t0);
      }
      return { ok, ms: r.ms };
    });
    if (watcher === undefined) return { put, endpoint: undefined };
    const s = stats(toEndpoint);
    progress(
      t.tag,
      `  bind -> WorkloadEndpoint seen: p50 ${fmt(s.p50Ms)} p99 ${fmt(s.p99Ms)} max ${fmt(s.maxMs)}, missed ${missed}; ` +
        `already written when the PUT returned: ${presentAtResponse}/${toEndpoint.length + missed}`,
    );
    return { put, endpoint: { n: toEndpoint.length, missed, presentAtResponse, ...s } };
  } finally {
    await watcher?.close();
  }
}

export interface ListFigures {
  readonly ports: number;
  /** The number of ports the client created successfully (when known). */
  readonly expected: number | undefined;
  /** Ports listed whose create request failed: created although the client was told otherwise. */
  readonly createdDespiteFailure: readonly { readonly id: string; readonly name: string }[];
  readonly bytes: number;
  readonly runs: number;
  readonly seconds: readonly number[];
  readonly bestSeconds: number;
  /** Best time divided by the number of ports listed, in microseconds. */
  readonly microsecondsPerPort: number;
  readonly cpuPerOp: CpuPerOp;
  /** `GET /v2.0/ports?fixed_ips=ip_address=X` for listed ports' addresses, one at a time (what Nova asks): p50 ms, and how many. */
  readonly lookupByAddressP50Ms: number | undefined;
  readonly lookups: number;
}

/** Lookups by address timed after the full lists. */
const ADDRESS_LOOKUPS = 20;

/**
 * GET /v2.0/ports `runs` times. The count is compared with `expected` (the successful creates)
 * and ports whose create failed are picked out by name.
 */
export async function listPorts(t: Target, phase: string, runs: number, expected?: number): Promise<ListFigures> {
  t.client.phase = phase;
  progress(t.tag, `${phase}: GET /v2.0/ports x ${runs} ...`);
  const seconds: number[] = [];
  let ports = 0;
  let bytes = 0;
  let listed: { id: string; name: string; fixed_ips?: { ip_address: string }[] }[] = [];
  const before = await sample(t.watched);
  for (let run = 0; run < runs; run++) {
    checkStop();
    const r = await t.client.call('GET', '/v2.0/ports');
    if (r.status !== 200) throw new Error(`${t.tag}: GET /v2.0/ports -> ${r.status} ${r.body.slice(0, 600)}`);
    listed = (JSON.parse(r.body) as { ports: typeof listed }).ports;
    ports = listed.length;
    bytes = Buffer.byteLength(r.body);
    seconds.push(Math.round(r.ms * 10) / 10_000);
    await sleep(200);
  }
  const after = await sample(t.watched);
  // Ports by address, as Nova and the agents ask: one port's worth of answer out of the whole collection.
  const lookupMs: number[] = [];
  for (let i = 0; i < ADDRESS_LOOKUPS && listed.length > 0; i++) {
    checkStop();
    const port = listed[Math.floor((i * listed.length) / ADDRESS_LOOKUPS)];
    const ip = port?.fixed_ips?.[0]?.ip_address;
    if (ip === undefined) continue;
    const r = await t.client.call('GET', `/v2.0/ports?fixed_ips=${encodeURIComponent(`ip_address=${ip}`)}`);
    if (r.status !== 200) throw new Error(`${t.tag}: GET /v2.0/ports?fixed_ips=ip_address=${ip} -> ${r.status} ${r.body.slice(0, 600)}`);
    const found = (JSON.parse(r.body) as { ports: { id: string }[] }).ports;
    if (!found.some((p) => p.id === port?.id)) throw new Error(`${t.tag}: GET /v2.0/ports?fixed_ips=ip_address=${ip} did not find port ${port?.id ?? ''}`);
    lookupMs.push(r.ms);
  }
  lookupMs.sort((a, b) => a - b);
  const lookupByAddressP50Ms = lookupMs[Math.floor(lookupMs.length / 2)];
  if (lookupByAddressP50Ms !== undefined) progress(t.tag, `  ${lookupMs.length} lookups by address: p50 ${lookupByAddressP50Ms.toFixed(2)} ms`);
  const createdDespiteFailure = listed.filter((p) => t.failedCreates.has(p.name)).map((p) => ({ id: p.id, name: p.name }));
  const best = Math.min(...seconds);
  progress(t.tag, `  ${ports} ports, ${(bytes / 1e6).toFixed(1)} MB: ${seconds.map((s) => `${s.toFixed(3)} s`).join(', ')}`);
  if (expected !== undefined && ports !== expected) progress(t.tag, `  NOTE: ${ports} ports listed, ${expected} created successfully`);
  for (const p of createdDespiteFailure) progress(t.tag, `  NOTE: port ${p.id} (${p.name}) exists although its create failed`);
  return {
    ports,
    expected,
    createdDespiteFailure,
    bytes,
    runs,
    seconds,
    bestSeconds: best,
    microsecondsPerPort: Math.round((best * 1e6) / Math.max(1, ports)),
    cpuPerOp: perOp(before, after, runs, t.watched),
    lookupByAddressP50Ms,
    lookups: lookupMs.length,
  };
}

/** A client for a running server, its network, and the Target the measurements take (`etcd`: the datastore process to watch). */
export async function newTarget(
  tag: string,
  server: RunningServer,
  etcd?: { readonly pid: number; readonly endpoint: string },
  headers: Readonly<Record<string, string>> = {},
): Promise<Target> {
  const client = new ApiClient(server.url, headers);
  const { networkId } = await makeNetwork(client);
  const watched: Watched = { serverPids: () => server.pids(), etcdPid: etcd?.pid, etcdEndpoint: etcd?.endpoint };
  return { tag, client, server, watched, networkId, failedCreates: new Set() };
}

/**
 * A second network with an IPv6 /64 for the ports that only fill the list: 100,000 addresses
 * drawn at random from an IPv4 /15 would collide more and more (a collision lists the
 * subnet's allocations); in a /64 they never do.
 */
export async function makeFillNetwork(client: ApiClient): Promise<string> {
  client.phase = 'network';
  const net = await client.json<{ network: { id: string } }>('POST', '/v2.0/networks', { network: { name: 'bench-fill', admin_state_up: true } });
  await client.json('POST', '/v2.0/subnets', { subnet: { network_id: net.network.id, ip_version: 6, cidr: '2001:db8:100::/64', name: 'bench-fill-v6' } });
  return net.network.id;
}

/** Network + /16 subnet for the timed port creates. */
export async function makeNetwork(client: ApiClient): Promise<{ networkId: string; subnetId: string }> {
  client.phase = 'network';
  const net = await client.json<{ network: { id: string } }>('POST', '/v2.0/networks', { network: { name: 'bench-net', admin_state_up: true } });
  const sub = await client.json<{ subnet: { id: string } }>('POST', '/v2.0/subnets', {
    subnet: { network_id: net.network.id, ip_version: 4, cidr: '198.18.0.0/16', name: 'bench-v4' },
  });
  return { networkId: net.network.id, subnetId: sub.subnet.id };
}
