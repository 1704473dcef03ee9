import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Selector } from '../../model/index.js';
import { recordingLogger } from '../../lib/testing.js';
import { RuleScanner, type SetRefs } from './rule-scanner.js';

function recordingRefs(): SetRefs & { calls: string[] } {
  const calls: string[] = [];
  return { calls, ref: (id: string, _sel: Selector) => void calls.push(`ref ${id}`), unref: (id: string) => void calls.push(`unref ${id}`) };
}

describe('RuleScanner', () => {
  it('parses rules, refers to the sets their selectors need, taking new sets before letting old ones go', () => {
    const refs = recordingRefs();
    const s = new RuleScanner(refs);
    s.update('gnp/a', { ingress: [{ action: 'Allow', source: { selector: 'has(web)' } }], egress: [], scope: {} });
    const [first] = refs.calls;
    assert.match(first ?? '', /^ref s:/);
    const rules = s.takeChanged().get('gnp/a');
    assert.equal(rules?.ingress[0]?.srcIpSetIds[0], first?.slice(4));
    refs.calls.length = 0;
    s.update('gnp/a', { ingress: [{ action: 'Allow', source: { selector: 'has(db)' } }], egress: [], scope: {} });
    assert.deepEqual(
      refs.calls.map((c) => c.split(' ')[0]),
      ['ref', 'unref'],
    );
    s.remove('gnp/a');
    assert.deepEqual([...s.takeChanged()], [['gnp/a', undefined]]);
    assert.equal(s.size, 0);
  });

  it('fails closed: an Allow it cannot render is left out, a Deny or Pass is widened to a Deny', () => {
    const { logger, lines } = recordingLogger();
    const s = new RuleScanner(recordingRefs(), logger);
    const named = { destination: { ports: ['http'] } };
    s.update('pro/p', {
      ingress: [
        { action: 'Allow', protocol: 'TCP', ...named },
        { action: 'Pass', protocol: 'TCP', ...named },
        { action: 'Deny', protocol: 'TCP', ...named },
      ],
      egress: [],
      scope: {},
    });
    const r = s.takeChanged().get('pro/p');
    assert.deepEqual(
      r?.ingress.map((x) => [x.action, x.dstPorts.length]),
      [
        ['Deny', 0],
        ['Deny', 0],
      ],
    );
    assert.deepEqual(
      lines.filter((l) => l.level === 'warn').map((l) => l.msg),
      [
        'Rule skipped',
        'Pass rule widened to a Deny without the matches Brindle cannot render',
        'Deny rule widened to a Deny without the matches Brindle cannot render',
      ],
    );
  });
});
