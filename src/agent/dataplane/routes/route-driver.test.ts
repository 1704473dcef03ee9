import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realExec, type Exec } from '../../../lib/index.js';
import { makeTestNetns, type TestNetns } from '../../../lib/testing.js';
import { netnsExec } from '../../../lib/index.js';
import { RouteSpecError } from './errors.js';
import { RouteDriver } from './route-driver.js';

const namespaces: TestNetns[] = [];
after(async () => {
  for (const ns of namespaces) await ns.remove();
});

interface Setup {
  ns: TestNetns;
  driver: RouteDriver;
  /** Commands the driver ran (the real exec, counted). */
  calls: string[];
}

async function setup(): Promise<Setup> {
  const ns = await makeTestNetns('brk');
  namespaces.push(ns);
  const inner = netnsExec(realExec(), ns.name);
  const calls: string[] = [];
  const exec: Exec = {
    spawn: (c, a, o) => inner.spawn(c, a, o),
    run: (c, a, o) => {
      calls.push([c, ...a].join(' '));
      return inner.run(c, a, o);
    },
  };
  return { ns, driver: new RouteDriver({ exec, interfacePrefixes: ['tap'] }), calls };
}

/** A veth pair inside the namespace, both ends up, so `tap` is oper-up. */
async function veth(ns: TestNetns, tap: string, peer: string): Promise<void> {
  await ns.must('ip', ['link', 'add', tap, 'type', 'veth', 'peer', 'name', peer]);
  await ns.must('ip', ['link', 'set', peer, 'up']);
  await ns.must('ip', ['link', 'set', tap, 'up']);
}

interface JsonRoute {
  dst: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
}

async function routes(ns: TestNetns, family: 4 | 6): Promise<JsonRoute[]> {
  return JSON.parse(await ns.must('ip', [`-${family}`, '-d', '-j', 'route', 'show', 'table', 'main'])) as JsonRoute[];
}

async function route(ns: TestNetns, family: 4 | 6, dst: string): Promise<JsonRoute | undefined> {
  return (await routes(ns, family)).find((r) => r.dst === dst);
}

async function neigh(ns: TestNetns, ip: string): Promise<{ lladdr?: string; state?: string[]; dev?: string } | undefined> {
  const all = JSON.parse(await ns.must('ip', ['-4', '-j', 'neigh', 'show'])) as { dst: string; lladdr?: string; state?: string[]; dev?: string }[];
  return all.find((n) => n.dst === ip);
}

