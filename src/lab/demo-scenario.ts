import { join } from 'node:path';
import type { Clock, Exec, Fs } from '../lib/index.js';
import { bootVm } from './lab-api.js';
import { buildDataCenter } from './data-center.js';
import { formatLabPicture, labStatus } from './lab-status.js';
import { LabCluster } from './lab-cluster.js';
import { Lab } from './lab-topology.js';
import { formatMatrix, runMatrix, type MatrixCheck, type MatrixResult } from './connectivity-matrix.js';
import { probe, startResponder, type Responder } from './probe.js';
import { addFloatingIp, LAB_EXTERNAL, setUpExternalNetwork } from './floating-ips.js';

export interface DemoDeps {
  readonly exec: Exec;
  readonly fs: Fs;
  readonly clock: Clock;
  /** Progress and the matrix go here, line by line. */
  readonly out: (line: string) => void;
  /** Where the lab keeps its state and the embedded datastore (a fresh temp dir). */
  readonly workDir: string;
}

export interface DemoResult {
  readonly results: readonly MatrixResult[];
  readonly ok: boolean;
}

const HOSTS = ['compute-1', 'compute-2'] as const;
const PORTS = { web: 80, db: 5432, dns: 5353 } as const;

/**
 * The VMs of the demo and their security groups. The expectations below are written from the
 * groups' rules by hand (not computed by Brindle's code), so the matrix checks the policy:
 * - web: ingress TCP 80 and ICMP from anywhere;
 * - db: ingress TCP 5432 from members of web (remote group), UDP 5353 from 198.18.0.0/24 (remote prefix);
 * - tools: no ingress rules;
 * every group keeps Neutron's default egress (allow all); `lonely` has no group at all.
 */
const VMS: readonly { name: string; host: (typeof HOSTS)[number]; groups: readonly string[] }[] = [
  { name: 'web1', host: 'compute-1', groups: ['web'] },
  { name: 'web2', host: 'compute-2', groups: ['web'] },
  { name: 'db1', host: 'compute-2', groups: ['db'] },
  { name: 'tools1', host: 'compute-1', groups: ['tools'] },
  { name: 'lonely', host: 'compute-2', groups: [] },
];

/** What the demo's guest runs to read its metadata (Node's http; the VMs have no curl). */
const METADATA_SCRIPT =
  "require('http').get({ host: '169.254.169.254', path: '/openstack/latest/meta_data.json', timeout: 3000 }, (r) => { let d = ''; r.on('data', (c) => (d += c)); r.on('end', () => console.log(d)); }).on('error', (e) => console.log(String(e)));";

/** The host behind the border router: not a VM, so no policy of ours on its side. */
const OUTSIDE = 'outside';

function expected(from: string, to: string, kind: 'ping' | 'tcp' | 'udp', port?: number): boolean {
  const groupsOf = (n: string): readonly string[] => VMS.find((v) => v.name === n)?.groups ?? [];
  if (from !== OUTSIDE && groupsOf(from).length === 0) return false; // no group, no egress
  const dst = groupsOf(to);
  if (dst.includes('web')) return kind === 'ping' || (kind === 'tcp' && port === PORTS.web);
  if (dst.includes('db')) return (kind === 'tcp' && port === PORTS.db && groupsOf(from).includes('web')) || (kind === 'udp' && port === PORTS.dns);
  return false;
}

/** The checks of the demo matrix: every ordered pair of VMs, ping + TCP 80 + TCP 5432 + UDP 5353. */
export function demoChecks(): MatrixCheck[] {
  const checks: MatrixCheck[] = [];
  for (const a of VMS) {
    for (const b of VMS) {
      if (a.name === b.name) continue;
      checks.push({ from: a.name, to: b.name, kind: 'ping', expect: expected(a.name, b.name, 'ping') });
      checks.push({ from: a.name, to: b.name, kind: 'tcp', port: PORTS.web, expect: expected(a.name, b.name, 'tcp', PORTS.web) });
      checks.push({ from: a.name, to: b.name, kind: 'tcp', port: PORTS.db, expect: expected(a.name, b.name, 'tcp', PORTS.db) });
      checks.push({ from: a.name, to: b.name, kind: 'udp', port: PORTS.dns, expect: expected(a.name, b.name, 'udp', PORTS.dns) });
    }
  }
  return checks;
}

