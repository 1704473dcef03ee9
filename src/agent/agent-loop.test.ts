import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../lib/testing.js';
import { AgentLoop, type LoopDataplane } from './agent-loop.js';
import type { CalcUpdate } from './calc/model.js';
import type { ApplyTimings, IfaceState } from './dataplane/dataplane.js';

const TIMINGS: ApplyTimings = { ipsetsMs: 0, iptablesMs: 0, routesMs: 0, totalMs: 1, iptablesLines: 0 };
const EMPTY: CalcUpdate = { ipSets: new Map(), ipSetDeltas: new Map(), rules: new Map(), endpoints: new Map() };

/** A dataplane that records what the loop asks of it; `failNext` makes applies throw. */
class RecordingDataplane implements LoopDataplane {
  readonly calls: string[] = [];
  failNext = 0;
  ingest(): void {
    this.calls.push('ingest');
  }
  setIfaces(ifaces: ReadonlyMap<string, IfaceState>, changed?: Iterable<string>): void {
    this.calls.push(`ifaces ${[...ifaces.keys()].join(',')} changed=${changed === undefined ? 'all' : [...changed].join(',')}`);
  }
  apply(): Promise<ApplyTimings> {
    this.calls.push('apply');
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('kernel said no'));
    }
    return Promise.resolve(TIMINGS);
  }
  markForResync(): void {
    this.calls.push('resync');
  }
}

function setup(onApplied?: () => void): {
  clock: FakeClock;
  dp: RecordingDataplane;
  loop: AgentLoop<RecordingDataplane>;
  started: () => number;
  flushes: () => number;
} {
  const clock = new FakeClock();
  const dp = new RecordingDataplane();
  let started = 0;
  let flushes = 0;
  const loop = new AgentLoop({
    clock,
    calc: { flush: () => (flushes++, EMPTY), takeConfigChanged: () => false },
    startDataplane: () => (started++, dp),
    ...(onApplied === undefined ? {} : { onApplied }),
  });
  return { clock, dp, loop, started: () => started, flushes: () => flushes };
}

/** Lets the loop run: its continuations first, then time in small steps (timers it sets meanwhile fire too). */
async function run(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 5) {
    await new Promise<void>((r) => setImmediate(r));
    await clock.advance(Math.min(5, ms - t));
  }
}

/** Starts the loop, in sync, with one tap listed. */
function startInSync(loop: AgentLoop<RecordingDataplane>): void {
  loop.start();
  loop.setSyncStatus('in-sync');
  loop.setIfaces(tap(true), undefined);
}

const tap = (up: boolean): ReadonlyMap<string, IfaceState> => new Map([['tap1', { up, index: 7 }]]);

describe('AgentLoop', () => {
  it('touches nothing before the first in-sync, and applies only once the interfaces are listed', async () => {
    const { clock, dp, loop, started } = setup();
    loop.start();
    loop.schedule();
    await run(clock, 100);
    assert.equal(loop.state, 'waiting-for-sync');
    assert.equal(started(), 0);
    loop.setSyncStatus('in-sync');
    await run(clock, 10);
    assert.equal(loop.state, 'waiting-for-interfaces');
    assert.equal(started(), 1, 'the dataplane is made at the first in-sync');
    assert.deepEqual(dp.calls, []);
    loop.setIfaces(tap(true), undefined);
    await run(clock, 10);
    assert.deepEqual(dp.calls, ['ingest', 'ifaces tap1 changed=all', 'apply']);
    assert.equal(loop.state, 'idle');
    assert.equal(loop.ready, true);
    await loop.stop();
    assert.equal(loop.state, 'stopped');
  });

  it('coalesces a burst into one apply, and passes on only the interfaces that changed', async () => {
    const { clock, dp, loop, flushes } = setup();
    loop.start();
    loop.setSyncStatus('in-sync');
    loop.setIfaces(tap(false), undefined);
    await run(clock, 10);
    dp.calls.length = 0;
    const before = flushes();
    loop.schedule();
    loop.setIfaces(tap(true), ['tap1']);
    loop.schedule();
    await run(clock, 50);
    assert.deepEqual(dp.calls, ['ingest', 'ifaces tap1 changed=tap1', 'apply']);
    assert.equal(flushes() - before, 1);
    await loop.stop();
  });

  it('after a failed apply, marks everything for read-back and retries with backoff; not ready meanwhile', async () => {
    const { clock, dp, loop } = setup();
    dp.failNext = 2;
    loop.start();
    loop.setSyncStatus('in-sync');
    loop.setIfaces(tap(true), undefined);
    await run(clock, 1);
    assert.equal(loop.state, 'backing-off');
    assert.equal(loop.ready, false);
    assert.deepEqual(loop.counts, { applies: 0, failures: 1, lastApplyOk: false });
    await run(clock, 10_000);
    assert.deepEqual(
      dp.calls.filter((c) => c === 'apply' || c === 'resync'),
      ['apply', 'resync', 'apply', 'resync', 'apply'],
    );
    assert.deepEqual(loop.counts, { applies: 1, failures: 2, lastApplyOk: true });
    assert.equal(loop.ready, true);
    await loop.stop();
  });

  it('stops at once while backing off, and a failing listener does not count as a failed apply', async () => {
    const { clock, dp, loop } = setup();
    dp.failNext = 100;
    startInSync(loop);
    await run(clock, 1);
    assert.equal(loop.state, 'backing-off');
    await loop.stop();
    assert.equal(loop.state, 'stopped', 'no clock advance needed to stop');

    const second = setup(() => {
      throw new Error('listener broke');
    });
    startInSync(second.loop);
    await run(second.clock, 20);
    assert.deepEqual(second.loop.counts, { applies: 1, failures: 0, lastApplyOk: true });
    assert.equal(second.loop.state, 'idle');
    await second.loop.stop();
  });

  it('wakes when idle so liveness sees progress, and stops from any state', async () => {
    const { clock, loop } = setup();
    loop.start();
    loop.setSyncStatus('in-sync');
    loop.setIfaces(tap(true), undefined);
    await run(clock, 1);
    const t = loop.lastProgress;
    await run(clock, 25_000);
    assert.ok(loop.lastProgress > t);
    await loop.stop();
    assert.equal(clock.pendingTimers(), 0, 'no timer left behind');
  });
});
