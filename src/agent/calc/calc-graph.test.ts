import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector } from '../../model/index.js';
import { CalcGraph, type KvChange } from './calc-graph.js';
import { selectorIpSetId } from './ipset-id.js';

const NS = 'openstack';
const R = '/calico/resources/v3/projectcalico.org/';

function wep(name: string, o: { node: string; ip: string; sgs: string[]; iface?: string; ip6?: string }): KvChange {
  const labels: Record<string, string> = {};
  for (const sg of o.sgs) labels[`sg.projectcalico.org/openstack-${sg}`] = 'x';
  const value = {
    kind: 'WorkloadEndpoint',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name, namespace: NS, labels },
    spec: {
      orchestrator: 'openstack',
      workload: `wl-${name}`,
      node: o.node,
      endpoint: `ep-${name}`,
      interfaceName: o.iface ?? `tap${name}`,
      mac: 'FA:16:3E:00:00:01',
      ipNetworks: [`${o.ip}/32`, ...(o.ip6 === undefined ? [] : [`${o.ip6}/128`])],
    },
  };
  return { key: `${R}workloadendpoints/${NS}/${name}`, value: JSON.stringify(value) };
}

function sgPolicy(sg: string, ingress: unknown[], extra: Record<string, unknown> = {}): KvChange {
  const value = {
    kind: 'NetworkPolicy',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name: `ossg.default.${sg}`, namespace: NS },
    spec: { selector: `has(sg.projectcalico.org/openstack-${sg})`, ingress, egress: [{ action: 'Allow' }], ...extra },
  };
  return { key: `${R}networkpolicies/${NS}/ossg.default.${sg}`, value: JSON.stringify(value) };
}

const remoteSel = (sg: string): string =>
  selectorIpSetId(parseSelector(`(has(sg.projectcalico.org/openstack-${sg})) && projectcalico.org/namespace == "${NS}"`));

