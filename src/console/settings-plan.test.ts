import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION, validateResource, type CalicoResource } from '../model/index.js';
import type { SettingsForm } from './api-types.js';
import { planSettings, readSettingsForm, settingsConflicts, type SettingsSnapshot } from './settings-plan.js';

const res = <T>(kind: string, name: string, spec: object, version: number): T =>
  ({ ...(validateResource({ apiVersion: API_VERSION, kind, metadata: { name }, spec }) as object), metadata: { name, resourceVersion: String(version) } }) as T;

function snapshot(): SettingsSnapshot {
  return {
    bgpConfigurations: [res('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info' }, 10)],
    felixConfigurations: [res('FelixConfiguration', 'default', { ipv6Support: false, reportingInterval: '30s' }, 11)],
    bgpPeers: [
      res('BGPPeer', 'tor-a', { peerIP: '198.18.0.1', asNumber: 65000, keepOriginalNextHop: true }, 12),
      res('BGPPeer', 'to-reflectors', { nodeSelector: 'all()', peerSelector: 'has(rr)' }, 13),
    ],
    ipPools: [res('IPPool', 'pool-a', { cidr: '198.18.64.0/18', natOutgoing: true }, 14)],
    nodes: [
      res('Node', 'compute-1', { bgp: { ipv4Address: '198.18.0.11/24' } }, 15),
      res('Node', 'compute-2', { bgp: { ipv4Address: '198.18.0.12/24', routeReflectorClusterID: '224.0.0.1' } }, 16),
    ],
  };
}

