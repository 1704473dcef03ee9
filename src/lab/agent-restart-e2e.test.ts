import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realExec } from '../lib/index.js';
import { trackChild } from '../lib/testing.js';
import { bootVm } from './lab-api.js';
import { checkConnectivity } from './probe.js';
import { ruleCounters, startLabCloud, unknownIfaceDrops, type LabCloud } from './testing/index.js';

const HOST = 'compute-1';

describe('agent restarts and crashes (real processes, real packets)', { timeout: 120_000 }, () => {
  let cloud: LabCloud;
  let sgId = '';
  let netId = '';
  let subnetId = '';
  const ip: Record<string, string> = {};

  before(async () => {
    // Debug logs name every chain each iptables-restore writes, should the no-rewrite check fail.
    cloud = await startLabCloud({ hosts: 1, logLevel: 'debug' });
    const { api, lab } = cloud;
    netId = (await api.createNetwork({ name: 'restart' })).id;
    subnetId = (await api.createSubnet({ network_id: netId, ip_version: 4, cidr: '198.18.30.0/24', gateway_ip: '198.18.30.1' })).id;
    sgId = (await api.createSecurityGroup({ name: 'iperf' })).id;
    await api.createSecurityGroupRule({
      security_group_id: sgId,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 5201,
      port_range_max: 5201,
    });
    await api.createSecurityGroupRule({ security_group_id: sgId, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' });
    for (const [name, addr] of [
      ['x', '198.18.30.10'],
      ['y', '198.18.30.11'],
    ] as const) {
      await bootVm(lab, api, { host: HOST, name, networkId: netId, subnetId, fixedIp: addr, securityGroups: [sgId] });
      ip[name] = addr;
    }
  });

  after(async () => {
    await cloud?.destroy();
  });

  it('a restart keeps an established TCP connection, rewrites nothing and keeps rule counters', async () => {
    const { lab, cluster } = cloud;
    const host = lab.host(HOST);
    // Established packets are accepted at the top of the sender's from-endpoint chain.
    const xTap = lab.vmInfo('x').tap;
    const server = realExec().spawn('ip', ['netns', 'exec', lab.vm('y').name, 'iperf3', '-s', '-1', '-B', ip['y'] ?? '']);
    trackChild(server);
    server.stdout.resume();
    server.stderr.resume();
    await new Promise((r) => setTimeout(r, 300));
    const client = lab.vm('x').run('iperf3', ['-c', ip['y'] ?? '', '-t', '6', '-i', '1', '-b', '20M', '-J'], { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const before = (await ruleCounters(host, `cali-fw-${xTap}`)).map((r) => r.packets);
    assert.ok((before[0] ?? 0) > 10, `the established-accept rule of x's from-endpoint chain counts the flow: ${before.join(',')}`);
    await cluster.stopNode(HOST);
    await cluster.startNode(HOST);
    const result = await client;
    server.kill();
    assert.equal(result.code, 0, `iperf3 ran through the restart: ${result.stderr}`);
    const report = JSON.parse(result.stdout) as { end: { sum_received: { bytes: number } }; intervals: { sum: { bytes: number } }[] };
    assert.ok(report.end.sum_received.bytes > 0);
    assert.ok(
      report.intervals.every((i) => i.sum.bytes > 0),
      `data flowed in every second: ${report.intervals.map((i) => i.sum.bytes).join(',')}`,
    );
    const afterRestart = (await ruleCounters(host, `cali-fw-${xTap}`)).map((r) => r.packets);
    assert.ok((afterRestart[0] ?? 0) >= (before[0] ?? 0), `counters kept (the chain was not rewritten): ${before[0] ?? 0} → ${afterRestart[0] ?? 0}`);
    const metrics = await (await fetch(`${cluster.nodeHealthUrl(HOST) ?? ''}/metrics`)).text();
    const lines = metrics
      .split('\n')
      .filter((l) => l.startsWith('felix_iptables_lines_executed{'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    assert.equal(
      lines,
      0,
      cluster
        .output('node/compute-1')
        .split('\n')
        .filter((l) => /iptables-restore applied|out of place|Chain differs|nft/.test(l))
        .join('\n') + '\nthe restarted agent found everything in place and wrote no iptables lines',
    );
  });

  it('killed, the agent leaves the dataplane as it was: known VMs talk, an unknown tap is dropped', async () => {
    const { lab, cluster, api } = cloud;
    const host = lab.host(HOST);
    await cluster.stopNode(HOST, 'SIGKILL');
    assert.ok(await checkConnectivity(lab, 'x', { ip: ip['y'] ?? '' }, 'ping'), 'x and y still talk');
    const z = await bootVm(lab, api, { host: HOST, name: 'z', networkId: netId, subnetId, fixedIp: '198.18.30.12', securityGroups: [sgId] });
    // Make z's packets reach the dispatch chains even without the agent: z knows the host's MAC,
    // and a (foreign) route to z passes the reverse-path check.
    await lab.vm('z').ip('neigh', 'replace', ip['x'] ?? '', 'lladdr', '00:61:fe:ed:ca:fe', 'dev', 'eth0', 'nud', 'permanent');
    await host.ip('route', 'add', '198.18.30.12/32', 'dev', z.info.tap, 'proto', 'static');
    const dropsBefore = await unknownIfaceDrops(host);
    assert.equal(await checkConnectivity(lab, 'z', { ip: ip['x'] ?? '' }, 'ping'), false, 'z is not known to the dead agent');
    const dropsAfter = await unknownIfaceDrops(host);
    assert.ok(dropsAfter > dropsBefore, `the dispatch chains dropped z's packets as an unknown interface (${dropsBefore} → ${dropsAfter})`);
    await cluster.startNode(HOST);
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) ok = await checkConnectivity(lab, 'z', { ip: ip['x'] ?? '' }, 'ping');
    assert.ok(ok, 'once the agent is back, z is programmed and talks');
  });
});
