import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BirdOutputError } from './errors.js';
import { parseBirdTranscript, type BirdReply } from './bird-reply.js';
import { SHOW_STATUS } from './captured-bird-output.js';
import { parseBirdStatus } from './parse-bird-status.js';

function only(text: string): BirdReply {
  const replies = parseBirdTranscript(text);
  assert.equal(replies.length, 1);
  return replies[0] as BirdReply;
}

describe('parseBirdStatus', () => {
  it('reads BIRD 2.0.12 output', () => {
    assert.deepEqual(parseBirdStatus(only(SHOW_STATUS)), {
      version: '2.0.12',
      routerId: '198.18.0.1',
      hostname: 'vm',
      serverTime: '2026-12-06 03:20:17',
      lastReboot: '2026-12-06 03:20:16',
      lastReconfiguration: '2026-12-06 03:20:16',
      message: 'Daemon is up and running',
      up: true,
    });
  });

  it('a daemon shutting down is not up; a reconfiguring one is', () => {
    assert.equal(parseBirdStatus(only(SHOW_STATUS.replace('Daemon is up and running', 'Shutdown in progress'))).up, false);
    assert.equal(parseBirdStatus(only(SHOW_STATUS.replace('Daemon is up and running', 'Reconfiguration in progress'))).up, true);
  });

  it('output without a router id is an error', () => {
    assert.throws(() => parseBirdStatus(only('1000-BIRD 2.0.12\n0013 Daemon is up and running')), BirdOutputError);
  });
});
