import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { narrowing } from './collection-routes.js';
import { parseQuery } from './list-query.js';

describe('narrowing: which index a list query can use', () => {
  const indexed = ['device_id', 'fixed_ips', 'mac_address', 'network_id', 'project_id'];
  const of = (q: string): ReturnType<typeof narrowing> => narrowing(indexed, parseQuery(q));

  it('takes the first indexed attribute filtered on, with all its values', () => {
    assert.deepEqual(of('network_id=n&device_id=a&device_id=b'), { attribute: 'device_id', values: ['a', 'b'] });
    assert.deepEqual(of('name=x&network_id=n'), { attribute: 'network_id', values: ['n'] });
    assert.equal(of('name=x&device_owner=compute%3Anova'), undefined);
  });

  it('reads tenant_id as project_id, but not when both are given (both must hold)', () => {
    assert.deepEqual(of('tenant_id=p'), { attribute: 'project_id', values: ['p'] });
    assert.equal(of('tenant_id=p&project_id=q'), undefined);
  });

  it('uses fixed_ips only for ip_address filters', () => {
    assert.deepEqual(of('fixed_ips=ip_address%3D198.18.0.1'), { attribute: 'fixed_ips', values: ['198.18.0.1'] });
    assert.equal(of('fixed_ips=subnet_id%3Ds'), undefined);
    assert.deepEqual(of('fixed_ips=ip_address%3D198.18.0.1&fixed_ips=subnet_id%3Ds&network_id=n'), { attribute: 'network_id', values: ['n'] });
  });
});
