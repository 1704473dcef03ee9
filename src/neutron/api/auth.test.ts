import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { noAuth, oncePerRequest, type Authenticator } from './auth.js';

describe('oncePerRequest: the hook and the route share one authentication', () => {
  it('asks the authenticator once per request headers object', async () => {
    let asked = 0;
    const counting: Authenticator = {
      authenticate: (headers) => {
        asked++;
        return noAuth('p0').authenticate(headers);
      },
    };
    const auth = oncePerRequest(counting);
    const one = { 'x-project-id': 'p1' };
    const two = { 'x-project-id': 'p2' };
    assert.equal((await auth.authenticate(one)).projectId, 'p1');
    assert.equal((await auth.authenticate(one)).projectId, 'p1');
    assert.equal((await auth.authenticate(two)).projectId, 'p2');
    assert.equal(asked, 2);
  });
});
