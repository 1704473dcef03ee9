import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector, type Profile } from '../../model/index.js';
import { ActiveRulesCalculator } from './active-rules.js';
import type { PolicyRecord } from './decode-update.js';

const pol = (id: string, selector: string, order = 1): PolicyRecord => ({
  id,
  name: id,
  tier: 'default',
  order,
  ingressOn: true,
  egressOn: false,
  ingress: [{ action: 'Allow' }],
  egress: [{ action: 'Allow' }],
  scope: {},
  selector: parseSelector(selector),
});

function recorder(): { events: string[]; calc: ActiveRulesCalculator } {
  const events: string[] = [];
  const calc = new ActiveRulesCalculator({
    onActive: (id, src) => void events.push(`active ${id} in=${src.ingress.length} out=${src.egress.length}`),
    onInactive: (id) => void events.push(`inactive ${id}`),
    onEndpointPolicies: (ep) => void events.push(`endpoint ${ep}`),
  });
  return { events, calc };
}

describe('ActiveRulesCalculator', () => {
  it('activates a policy with its first local match and drops it with its last', () => {
    const { events, calc } = recorder();
    calc.updatePolicy('gnp/web', pol('gnp/web', 'has(web)'));
    assert.deepEqual(events, [], 'no local endpoint: nothing active');
    calc.updateLocalEndpoint('e1', { web: '' }, []);
    calc.updateLocalEndpoint('e2', { web: '' }, []);
    assert.deepEqual(events, ['endpoint e1', 'active gnp/web in=1 out=0', 'endpoint e2'], 'egress rules of an ingress-only policy are not scanned');
    assert.deepEqual(
      [...calc.policiesOf('e1')].map((p) => p.id),
      ['gnp/web'],
    );
    events.length = 0;
    calc.removeLocalEndpoint('e1');
    calc.updateLocalEndpoint('e2', { db: '' }, []);
    assert.deepEqual(events, ['endpoint e1', 'endpoint e2', 'inactive gnp/web']);
    assert.equal(calc.isActive('gnp/web'), false);
  });

  it('rescans an active policy that changes, and marks its endpoints; deleting it deactivates it', () => {
    const { events, calc } = recorder();
    calc.updateLocalEndpoint('e1', { web: '' }, []);
    calc.updatePolicy('gnp/web', pol('gnp/web', 'has(web)'));
    events.length = 0;
    calc.updatePolicy('gnp/web', pol('gnp/web', 'has(web)', 7));
    assert.deepEqual(events, ['active gnp/web in=1 out=0', 'endpoint e1']);
    events.length = 0;
    calc.updatePolicy('gnp/web', undefined);
    assert.deepEqual(events, ['endpoint e1', 'inactive gnp/web']);
    assert.equal(calc.policyCount, 0);
  });

  it('keeps a profile active while any local endpoint names it; a missing profile is active with no rules', () => {
    const { events, calc } = recorder();
    calc.updateLocalEndpoint('e1', {}, ['p1']);
    calc.updateLocalEndpoint('e2', {}, ['p1']);
    assert.deepEqual(events, ['active pro/p1 in=0 out=0']);
    const profile: Profile = {
      kind: 'Profile',
      apiVersion: 'projectcalico.org/v3',
      metadata: { name: 'p1' },
      spec: { ingress: [{ action: 'Allow' }], egress: [] },
    };
    calc.updateProfile('p1', profile);
    calc.updateProfile('p2', profile);
    assert.deepEqual(events.slice(1), ['active pro/p1 in=1 out=0'], 'an unused profile is not scanned');
    events.length = 0;
    calc.updateLocalEndpoint('e1', {}, ['p2']);
    calc.removeLocalEndpoint('e2');
    assert.deepEqual(events, ['active pro/p2 in=1 out=0', 'inactive pro/p1']);
  });
});
