import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCheck } from './check.js';
import { PolicyError } from './policy-errors.js';
import { Policy } from './policy.js';

const RULES = {
  context_is_admin: 'role:admin',
  admin_only: 'rule:context_is_admin',
  owner: 'project_id:%(project_id)s',
  network_owner: 'project_id:%(network:project_id)s',
  shared: 'field:networks:shared=True',
  network_device: 'field:port:device_owner=~^network:',
  member_of_project: 'role:member and rule:owner',
  get_thing: 'rule:admin_only or (role:reader and rule:owner) or rule:shared',
  create_thing: 'rule:admin_only or rule:member_of_project',
  'create_thing:device_owner': 'not rule:network_device or rule:admin_only or rule:network_owner',
  literal: "'True':%(enabled)s",
  everyone: '',
  nobody: '!',
  default: 'rule:admin_only',
};

const member = { project_id: 'p1', roles: ['member', 'reader'] };
const reader = { project_id: 'p1', roles: ['reader'] };
const admin = { project_id: 'adm', roles: ['admin', 'member', 'reader'] };

describe('oslo.policy check strings (pure)', () => {
  it('parses and/or/not with parentheses, in oslo precedence (not > and > or)', () => {
    assert.deepEqual(parseCheck('role:a or role:b and not role:c', 'r'), {
      kind: 'or',
      of: [
        { kind: 'role', role: 'a' },
        {
          kind: 'and',
          of: [
            { kind: 'role', role: 'b' },
            { kind: 'not', of: { kind: 'role', role: 'c' } },
          ],
        },
      ],
    });
    assert.deepEqual(parseCheck('(role:a or role:b) and @', 'r'), {
      kind: 'and',
      of: [
        {
          kind: 'or',
          of: [
            { kind: 'role', role: 'a' },
            { kind: 'role', role: 'b' },
          ],
        },
        { kind: 'true' },
      ],
    });
    assert.deepEqual(parseCheck('', 'r'), { kind: 'true' });
    assert.deepEqual(parseCheck('ROLE:Admin'.replace('ROLE', 'role'), 'r'), { kind: 'role', role: 'admin' });
  });

  it('refuses what it cannot read, naming the rule', () => {
    for (const [text, why] of [
      ['role:a or', /a check is missing/],
      ['(role:a', /a '\)' is missing/],
      ['role:a role:b', /'role:b' is out of place/],
      ['admin', /'admin' is not a check/],
      ['http://example.com', /http: checks are not supported/],
      ['field:networks:shared', /field:resource:attribute=value/],
    ] as const) {
      assert.throws(
        () => parseCheck(text, 'update_port:mac_address'),
        (err: unknown) => err instanceof PolicyError && err.rule === 'update_port:mac_address' && why.test(err.message),
        text,
      );
    }
  });
});

describe('Policy (pure)', () => {
  const policy = new Policy(RULES);

  it('decides what the caller alone decides, and leaves a test of the target for the rest', () => {
    assert.equal(policy.forCaller(admin).decide('get_thing'), true);
    assert.equal(policy.forCaller(admin).isAdmin, true);
    assert.equal(policy.forCaller(member).isAdmin, false);
    assert.equal(typeof policy.forCaller(member).decide('get_thing'), 'function');
    assert.equal(policy.forCaller({ project_id: 'p1', roles: [] }).decide('create_thing'), false);
    assert.equal(policy.forCaller(member).decide('everyone'), true);
    assert.equal(policy.forCaller(admin).decide('nobody'), false);
  });

  it('project scoping, shared objects, roles', () => {
    const m = policy.forCaller(member);
    assert.equal(m.allows('get_thing', { project_id: 'p1' }), true);
    assert.equal(m.allows('get_thing', { project_id: 'p2' }), false);
    assert.equal(m.allows('get_thing', { project_id: 'p2', shared: true }), true, 'shared=True matches the boolean');
    assert.equal(m.allows('create_thing', { project_id: 'p1' }), true);
    assert.equal(policy.forCaller(reader).allows('get_thing', { project_id: 'p1' }), true);
    assert.equal(policy.forCaller(reader).allows('create_thing', { project_id: 'p1' }), false, 'a reader reads, a member writes');
    assert.equal(m.allows('get_thing', {}), false, 'a target without the key fails the check');
  });

  it('regular-expression fields, parent attributes and literals', () => {
    const m = policy.forCaller(member);
    assert.equal(m.allows('create_thing:device_owner', { device_owner: 'compute:nova' }), true);
    assert.equal(m.allows('create_thing:device_owner', { device_owner: 'network:dhcp', 'network:project_id': 'p2' }), false);
    assert.equal(m.allows('create_thing:device_owner', { device_owner: 'network:dhcp', 'network:project_id': 'p1' }), true);
    assert.equal(m.allows('literal', { enabled: true }), true);
    assert.equal(m.allows('literal', { enabled: false }), false);
  });

  it("Neutron's field checks: anchored regular expressions, booleans read as booleans, a missing attribute fails", () => {
    const p = new Policy({ dev: 'field:port:device_owner=~network:', t: 'field:networks:shared=true', none: 'field:networks:x=None' });
    const m = p.forCaller(member);
    assert.equal(m.allows('dev', { device_owner: 'network:dhcp' }), true);
    assert.equal(m.allows('dev', { device_owner: 'compute:network:x' }), false, 'matched from the start, as re.match');
    assert.equal(m.allows('t', { shared: true }), true);
    assert.equal(m.allows('t', { shared: false }), false);
    assert.equal(m.allows('none', {}), false);
    assert.equal(m.allows('none', { x: null }), true);
  });

  it('an undefined rule falls back to default', () => {
    assert.equal(policy.forCaller(member).decide('delete_unknown'), false);
    assert.equal(policy.forCaller(admin).decide('delete_unknown'), true);
    assert.equal(new Policy({ context_is_admin: 'role:admin' }).forCaller(admin).decide('nothing'), false, 'no default: deny');
  });

  it('refuses rules that refer to an undefined rule or to each other in a circle', () => {
    assert.throws(
      () => new Policy({ a: 'rule:b' }),
      (err: unknown) => err instanceof PolicyError && err.code === 'POLICY_REFERENCE' && err.rule === 'a' && /rule:b, which is not defined/.test(err.message),
    );
    assert.throws(
      () => new Policy({ a: 'rule:b', b: 'role:x or rule:a' }),
      (err: unknown) => err instanceof PolicyError && /a -> b -> a/.test(err.message),
    );
  });
});
