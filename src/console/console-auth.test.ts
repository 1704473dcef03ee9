import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../lib/testing.js';
import { ConsoleSessions, LOGIN_FAILURES, LOGIN_WINDOW_MS, SESSION_IDLE_MS, SESSION_MAX_MS } from './console-auth.js';
import { LoginFailedError, LoginRequiredError, LoginThrottledError } from './errors.js';

const PASSWORD = 'correct horse battery';

describe('console sessions', () => {
  it('end after the idle time, and after the longest lifetime even when used', async () => {
    const clock = new FakeClock();
    const s = new ConsoleSessions({ kind: 'password', password: PASSWORD }, clock);
    const idle = await s.login({ password: PASSWORD }, '127.0.0.1');
    await clock.advance(SESSION_IDLE_MS + 1);
    assert.throws(() => s.check(idle), LoginRequiredError);
    const busy = await s.login({ password: PASSWORD }, '127.0.0.1');
    for (let t = 0; t < SESSION_MAX_MS; t += SESSION_IDLE_MS / 2) {
      assert.equal(s.check(busy), 'admin');
      await clock.advance(SESSION_IDLE_MS / 2);
    }
    await clock.advance(1);
    assert.throws(() => s.check(busy), LoginRequiredError);
    s.logout(busy);
    assert.throws(() => s.check(undefined), LoginRequiredError);
  });

  it('makes an address that keeps failing wait, without locking out others', async () => {
    const clock = new FakeClock();
    const s = new ConsoleSessions({ kind: 'password', password: PASSWORD }, clock);
    for (let i = 0; i < LOGIN_FAILURES; i++) await assert.rejects(s.login({ password: 'guess' }, '198.18.0.9'), LoginFailedError);
    await assert.rejects(s.login({ password: PASSWORD }, '198.18.0.9'), LoginThrottledError);
    assert.equal(s.check(await s.login({ password: PASSWORD }, '198.18.0.10')), 'admin');
    await clock.advance(LOGIN_WINDOW_MS + 1);
    assert.equal(s.check(await s.login({ password: PASSWORD }, '198.18.0.9')), 'admin');
  });

  it('asks Keystone about tokens, and needs no login without one configured', async () => {
    const clock = new FakeClock();
    const k = new ConsoleSessions({ kind: 'keystone', isAdminToken: (t) => Promise.resolve(t === 'admin-token') }, clock);
    await assert.rejects(k.login({ token: 'member-token' }, 'a'), LoginFailedError);
    assert.equal(k.check(await k.login({ token: 'admin-token' }, 'a')), 'keystone admin');
    const none = new ConsoleSessions({ kind: 'none' }, clock);
    assert.equal(none.required, false);
    assert.equal(none.check(undefined), 'local');
  });
});
