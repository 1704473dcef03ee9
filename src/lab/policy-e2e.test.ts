import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatMatrix, runMatrix, type MatrixCheck } from './connectivity-matrix.js';
import { bootVm } from './lab-api.js';
import { probe, type ProbeKind } from './probe.js';
import { reversePathRule, startLabCloud, type LabCloud } from './testing/index.js';

const HOST = 'compute-1';

/**
 * End to end, with real packets: security groups made through the Neutron API (`brindle api`),
 * enforced by `brindle node` on a lab host, checked between VMs plugged the way Nova plugs them.
 */
describe('security groups end to end (brindle api + brindle node + real packets)', { timeout: 120_000 }, () => {
  let cloud: LabCloud;
  const sg: Record<string, string> = {};
  const ip4: Record<string, string> = {};
  const ip6: Record<string, string> = {};
  let hostIp = '';

  const reach = async (from: string, to: string, kind: ProbeKind, opts: { port?: number; source?: string; timeoutMs?: number } = {}): Promise<boolean> =>
    (
      await probe(
        cloud.lab,
        from,
        { ip: to, ...(opts.port === undefined ? {} : { port: opts.port }) },
        { kind, timeoutMs: opts.timeoutMs ?? 700, ...(opts.source === undefined ? {} : { source: opts.source }) },
      )
    ).answered;

  const expectMatrix = async (checks: MatrixCheck[], ipOf: (name: string) => string): Promise<void> => {
    const results = await runMatrix(checks, (c) => reach(c.from, ipOf(c.to), c.kind, c.port === undefined ? {} : { port: c.port }), { concurrency: 6 });
    const bad = results.filter((r) => !r.ok);
    assert.equal(bad.length, 0, `not as the security groups say:\n${formatMatrix(results)}\n${cloud.cluster.output(`node/${HOST}`)}`);
  };

  before(async () => {
    cloud = await startLabCloud({ hosts: 2, agents: [HOST] });
    const { api, lab } = cloud;
    hostIp = lab.hostInfo(HOST).ip4;
    const net = await api.createNetwork({ name: 'e2e' });
    const v4 = await api.createSubnet({ network_id: net.id, ip_version: 4, cidr: '198.18.20.0/24', gateway_ip: '198.18.20.1' });
    const v6 = await api.createSubnet({ network_id: net.id, ip_version: 6, cidr: '2001:db8:20::/64', ipv6_address_mode: 'slaac', ipv6_ra_mode: 'slaac' });
    for (const name of ['front', 'back']) sg[name] = (await api.createSecurityGroup({ name })).id;
    const rule = (group: string, body: Record<string, unknown>): Promise<unknown> =>
      api.createSecurityGroupRule({ security_group_id: sg[group] ?? '', direction: 'ingress', ethertype: 'IPv4', ...body });
    await rule('front', { protocol: 'tcp', port_range_min: 8000, port_range_max: 8010, remote_ip_prefix: '0.0.0.0/0' });
    await rule('front', { protocol: 'icmp', port_range_min: 8, port_range_max: 0 });
    await rule('front', { protocol: 'ipv6-icmp', ethertype: 'IPv6' });
    await rule('back', { protocol: 'udp', port_range_min: 9000, port_range_max: 9000, remote_group_id: sg['front'] });
    await rule('back', { protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '198.18.20.12/32' });
    // back may only send TCP 8000-8010: drop Neutron's default egress rules.
    for (const r of (await api.showSecurityGroup(sg['back'] ?? '')).security_group_rules) {
      if (r.direction === 'egress') await api.deleteSecurityGroupRule(r.id);
    }
    await api.createSecurityGroupRule({
      security_group_id: sg['back'] ?? '',
      direction: 'egress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 8000,
      port_range_max: 8010,
    });
    const vms: [string, string, string[]][] = [
      ['a', '198.18.20.10', ['front']],
      ['b', '198.18.20.11', ['back']],
      ['c', '198.18.20.12', ['front', 'back']],
      ['n', '198.18.20.13', []],
    ];
    for (const [name, ip, groups] of vms) {
      const booted = await bootVm(lab, api, {
        host: HOST,
        name,
        networkId: net.id,
        fixedIps: [{ subnet_id: v4.id, ip_address: ip }, { subnet_id: v6.id }],
        securityGroups: groups.map((g) => sg[g] ?? ''),
      });
      ip4[name] = ip;
      ip6[name] = booted.info.ips.find((i) => i.ip.includes(':'))?.ip ?? '';
      await cloud.respond(name, { tcp: [22, 8005, 8010, 8011], udp: [9000, 9001] });
    }
    await cloud.respond(HOST, { tcp: [22, 8080], udp: [53] });
  });

  after(async () => {
    await cloud?.destroy();
  });

  it('allows exactly what the groups say: ingress and egress, remote group and prefix, port ranges, ICMP', async () => {
    const c = (from: string, to: string, what: `${ProbeKind}` | `${ProbeKind}:${number}`, expect: boolean): MatrixCheck => {
      const [kind, port] = what.split(':') as [ProbeKind, string | undefined];
      return { from, to, kind, expect, ...(port === undefined ? {} : { port: Number(port) }) };
    };
    await expectMatrix(
      [
        c('a', 'b', 'udp:9000', true), // back: UDP 9000 from members of front
        c('a', 'b', 'udp:9001', false),
        c('a', 'c', 'udp:9000', true), // c is in back too
        c('n', 'b', 'udp:9000', false), // n has no group, so no egress at all
        c('b', 'a', 'tcp:8005', true), // b's only egress rule, front's ingress range
        c('b', 'a', 'tcp:8011', false), // outside both ranges
        c('c', 'a', 'tcp:8010', true), // range ends are inclusive
        c('c', 'a', 'tcp:8011', false),
        c('b', 'a', 'ping', false), // b may not send ICMP
        c('c', 'a', 'ping', true), // front allows ICMP echo (type 8 code 0)
        c('a', 'b', 'ping', false), // back allows no ICMP
        c('c', 'b', 'tcp:22', true), // back: TCP 22 from 198.18.20.12/32 (c) only
        c('a', 'b', 'tcp:22', false),
        c('a', 'n', 'ping', false), // a VM with no group gets nothing
        c('a', 'n', 'tcp:8005', false),
        c('n', 'a', 'ping', false),
        c('n', 'a', 'tcp:8005', false),
      ],
      (name) => ip4[name] ?? '',
    );
  });

  it('applies IPv6 rules to IPv6 traffic', async () => {
    assert.match(ip6['a'] ?? '', /^2001:db8:20:/);
    await expectMatrix(
      [
        { from: 'c', to: 'a', kind: 'ping', expect: true }, // front: ICMPv6 from anywhere
        { from: 'b', to: 'a', kind: 'ping', expect: false }, // back has no IPv6 egress
        { from: 'a', to: 'b', kind: 'ping', expect: false }, // back: no IPv6 ingress
      ],
      (name) => ip6[name] ?? '',
    );
  });

  it('a rule added or removed through the API takes effect, and the delay is measured', async () => {
    const api = cloud.api;
    // TCP probes, because their timeout is exact (ping's is whole seconds).
    const probeB = (): Promise<boolean> => reach('a', ip4['b'] ?? '', 'tcp', { port: 8011, timeoutMs: 200 });
    assert.equal(await probeB(), false);
    const t0 = performance.now();
    const added = await api.createSecurityGroupRule({
      security_group_id: sg['back'] ?? '',
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 8011,
      port_range_max: 8011,
    });
    let addMs = -1;
    while (performance.now() - t0 < 10_000) {
      if (await probeB()) {
        addMs = performance.now() - t0;
        break;
      }
    }
    assert.ok(addMs >= 0, 'the new rule took effect within 10 s');
    const t1 = performance.now();
    await api.deleteSecurityGroupRule(added.id);
    let delMs = -1;
    while (performance.now() - t1 < 10_000) {
      if (!(await probeB())) {
        delMs = performance.now() - t1;
        break;
      }
    }
    assert.ok(delMs >= 0, 'the removal took effect within 10 s');
    // Measured: API call to the first probe that sees the change (a probe takes up to 200 ms, plus ~60 ms to start).
    process.stdout.write(`# rule added → effective in ${addMs.toFixed(0)} ms; removed → effective in ${delMs.toFixed(0)} ms\n`);
  });

  it('drops a VM packet with a spoofed source address', async () => {
    const vm = cloud.lab.vm('a');
    await vm.ip('addr', 'add', '198.18.20.250/32', 'dev', 'eth0');
    assert.ok(await reach('a', ip4['c'] ?? '', 'tcp', { port: 8005 }), 'its own address works');
    assert.equal(await reach('a', ip4['c'] ?? '', 'tcp', { port: 8005, source: '198.18.20.250' }), false, 'a spoofed source is dropped');
    const rpf = await reversePathRule(cloud.lab.host(HOST));
    assert.ok(rpf !== undefined && rpf.packets > 0, `the raw-table reverse-path rule counted the drop: ${rpf?.text ?? 'missing'}`);
  });

  it('a VM reaches its host only for DHCP, DNS and metadata; failsafe ports still reach the host', async () => {
    assert.ok(await reach('a', hostIp, 'udp', { port: 53 }), 'DNS to the host');
    assert.ok(await reach('n', hostIp, 'udp', { port: 53 }), 'even a VM with no group (as in Felix)');
    // Metadata: DNATed to 127.0.0.1:8775, where the lab runs brindle metadata on every host.
    const meta = await cloud.lab
      .vm('a')
      .run(process.execPath, [
        '-e',
        "require('http').get({ host: '169.254.169.254', path: '/openstack/latest/meta_data.json', timeout: 2000 }, (r) => console.log('HTTP ' + r.statusCode)).on('error', () => console.log('NOTHING'))",
      ]);
    assert.equal(meta.stdout.trim(), 'HTTP 200', "metadata, DNATed to the host's metadata service");
    assert.equal(await reach('a', hostIp, 'tcp', { port: 22 }), false, 'SSH to the host from a VM');
    assert.equal(await reach('a', hostIp, 'tcp', { port: 8080 }), false, 'other host services');
    assert.ok(await reach('compute-2', hostIp, 'tcp', { port: 8080 }), 'which do listen (another host reaches them)');
    assert.ok(await reach('compute-2', hostIp, 'tcp', { port: 22 }), 'SSH from another host (a failsafe port)');
  });
});
