// Endpoints added one at a time to a host that has the full state: time from the
// WorkloadEndpoint written (its tap already up) to its Felix status key saying "up", and the
// same in Nova's order (endpoint first, tap later: from the tap up to "up").
import type { KvStore } from '../../src/datastore/index.js';
import { felixEndpointStatusKey } from '../../src/model/index.js';
import { checkStop, progress, sleep } from '../datastore/workload.js';
import { stats, type Stats } from '../api/measure.js';
import { endpointValue, localIp, newPort } from './scenario.js';
import type { Ns } from './world.js';
import { metricSum, type AgentProcess } from './agent-process.js';

export interface AddParams {
  readonly hostname: string;
  /** Security groups to put new endpoints in (one each, round-robin). */
  readonly sgIds: readonly string[];
  readonly rand: () => number;
  readonly taken: Set<string>;
  /** Third octet of 198.18.x.y where the new endpoints' addresses start. */
  readonly ipBase: number;
  readonly pollMs: number;
  readonly timeoutMs: number;
}

export interface AddFigures extends Stats {
  readonly n: number;
  readonly timedOut: number;
  readonly samplesMs: readonly number[];
  /** Indexes of the samples during which the agent ran its periodic refresh (iptables-save calls rose). */
  readonly duringRefresh: readonly number[];
  /** The same figures without those samples. */
  readonly withoutRefresh: Stats & { readonly n: number };
}

function figures(samples: number[], timedOut: number, duringRefresh: number[]): AddFigures {
  const round = samples.map((s) => Math.round(s * 10) / 10);
  const rest = samples.filter((_, i) => !duringRefresh.includes(i));
  return { n: samples.length, timedOut, ...stats(samples), samplesMs: round, duringRefresh, withoutRefresh: { n: rest.length, ...stats(rest) } };
}

const saveCalls = async (agent: AgentProcess): Promise<number> => metricSum(await agent.metrics(), 'felix_iptables_save_calls{');

const upKey = (hostname: string, workload: string, endpoint: string): string =>
  felixEndpointStatusKey('no-region', { host: hostname, orchestrator: 'openstack', workload, endpoint });

/** Polls the status key every `pollMs` until it says up; performance.now() when seen, or undefined on timeout. */
async function waitUp(kv: KvStore, key: string, p: AddParams, agent: AgentProcess): Promise<number | undefined> {
  const deadline = performance.now() + p.timeoutMs;
  for (;;) {
    const kvp = await kv.get(key);
    if (kvp?.value.includes('"up"') === true) return performance.now();
    if (performance.now() > deadline) return undefined;
    const why = agent.exitedEarly();
    if (why !== undefined) throw new Error(why);
    await sleep(p.pollMs);
  }
}

const applies = async (agent: AgentProcess): Promise<number> => metricSum(await agent.metrics(), 'felix_int_dataplane_apply_time_seconds_count');

/**
 * Waits (polling /metrics every 50 ms, at most `maxMs`) until the agent has run an apply after
 * `before` applies: the one its interface monitor triggers when it has listed a new tap.
 * Returns the ms it took, or undefined if none came.
 */
async function waitApply(agent: AgentProcess, before: number, maxMs: number): Promise<number | undefined> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    if ((await applies(agent)) > before) return performance.now() - t0;
    await sleep(50);
  }
  return undefined;
}

/**
 * `n` times: a new veth tap in `host` (up); then, once the agent has listed it (an apply follows
 * its interface monitor's re-list; at most `settleMs`) and 100 ms more, the endpoint written;
 * timed from just before the put to the status key reading up.
 */