describe('CalcGraph', () => {
  it('resolves local endpoints, their ordered policies, parsed rules and IP set members', () => {
    const g = new CalcGraph({ hostname: 'h1' });
    g.onUpdates([
      wep('a', { node: 'h1', ip: '198.18.0.1', sgs: ['web'], ip6: '2001:db8::1' }),
      wep('b', { node: 'h1', ip: '198.18.0.2', sgs: ['db'] }),
      wep('c', { node: 'h2', ip: '198.18.1.3', sgs: ['web'] }),
      sgPolicy('web', [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80, '8000:8080'] } }]),
      sgPolicy(
        'db',
        [{ action: 'Allow', ipVersion: 4, protocol: 'TCP', source: { selector: 'has(sg.projectcalico.org/openstack-web)' }, destination: { ports: [5432] } }],
        { order: 10 },
      ),
    ]);
    const u = g.flush();
    assert.deepEqual([...u.endpoints.keys()].sort(), [`${NS}/a`, `${NS}/b`]);
    const a = u.endpoints.get(`${NS}/a`);
    assert.ok(a);
    assert.equal(a.iface, 'tapa');
    assert.equal(a.mac, 'fa:16:3e:00:00:01');
    assert.deepEqual(a.ipv4Nets, ['198.18.0.1/32']);
    assert.deepEqual(a.ipv6Nets, ['2001:db8::1/128']);
    assert.deepEqual(a.tiers, [{ name: 'default', ingress: [`np/${NS}/ossg.default.web`], egress: [`np/${NS}/ossg.default.web`] }]);
    assert.deepEqual(a.statusIds, { orchestrator: 'openstack', workload: 'wl-a', endpoint: 'ep-a' });
    const db = u.rules.get(`np/${NS}/ossg.default.db`);
    assert.ok(db);
    const setId = remoteSel('web');
    assert.deepEqual(db.ingress[0]?.srcIpSetIds, [setId]);
    assert.deepEqual(db.ingress[0]?.dstPorts, [{ first: 5432, last: 5432 }]);
    const web = u.rules.get(`np/${NS}/ossg.default.web`);
    assert.deepEqual(web?.ingress[0]?.dstPorts, [
      { first: 80, last: 80 },
      { first: 8000, last: 8080 },
    ]);
    // Members come from every host's endpoints, both families.
    assert.deepEqual([...(u.ipSets.get(setId) ?? [])].sort(), ['198.18.0.1/32', '198.18.1.3/32', '2001:db8::1/128']);
    assert.equal(g.flush().endpoints.size, 0, 'a second flush has nothing new');
    assert.deepEqual({ local: g.stats.localEndpoints, all: g.stats.endpoints }, { local: 2, all: 3 });
  });

  it('a remote endpoint changing labels or addresses only changes set members', () => {
    const g = new CalcGraph({ hostname: 'h1' });
    g.onUpdates([
      wep('b', { node: 'h1', ip: '198.18.0.2', sgs: ['db'] }),
      wep('c', { node: 'h2', ip: '198.18.1.3', sgs: ['web'] }),
      sgPolicy('db', [{ action: 'Allow', source: { selector: 'has(sg.projectcalico.org/openstack-web)' } }]),
    ]);
    g.flush();
    const setId = remoteSel('web');
    g.onUpdates([wep('c', { node: 'h2', ip: '198.18.1.4', sgs: ['web'] })]);
    let u = g.flush();
    assert.deepEqual(u.ipSetDeltas.get(setId), { added: ['198.18.1.4/32'], removed: ['198.18.1.3/32'] });
    assert.equal(u.endpoints.size, 0);
    assert.equal(u.rules.size, 0);
    g.onUpdates([wep('c', { node: 'h2', ip: '198.18.1.4', sgs: ['other'] })]);
    u = g.flush();
    assert.deepEqual(u.ipSetDeltas.get(setId), { added: [], removed: ['198.18.1.4/32'] });
    g.onUpdates([wep('d', { node: 'h3', ip: '198.18.2.9', sgs: ['web'] }), { key: `${R}workloadendpoints/${NS}/d`, value: undefined }]);
    u = g.flush();
    assert.equal(u.ipSetDeltas.size, 0, 'added and removed in one batch cancel out');
  });

  it('a policy stops being active when no local endpoint matches, and its sets go with it', () => {
    const g = new CalcGraph({ hostname: 'h1' });
    g.onUpdates([
      wep('b', { node: 'h1', ip: '198.18.0.2', sgs: ['db'] }),
      sgPolicy('db', [{ action: 'Allow', source: { selector: 'has(sg.projectcalico.org/openstack-web)' } }]),
      sgPolicy('unused', [{ action: 'Allow', source: { selector: 'has(x)' } }]),
    ]);
    let u = g.flush();
    assert.deepEqual([...u.rules.keys()], [`np/${NS}/ossg.default.db`], 'a policy matching nothing here is not active');
    g.onUpdates([{ key: `${R}workloadendpoints/${NS}/b`, value: undefined }]);
    u = g.flush();
    assert.equal(u.endpoints.get(`${NS}/b`), undefined);
    assert.ok(u.endpoints.has(`${NS}/b`));
    assert.ok(u.rules.has(`np/${NS}/ossg.default.db`) && u.rules.get(`np/${NS}/ossg.default.db`) === undefined);
    assert.ok(u.ipSets.has(remoteSel('web')) && u.ipSets.get(remoteSel('web')) === undefined);
    assert.deepEqual(g.stats.ipSets, 0);
  });

  it('orders policies by order then name, tiers by name with default last, and skips unsupported rules', () => {
    const g = new CalcGraph({ hostname: 'h1' });
    const gnp = (name: string, order: number | undefined, tier?: string): KvChange => ({
      key: `${R}globalnetworkpolicies/${name}`,
      value: JSON.stringify({
        kind: 'GlobalNetworkPolicy',
        apiVersion: 'projectcalico.org/v3',
        metadata: { name },
        spec: {
          selector: 'all()',
          order,
          tier,
          types: ['Ingress'],
          ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['http'] } }, { action: 'Deny' }],
        },
      }),
    });
    g.onUpdates([wep('a', { node: 'h1', ip: '198.18.0.1', sgs: [] }), gnp('z', 1), gnp('b', undefined), gnp('a', undefined), gnp('sec', 5, 'security')]);
    const u = g.flush();
    assert.deepEqual(u.endpoints.get(`${NS}/a`)?.tiers, [
      { name: 'security', ingress: ['gnp/sec'], egress: [] },
      { name: 'default', ingress: ['gnp/z', 'gnp/a', 'gnp/b'], egress: [] },
    ]);
    assert.equal(u.rules.get('gnp/z')?.ingress.length, 1, 'the named-port rule is skipped');
    assert.equal(u.rules.get('gnp/z')?.ingress[0]?.action, 'Deny');
  });

  it('treats invalid values as absent', () => {
    const g = new CalcGraph({ hostname: 'h1' });
    g.onUpdates([wep('a', { node: 'h1', ip: '198.18.0.1', sgs: [] })]);
    g.flush();
    g.onUpdates([{ key: `${R}workloadendpoints/${NS}/a`, value: '{"kind":"WorkloadEndpoint","spec":{"node":"h1","ipNetworks":"nope"}}' }]);
    const u = g.flush();
    assert.ok(u.endpoints.has(`${NS}/a`) && u.endpoints.get(`${NS}/a`) === undefined);
  });

  it('fails closed: a Deny or Pass it cannot render exactly becomes a wider Deny, an Allow is left out', () => {
    const g = new CalcGraph({ hostname: 'h1' });
    g.onUpdates([
      wep('a', { node: 'h1', ip: '198.18.0.1', sgs: [] }),
      {
        key: `${R}globalnetworkpolicies/guard`,
        value: JSON.stringify({
          kind: 'GlobalNetworkPolicy',
          apiVersion: 'projectcalico.org/v3',
          metadata: { name: 'guard' },
          spec: {
            selector: 'all()',
            types: ['Ingress'],
            ingress: [
              { action: 'Deny', protocol: 'TCP', destination: { ports: ['ssh'] } },
              { action: 'Pass', protocol: 'TCP', destination: { ports: ['http', 443] } },
              { action: 'Allow', protocol: 'TCP', destination: { ports: ['https'] } },
              { action: 'Allow' },
            ],
          },
        }),
      },
    ]);
    const rules = g.flush().rules.get('gnp/guard');
    assert.deepEqual(
      rules?.ingress.map((r) => [r.action, r.protocol, r.dstPorts.length]),
      [
        ['Deny', 'TCP', 0],
        ['Deny', 'TCP', 0],
        ['Allow', undefined, 0],
      ],
    );
  });

  it('scopes policies and rule selectors by namespace selectors and service accounts', () => {
    const g = new CalcGraph({ hostname: 'h1' });
    const ep = (ns: string, name: string, sa?: string): KvChange => ({
      key: `${R}workloadendpoints/${ns}/${name}`,
      value: JSON.stringify({
        kind: 'WorkloadEndpoint',
        apiVersion: 'projectcalico.org/v3',
        metadata: { name, namespace: ns },
        spec: {
          node: 'h1',
          interfaceName: `tap${name}`,
          ipNetworks: [`198.18.${ns === 'tenant-a' ? 1 : 2}.1/32`],
          ...(sa === undefined ? {} : { serviceAccountName: sa }),
        },
      }),
    });
    g.onUpdates([
      ep('tenant-a', 'a1', 'web'),
      ep('tenant-b', 'b1'),
      {
        key: `${R}globalnetworkpolicies/tenant-a-open`,
        value: JSON.stringify({
          kind: 'GlobalNetworkPolicy',
          apiVersion: 'projectcalico.org/v3',
          metadata: { name: 'tenant-a-open' },
          spec: {
            selector: 'all()',
            namespaceSelector: 'projectcalico.org/name == "tenant-a"',
            types: ['Ingress'],
            ingress: [
              { action: 'Allow', source: { namespaceSelector: 'projectcalico.org/name == "tenant-b"' } },
              { action: 'Allow', source: { serviceAccounts: { names: ['web'] } } },
            ],
          },
        }),
      },
    ]);
    const u = g.flush();
    assert.deepEqual(u.endpoints.get('tenant-a/a1')?.tiers[0]?.ingress, ['gnp/tenant-a-open']);
    assert.deepEqual(u.endpoints.get('tenant-b/b1')?.tiers, [], 'the policy does not apply in tenant-b');
    const [fromB, fromWeb] = u.rules.get('gnp/tenant-a-open')?.ingress ?? [];
    assert.deepEqual(u.ipSets.get(fromB?.srcIpSetIds[0] ?? ''), ['198.18.2.1/32']);
    assert.deepEqual(u.ipSets.get(fromWeb?.srcIpSetIds[0] ?? ''), ['198.18.1.1/32']);
  });

  it('an IP set removed, re-added and removed again in one batch is removed from the dataplane', () => {
    const g = new CalcGraph({ hostname: 'h1' });
    const policy = sgPolicy('db', [{ action: 'Allow', source: { selector: 'has(sg.projectcalico.org/openstack-web)' } }]);
    g.onUpdates([wep('b', { node: 'h1', ip: '198.18.0.2', sgs: ['db'] }), policy]);
    const setId = remoteSel('web');
    assert.ok(g.flush().ipSets.has(setId));
    g.onUpdates([
      { key: `${R}workloadendpoints/${NS}/b`, value: undefined },
      wep('b', { node: 'h1', ip: '198.18.0.2', sgs: ['db'] }),
      { key: policy.key, value: undefined },
    ]);
    const u = g.flush();
    assert.ok(u.ipSets.has(setId) && u.ipSets.get(setId) === undefined, 'the set is removed');
    assert.equal(g.stats.ipSets, 0);
  });

  it('host endpoints are members of the IP sets their labels match', () => {
    const g = new CalcGraph({ hostname: 'h1' });
    const hep = (ips: string[] | undefined): KvChange => ({
      key: `${R}hostendpoints/gw-eth0`,
      value:
        ips === undefined
          ? undefined
          : JSON.stringify({
              kind: 'HostEndpoint',
              apiVersion: 'projectcalico.org/v3',
              metadata: { name: 'gw-eth0', labels: { role: 'gateway' } },
              spec: { node: 'gw', interfaceName: 'eth0', expectedIPs: ips },
            }),
    });
    g.onUpdates([
      wep('b', { node: 'h1', ip: '198.18.0.2', sgs: ['db'] }),
      {
        key: `${R}globalnetworkpolicies/from-gw`,
        value: JSON.stringify({
          kind: 'GlobalNetworkPolicy',
          apiVersion: 'projectcalico.org/v3',
          metadata: { name: 'from-gw' },
          spec: { selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Allow', source: { selector: "role == 'gateway'" } }] },
        }),
      },
      hep(['198.19.0.9', '2001:db8:ffff::9']),
    ]);
    let u = g.flush();
    const setId = u.rules.get('gnp/from-gw')?.ingress[0]?.srcIpSetIds[0] ?? '';
    assert.deepEqual([...(u.ipSets.get(setId) ?? [])].sort(), ['198.19.0.9/32', '2001:db8:ffff::9/128']);
    g.onUpdates([hep(['198.19.0.10'])]);
    u = g.flush();
    assert.deepEqual(u.ipSetDeltas.get(setId), { added: ['198.19.0.10/32'], removed: ['198.19.0.9/32', '2001:db8:ffff::9/128'] });
    g.onUpdates([hep(undefined)]);
    assert.deepEqual(g.flush().ipSetDeltas.get(setId), { added: [], removed: ['198.19.0.10/32'] });
  });
});
