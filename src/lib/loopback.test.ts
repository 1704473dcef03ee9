import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackName } from './loopback.js';

describe('isLoopbackName', () => {
  it('is true for localhost, ::1 and 127/8 only', () => {
    for (const h of ['localhost', '::1', '127.0.0.1', '127.1.2.3']) assert.equal(isLoopbackName(h), true, h);
    for (const h of ['0.0.0.0', '198.18.0.1', '::', 'localhost.example', '127.0.0.1.example', '[::1]', '']) assert.equal(isLoopbackName(h), false, h);
  });
});