/** From the outside host, through the border router, to each VM: ping and TCP 80 and 5432. */
export function outsideChecks(): MatrixCheck[] {
  return VMS.flatMap((b) => [
    { from: OUTSIDE, to: b.name, kind: 'ping' as const, expect: expected(OUTSIDE, b.name, 'ping') },
    { from: OUTSIDE, to: b.name, kind: 'tcp' as const, port: PORTS.web, expect: expected(OUTSIDE, b.name, 'tcp', PORTS.web) },
    { from: OUTSIDE, to: b.name, kind: 'tcp' as const, port: PORTS.db, expect: expected(OUTSIDE, b.name, 'tcp', PORTS.db) },
  ]);
}

/**
 * `make demo`: two compute hosts running `brindle node` with BIRD in a BGP mesh, a border
 * router with an outside host, `brindle api` in front, five VMs spread over the hosts in three
 * security groups (and one in none) booted through the Neutron API the way Nova boots them;
 * then the BGP sessions and learned routes, a guest that boots by DHCP and reads its own
 * metadata, the outside host reaching a VM by a floating IP (and not after it is
 * disassociated), and a connectivity matrix of real packets across
 * hosts (and from the outside) checked against what the groups say. Everything is removed
 * afterwards, whatever happened.
 */
export async function runDemo(deps: DemoDeps): Promise<DemoResult> {
  const { out } = deps;
  const step = (text: string): void => out(`\n== ${text}`);
  const stateDir = join(deps.workDir, 'lab');
  const lab = await Lab.create({ exec: deps.exec, fs: deps.fs, clock: deps.clock, stateDir, prefix: Lab.randomPrefix() });
  let cluster: LabCluster | undefined;
  const responders: Responder[] = [];
  try {
    step(`Lab ${lab.prefix}: fabric ${lab.fabric.name}, compute hosts ${HOSTS.join(', ')}, a border router`);
    const datastore = `embedded:${join(deps.workDir, 'datastore')}`;
    cluster = await LabCluster.start({ lab, exec: deps.exec, fs: deps.fs, clock: deps.clock, datastore, workDir: join(deps.workDir, 'run') });
    out(`brindle api at ${cluster.apiUrl}`);
    await buildDataCenter(
      { lab, cluster, datastore, exec: deps.exec, fs: deps.fs, clock: deps.clock },
      { hosts: HOSTS, border: true, progress: (l) => out(l) },
    );

    step('Network, subnet and security groups through the Neutron API');
    const api = cluster.client();
    const net = await api.createNetwork({ name: 'demo-net' });
    const subnet = await api.createSubnet({ network_id: net.id, ip_version: 4, cidr: '198.18.0.0/24', gateway_ip: '198.18.0.1', name: 'demo-v4' });
    out(`network ${net.id}, subnet ${subnet.cidr} (gateway ${subnet.gateway_ip ?? 'none'})`);
    const sg: Record<string, string> = {};
    for (const name of ['web', 'db', 'tools']) sg[name] = (await api.createSecurityGroup({ name })).id;
    const rule = async (group: string, body: Record<string, unknown>, text: string): Promise<void> => {
      await api.createSecurityGroupRule({ security_group_id: sg[group] ?? '', direction: 'ingress', ethertype: 'IPv4', ...body });
      out(`  ${group}: ${text}`);
    };
    await rule(
      'web',
      { protocol: 'tcp', port_range_min: PORTS.web, port_range_max: PORTS.web, remote_ip_prefix: '0.0.0.0/0' },
      `allow TCP ${PORTS.web} from anywhere`,
    );
    await rule('web', { protocol: 'icmp', remote_ip_prefix: '0.0.0.0/0' }, 'allow ICMP from anywhere');
    await rule(
      'db',
      { protocol: 'tcp', port_range_min: PORTS.db, port_range_max: PORTS.db, remote_group_id: sg['web'] ?? '' },
      `allow TCP ${PORTS.db} from members of web`,
    );
    await rule(
      'db',
      { protocol: 'udp', port_range_min: PORTS.dns, port_range_max: PORTS.dns, remote_ip_prefix: '198.18.0.0/24' },
      `allow UDP ${PORTS.dns} from 198.18.0.0/24`,
    );
    out('  tools: no ingress rules; every group keeps the default egress rules (allow all)');

    step('Booting VMs the way Nova does: create port, bind to the host, plug the tap');
    for (const v of VMS) {
      const booted = await bootVm(lab, api, {
        host: v.host,
        name: v.name,
        networkId: net.id,
        subnetId: subnet.id,
        securityGroups: v.groups.map((g) => sg[g] ?? ''),
      });
      out(
        `  ${v.name.padEnd(7)} on ${v.host}  ${booted.port.fixed_ips[0]?.ip_address ?? '?'}  ${booted.info.tap}  groups: ${v.groups.length === 0 ? '(none)' : v.groups.join(', ')}`,
      );
      responders.push(await startResponder(lab, v.name, { tcp: [PORTS.web, PORTS.db], udp: [PORTS.dns] }));
    }
    const active = await waitForActive(api, deps.clock, VMS.length);
    out(`ports ACTIVE (the agent reported them up): ${active} of ${VMS.length}`);

    step('BGP: each host announces its VMs; the others (and the border) route to it directly');
    await waitForRoutes(lab, deps.clock, VMS.length);
    const c = cluster;
    for (const h of HOSTS) {
      out(`  ${h} (${lab.hostInfo(h).ip4}) sessions:`);
      for (const line of (await c.birdc(h, 'show', 'protocols')).split('\n').filter((l) => /\sBGP\s/.test(l))) out(`    ${line.trim()}`);
      const learned = (await lab.host(h).must('ip', ['-4', 'route', 'show', 'proto', 'bird']))
        .trim()
        .split('\n')
        .filter((l) => l !== '');
      out(`  ${h} learned ${learned.length} routes over BGP:`);
      for (const r of learned) out(`    ${r.trim()}`);
    }
    out('');
    out(formatLabPicture(labStatus(lab)));

    const ipOf = (name: string): string => lab.vmInfo(name).ips[0]?.ip ?? '';
    step("A guest that boots like a guest: DHCP from its host's dnsmasq, then its metadata from 169.254.169.254");
    const guest = await bootVm(lab, api, {
      host: HOSTS[0],
      name: 'guest',
      networkId: net.id,
      subnetId: subnet.id,
      securityGroups: [sg['web'] ?? ''],
      dhcp: true,
    });
    const lease = await lab.lease('guest');
    out(
      `  guest on ${HOSTS[0]}: DHCP lease ${lease?.['ip'] ?? '?'}/${lease?.['mask'] ?? lease?.['subnet'] ?? '?'}, router ${lease?.['router'] ?? '?'}, MTU ${lease?.['mtu'] ?? '?'}, DNS ${lease?.['dns'] ?? '-'}, from ${lease?.['serverid'] ?? '?'}`,
    );
    const meta = await lab.vm('guest').run(process.execPath, ['-e', METADATA_SCRIPT]);
    const uuid = /"uuid":"([^"]+)"/.exec(meta.stdout)?.[1];
    out(
      `  GET http://169.254.169.254/openstack/latest/meta_data.json → uuid ${uuid ?? `(no answer: ${meta.stdout.trim()})`}${uuid === guest.port.device_id ? ' (its own instance)' : ' (NOT its instance!)'}`,
    );
    const booted = lease?.['ip'] === guest.port.fixed_ips[0]?.ip_address && uuid === guest.port.device_id;
    await lab.removeVm('guest');

    step('A floating IP: the outside host reaches web1 by an address of the external network');
    const { externalNetworkId } = await setUpExternalNetwork(api, [subnet.id]);
    await lab.setCloud({ api: cluster.apiUrl, datastore, networkId: net.id, subnetIds: [subnet.id], externalNetworkId });
    out(
      `  external network ${LAB_EXTERNAL.name} (${LAB_EXTERNAL.cidr4}), router ${LAB_EXTERNAL.router} with its gateway there and an interface on ${subnet.cidr}`,
    );
    const fip = await addFloatingIp(lab, api, 'web1');
    const web1 = lab.vmInfo('web1');
    out(`  floating IP ${fip.address} → web1 ${ipOf('web1')} (on ${web1.host}: DNAT there, the /32 announced over BGP)`);
    const fipRoute = await waitForBorderRoute(lab, deps.clock, fip.address, true);
    out(`  border: ${fipRoute}`);
    const fipPing = (await probe(lab, OUTSIDE, { ip: fip.address }, { kind: 'ping', timeoutMs: 1500 })).answered;
    const fipTcp = (await probe(lab, OUTSIDE, { ip: fip.address, port: PORTS.web }, { kind: 'tcp', timeoutMs: 1500 })).answered;
    out(`  outside → ${fip.address}: ping ${fipPing ? '✓' : '✗'}  tcp:${PORTS.web} ${fipTcp ? '✓' : '✗'}`);
    const tracked = (await lab.host(web1.host).run('conntrack', ['-L', '--orig-dst', fip.address, '-p', 'tcp'])).stdout
      .split('\n')
      .find((l) => l.includes(`dport=${PORTS.web}`));
    if (tracked !== undefined)
      out(
        `  ${web1.host} tracked: ${tracked.replace(/\s+/g, ' ').trim()}\n    (the VM saw the outside host's own address; only the destination was translated)`,
      );
    await api.updateFloatingIp(fip.id, { port_id: null });
    await waitForBorderRoute(lab, deps.clock, fip.address, false);
    const afterPing = (await probe(lab, OUTSIDE, { ip: fip.address }, { kind: 'ping', timeoutMs: 700 })).answered;
    out(`  disassociated: the border forgot the route; outside → ${fip.address}: ping ${afterPing ? '✓ (unexpected!)' : '✗ (as it should)'}`);
    const floatingOk = fipPing && fipTcp && !afterPing;
    await api.deleteFloatingIp(fip.id);
    await lab.setVmFloatingIps('web1', []);

    step('Connectivity matrix: real packets (ping, TCP, UDP) between every pair of VMs, across hosts, and from outside through the border');
    const checks = [...demoChecks(), ...outsideChecks()];
    let done = 0;
    const results = await runMatrix(
      checks,
      async (c) => {
        const r = await probe(lab, c.from, { ip: ipOf(c.to), ...(c.port === undefined ? {} : { port: c.port }) }, { kind: c.kind, timeoutMs: 700 });
        done++;
        if (done % 20 === 0) out(`  … ${done} of ${checks.length} probes`);
        return r.answered;
      },
      { concurrency: 8 },
    );
    out(formatMatrix(results));
    const ok = results.every((r) => r.ok) && booted && floatingOk;
    if (!booted) out('MISMATCH: the guest did not get its own lease and metadata.');
    if (!floatingOk) out('MISMATCH: the floating IP did not lead to web1 while associated, or still did after.');
    out(ok ? '\nEvery pair behaves as the security groups say.' : '\nMISMATCH: some pairs do not behave as the security groups say (marked !).');
    return { results, ok };
  } finally {
    step('Cleaning up: VMs, hosts, border, fabric, processes');
    for (const r of responders) await r.stop().catch(() => undefined);
    await cluster?.stop();
    const removed = await lab.destroy();
    out(`removed ${removed.length} namespaces`);
  }
}

/** Waits until the border has (or no longer has) a route to `address`; returns the route. */
async function waitForBorderRoute(lab: Lab, clock: Clock, address: string, present: boolean): Promise<string> {
  const deadline = clock.monotonic() + 15_000;
  for (;;) {
    const route = (await lab.border.must('ip', ['-4', 'route', 'show', `${address}/32`])).trim();
    if ((route !== '') === present || clock.monotonic() > deadline) return route;
    await clock.sleep(100);
  }
}

/** Waits until the border has learned a route to every VM (BGP has converged). */
async function waitForRoutes(lab: Lab, clock: Clock, want: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const routes = (await lab.border.must('ip', ['-4', 'route', 'show', 'proto', 'bird']))
      .trim()
      .split('\n')
      .filter((l) => l !== '');
    if (routes.length >= want) return;
    await clock.sleep(100);
  }
}

async function waitForActive(api: ReturnType<LabCluster['client']>, clock: Clock, want: number): Promise<number> {
  let active = 0;
  for (let i = 0; i < 100; i++) {
    const ports = await api.listPorts();
    active = ports.filter((p) => p.status === 'ACTIVE').length;
    if (active >= want) break;
    await clock.sleep(100);
  }
  return active;
}
