import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../lib/index.js';
import { AGAIN, CAS_ATTEMPTS, CAS_BACKOFF, casRetry } from './cas-retry.js';

/** A clock that records the waits asked of it and returns at once. */
function recordingClock(): Clock & { waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    now: () => 0,
    monotonic: () => 0,
    sleep: (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    },
    setTimer: () => ({ cancel: () => {} }),
  };
}

describe('casRetry', () => {
  it('tries again until an attempt is done, waiting a jittered, growing time between attempts', async () => {
    const clock = recordingClock();
    const seen: number[] = [];
    const v = await casRetry(
      { clock, random: () => 1 },
      () => assert.fail('exhausted'),
      (n) => {
        seen.push(n);
        return Promise.resolve(n < 3 ? AGAIN : 'done');
      },
    );
    assert.equal(v, 'done');
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.deepEqual(clock.waits, [2, 4, 8], 'no wait before the first attempt; random 1 is the ceiling');
    const low = recordingClock();
    await casRetry(
      { clock: low, random: () => 0 },
      () => assert.fail('x'),
      (n) => Promise.resolve(n < 2 ? AGAIN : undefined),
    );
    assert.deepEqual(low.waits, [1, 2], 'never below half the ceiling');
  });

  it("gives up after CAS_ATTEMPTS with the caller's error, waiting at most CAS_BACKOFF.maxMs at a time", async () => {
    const clock = recordingClock();
    let calls = 0;
    await assert.rejects(
      casRetry(
        { clock, random: () => 1 },
        () => {
          throw new Error('conflict, retry');
        },
        () => {
          calls++;
          return Promise.resolve(AGAIN);
        },
      ),
      /conflict, retry/,
    );
    assert.equal(calls, CAS_ATTEMPTS);
    assert.equal(clock.waits.length, CAS_ATTEMPTS - 1);
    assert.ok(clock.waits.every((w) => w <= CAS_BACKOFF.maxMs));
  });

  it('lets the caller give up quietly instead', async () => {
    const v = await casRetry(
      { clock: recordingClock(), random: () => 0 },
      () => 'gave up',
      () => Promise.resolve(AGAIN),
    );
    assert.equal(v, 'gave up');
  });

  it('ends at once when an attempt throws', async () => {
    const clock = recordingClock();
    let calls = 0;
    await assert.rejects(
      casRetry(
        { clock, random: () => 0.5 },
        () => assert.fail('x'),
        () => {
          calls++;
          return Promise.reject(new Error('not found'));
        },
      ),
      /not found/,
    );
    assert.equal(calls, 1);
    assert.deepEqual(clock.waits, []);
  });
});
