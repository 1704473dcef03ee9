import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector } from '../../model/index.js';
import type { PolicyRecord } from './decode-update.js';
import { resolveTiers } from './resolve-tiers.js';

const pol = (id: string, o: { tier?: string; order?: number; ingress?: boolean; egress?: boolean } = {}): PolicyRecord => ({
  id,
  name: id,
  tier: o.tier ?? 'default',
  order: o.order ?? Number.POSITIVE_INFINITY,
  ingressOn: o.ingress ?? true,
  egressOn: o.egress ?? true,
  ingress: [],
  egress: [],
  scope: {},
  selector: parseSelector('all()'),
});

describe('resolveTiers (the policy resolver)', () => {
  it('orders by order then name within a tier, named tiers by name, the default tier last', () => {
    const tiers = resolveTiers([
      pol('c', { order: 1 }),
      pol('b'),
      pol('a'),
      pol('z', { tier: 'ops', order: 9 }),
      pol('y', { tier: 'admin' }),
      pol('d', { order: 1 }),
    ]);
    assert.deepEqual(
      tiers.map((t) => t.name),
      ['admin', 'ops', 'default'],
    );
    assert.deepEqual(tiers[2]?.ingress, ['c', 'd', 'a', 'b']);
  });

  it('puts a policy only in the directions its types name', () => {
    const [t] = resolveTiers([pol('in', { egress: false }), pol('out', { ingress: false })]);
    assert.deepEqual(t, { name: 'default', ingress: ['in'], egress: ['out'] });
    assert.deepEqual(resolveTiers([]), []);
  });
});
