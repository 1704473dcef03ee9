import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from './logger.js';
import { ReconcileLoop } from './reconcile-loop.js';
import { FakeClock } from './testing.js';

describe('ReconcileLoop', () => {
  const make = (apply: () => Promise<void>, check: () => Promise<void> = () => Promise.resolve()) => {
    const clock = new FakeClock();
    const loop = new ReconcileLoop({ clock, logger: silentLogger(), apply, check, checkIntervalMs: 1_000, coalesceMs: 50, what: 'test' });
    return { clock, loop };
  };

  it('applies nothing before start, then once at start, and coalesces a burst into one apply', async () => {
    let applies = 0;
    const { clock, loop } = make(() => Promise.resolve(void applies++));
    loop.schedule();
    await clock.advance(100);
    assert.equal(applies, 0, 'not before start (the first in-sync)');
    loop.start();
    await clock.advance(1);
    assert.equal(applies, 1);
    for (let i = 0; i < 10; i++) loop.schedule();
    await clock.advance(60);
    assert.equal(applies, 2, 'ten changes, one apply');
    await loop.stop();
  });

  it('retries a failed apply with backoff, and checks periodically', async () => {
    let applies = 0;
    let checks = 0;
    const { clock, loop } = make(
      () => (++applies < 3 ? Promise.reject(new Error('not yet')) : Promise.resolve()),
      () => Promise.resolve(void checks++),
    );
    loop.start();
    await clock.advance(10_000);
    assert.equal(applies, 3, 'retried until it worked, then no more');
    assert.ok(checks >= 5, `checked every second (${checks})`);
    await loop.stop();
    const before = checks;
    await clock.advance(5_000);
    assert.equal(checks, before, 'nothing after stop');
  });
});
