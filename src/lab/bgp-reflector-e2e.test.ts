import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { untilPasses } from '../lib/testing.js';
import { bootVm } from './lab-api.js';
import { probe } from './probe.js';
import { startLabCloud, type LabCloud } from './testing/index.js';

const HOSTS = ['compute-1', 'compute-2', 'compute-3'] as const;

/** The BGP protocols BIRD runs, from `show protocols`: name and info (session state). */
function bgpProtocols(text: string): { name: string; state: string; info: string }[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === 'BGP')
    .map((f) => ({ name: f[0] ?? '', state: f[3] ?? '', info: f.slice(5).join(' ') }));
}

/** A larger cloud's shape: the mesh off, one dedicated route reflector carrying every route. */
describe('BGP with a route reflector (mesh off; real BIRD, real packets)', { timeout: 180_000 }, () => {
  let cloud: LabCloud;
  const ip4: Record<string, string> = {};
  const ip6: Record<string, string> = {};

  before(async () => {
    cloud = await startLabCloud({ hosts: 3, reflectors: 1 });
    const { api, lab } = cloud;
    const net = await api.createNetwork({ name: 'rr' });
    const v4 = await api.createSubnet({ network_id: net.id, ip_version: 4, cidr: '198.18.70.0/24', gateway_ip: '198.18.70.1' });
    const v6 = await api.createSubnet({ network_id: net.id, ip_version: 6, cidr: '2001:db8:70::/64', ipv6_address_mode: 'slaac', ipv6_ra_mode: 'slaac' });
    const sg = (await api.createSecurityGroup({ name: 'open' })).id;
    for (const ethertype of ['IPv4', 'IPv6'] as const) {
      await api.createSecurityGroupRule({ security_group_id: sg, direction: 'ingress', ethertype, protocol: ethertype === 'IPv4' ? 'icmp' : 'ipv6-icmp' });
      await api.createSecurityGroupRule({ security_group_id: sg, direction: 'ingress', ethertype, protocol: 'tcp', port_range_min: 22, port_range_max: 22 });
    }
    for (const [i, host] of HOSTS.entries()) {
      const name = `vm${i + 1}`;
      const booted = await bootVm(lab, api, {
        host,
        name,
        networkId: net.id,
        fixedIps: [{ subnet_id: v4.id, ip_address: `198.18.70.${10 + i}` }, { subnet_id: v6.id }],
        securityGroups: [sg],
      });
      ip4[name] = `198.18.70.${10 + i}`;
      ip6[name] = booted.info.ips.find((x) => x.ip.includes(':'))?.ip ?? '';
      await cloud.respond(name, { tcp: [22] });
    }
  });

  after(async () => {
    await cloud?.destroy();
  });

  it('every client has exactly one session per address family, to the reflector, Established', async () => {
    const rr = cloud.lab.hostInfo('rr-1');
    for (const h of HOSTS) {
      await untilPasses(
        async () => {
          const sessions = bgpProtocols(await cloud.cluster.birdc(h, 'show', 'protocols'));
          assert.deepEqual(
            sessions.map((s) => s.name).sort(),
            [`RR_${rr.ip4.replaceAll('.', '_')}`, `RR_${rr.ip6.replaceAll(':', '_')}`].sort(),
            `${h} peers only with the reflector`,
          );
          for (const s of sessions) assert.match(s.info, /Established/, `${h}: ${s.name} ${s.info}`);
        },
        { timeoutMs: 20_000 },
      );
    }
    const onReflector = bgpProtocols(await cloud.cluster.birdc('rr-1', 'show', 'protocols'));
    assert.equal(onReflector.length, HOSTS.length * 2, 'the reflector has one session per client and family');
  });

  it('the same connectivity as the mesh: every VM reaches every other over IPv4 and IPv6', async () => {
    const pairs = HOSTS.flatMap((_, i) => HOSTS.map((__, j) => [`vm${i + 1}`, `vm${j + 1}`] as const)).filter(([a, b]) => a !== b);
    await untilPasses(
      async () => {
        const bad: string[] = [];
        for (const [a, b] of pairs) {
          for (const to of [ip4[b] ?? '', ip6[b] ?? '']) {
            if (!(await probe(cloud.lab, a, { ip: to, port: 22 }, { kind: 'tcp', timeoutMs: 800 })).answered) bad.push(`${a} → ${b} (${to})`);
          }
        }
        assert.deepEqual(bad, []);
      },
      { timeoutMs: 20_000 },
    );
  });

  it('clients route to each other directly: the reflector passes routes on, not traffic', async () => {
    const r = JSON.parse(await cloud.lab.host('compute-1').must('ip', ['-j', '-4', 'route', 'show', ip4['vm2'] ?? ''])) as {
      gateway?: string;
      protocol?: string;
    }[];
    assert.equal(r[0]?.gateway, cloud.lab.hostInfo('compute-2').ip4, 'next hop is compute-2, not the reflector');
    assert.equal(r[0]?.protocol, 'bird');
  });
});
