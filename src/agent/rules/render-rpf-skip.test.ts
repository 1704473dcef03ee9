import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderRpfSkip } from './render-rpf-skip.js';
import { localEndpoint, ruleLines } from './testing/index.js';

describe('renderRpfSkip', () => {
  const endpoints = [
    localEndpoint('tapb', { allowSpoofedSourcePrefixes: ['10.9.0.0/16', 'fd00::/64'] }),
    localEndpoint('tapa', { allowSpoofedSourcePrefixes: ['192.168.1.5/32', '10.0.0.0/8', '10.0.0.0/8'] }),
    localEndpoint('tapc'),
  ];
  const cases: [4 | 6, string[]][] = [
    [4, ['-i tapa --source 10.0.0.0/8 -j ACCEPT', '-i tapa --source 192.168.1.5/32 -j ACCEPT', '-i tapb --source 10.9.0.0/16 -j ACCEPT']],
    [6, ['-i tapb --source fd00::/64 -j ACCEPT']],
  ];
  for (const [family, want] of cases) {
    it(`v${family}: this family's prefixes, sorted, without duplicates`, () => {
      const chain = renderRpfSkip(endpoints, family);
      assert.equal(chain.name, 'cali-rpf-skip');
      assert.deepEqual(ruleLines(chain.rules), want);
    });
  }
  it('no endpoints: empty chain', () => assert.deepEqual(renderRpfSkip([], 4), { name: 'cali-rpf-skip', rules: [] }));
});
