import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { realExec, realFs } from '../lib/index.js';
import { trackChild, trackNetns, trackTempDir, untrackTempDir } from '../lib/testing.js';
import { formatMatrix, runMatrix, type MatrixCheck } from './connectivity-matrix.js';
import { LabProbeError } from './errors.js';
import { Lab } from './lab-topology.js';
import { programByHand } from './testing/index.js';
import { listNetns } from './netns.js';
import { checkConnectivity, probe, startResponder, type Responder } from './probe.js';

const exec = realExec();
const fs = realFs();

describe('probes: real ping, TCP and UDP between lab VMs (routes programmed by hand)', () => {
  const prefix = Lab.randomPrefix();
  let stateDir: string;
  let lab: Lab;
  const responders: Responder[] = [];

  before(async () => {
    stateDir = await fs.makeTempDir('brindle-lab-probe-');
    trackTempDir(stateDir);
    lab = await Lab.create({ exec, fs, stateDir, prefix });
    await lab.addHost('compute1');
    const vms = [
      ['web', '198.18.2.10', '2001:db8:2::10'],
      ['db', '198.18.2.11', '2001:db8:2::11'],
      ['idle', '198.18.2.12', '2001:db8:2::12'],
    ] as const;
    for (const [name, ip4, ip6] of vms) {
      await lab.addVm({
        host: 'compute1',
        name,
        portId: randomUUID(),
        mac: `fa:16:3e:00:02:${ip4.slice(-2)}`,
        ips: [
          { ip: ip4, prefixLen: 24, gateway: '198.18.2.1' },
          { ip: ip6, prefixLen: 64, gateway: '2001:db8:2::1' },
        ],
      });
      await programByHand(lab, name);
    }
    for (const n of await listNetns(exec, prefix)) trackNetns(n);
    for (const vm of ['web', 'db']) {
      const r = await startResponder(lab, vm, { tcp: [8080, 9000], udp: [5353] });
      trackChild(r.child);
      responders.push(r);
    }
  });

  after(async () => {
    if (stateDir === undefined) return;
    for (const r of responders) await r.stop();
    for (const n of await listNetns(exec, prefix)) trackNetns(n);
    await Lab.destroyByPrefix({ exec, fs, stateDir }, prefix);
    await fs.remove(stateDir);
    untrackTempDir(stateDir);
  });

  it('ping, TCP and UDP answer over IPv4 and IPv6 between two VMs on one host', async () => {
    const results = await Promise.all([
      checkConnectivity(lab, 'web', { ip: '198.18.2.11' }, 'ping'),
      checkConnectivity(lab, 'web', { ip: '198.18.2.11', port: 8080 }, 'tcp'),
      checkConnectivity(lab, 'web', { ip: '198.18.2.11', port: 5353 }, 'udp'),
      checkConnectivity(lab, 'db', { ip: '2001:db8:2::10' }, 'ping'),
      checkConnectivity(lab, 'db', { ip: '2001:db8:2::10', port: 9000 }, 'tcp'),
      checkConnectivity(lab, 'db', { ip: '2001:db8:2::10', port: 5353 }, 'udp'),
    ]);
    assert.deepEqual(results, [true, true, true, true, true, true]);
  });

  it('a port without a listener, or a VM without a responder, does not answer', async () => {
    const refused = await probe(lab, 'web', { ip: '198.18.2.11', port: 8081 }, 'tcp');
    assert.deepEqual(refused, { answered: false, outcome: 'refused' });
    const silent = await probe(lab, 'web', { ip: '198.18.2.12', port: 5353 }, { kind: 'udp', timeoutMs: 300 });
    assert.deepEqual(silent, { answered: false, outcome: 'timeout' });
  });

  it('the host reaches a VM and a VM its host', async () => {
    assert.equal(await checkConnectivity(lab, 'compute1', { ip: '198.18.2.10', port: 8080 }, 'tcp'), true);
    assert.equal(await checkConnectivity(lab, 'web', { ip: lab.addressOf('compute1') }, 'ping'), true);
  });

  it('--source sends from another address of the VM; the reply comes back only if the host routes it', async () => {
    // The extra address must be on the VM's interface before it can be used as a source.
    await lab.vm('web').ip('addr', 'add', '198.18.2.99/32', 'dev', 'eth0');
    const via = { kind: 'udp', source: '198.18.2.99', timeoutMs: 500 } as const;
    assert.equal(await checkConnectivity(lab, 'web', { ip: '198.18.2.11', port: 5353 }, via), false);
    await lab.host('compute1').ip('route', 'add', '198.18.2.99/32', 'dev', lab.vmInfo('web').tap);
    assert.equal(await checkConnectivity(lab, 'web', { ip: '198.18.2.11', port: 5353 }, via), true);
    assert.equal(await checkConnectivity(lab, 'web', { ip: '198.18.2.11', port: 8080 }, { kind: 'tcp', source: '198.18.2.99' }), true);
  });

  it('refuses names instead of addresses and tcp/udp without a port', async () => {
    await assert.rejects(checkConnectivity(lab, 'web', { ip: 'localhost', port: 80 }, 'tcp'), LabProbeError);
    await assert.rejects(checkConnectivity(lab, 'web', { ip: '198.18.2.11' }, 'udp'), LabProbeError);
  });

  it('runs a connectivity matrix with real probes and prints it', async () => {
    const checks: MatrixCheck[] = [];
    for (const [from, to] of [
      ['web', 'db'],
      ['db', 'web'],
      ['web', 'idle'],
    ] as const) {
      const served = to !== 'idle';
      checks.push({ from, to, kind: 'ping', expect: true });
      checks.push({ from, to, kind: 'tcp', port: 8080, expect: served });
      checks.push({ from, to, kind: 'udp', port: 5353, expect: served });
    }
    const results = await runMatrix(
      checks,
      (c) => checkConnectivity(lab, c.from, { ip: lab.addressOf(c.to), ...(c.port === undefined ? {} : { port: c.port }) }, { kind: c.kind, timeoutMs: 500 }),
      { concurrency: 6 },
    );
    const table = formatMatrix(results);
    assert.ok(
      results.every((r) => r.ok),
      table,
    );
    assert.match(table, /9 of 9 as expected/);
    assert.match(table, /tcp:8080 ✗/);
  });
});
