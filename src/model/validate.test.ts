import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from './errors.js';
import { kindInfo } from './kinds.js';
import { validateKind, validateResource } from './validate.js';

// reference/networking-calico.md §1.6 (uid and creationTimestamp filled in where it elides them).
const WEP_EXAMPLE = {
  apiVersion: 'projectcalico.org/v3',
  kind: 'WorkloadEndpoint',
  metadata: {
    name: 'felix--host--1-openstack-instance--1-DEADBEEF--1234--5678',
    namespace: 'openstack',
    annotations: { 'openstack.projectcalico.org/network-id': 'calico-network-id' },
    labels: {
      'sg.projectcalico.org/openstack-SGID-default': 'My_default_SG',
      'sg-name.projectcalico.org/openstack-My_default_SG': 'SGID-default',
      'projectcalico.org/namespace': 'openstack',
      'projectcalico.org/orchestrator': 'openstack',
      'projectcalico.org/openstack-project-id': 'jane3',
      'projectcalico.org/openstack-project-name': 'pname_jane3',
      'projectcalico.org/openstack-project-parent-id': 'gibson',
      'projectcalico.org/openstack-network-name': 'calico-network-name',
    },
    uid: '3f1f1b7e-5c1a-4c58-9a55-0c6c2f1d2d11',
    creationTimestamp: '2026-11-23T01:00:00Z',
  },
  spec: {
    orchestrator: 'openstack',
    workload: 'instance-1',
    node: 'felix-host-1',
    endpoint: 'DEADBEEF-1234-5678',
    interfaceName: 'tapDEADBEEF-12',
    mac: '00:11:22:33:44:55',
    ipNetworks: ['10.65.0.2/32', '23.23.23.2/32'],
    allowedIps: ['23.23.23.2/32'],
    ipv4Gateway: '10.65.0.1',
    ipNATs: [{ internalIP: '10.65.0.2', externalIP: '192.168.0.1' }],
  },
};

// reference/networking-calico.md §1.7, the default security group.
const POLICY_EXAMPLE = {
  kind: 'NetworkPolicy',
  apiVersion: 'projectcalico.org/v3',
  metadata: { name: 'ossg.default.SGID-default', namespace: 'openstack', uid: 'b2c4', creationTimestamp: '2026-11-23T01:00:00Z' },
  spec: {
    selector: 'has(sg.projectcalico.org/openstack-SGID-default)',
    ingress: [
      { action: 'Allow', ipVersion: 4, source: { selector: 'has(sg.projectcalico.org/openstack-SGID-default)' } },
      { action: 'Allow', ipVersion: 6, source: { selector: 'has(sg.projectcalico.org/openstack-SGID-default)' } },
    ],
    egress: [
      { action: 'Allow', ipVersion: 4 },
      { action: 'Allow', ipVersion: 6 },
    ],
  },
};

// §1.7's rule examples (TCP 25-34 from/to 1.2.3.0/24), plus the numeric-protocol form real neutron-lib gives.
const RULE_EXAMPLES = [
  { action: 'Allow', ipVersion: 4, protocol: 'TCP', source: { nets: ['1.2.3.0/24'] }, destination: { ports: ['25:34'] } },
  { action: 'Allow', ipVersion: 4, protocol: 'TCP', destination: { nets: ['1.2.3.0/24'], ports: ['25:34'] } },
  { action: 'Allow', ipVersion: 4, protocol: 6, destination: { ports: [22] } },
  { action: 'Allow', ipVersion: 4, protocol: 'ICMP', icmp: { type: 8, code: 0 } },
  { action: 'Allow', ipVersion: 6, protocol: 'ICMPv6', icmp: { type: 128 } },
];

describe('validateResource round trips', () => {
  it('the §1.6 WorkloadEndpoint parses, validates and serialises back unchanged', () => {
    const parsed = validateKind('WorkloadEndpoint', structuredClone(WEP_EXAMPLE));
    assert.deepEqual(JSON.parse(JSON.stringify(parsed)), WEP_EXAMPLE);
    assert.equal(parsed.spec.interfaceName, 'tapDEADBEEF-12');
  });

  it('the §1.7 NetworkPolicy parses, validates and serialises back unchanged', () => {
    const parsed = validateResource(structuredClone(POLICY_EXAMPLE));
    assert.deepEqual(JSON.parse(JSON.stringify(parsed)), POLICY_EXAMPLE);
  });

  it('the §1.7 rule examples are valid rules', () => {
    const doc = structuredClone(POLICY_EXAMPLE);
    (doc.spec as { ingress: unknown[] }).ingress = RULE_EXAMPLES;
    const parsed = validateResource(doc);
    assert.deepEqual(JSON.parse(JSON.stringify(parsed)), doc);
  });

  it('FelixConfiguration keeps fields Brindle does not interpret', () => {
    const doc = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'FelixConfiguration',
      metadata: { name: 'default' },
      spec: { endpointReportingEnabled: true, interfacePrefix: 'cali,tap', bpfEnabled: false },
    };
    assert.deepEqual(JSON.parse(JSON.stringify(validateResource(doc))), doc);
  });
});

