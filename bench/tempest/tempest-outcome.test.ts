import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { accountsYaml, tempestConf } from './tempest-conf.js';
import { parseTestLine, tempestOutcome } from './tempest-outcome.js';

// Lines as tempest 33's `tempest run` (stestr's subunit-trace) prints them.
const OUTPUT = [
  '{0} tempest.api.network.test_extensions.ExtensionsTestJSON.test_list_show_extensions [0.123456s] ... ok',
  '{0} tempest.api.network.test_ports.PortsTestJSON.test_create_port_in_allowed_allocation_pools [0.312s] ... ok',
  '{0} tempest.api.network.test_routers.RoutersTest.test_update_router_admin_state [0.2s] ... FAILED',
  'Captured traceback:',
  '    tempest.lib.exceptions.BadRequest: Bad request',
  '{0} setUpClass (tempest.api.network.test_tags.TagsExtTest) [0.000000s] ... FAILED',
  '{0} tempest.api.network.admin.test_floating_ips_admin_actions.FloatingIPAdminTestJSON ... SKIPPED: The public_network_id option must be specified.',
  '{0} tempest.api.network.test_floating_ips.FloatingIPTestJSON ... SKIPPED: The public_network_id option must be specified.',
  '{0} tempest.api.network.admin.test_metering_extensions.MeteringTestJSON ... SKIPPED: metering extension not enabled.',
  '',
  '======',
  'Totals',
  '======',
  'Ran: 7 tests in 3.0000 sec.',
  ' - Passed: 2',
  ' - Skipped: 3',
  ' - Expected Fail: 0',
  ' - Unexpected Success: 0',
  ' - Failed: 2',
].join('\n');

describe('tempest output (pure)', () => {
  it('reads passed, failed (with class set-up failures) and skipped lines, with skip reasons', () => {
    assert.deepEqual(parseTestLine('{0} tempest.api.network.x.Y.test_z[id-1,smoke] [1.0s] ... ok'), {
      id: 'tempest.api.network.x.Y.test_z[id-1,smoke]',
      status: 'passed',
    });
    assert.equal(parseTestLine('    tempest.lib.exceptions.BadRequest: Bad request'), undefined);
    const o = tempestOutcome(OUTPUT);
    assert.equal(o.passed, 2);
    assert.equal(o.failed, 2);
    assert.equal(o.skipped, 3);
    assert.deepEqual(o.failedTests, [
      'tempest.api.network.test_routers.RoutersTest.test_update_router_admin_state',
      'setUpClass (tempest.api.network.test_tags.TagsExtTest)',
    ]);
    assert.deepEqual(o.skipReasons, { 'The public_network_id option must be specified.': 2, 'metering extension not enabled.': 1 });
    assert.deepEqual(o.totals, { passed: 2, failed: 2, skipped: 3 });
  });

  it('a test reported again counts by its last line', () => {
    const o = tempestOutcome('{0} t.A.test_a [0.1s] ... FAILED\n{0} t.A.test_a [0.1s] ... ok\n');
    assert.deepEqual([o.passed, o.failed], [1, 0]);
    assert.equal(o.totals, undefined, 'no totals printed');
  });
});

describe('tempest.conf and accounts.yaml (pure)', () => {
  it('lists the extensions served, keeps tests inside the test ranges, and names the accounts', () => {
    const conf = tempestConf({
      identityUrl: 'http://127.0.0.1:5000/v3',
      adminPassword: 'pw',
      workspace: '/tmp/ws',
      extensions: ['binding', 'security-group'],
      floatingIps: false,
    });
    assert.match(conf, /^\[network-feature-enabled\]$/m);
    assert.match(conf, /^api_extensions = binding,security-group$/m);
    assert.match(conf, /^floating_ips = False$/m);
    assert.match(conf, /^project_network_cidr = 198\.18\.0\.0\/16$/m);
    assert.match(conf, /^project_network_v6_cidr = 2001:db8::\/48$/m);
    assert.match(conf, /^uri_v3 = http:\/\/127\.0\.0\.1:5000\/v3$/m);
    assert.doesNotMatch(conf, /public_network_id/);
    const withPublic = tempestConf({
      identityUrl: 'http://127.0.0.1:5000/v3',
      adminPassword: 'pw',
      workspace: '/tmp/ws',
      extensions: [],
      floatingIps: true,
      publicNetworkId: 'net-1',
    });
    assert.match(withPublic, /^public_network_id = net-1$/m);
    assert.match(withPublic, /^floating_ips = True$/m);
    const accounts = parse(
      accountsYaml([
        { username: 'd', password: 'p', project: 'dp', admin: false },
        { username: 'a', password: 'p', project: 'ap', admin: true },
      ]),
    ) as unknown;
    assert.deepEqual(accounts, [
      { username: 'd', project_name: 'dp', password: 'p', domain_name: 'Default' },
      { username: 'a', project_name: 'ap', password: 'p', domain_name: 'Default', types: ['admin'] },
    ]);
  });
});
