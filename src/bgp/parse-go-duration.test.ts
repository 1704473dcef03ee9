import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration } from './parse-go-duration.js';
import { restartSeconds } from './resolve-bird-settings.js';

describe('parseGoDuration', () => {
  const cases: [string, number | undefined][] = [
    ['120s', 120],
    ['2m', 120],
    ['1h30m', 5400],
    ['1m30s', 90],
    ['1.5s', 1.5],
    ['500ms', 0.5],
    ['0', 0],
    ['+3s', 3],
    ['', undefined],
    ['120', undefined],
    ['-5s', undefined],
    ['5 s', undefined],
    ['2d', undefined],
    ['s', undefined],
    ['forever', undefined],
  ];
  for (const [text, want] of cases) {
    it(`${JSON.stringify(text)} → ${String(want)}`, () => assert.equal(parseGoDuration(text), want));
  }
});

describe('restartSeconds', () => {
  it('gives whole seconds between 1 and 4095, else a problem', () => {
    assert.equal(restartSeconds('2m'), 120);
    assert.equal(restartSeconds('1.6s'), 2);
    assert.equal(restartSeconds('4095s'), 4095);
    assert.match(String(restartSeconds('2h')), /not between 1s and 4095s/);
    assert.match(String(restartSeconds('100ms')), /not between/);
    assert.match(String(restartSeconds('soon')), /not a duration/);
  });
});