export async function addTapFirst(
  kv: KvStore,
  host: Ns,
  agent: AgentProcess,
  p: AddParams,
  opts: { n: number; settleMs: number; offset: number },
): Promise<AddFigures & { putMs: Stats; tapNoticedMs: Stats & { missed: number } }> {
  const samples: number[] = [];
  const puts: number[] = [];
  const noticed: number[] = [];
  const refreshed: number[] = [];
  let missed = 0;
  let timedOut = 0;
  for (let i = 0; i < opts.n; i++) {
    checkStop();
    const port = newPort(p.rand, p.taken);
    const sg = p.sgIds[(opts.offset + i) % p.sgIds.length] ?? '';
    const ip = localIp(opts.offset + i, p.ipBase);
    const before = await applies(agent);
    const made = performance.now();
    await host.ipBatch([`link add ${port.tap} type veth peer name ${port.peer}`, `link set ${port.peer} up`, `link set ${port.tap} up`]);
    const waited = await waitApply(agent, before, opts.settleMs);
    if (waited === undefined) missed++;
    else noticed.push(performance.now() - made);
    await sleep(100);
    const wep = endpointValue({ host: p.hostname, ...port, ip, sgs: [sg] });
    const saves = await saveCalls(agent);
    const t0 = performance.now();
    await kv.put(wep.key, wep.value);
    puts.push(performance.now() - t0);
    const seen = await waitUp(kv, upKey(p.hostname, port.workload, port.portId), p, agent);
    if (seen === undefined) timedOut++;
    else {
      if ((await saveCalls(agent)) > saves) refreshed.push(samples.length);
      samples.push(seen - t0);
    }
    if ((i + 1) % 10 === 0)
      progress('add', `  ${i + 1}/${opts.n} endpoints added (tap first); last ${seen === undefined ? 'timed out' : `${Math.round(seen - t0)} ms`}`);
    await sleep(100);
  }
  return { ...figures(samples, timedOut, refreshed), putMs: stats(puts), tapNoticedMs: { ...stats(noticed), missed } };
}

/**
 * Nova's order, `n` times: the endpoint written first (no tap yet: the agent programs its chains
 * and reports it down), then, `settleMs` after that report, the tap is created and brought up; timed from just
 * before the `ip -batch` that makes the tap to the status key reading up.
 */
export async function addEndpointFirst(
  kv: KvStore,
  host: Ns,
  agent: AgentProcess,
  p: AddParams,
  opts: { n: number; settleMs: number; offset: number },
): Promise<AddFigures> {
  const samples: number[] = [];
  const refreshed: number[] = [];
  let timedOut = 0;
  for (let i = 0; i < opts.n; i++) {
    checkStop();
    const port = newPort(p.rand, p.taken);
    const sg = p.sgIds[(opts.offset + i) % p.sgIds.length] ?? '';
    const ip = localIp(opts.offset + i, p.ipBase);
    const wep = endpointValue({ host: p.hostname, ...port, ip, sgs: [sg] });
    await kv.put(wep.key, wep.value);
    // The agent has taken the endpoint in once it reports it (down: no tap yet).
    const key = upKey(p.hostname, port.workload, port.portId);
    for (const deadline = performance.now() + p.timeoutMs; (await kv.get(key)) === undefined && performance.now() < deadline;) await sleep(20);
    await sleep(opts.settleMs);
    const saves = await saveCalls(agent);
    const t0 = performance.now();
    await host.ipBatch([`link add ${port.tap} type veth peer name ${port.peer}`, `link set ${port.peer} up`, `link set ${port.tap} up`]);
    const seen = await waitUp(kv, upKey(p.hostname, port.workload, port.portId), p, agent);
    if (seen === undefined) timedOut++;
    else {
      if ((await saveCalls(agent)) > saves) refreshed.push(samples.length);
      samples.push(seen - t0);
    }
    if ((i + 1) % 10 === 0)
      progress(
        'add',
        `  ${i + 1}/${opts.n} endpoints added (endpoint first, then tap); last ${seen === undefined ? 'timed out' : `${Math.round(seen - t0)} ms`}`,
      );
    await sleep(100);
  }
  return figures(samples, timedOut, refreshed);
}