function issuesOf(doc: unknown): { path: string; message: string }[] {
  try {
    validateResource(doc);
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    assert.equal(err.status, 400);
    return [...err.issues];
  }
  assert.fail('expected a ValidationError');
}

function withRule(rule: unknown): unknown {
  const doc = structuredClone(POLICY_EXAMPLE) as { spec: { ingress: unknown[] } };
  doc.spec.ingress = [rule];
  return doc;
}

describe('validateResource rejects with field paths', () => {
  const cases: [string, unknown, string, string][] = [
    ['unknown kind', { ...POLICY_EXAMPLE, kind: 'Gadget' }, '', ''],
    ['wrong apiVersion', { ...POLICY_EXAMPLE, apiVersion: 'v1' }, 'apiVersion', 'projectcalico.org/v3'],
    ['bad action', withRule({ action: 'Permit' }), 'spec.ingress[0].action', 'Invalid option'],
    ['bad protocol', withRule({ action: 'Allow', protocol: 'TCPX' }), 'spec.ingress[0].protocol', 'must be one of'],
    ['ports without protocol', withRule({ action: 'Allow', destination: { ports: [80] } }), 'spec.ingress[0].destination.ports', 'require protocol'],
    ['bad port range', withRule({ action: 'Allow', protocol: 'TCP', destination: { ports: ['90:80'] } }), 'spec.ingress[0].destination.ports[0]', 'min:max'],
    ['icmp with TCP', withRule({ action: 'Allow', protocol: 'TCP', icmp: { type: 8 } }), 'spec.ingress[0].icmp', 'require protocol ICMP'],
    ['icmp code without type', withRule({ action: 'Allow', protocol: 'ICMP', icmp: { code: 1 } }), 'spec.ingress[0].icmp.code', 'requires a type'],
    ['family mismatch', withRule({ action: 'Allow', ipVersion: 6, source: { nets: ['10.0.0.0/8'] } }), 'spec.ingress[0].source.nets[0]', 'not an IPv6 network'],
    ['bad CIDR', withRule({ action: 'Allow', source: { nets: ['10.0.0.0/33'] } }), 'spec.ingress[0].source.nets[0]', 'CIDR'],
    ['bad selector', withRule({ action: 'Allow', source: { selector: 'has(a' } }), 'spec.ingress[0].source.selector', 'position 5'],
    ['unknown field', withRule({ action: 'Allow', colour: 'red' }), 'spec.ingress[0]', 'colour'],
    ['bad label key', { ...POLICY_EXAMPLE, metadata: { ...POLICY_EXAMPLE.metadata, labels: { 'a b': 'x' } } }, 'metadata.labels["a b"]', 'label key'],
    ['missing name', { ...POLICY_EXAMPLE, metadata: { namespace: 'openstack' } }, 'metadata.name', ''],
    ['bad MAC', { ...WEP_EXAMPLE, spec: { ...WEP_EXAMPLE.spec, mac: '00:11:22' } }, 'spec.mac', 'MAC'],
    ['long interface', { ...WEP_EXAMPLE, spec: { ...WEP_EXAMPLE.spec, interfaceName: 'tap0123456789abcdef' } }, 'spec.interfaceName', '15'],
  ];
  for (const [title, doc, path, fragment] of cases) {
    it(title, () => {
      if (title === 'unknown kind') {
        assert.throws(() => validateResource(doc), /Unknown resource kind: Gadget/);
        return;
      }
      const issues = issuesOf(doc);
      const hit = issues.find((i) => i.path === path);
      assert.ok(hit, `no issue at ${path}: ${JSON.stringify(issues)}`);
      assert.ok(hit.message.includes(fragment), `${hit.message} should mention ${fragment}`);
    });
  }

  it('the error message names the first field and counts the rest', () => {
    const doc = withRule({ action: 'Nope', protocol: 'bogus' });
    assert.throws(() => validateResource(doc), /^ValidationError|Invalid NetworkPolicy: spec\.ingress\[0\]\.action: .* \(and 1 more\)$/);
  });
});

