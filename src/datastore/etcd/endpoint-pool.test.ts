import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointPool } from './endpoint-pool.js';

function pool(random = 0): { pool: EndpointPool<{ id: number; endpoint: string }>; clock: { t: number }; closed: number[] } {
  const clock = { t: 1_000 };
  const closed: number[] = [];
  let made = 0;
  const p = new EndpointPool({
    endpoints: ['a', 'b', 'c'],
    makeClient: (endpoint) => ({ id: made++, endpoint }),
    closeClient: (c) => closed.push(c.id),
    now: () => clock.t,
    downMs: 100,
    maxDownMs: 400,
    random: () => random,
  });
  return { pool: p, clock, closed };
}

const names = (ms: readonly { endpoint: string }[]): string[] => ms.map((m) => m.endpoint);

describe('EndpointPool', () => {
  it('starts at the member the random pick names, then goes round', () => {
    assert.deepEqual(names(pool(0).pool.order()), ['a', 'b', 'c']);
    assert.deepEqual(names(pool(0.5).pool.order()), ['b', 'c', 'a']);
    assert.deepEqual(names(pool(0.99).pool.order()), ['c', 'a', 'b']);
  });

  it('passes over a failed member until its time is up, then offers it again', () => {
    const { pool: p, clock } = pool();
    const a = p.order()[0];
    assert.ok(a);
    p.failed(a);
    assert.deepEqual(names(p.order()), ['b', 'c', 'a']);
    clock.t += 99;
    assert.deepEqual(names(p.order()), ['b', 'c', 'a']);
    clock.t += 1;
    // a is up again but calls stick to b, where they went after a failed.
    assert.deepEqual(names(p.order()), ['b', 'c', 'a']);
  });

  it('sticks to the member that last answered', () => {
    const { pool: p } = pool();
    const c = p.members[2];
    assert.ok(c);
    p.succeeded(c);
    assert.deepEqual(names(p.order()), ['c', 'a', 'b']);
  });

  it('doubles the time out per failure in a row, capped, and forgets on success', () => {
    const { pool: p, clock } = pool();
    const a = p.members[0];
    assert.ok(a);
    const failAfterTimeOut = (): void => {
      clock.t = Math.max(clock.t, a.downUntil);
      p.failed(a);
    };
    failAfterTimeOut();
    assert.equal(a.downUntil - clock.t, 100);
    failAfterTimeOut();
    assert.equal(a.downUntil - clock.t, 200);
    failAfterTimeOut();
    failAfterTimeOut();
    failAfterTimeOut();
    assert.equal(a.downUntil - clock.t, 400);
    p.succeeded(a);
    assert.equal(a.failures, 0);
    assert.equal(a.downUntil, 0);
  });

  it('counts failures of calls in flight together as one', () => {
    const { pool: p } = pool();
    const a = p.members[0];
    assert.ok(a);
    p.failed(a, { reset: true });
    const until = a.downUntil;
    p.failed(a, { reset: true });
    p.failed(a);
    assert.equal(a.failures, 1);
    assert.equal(a.downUntil, until);
  });

  it('when every member is down, offers the one back soonest first', () => {
    const { pool: p, clock } = pool();
    const [a, b, c] = p.members;
    assert.ok(a && b && c);
    p.failed(c);
    clock.t += 150;
    p.failed(c);
    p.failed(b);
    clock.t += 10;
    p.failed(a);
    assert.deepEqual(names(p.order()), ['b', 'a', 'c']);
  });

  it('replaces the client of a member failed with reset, closing the old one', () => {
    const { pool: p, closed } = pool();
    const a = p.members[0];
    assert.ok(a);
    const before = a.client.id;
    p.failed(a, { reset: true });
    assert.deepEqual(closed, [before]);
    assert.notEqual(a.client.id, before);
    p.close();
    assert.equal(closed.length, 4);
  });
});
