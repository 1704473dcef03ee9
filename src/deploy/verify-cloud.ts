// The checks after a deploy (the Fuel plugin's test plan, reference §3.6): etcd healthy, every
// agent alive in Neutron's agent list, every host's BGP sessions Established, and a test port
// bound to a compute host that goes ACTIVE once its tap exists, as a VM's would.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../lib/index.js';
import type { DeploySettings } from './deploy-settings.js';
import { hasRole, runsNode } from './inventory.js';
import type { DeployPlan } from './plan-deploy.js';
import { remoteApi, type RemoteApi } from './remote-api.js';
import { shq, type Remote } from './remote.js';

export interface CheckResult {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface VerifyDeps {
  readonly clock: Clock;
  readonly progress: (line: string) => void;
  /** How long each check may take to pass (agents and BGP need a few report periods). */
  readonly timeoutMs: number;
  /** Bind a test port to a compute and plug its tap there (needs to reach the compute). */
  readonly testPort: boolean;
}

/** Retries `attempt` until it says ok or the time is up; the last answer counts. */
async function until(deps: VerifyDeps, attempt: () => Promise<CheckResult>): Promise<CheckResult> {
  const deadline = deps.clock.monotonic() + deps.timeoutMs;
  for (;;) {
    const r = await attempt();
    if (r.ok || deps.clock.monotonic() > deadline) return r;
    await deps.clock.sleep(2_000);
  }
}

export async function verifyCloud(plan: DeployPlan, settings: DeploySettings, remotes: ReadonlyMap<string, Remote>, deps: VerifyDeps): Promise<CheckResult[]> {
  const primary = remotes.get(plan.primary.name);
  if (primary === undefined) throw new Error(`no remote for ${plan.primary.name}`);
  const api = remoteApi(primary, plan.apiPort, settings.keystone);
  const nodes = plan.machines.filter((m) => runsNode(m.machine)).map((m) => m.machine);
  const results: CheckResult[] = [];
  const record = (r: CheckResult): void => {
    results.push(r);
    deps.progress(`verify: ${r.ok ? 'ok' : 'FAILED'}: ${r.check}: ${r.detail}`);
  };

  record(await until(deps, () => etcdHealth(primary, plan)));
  record(
    await until(deps, () =>
      agentsAlive(
        api,
        nodes.map((n) => n.name),
      ),
    ),
  );
  for (const n of nodes) record(await until(deps, () => bgpEstablished(primary, n.name, nodes.length)));
  const compute = nodes.find((n) => hasRole(n, 'compute'));
  const computeRemote = compute === undefined ? undefined : remotes.get(compute.name);
  if (deps.testPort && compute !== undefined && computeRemote !== undefined) record(await testPort(api, computeRemote, compute.name, deps));
  return results;
}

async function etcdHealth(primary: Remote, plan: DeployPlan): Promise<CheckResult> {
  const endpoints = plan.datastore.slice('etcd:'.length);
  const r = await primary.run(`ETCDCTL_API=3 etcdctl ${plan.etcdctlFlags} --endpoints=${shq(endpoints)} --command-timeout=5s endpoint health -w json || true`);
  let healthy: { endpoint: string; health: boolean }[] = [];
  try {
    healthy = JSON.parse(r.stdout) as typeof healthy;
  } catch {
    return { check: 'etcd health', ok: false, detail: (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-2).join(' ') };
  }
  const bad = healthy.filter((h) => !h.health).map((h) => h.endpoint);
  return {
    check: 'etcd health',
    ok: bad.length === 0 && healthy.length === plan.etcdMembers.length,
    detail: bad.length === 0 ? `${healthy.length} member(s) healthy` : `unhealthy: ${bad.join(', ')}`,
  };
}

async function agentsAlive(api: RemoteApi, hosts: readonly string[]): Promise<CheckResult> {
  const r = await api('GET', '/v2.0/agents');
  const agents = (r.body as { agents?: { host: string; alive: boolean }[] } | undefined)?.agents;
  if (r.status !== 200 || agents === undefined)
    return { check: 'agents alive', ok: false, detail: `GET /v2.0/agents: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}` };
  const missing = hosts.filter((h) => !agents.some((a) => a.host === h && a.alive));
  return {
    check: 'agents alive',
    ok: missing.length === 0,
    detail: missing.length === 0 ? `${hosts.length} agent(s) alive` : `not alive: ${missing.join(', ')}`,
  };
}

/** From the CalicoNodeStatus the host's agent writes, read on the primary. */
async function bgpEstablished(primary: Remote, host: string, speakers: number): Promise<CheckResult> {
  const check = `BGP sessions on ${host}`;
  const r = await primary.run(`brindle ctl node status --hostname ${shq(host)} -o json || true`);
  let status: { bgp?: { numberEstablishedV4: number; numberNotEstablishedV4: number } };
  try {
    status = JSON.parse(r.stdout) as typeof status;
  } catch {
    return { check, ok: false, detail: (r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? '' };
  }
  const bgp = status.bgp;
  if (bgp === undefined) return { check, ok: false, detail: 'no BGP status reported yet' };
  const ok = bgp.numberNotEstablishedV4 === 0 && (speakers < 2 || bgp.numberEstablishedV4 > 0);
  return { check, ok, detail: `${bgp.numberEstablishedV4} Established, ${bgp.numberNotEstablishedV4} not` };
}

/** A port bound to `host` as Nova binds one, its tap made as Nova plugs one, until ACTIVE; then all removed. */
async function testPort(api: RemoteApi, compute: Remote, host: string, deps: VerifyDeps): Promise<CheckResult> {
  const check = `test port on ${host} ACTIVE`;
  const net = await api('POST', '/v2.0/networks', { network: { name: `brindle-deploy-verify-${randomUUID().slice(0, 8)}` } });
  const netId = (net.body as { network?: { id: string } }).network?.id;
  if (net.status !== 201 || netId === undefined)
    return { check, ok: false, detail: `POST /v2.0/networks: ${net.status} ${JSON.stringify(net.body).slice(0, 200)}` };
  let tap: string | undefined;
  try {
    const body = { port: { network_id: netId, name: 'brindle-deploy-verify', 'binding:host_id': host, device_owner: 'compute:nova', device_id: randomUUID() } };
    const port = await api('POST', '/v2.0/ports', body);
    const portId = (port.body as { port?: { id: string } }).port?.id;
    if (port.status !== 201 || portId === undefined)
      return { check, ok: false, detail: `POST /v2.0/ports: ${port.status} ${JSON.stringify(port.body).slice(0, 200)}` };
    tap = `tap${portId.slice(0, 11)}`;
    const peer = `tvp${portId.slice(0, 8)}`;
    // Both ends up: a tap whose peer is down has no carrier, and its VM is not running.
    const plug = await compute.run(`ip link add ${tap} type veth peer name ${peer} && ip link set ${peer} up && ip link set ${tap} up`);
    if (plug.code !== 0) return { check, ok: false, detail: `plugging ${tap}: ${plug.stderr.trim()}` };
    const result = await until(deps, async () => {
      const r = await api('GET', `/v2.0/ports/${portId}`);
      const status = (r.body as { port?: { status: string } }).port?.status;
      return { check, ok: status === 'ACTIVE', detail: `port ${portId} ${status ?? r.status}` };
    });
    await api('DELETE', `/v2.0/ports/${portId}`);
    return result;
  } finally {
    if (tap !== undefined) await compute.run(`ip link del ${tap} 2>/dev/null || true`);
    await api('DELETE', `/v2.0/networks/${netId}`);
  }
}
