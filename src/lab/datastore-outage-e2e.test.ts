import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestEtcd, type TestEtcd } from '../datastore/testing/index.js';
import { bootVm } from './lab-api.js';
import { checkConnectivity } from './probe.js';
import { rulesetText, setMembers, startLabCloud, type LabCloud } from './testing/index.js';

const HOST = 'compute-1';
const OUTAGE_MS = 30_000;

/** What the agent programmed, comparable over time: rules without counters, sets, routes. */
async function dataplane(cloud: LabCloud): Promise<{ rules: string[]; sets: string; routes: string }> {
  const host = cloud.lab.host(HOST);
  const sets = [...(await setMembers(host))].map(([name, members]) => `${name}: ${[...members].sort().join(' ')}`).sort();
  return { rules: await rulesetText(host), sets: sets.join('\n'), routes: await host.must('ip', ['route', 'show', 'proto', 'boot']) };
}

type Snapshot = Awaited<ReturnType<typeof dataplane>>;

/** '' when equal, else the lines only in one of them (and whether the order changed). */
function difference(a: Snapshot, b: Snapshot): string {
  const lines = (x: Snapshot): string[] => [...x.rules, ...x.sets.split('\n'), ...x.routes.split('\n')];
  const la = lines(a);
  const lb = lines(b);
  if (la.join('\n') === lb.join('\n')) return '';
  const only = (x: string[], y: string[]): string[] => x.filter((l) => !y.includes(l));
  return `gone: ${JSON.stringify(only(la, lb))}\nnew: ${JSON.stringify(only(lb, la))}\n${only(la, lb).length + only(lb, la).length === 0 ? 'same lines, different order' : ''}`;
}

describe('the datastore goes away for 30 s (real etcd, real agent)', { timeout: 150_000 }, () => {
  let etcd: TestEtcd;
  let cloud: LabCloud;
  let sgId = '';
  const ip = { p: '198.18.40.10', q: '198.18.40.11' };

  before(async () => {
    etcd = await startTestEtcd();
    cloud = await startLabCloud({ hosts: 1, datastore: `etcd:${etcd.endpoint}` });
    const { api, lab } = cloud;
    const net = await api.createNetwork({ name: 'outage' });
    const subnet = await api.createSubnet({ network_id: net.id, ip_version: 4, cidr: '198.18.40.0/24', gateway_ip: '198.18.40.1' });
    sgId = (await api.createSecurityGroup({ name: 'outage' })).id;
    await api.createSecurityGroupRule({
      security_group_id: sgId,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 7000,
      port_range_max: 7000,
    });
    // p's group lets members of the group in: the rule is an IP set that must survive the outage.
    await api.createSecurityGroupRule({
      security_group_id: sgId,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'udp',
      port_range_min: 7100,
      port_range_max: 7100,
      remote_group_id: sgId,
    });
    for (const [name, addr] of Object.entries(ip)) {
      await bootVm(lab, api, { host: HOST, name, networkId: net.id, subnetId: subnet.id, fixedIp: addr, securityGroups: [sgId] });
      await cloud.respond(name, { tcp: [7000, 7001], udp: [7100] });
    }
  });

  after(async () => {
    await cloud?.destroy();
    await etcd?.stop();
  });

  it('keeps the dataplane as it was while etcd is down, and resyncs without removing anything when it returns', async () => {
    const { lab, cluster, api } = cloud;
    assert.ok(await checkConnectivity(lab, 'p', { ip: ip.q, port: 7000 }, 'tcp'));
    assert.ok(await checkConnectivity(lab, 'p', { ip: ip.q, port: 7100 }, 'udp'));
    const before = await dataplane(cloud);
    assert.match(before.sets, /^cali40s:\S+: .*\b198\.18\.40\.10\b/m);

    await etcd.pause();
    const t0 = performance.now();
    let checks = 0;
    while (performance.now() - t0 < OUTAGE_MS) {
      assert.ok(
        await checkConnectivity(lab, 'p', { ip: ip.q, port: 7000 }, 'tcp'),
        `TCP still allowed ${Math.round((performance.now() - t0) / 1000)} s into the outage`,
      );
      assert.ok(await checkConnectivity(lab, 'q', { ip: ip.p, port: 7100 }, 'udp'), 'the remote-group rule still works');
      assert.equal(difference(before, await dataplane(cloud)), '', 'nothing was removed or changed');
      checks++;
      await new Promise((r) => setTimeout(r, 4_000));
    }
    assert.ok(checks >= 5);
    const during = (await fetch(`${cluster.nodeHealthUrl(HOST) ?? ''}/liveness`)).status;
    assert.equal(during, 200, 'the agent stays alive without its datastore');

    await etcd.restart();
    // Back in sync: readiness again, and the same dataplane.
    const deadline = performance.now() + 30_000;
    while (
      (await fetch(`${cluster.nodeHealthUrl(HOST) ?? ''}/readiness`)
        .then((r) => r.status)
        .catch(() => 0)) !== 200
    ) {
      assert.ok(performance.now() < deadline, 'the agent is ready again after etcd returns');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(difference(before, await dataplane(cloud)), '', 'the resync removed nothing that is still wanted');
    // And it follows the datastore again: a new rule through the API takes effect.
    await api.createSecurityGroupRule({
      security_group_id: sgId,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 7001,
      port_range_max: 7001,
    });
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) ok = await checkConnectivity(lab, 'p', { ip: ip.q, port: 7001 }, { kind: 'tcp', timeoutMs: 200 });
    assert.ok(ok, 'a rule added after the outage takes effect');
  });
});