// Calico's v3 CalicoNodeStatus (api/pkg/apis/projectcalico/v3/caliconodestatus.go), as a node
// agent writes it back, plus Brindle's `info` on peers.
const NODE_STATUS_EXAMPLE = {
  apiVersion: 'projectcalico.org/v3',
  kind: 'CalicoNodeStatus',
  metadata: { name: 'compute1' },
  spec: { node: 'compute1', classes: ['Agent', 'BGP', 'Routes'], updatePeriodSeconds: 10 },
  status: {
    lastUpdated: '2026-12-06T03:01:05Z',
    agent: {
      birdV4: {
        state: 'Ready',
        version: 'v2.0.12',
        routerID: '198.19.0.1',
        lastBootTime: '2026-12-06 03:00:01',
        lastReconfigurationTime: '2026-12-06 03:00:59',
      },
    },
    bgp: {
      numberEstablishedV4: 1,
      numberEstablishedV6: 0,
      numberNotEstablishedV4: 1,
      numberNotEstablishedV6: 1,
      peersV4: [
        { peerIP: '198.19.0.2', type: 'NodeMesh', state: 'Established', since: '2026-12-06 03:01:02', info: 'Established' },
        { peerIP: '198.19.0.3', type: 'GlobalPeer', state: 'Active', since: '2026-12-06 03:00:01', info: 'Active Socket: Connection refused' },
      ],
      peersV6: [{ peerIP: '2001:db8::3', type: 'RouteReflector', state: 'Connect' }],
    },
    routes: {
      routesV4: [
        { type: 'FIB', destination: '198.19.5.0/24', gateway: '198.19.0.2', interface: 'eth0', learnedFrom: { sourceType: 'NodeMesh', peerIP: '198.19.0.2' } },
        { type: 'RIB', destination: '198.19.6.0/24', gateway: 'N/A', interface: 'blackhole' },
      ],
    },
  },
};

describe('CalicoNodeStatus', () => {
  it('a full status round trips; a spec-only resource is valid too', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(validateResource(structuredClone(NODE_STATUS_EXAMPLE)))), NODE_STATUS_EXAMPLE);
    const { status: _status, ...specOnly } = structuredClone(NODE_STATUS_EXAMPLE);
    assert.deepEqual(validateKind('CalicoNodeStatus', specOnly), specOnly);
  });

  it('kinds without status still reject one', () => {
    const pool = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '198.18.0.0/24' }, status: {} };
    assert.ok(issuesOf(pool).some((i) => i.message.includes('status')));
  });

  const bad = (edit: (doc: typeof NODE_STATUS_EXAMPLE) => void): unknown => {
    const doc = structuredClone(NODE_STATUS_EXAMPLE);
    edit(doc);
    return doc;
  };
  const cases: [string, unknown, string][] = [
    ['unknown class', bad((d) => ((d.spec.classes as unknown[])[0] = 'Disks')), 'spec.classes[0]'],
    ['negative period', bad((d) => (d.spec.updatePeriodSeconds = -1)), 'spec.updatePeriodSeconds'],
    ['lastUpdated not RFC 3339', bad((d) => (d.status.lastUpdated = '2026-12-06 03:01:05')), 'status.lastUpdated'],
    ['bad peer state', bad((d) => ((d.status.bgp.peersV4[0] as { state: string }).state = 'Up')), 'status.bgp.peersV4[0].state'],
    ['bad peer type', bad((d) => ((d.status.bgp.peersV4[0] as { type: string }).type = 'Mesh')), 'status.bgp.peersV4[0].type'],
    ['bad peer IP', bad((d) => ((d.status.bgp.peersV6[0] as { peerIP: string }).peerIP = '2001:db8::zz')), 'status.bgp.peersV6[0].peerIP'],
    ['missing count', bad((d) => delete (d.status.bgp as { numberEstablishedV6?: number }).numberEstablishedV6), 'status.bgp.numberEstablishedV6'],
    ['bad bird state', bad((d) => ((d.status.agent.birdV4 as { state: string }).state = 'Up')), 'status.agent.birdV4.state'],
    ['unknown status field', bad((d) => ((d.status as Record<string, unknown>)['colour'] = 'red')), 'status'],
  ];
  for (const [title, doc, path] of cases) {
    it(title, () => {
      const issues = issuesOf(doc);
      assert.ok(
        issues.some((i) => i.path === path),
        `no issue at ${path}: ${JSON.stringify(issues)}`,
      );
    });
  }

  it('is known by its plural and aliases', () => {
    for (const name of ['CalicoNodeStatus', 'caliconodestatuses', 'caliconodestatus', 'cns']) assert.equal(kindInfo(name).kind, 'CalicoNodeStatus');
    assert.equal(kindInfo('cns').namespaced, false);
  });
});
