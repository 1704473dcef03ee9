import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BirdReplyReader } from './bird-reply.js';

describe('BirdReplyReader', () => {
  it('assembles replies from arbitrary chunks: codes, continuations, spontaneous lines', () => {
    const r = new BirdReplyReader();
    assert.deepEqual(r.push('0001 BIRD 2.0.12 ready.\n1000-BIRD 2.0.'), [{ code: 1, lines: [{ code: 1, text: 'BIRD 2.0.12 ready.' }] }]);
    assert.equal(r.midReply, true);
    assert.deepEqual(r.push('12\n1011-Router ID is 198.18.0.1\n Hostname is vm\n+0021 spontaneous\n'), []);
    assert.deepEqual(r.push('0013 Daemon is up and running\n9001 syntax error\n'), [
      {
        code: 13,
        lines: [
          { code: 1000, text: 'BIRD 2.0.12' },
          { code: 1011, text: 'Router ID is 198.18.0.1' },
          { code: 1011, text: 'Hostname is vm' },
          { code: 13, text: 'Daemon is up and running' },
        ],
      },
      { code: 9001, lines: [{ code: 9001, text: 'syntax error' }] },
    ]);
    assert.equal(r.midReply, false);
  });
});
