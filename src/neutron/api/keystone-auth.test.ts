import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../lib/testing.js';
import { KeystoneUnavailableError, type TokenInfo } from '../keystone/index.js';
import { keystoneAuth, UnauthorizedFault } from './keystone-auth.js';

/** The validator's logic around Keystone (cache, expiry, refusals); Keystone itself is stubbed here and real in keystone-e2e.test.ts. */
function harness(o: { cacheSeconds?: number; maxEntries?: number } = {}) {
  const clock = new FakeClock();
  const asked: string[] = [];
  const tokens = new Map<string, TokenInfo>();
  let down = false;
  const client = {
    authUrl: 'http://keystone.test:5000/v3',
    validate: (t: string): Promise<TokenInfo | undefined> => {
      asked.push(t);
      if (down) return Promise.reject(new KeystoneUnavailableError('http://keystone.test:5000/v3', 'connection refused'));
      return Promise.resolve(tokens.get(t));
    },
  };
  const auth = keystoneAuth({ client, clock, ...o });
  const give = (token: string, info: Partial<TokenInfo> = {}): void => {
    tokens.set(token, { userId: 'u1', projectId: 'p1', roles: ['member'], expiresAt: clock.now() + 3_600_000, ...info });
  };
  return { clock, asked, tokens, auth, give, setDown: (d: boolean) => (down = d) };
}

describe('keystoneAuth: who a Keystone token says the caller is', () => {
  it('takes project, user and roles from the token, never from other headers', async () => {
    const h = harness();
    h.give('t-member');
    h.give('t-admin', { projectId: 'p-admin', roles: ['admin', 'member'] });
    assert.deepEqual(await h.auth.authenticate({ 'x-auth-token': 't-member', 'x-project-id': 'someone-else', 'x-roles': 'admin' }), {
      projectId: 'p1',
      isAdmin: false,
      userId: 'u1',
      roles: ['member'],
      rolesFromToken: true,
    });
    assert.equal((await h.auth.authenticate({ 'x-auth-token': 't-admin' })).isAdmin, true);
  });

  it('refuses a missing, unknown or expired token with Keystone\u2019s 401', async () => {
    const h = harness();
    h.give('t-old', { expiresAt: h.clock.now() - 1 });
    for (const headers of [{}, { 'x-auth-token': '' }, { 'x-auth-token': 'forged' }, { 'x-auth-token': 't-old' }]) {
      await assert.rejects(h.auth.authenticate(headers), (err: unknown) => {
        assert.ok(err instanceof UnauthorizedFault);
        assert.equal(err.status, 401);
        assert.deepEqual(err.body.error.title, 'Unauthorized');
        assert.equal(err.headers['www-authenticate'], 'Keystone uri="http://keystone.test:5000"');
        return true;
      });
    }
  });

  it('asks Keystone once per token until the cache time or the expiry, whichever is first', async () => {
    const h = harness({ cacheSeconds: 60 });
    h.give('t');
    await h.auth.authenticate({ 'x-auth-token': 't' });
    await h.auth.authenticate({ 'x-auth-token': 't' });
    assert.equal(h.asked.length, 1);
    await h.clock.advance(61_000);
    h.tokens.delete('t'); // revoked meanwhile: seen once the cache time has passed
    await assert.rejects(h.auth.authenticate({ 'x-auth-token': 't' }), UnauthorizedFault);
    assert.equal(h.asked.length, 2);
    h.give('short', { expiresAt: h.clock.now() + 10_000 });
    await h.auth.authenticate({ 'x-auth-token': 'short' });
    await h.clock.advance(11_000);
    await assert.rejects(h.auth.authenticate({ 'x-auth-token': 'short' }), UnauthorizedFault, 'not trusted past its expiry');
  });

  it('asks once for concurrent requests with one new token, and remembers a bounded number', async () => {
    const h = harness({ maxEntries: 2 });
    h.give('a');
    h.give('b');
    h.give('c');
    await Promise.all([1, 2, 3].map(() => h.auth.authenticate({ 'x-auth-token': 'a' })));
    assert.deepEqual(h.asked, ['a']);
    await h.auth.authenticate({ 'x-auth-token': 'b' });
    await h.auth.authenticate({ 'x-auth-token': 'c' }); // forgets a, the oldest
    await h.auth.authenticate({ 'x-auth-token': 'a' });
    assert.deepEqual(h.asked, ['a', 'b', 'c', 'a']);
  });

  it('Keystone unreachable is a 503, never a pass; a cached token still works meanwhile', async () => {
    const h = harness();
    h.give('known');
    await h.auth.authenticate({ 'x-auth-token': 'known' });
    h.setDown(true);
    h.give('new');
    await assert.rejects(h.auth.authenticate({ 'x-auth-token': 'new' }), KeystoneUnavailableError);
    assert.equal((await h.auth.authenticate({ 'x-auth-token': 'known' })).projectId, 'p1');
  });
});