describe('settings: the page form over Calico resources', () => {
  it('reads the form the resources describe; external peers are the peerIP ones only', () => {
    const f = readSettingsForm(snapshot());
    assert.deepEqual(f, {
      asNumber: '64512',
      mesh: true,
      reflectorClusterId: '224.0.0.1',
      reflectorNodes: ['compute-2'],
      reflectorIds: { 'compute-2': '224.0.0.1' },
      externalPeers: [{ name: 'tor-a', peerIP: '198.18.0.1', asNumber: '65000', node: '', nodeSelector: '' }],
      ipPools: [{ name: 'pool-a', cidr: '198.18.64.0/18', natOutgoing: true, disabled: false }],
      ipv6: false,
    });
  });

  it('the unchanged form plans nothing', () => {
    const s = snapshot();
    const plan = planSettings(s, readSettingsForm(s));
    assert.deepEqual(plan, { errors: [], changes: [], warnings: [], ops: [] });
  });

  it('plans each change as a compare-and-swap on the version read, keeping fields the page does not show', () => {
    const s = snapshot();
    const f: SettingsForm = { ...readSettingsForm(s), asNumber: '64513', reflectorNodes: ['compute-1'] };
    f.externalPeers = [
      { ...f.externalPeers[0]!, asNumber: '65001' },
      { name: 'tor-b', peerIP: '2001:db8::1', asNumber: '65002', node: 'compute-1', nodeSelector: '' },
    ];
    f.ipPools = [];
    const plan = planSettings(s, f);
    assert.deepEqual(plan.errors, []);
    assert.deepEqual(
      plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`),
      [
        'update BGPConfiguration default',
        'update Node compute-1',
        'update Node compute-2',
        'update BGPPeer tor-a',
        'create BGPPeer tor-b',
        'delete IPPool pool-a',
      ],
    );
    assert.deepEqual(plan.changes[0]?.fields, [{ field: 'spec.asNumber', from: '64512', to: '64513' }]);
    const byName = new Map(plan.ops.map((o) => [o.action === 'delete' ? o.ref.name : o.resource.metadata.name, o]));
    const bgp = byName.get('default');
    assert.ok(bgp?.action === 'replace');
    assert.equal(bgp.resource.metadata.resourceVersion, '10');
    assert.equal((bgp.resource.spec as { logSeverityScreen?: string }).logSeverityScreen, 'Info', 'fields the page does not show are kept');
    const torA = byName.get('tor-a');
    assert.ok(torA?.action === 'replace');
    assert.deepEqual(torA.resource.spec, { keepOriginalNextHop: true, peerIP: '198.18.0.1', asNumber: 65001 });
    assert.equal(byName.get('tor-b')?.action, 'create');
    const pool = byName.get('pool-a');
    assert.ok(pool?.action === 'delete');
    assert.equal(pool.resourceVersion, '14');
    const c2 = byName.get('compute-2');
    assert.ok(c2?.action === 'replace');
    assert.deepEqual((c2.resource as CalicoResource & { spec: { bgp: object } }).spec.bgp, { ipv4Address: '198.18.0.12/24' });
    assert.equal(byName.has('to-reflectors'), false, 'a selector peer is not the page’s to delete');
  });

  it("names each invalid field with the model's own message and plans nothing", () => {
    const s = snapshot();
    const f = readSettingsForm(s);
    const bad: SettingsForm = {
      ...f,
      asNumber: '4294967295',
      externalPeers: [
        { name: 'tor-a', peerIP: '198.18.0.300', asNumber: 'x', node: '', nodeSelector: '' },
        { name: 'tor-a', peerIP: '198.18.0.2', asNumber: '65000', node: '', nodeSelector: 'has(' },
      ],
      ipPools: [{ name: 'pool-a', cidr: '198.18.64.1/18', natOutgoing: false, disabled: false }],
      reflectorNodes: ['nope'],
    };
    const plan = planSettings(s, bad);
    assert.deepEqual(plan.ops, []);
    assert.deepEqual(plan.changes, []);
    const fields = new Map(plan.errors.map((e) => [e.field, e.message]));
    assert.equal(fields.get('asNumber'), 'must be between 1 and 4294967294');
    assert.equal(fields.get('externalPeers[0].peerIP'), 'must be an IP, "IPv4:port" or "[IPv6]:port"');
    assert.equal(fields.get('externalPeers[0].asNumber'), 'must be an AS number (plain or dotted)');
    assert.equal(fields.get('externalPeers[1].name'), 'another entry has this name');
    assert.ok(fields.has('externalPeers[1].nodeSelector'));
    assert.equal(fields.get('ipPools[0].cidr'), 'host bits set; did you mean 198.18.64.0/18?');
    assert.equal(fields.get('reflectorNodes'), 'no node is named "nope"');
    // The same messages as `brindle ctl apply` gives for the same values.
    assert.throws(
      () => validateResource({ apiVersion: API_VERSION, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 4294967295 } }),
      /must be between 1 and 4294967294/,
    );
    assert.equal(planSettings(s, { ...f, asNumber: '' }).errors[0]?.message, 'must be set');
    assert.equal(planSettings(s, { ...f, reflectorClusterId: 'x' }).errors[0]?.field, 'reflectorClusterId');
  });

  it('warns when hosts would have no way to reach each other', () => {
    const s = snapshot();
    const plan = planSettings(s, { ...readSettingsForm(s), mesh: false, reflectorNodes: [] });
    assert.equal(plan.errors.length, 0);
    assert.equal(plan.warnings.length, 1);
  });

  it('an absent BGPConfiguration with the defaults in the form writes nothing', () => {
    const s = { ...snapshot(), bgpConfigurations: [] };
    assert.deepEqual(planSettings(s, readSettingsForm(s)).ops, []);
    assert.deepEqual(
      planSettings(s, { ...readSettingsForm(s), asNumber: '65010' }).changes.map((c) => `${c.action} ${c.kind}`),
      ['create BGPConfiguration'],
    );
  });

  it('reflectors keep their own cluster ids unless one is typed in; a new reflector gets the typed one', () => {
    const s = snapshot();
    const nodes = [
      ...s.nodes,
      res<SettingsSnapshot['nodes'][number]>('Node', 'rack-b', { bgp: { ipv4Address: '198.18.1.2/24', routeReflectorClusterID: '224.0.0.2' } }, 17),
    ];
    const mixed = { ...s, nodes };
    const f = readSettingsForm(mixed);
    assert.deepEqual(f.reflectorIds, { 'compute-2': '224.0.0.1', 'rack-b': '224.0.0.2' });
    assert.deepEqual(
      planSettings(mixed, { ...f, ipv6: true }).changes.map((c) => `${c.kind} ${c.name}`),
      ['FelixConfiguration default'],
      'an unrelated change leaves every reflector as it is',
    );
    const added = planSettings(mixed, { ...f, reflectorNodes: [...f.reflectorNodes, 'compute-1'] });
    assert.deepEqual(
      added.changes.map((c) => [c.name, c.fields.map((x) => x.to)]),
      [['compute-1', ['"224.0.0.1"']]],
    );
    const typed = planSettings(mixed, { ...f, reflectorClusterId: '224.0.0.9' });
    assert.deepEqual(
      typed.changes.map((c) => c.name),
      ['compute-2', 'rack-b'],
    );
    // Someone else gives rack-b another id: that is a change to the settings the page loaded.
    const other = {
      ...mixed,
      nodes: [...s.nodes, res<SettingsSnapshot['nodes'][number]>('Node', 'rack-b', { bgp: { routeReflectorClusterID: '224.0.0.3' } }, 18)],
    };
    assert.deepEqual(settingsConflicts(f, readSettingsForm(other)), [
      {
        what: 'route reflectors',
        was: 'compute-2 (cluster 224.0.0.1), rack-b (cluster 224.0.0.2)',
        now: 'compute-2 (cluster 224.0.0.1), rack-b (cluster 224.0.0.3)',
      },
    ]);
  });

  it('names what someone else changed between two reads of the form', () => {
    const base = readSettingsForm(snapshot());
    const now = {
      ...base,
      asNumber: '64600',
      externalPeers: [...base.externalPeers, { name: 'x', peerIP: '198.18.0.9', asNumber: '1', node: '', nodeSelector: '' }],
    };
    assert.deepEqual(settingsConflicts(base, base), []);
    assert.deepEqual(settingsConflicts(base, now), [
      { what: 'AS number', was: '64512', now: '64600' },
      { what: 'external peer x', was: '(none)', now: '198.18.0.9 AS 1, from every node' },
    ]);
  });
});
