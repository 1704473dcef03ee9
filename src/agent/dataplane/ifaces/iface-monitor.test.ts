import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realClock, realExec } from '../../../lib/index.js';
import { eventually, makeTestNetns, type TestNetns } from '../../../lib/testing.js';
import { netnsExec } from '../../../lib/index.js';
import { IfaceMonitor, type IfaceMap } from './iface-monitor.js';

describe('IfaceMonitor (real ip monitor in a netns)', () => {
  let ns: TestNetns;
  let monitor: IfaceMonitor;
  const seen: { at: number; map: IfaceMap }[] = [];
  let waiter: (() => void) | undefined;

  before(async () => {
    ns = await makeTestNetns('brk');
    monitor = new IfaceMonitor({
      exec: netnsExec(realExec(), ns.name),
      clock: realClock(),
      interfacePrefixes: ['tapm'],
      // Long enough that only monitor events can explain the timings below.
      refreshIntervalMs: 60_000,
      onChange: (map) => {
        seen.push({ at: performance.now(), map });
        waiter?.();
      },
    });
  });
  after(async () => {
    await monitor.stop();
    await ns.remove();
  });

  /** Runs `change` and waits for an onChange whose map satisfies `ok`; returns the delay in ms. */
  async function expectChange(change: () => Promise<unknown>, ok: (m: IfaceMap) => boolean): Promise<number> {
    const from = seen.length;
    await change();
    const t0 = performance.now();
    const found = (): { at: number } | undefined => seen.slice(from).find((s) => ok(s.map));
    while (found() === undefined) {
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 3_000).unref());
      await Promise.race([new Promise<void>((resolve) => (waiter = resolve)), timeout]);
      if (performance.now() - t0 > 3_000) break;
    }
    const hit = found();
    assert.ok(hit, `no matching onChange; saw ${JSON.stringify(seen.slice(from).map((s) => [...s.map]))}`);
    return Math.max(0, hit.at - t0);
  }

  it('reports the first list (empty) and is then in sync', async () => {
    await expectChange(
      () => Promise.resolve(monitor.start()),
      (m) => m.size === 0,
    );
    assert.equal(monitor.inSync, true);
    assert.ok(monitor.monitorPid !== undefined && monitor.monitorPid > 0);
  });

  it('sees a link appear, go up, go down and disappear within a second each', async () => {
    const add = await expectChange(
      () => ns.must('ip', ['link', 'add', 'tapm1', 'type', 'veth', 'peer', 'name', 'pm1']),
      (m) => m.get('tapm1')?.up === false,
    );
    const link = (JSON.parse(await ns.must('ip', ['-j', 'link', 'show', 'tapm1'])) as { ifindex: number; address: string }[])[0];
    assert.deepEqual(monitor.ifaces.get('tapm1'), { up: false, index: link?.ifindex, mac: link?.address });
    assert.equal(monitor.ifaces.has('pm1'), false, 'other prefixes are not reported');
    await ns.must('ip', ['link', 'set', 'pm1', 'up']);
    const up = await expectChange(
      () => ns.must('ip', ['link', 'set', 'tapm1', 'up']),
      (m) => m.get('tapm1')?.up === true,
    );
    const down = await expectChange(
      () => ns.must('ip', ['link', 'set', 'tapm1', 'down']),
      (m) => m.get('tapm1')?.up === false,
    );
    const gone = await expectChange(
      () => ns.must('ip', ['link', 'del', 'tapm1']),
      (m) => !m.has('tapm1'),
    );
    console.log(`iface monitor delays (ms): add ${add.toFixed(0)}, up ${up.toFixed(0)}, down ${down.toFixed(0)}, delete ${gone.toFixed(0)}`);
    for (const [what, ms] of [
      ['add', add],
      ['up', up],
      ['down', down],
      ['delete', gone],
    ] as const)
      assert.ok(ms < 1000, `${what} took ${ms} ms`);
  });

  it('applies events as they come, without listing every link; a rename away from the prefix removes it', async () => {
    const lists = monitor.stats.lists;
    await expectChange(
      () => ns.must('ip', ['link', 'add', 'tapm3', 'type', 'veth', 'peer', 'name', 'pm3']),
      (m) => m.has('tapm3'),
    );
    await expectChange(
      () => ns.must('ip', ['link', 'set', 'tapm3', 'name', 'tapm4']),
      (m) => m.has('tapm4') && !m.has('tapm3'),
    );
    await expectChange(
      () => ns.must('ip', ['link', 'set', 'tapm4', 'name', 'xm4']),
      (m) => !m.has('tapm4'),
    );
    assert.equal(monitor.stats.lists, lists, 'no listing of the links was needed');
    await ns.must('ip', ['link', 'del', 'xm4']);
    assert.deepEqual([...(await monitor.listNow()).keys()], [...monitor.ifaces.keys()], 'a listing agrees with what the events built');
  });

  it('only calls onChange when the map changed', async () => {
    const before = seen.length;
    await monitor.listNow();
    await monitor.listNow();
    assert.equal(seen.length, before);
  });

  it('restarts a dead monitor child and keeps reporting', async () => {
    const pid = monitor.monitorPid;
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL'); // the child this test's monitor started, by its PID
    await eventually(() => monitor.stats.restarts > 0, { timeoutMs: 3_000, what: 'the monitor restarted' });
    assert.equal(monitor.stats.restarts, 1);
    assert.notEqual(monitor.monitorPid, pid);
    await new Promise((r) => setTimeout(r, 300)); // let the new child subscribe
    const ms = await expectChange(
      () => ns.must('ip', ['link', 'add', 'tapm2', 'type', 'veth', 'peer', 'name', 'pm2']),
      (m) => m.has('tapm2'),
    );
    assert.ok(ms < 1000, `took ${ms} ms`);
  });

  it('kills its child on stop', async () => {
    const pid = monitor.monitorPid;
    assert.ok(pid !== undefined);
    await monitor.stop();
    assert.equal(monitor.monitorPid, undefined);
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });
});