describe('RouteDriver (real ip in a netns)', () => {
  it('programs routes with proto boot, scope link, metric 1024, plus static ARP', async () => {
    const { ns, driver } = await setup();
    await veth(ns, 'tapt1', 'v1');
    driver.setIfaceUp('tapt1', true);
    driver.setRoutes('tapt1', [{ cidr: '198.18.0.5/32', mac: '02:00:00:00:00:05' }, { cidr: '2001:db8::5/128' }]);
    const result = await driver.apply();
    assert.deepEqual(result.failures, []);
    assert.deepEqual(await route(ns, 4, '198.18.0.5'), {
      type: 'unicast',
      dst: '198.18.0.5',
      dev: 'tapt1',
      protocol: 'boot',
      scope: 'link',
      metric: 1024,
      flags: [],
    });
    const v6 = await route(ns, 6, '2001:db8::5');
    assert.deepEqual({ dev: v6?.dev, protocol: v6?.protocol, metric: v6?.metric }, { dev: 'tapt1', protocol: 'boot', metric: 1024 });
    const n = await neigh(ns, '198.18.0.5');
    assert.deepEqual({ dev: n?.dev, lladdr: n?.lladdr, state: n?.state }, { dev: 'tapt1', lladdr: '02:00:00:00:00:05', state: ['PERMANENT'] });
  });

  it('does nothing at all when nothing changed, and removes routes no longer wanted', async () => {
    const { ns, driver, calls } = await setup();
    await veth(ns, 'tapt1', 'v1');
    driver.setIfaceUp('tapt1', true);
    driver.setRoutes('tapt1', [{ cidr: '198.18.0.5/32', mac: '02:00:00:00:00:05' }, { cidr: '198.18.0.6/32' }]);
    await driver.apply();
    const n = calls.length;
    assert.deepEqual(await driver.apply(), { executed: false, lines: 0, failures: [] });
    driver.setRoutes('tapt1', [{ cidr: '198.18.0.6' }]);
    assert.equal(calls.length, n);
    const result = await driver.apply();
    assert.equal(result.lines, 2); // route del + neigh del
    assert.equal(await route(ns, 4, '198.18.0.5'), undefined);
    assert.equal(await neigh(ns, '198.18.0.5'), undefined);
    assert.ok(await route(ns, 4, '198.18.0.6'));
    driver.removeIface('tapt1');
    await driver.apply();
    assert.equal(await route(ns, 4, '198.18.0.6'), undefined);
    // Kernel-protocol routes on the tap (fe80::/64) are never ours.
    assert.ok((await routes(ns, 6)).some((r) => r.dst === 'fe80::/64' && r.dev === 'tapt1'));
  });

  it('restores a route deleted behind its back after markForResync, keeps foreign routes', async () => {
    const { ns, driver, calls } = await setup();
    await veth(ns, 'tapt1', 'v1');
    await ns.must('ip', ['route', 'add', '198.18.0.9/32', 'dev', 'tapt1', 'proto', 'static']);
    await ns.must('ip', ['route', 'add', '198.18.0.10/32', 'dev', 'tapt1', 'proto', 'boot', 'scope', 'link', 'metric', '1024']);
    await ns.must('ip', ['route', 'add', '198.18.0.11/32', 'dev', 'v1', 'proto', 'boot']);
    driver.setIfaceUp('tapt1', true);
    driver.setRoutes('tapt1', [{ cidr: '198.18.0.5/32' }]);
    await driver.apply();
    await ns.must('ip', ['route', 'del', '198.18.0.5/32', 'dev', 'tapt1']);
    const n = calls.length;
    await driver.apply();
    assert.equal(calls.length, n, 'not dirty: no exec');
    driver.markForResync();
    await driver.apply();
    assert.equal((await route(ns, 4, '198.18.0.5'))?.protocol, 'boot');
    assert.equal((await route(ns, 4, '198.18.0.9'))?.protocol, 'static', 'foreign protocol kept');
    assert.equal(await route(ns, 4, '198.18.0.10'), undefined, 'stale proto boot route on a tap removed');
    assert.equal((await route(ns, 4, '198.18.0.11'))?.dev, 'v1', 'route on a non-workload device kept');
  });

  it('programs an interface once it exists and is up, without throwing before', async () => {
    const { ns, driver } = await setup();
    driver.setRoutes('tapt2', [{ cidr: '198.18.0.7/32', mac: '02:00:00:00:00:07' }, { cidr: '2001:db8::7/128' }]);
    // Not reported up: nothing is attempted.
    assert.equal((await driver.apply()).lines, 0);
    // Reported up but absent (a race): lines fail as "missing", no throw, stays dirty.
    driver.setIfaceUp('tapt2', true);
    const result = await driver.apply();
    assert.ok(result.failures.length > 0);
    assert.ok(
      result.failures.every((f) => f.ifaceMissing),
      JSON.stringify(result.failures),
    );
    assert.equal(driver.dirty, true);
    // Present but admin-down.
    await ns.must('ip', ['link', 'add', 'tapt2', 'type', 'veth', 'peer', 'name', 'v2']);
    driver.setIfaceUp('tapt2', false);
    await driver.apply();
    assert.equal(await route(ns, 4, '198.18.0.7'), undefined);
    await ns.must('ip', ['link', 'set', 'v2', 'up']);
    await ns.must('ip', ['link', 'set', 'tapt2', 'up']);
    driver.setIfaceUp('tapt2', true);
    assert.deepEqual((await driver.apply()).failures, []);
    assert.equal((await route(ns, 4, '198.18.0.7'))?.dev, 'tapt2');
    assert.equal((await route(ns, 6, '2001:db8::7'))?.dev, 'tapt2');
    assert.equal((await neigh(ns, '198.18.0.7'))?.lladdr, '02:00:00:00:00:07');
    assert.equal(driver.dirty, false);
  });

  it('handles IPv6 /128 routes, and moves a route between interfaces', async () => {
    const { ns, driver } = await setup();
    await veth(ns, 'tapa', 'va');
    await veth(ns, 'tapb', 'vb');
    driver.setIfaceStates(
      new Map([
        ['tapa', { up: true }],
        ['tapb', { up: true }],
      ]),
    );
    driver.setRoutes('tapa', [{ cidr: '2001:db8::a/128' }, { cidr: '198.18.1.1/32', mac: '02:00:00:00:01:01' }]);
    await driver.apply();
    assert.equal((await route(ns, 6, '2001:db8::a'))?.dev, 'tapa');
    driver.setRoutes('tapa', []);
    driver.setRoutes('tapb', [{ cidr: '2001:DB8:0::a/128' }, { cidr: '198.18.1.1/32', mac: '02:00:00:00:01:01' }]);
    assert.deepEqual((await driver.apply()).failures, []);
    const v6 = (await routes(ns, 6)).filter((r) => r.dst === '2001:db8::a');
    assert.deepEqual(
      v6.map((r) => r.dev),
      ['tapb'],
    );
    assert.deepEqual(
      (await routes(ns, 4)).filter((r) => r.dst === '198.18.1.1').map((r) => r.dev),
      ['tapb'],
    );
    assert.equal((await neigh(ns, '198.18.1.1'))?.dev, 'tapb');
  });

  it('between read-backs plans only the interfaces that changed, and its view stays true', async () => {
    const { ns, driver, calls } = await setup();
    const taps = ['tapc1', 'tapc2', 'tapc3'];
    for (const [i, t] of taps.entries()) await veth(ns, t, `vc${i}`);
    driver.setIfaceStates(new Map(taps.map((t) => [t, { up: true }])));
    for (const [i, t] of taps.entries()) driver.setRoutes(t, [{ cidr: `198.18.3.${i + 1}/32`, mac: `02:00:00:00:03:0${i + 1}` }]);
    await driver.apply();
    // One tap's address changes; another tap wants the first one's old address (a clash the
    // first by name wins): only those lines, no read-back.
    calls.length = 0;
    driver.setRoutes('tapc2', [{ cidr: '198.18.3.22/32', mac: '02:00:00:00:03:02' }]);
    driver.setRoutes('tapc3', [{ cidr: '198.18.3.3/32', mac: '02:00:00:00:03:03' }, { cidr: '198.18.3.1/32' }]);
    const r = await driver.apply();
    assert.deepEqual(r.failures, []);
    assert.equal(calls.length, 1, `one batch, no read-back: ${calls.join('; ')}`);
    assert.equal((await route(ns, 4, '198.18.3.1'))?.dev, 'tapc1', 'the clash: the first interface by name keeps it');
    assert.equal((await route(ns, 4, '198.18.3.22'))?.dev, 'tapc2');
    assert.equal(await route(ns, 4, '198.18.3.2'), undefined);
    // tapc1 lets the address go: tapc3 gets it.
    driver.setRoutes('tapc1', []);
    await driver.apply();
    assert.equal((await route(ns, 4, '198.18.3.1'))?.dev, 'tapc3');
    driver.markForResync();
    assert.equal((await driver.apply()).lines, 0, 'the kernel is what the view said');
  });

  it('rejects interfaces it could never recognise as its own', async () => {
    const { driver } = await setup();
    assert.throws(() => driver.setRoutes('eth0', [{ cidr: '198.18.0.1/32' }]), RouteSpecError);
    assert.throws(() => driver.setRoutes('tap1', [{ cidr: 'nope' }]), RouteSpecError);
    assert.throws(() => driver.setRoutes('tap1', [{ cidr: '198.18.0.1/32', mac: 'zz' }]), RouteSpecError);
  });
});
