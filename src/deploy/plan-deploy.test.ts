import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploySettingsSchema } from './deploy-settings.js';
import { inventorySchema } from './inventory.js';
import { BRINDLE_CONFIG, BRINDLE_DEFAULTS, planDeploy } from './plan-deploy.js';
import { loadDeployFiles } from './load-deploy-files.js';
import { DeployInputError } from './errors.js';
import { parsePolicy } from './step-packages.js';

const inventory = (machines: unknown[]) => inventorySchema.parse({ machines });
const settings = (s: unknown = {}) => deploySettingsSchema.parse(s);

const CLOUD = [
  { name: 'ctl1', address: '198.18.0.11', roles: ['controller'] },
  { name: 'cmp1', address: '198.18.0.12', roles: ['compute'] },
  { name: 'cmp2', address: '198.18.0.13', roles: ['compute'], bgpInterface: 'eth1' },
];

const file = (plan: ReturnType<typeof planDeploy>, machine: string, path: string): string => {
  const f = plan.machines.find((m) => m.machine.name === machine)?.files.find((x) => x.path === path);
  if (f === undefined) throw new Error(`${machine} has no ${path}`);
  return f.content;
};

describe('planDeploy', () => {
  it('puts etcd and the API on the controller and the agent on computes, one datastore for all', () => {
    const plan = planDeploy(inventory(CLOUD), settings());
    assert.equal(plan.datastore, 'etcd:http://198.18.0.11:2379');
    assert.deepEqual(
      plan.etcdMembers.map((m) => m.name),
      ['ctl1'],
    );
    const byName = new Map(plan.machines.map((m) => [m.machine.name, m]));
    assert.deepEqual(byName.get('ctl1')?.packages, ['brindle', 'etcd-server']);
    assert.deepEqual(byName.get('cmp1')?.packages, ['brindle']);
    assert.deepEqual(
      byName.get('ctl1')?.services.map((s) => s.unit),
      ['brindle-api.service', 'brindle-console.service'],
    );
    assert.match(file(plan, 'ctl1', BRINDLE_DEFAULTS), /^BRINDLE_CONSOLE_ARGS="--listen 127\.0\.0\.1:9797"$/m);
    assert.match(file(plan, 'cmp1', BRINDLE_DEFAULTS), /^BRINDLE_CONSOLE_ARGS=""$/m);
    assert.deepEqual(
      byName.get('cmp1')?.services.map((s) => s.unit),
      ['brindle-node.service'],
    );
    assert.match(byName.get('ctl1')?.etcdFiles[0]?.content ?? '', /ETCD_INITIAL_CLUSTER="ctl1=http:\/\/198\.18\.0\.11:2380"/);
    assert.equal(byName.get('cmp1')?.etcdFiles.length, 0);
    for (const m of ['ctl1', 'cmp1', 'cmp2']) {
      assert.match(file(plan, m, BRINDLE_CONFIG), /datastore: etcd:http:\/\/198\.18\.0\.11:2379/);
      assert.match(file(plan, m, BRINDLE_CONFIG), new RegExp(`hostname: ${m}`));
    }
    // Without Keystone the API answers anyone, so it stays on the controller's loopback.
    assert.match(file(plan, 'ctl1', BRINDLE_DEFAULTS), /BRINDLE_API_ARGS="--workers 1 --listen 127\.0\.0\.1:9696"/);
    assert.match(file(plan, 'cmp1', BRINDLE_DEFAULTS), /--bgp-address 198\.18\.0\.12/);
    assert.match(file(plan, 'cmp2', BRINDLE_DEFAULTS), /--bgp-interface eth1/);
  });

  it('makes the mesh, pools and peers the settings ask for', () => {
    const plan = planDeploy(
      inventory(CLOUD),
      settings({
        asNumber: 65001,
        externalPeers: [{ name: 'border', address: '198.19.0.1', asNumber: 65000 }],
        ipPools: [{ cidr: '198.18.64.0/20', natOutgoing: true }],
      }),
    );
    const kinds = plan.resources.map((r) => `${r.kind}/${r.metadata.name}`);
    assert.deepEqual(kinds, ['BGPConfiguration/default', 'FelixConfiguration/default', 'BGPPeer/external-border', 'IPPool/pool-198-18-64-0-20']);
    assert.deepEqual(plan.resources[0]?.spec, { asNumber: 65001, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info' });
    assert.deepEqual(plan.resources[3]?.spec, { cidr: '198.18.64.0/20', natOutgoing: true });
  });

  it('route reflectors: reflectors get the cluster id (BGP only unless also computes), the mesh goes off', () => {
    const plan = planDeploy(
      inventory([...CLOUD, { name: 'rr1', address: '198.18.0.21', roles: ['route-reflector'] }]),
      settings({ bgp: { topology: 'route-reflectors', clusterId: '224.0.0.2' } }),
    );
    assert.match(file(plan, 'rr1', BRINDLE_DEFAULTS), /--route-reflector-cluster-id 224\.0\.0\.2 --bgp-only/);
    assert.doesNotMatch(file(plan, 'cmp1', BRINDLE_DEFAULTS), /route-reflector/);
    assert.equal(plan.resources[0]?.spec['nodeToNodeMeshEnabled'], false);
  });

  it('three etcd members form one cluster; with Keystone the API listens everywhere and checks tokens', () => {
    const three = [
      { name: 'ctl1', address: '198.18.0.11', roles: ['controller'] },
      { name: 'ctl2', address: '198.18.0.12', roles: ['controller'] },
      { name: 'ctl3', address: '198.18.0.13', roles: ['controller'] },
      { name: 'cmp1', address: '198.18.0.14', roles: ['compute'] },
    ];
    const plan = planDeploy(inventory(three), settings({ keystone: { url: 'http://198.18.0.11:5000/v3', username: 'neutron', password: 'pw' } }));
    assert.equal(plan.datastore, 'etcd:http://198.18.0.11:2379,http://198.18.0.12:2379,http://198.18.0.13:2379');
    assert.match(
      plan.machines[1]?.etcdFiles[0]?.content ?? '',
      /ETCD_INITIAL_CLUSTER="ctl1=http:\/\/198\.18\.0\.11:2380,ctl2=http:\/\/198\.18\.0\.12:2380,ctl3=http:\/\/198\.18\.0\.13:2380"/,
    );
    assert.match(file(plan, 'ctl2', BRINDLE_DEFAULTS), /--listen 0\.0\.0\.0:9696 --auth keystone/);
    assert.match(file(plan, 'ctl2', BRINDLE_CONFIG), /keystonePassword: pw/);
    assert.doesNotMatch(file(plan, 'cmp1', BRINDLE_CONFIG), /keystone/, 'computes do not get the service password');
    assert.equal(plan.primary.name, 'ctl1');
  });
});

describe('planDeploy with etcd TLS and a retired machine', () => {
  it('etcd speaks TLS to clients and peers; every process gets the client files; a retired machine gets nothing', () => {
    const client = { cert: '-----BEGIN CERTIFICATE-----\nclient\n', key: '-----BEGIN PRIVATE KEY-----\nclient-key\n' };
    const tls = { ca: '-----BEGIN CERTIFICATE-----\nca\n', cert: '-----BEGIN CERTIFICATE-----\ncert\n', key: '-----BEGIN PRIVATE KEY-----\nkey\n', client };
    const plan = planDeploy(inventory([...CLOUD, { name: 'cmp9', address: '198.18.0.19', roles: ['compute'], retire: true }]), settings(), tls);
    assert.equal(plan.datastore, 'etcd:https://198.18.0.11:2379');
    assert.deepEqual(
      plan.retired.map((m) => m.name),
      ['cmp9'],
    );
    assert.ok(!plan.machines.some((m) => m.machine.name === 'cmp9'));
    const etcd = plan.machines[0]?.etcdFiles.find((f) => f.path === '/etc/default/etcd')?.content ?? '';
    assert.match(etcd, /ETCD_CLIENT_CERT_AUTH="true"/);
    assert.match(etcd, /ETCD_PEER_CLIENT_CERT_AUTH="true"/);
    assert.match(etcd, /ETCD_LISTEN_CLIENT_URLS="https:\/\/198\.18\.0\.11:2379,https:\/\/127\.0\.0\.1:2379"/);
    const key = plan.machines[1]?.files.find((f) => f.path === '/etc/brindle/etcd-key.pem');
    assert.deepEqual([key?.mode, key?.group, key?.content], ['0640', 'brindle', client.key], "computes get the client key, not the members'");
    assert.equal(plan.machines[0]?.etcdFiles.find((f) => f.path.endsWith('brindle-key.pem'))?.content, tls.key, 'the member has its own key');
    assert.match(file(plan, 'cmp1', BRINDLE_CONFIG), /etcdCertFile: \/etc\/brindle\/etcd-cert\.pem/);
    assert.match(plan.etcdctlFlags, /--cacert=\/etc\/brindle\/etcd-ca\.pem/);
  });
});

describe('the inventory and settings files', () => {
  const files = (inv: string, set: string) => (path: string) => Promise.resolve(path === 'inv.yaml' ? inv : set);
  const refusal = async (inv: string, set: string): Promise<DeployInputError> => {
    try {
      await loadDeployFiles(files(inv, set), 'inv.yaml', 'set.yaml');
    } catch (err) {
      if (err instanceof DeployInputError) return err;
      throw err;
    }
    throw new Error('accepted');
  };
  const inv = 'machines:\n  - { name: ctl1, address: 198.18.0.11, roles: [controller] }\n';

  it('names the file and the field of the first problem', async () => {
    assert.equal((await refusal(inv, 'asNumber: 4294967295\n')).message, 'set.yaml: asNumber: must be at most 4294967294');
    assert.equal((await refusal(inv, 'asNumber: 0\n')).message, 'set.yaml: asNumber: must be at least 1');
    assert.equal((await refusal(inv, 'bgp: { clusterId: 2001:db8::1 }\n')).field, 'bgp.clusterId');
    assert.equal((await refusal(inv, 'ipPools: [{ cidr: 198.18.0.0/33 }]\n')).field, 'ipPools.0.cidr');
    assert.equal((await refusal(inv, 'etcd: { members: [nope] }\n')).message, 'set.yaml: etcd.members.0: nope is not a machine of the inventory');
    assert.equal((await refusal(inv, 'bgp: { topology: route-reflectors }\n')).field, 'bgp.topology');
    assert.equal((await refusal(inv, 'colour: blue\n')).message, 'set.yaml: Unrecognized key: "colour"');
    assert.equal((await refusal('machines:\n  - { name: cmp1, address: 198.18.0.12, roles: [compute] }\n', '')).field, 'machines');
    assert.equal((await refusal('machines:\n  - { name: Ctl_1, address: 198.18.0.12, roles: [controller] }\n', '')).field, 'machines.0.name');
    assert.equal((await refusal('machines:\n  - { name: ctl1, address: 198.18.0.300, roles: [controller] }\n', '')).field, 'machines.0.address');
    assert.match((await refusal('machines: [\n', '')).message, /^inv\.yaml: not valid YAML/);
  });

  it('resolves the package directory against the settings file', async () => {
    const r = await loadDeployFiles(files(inv, 'packages: { directory: pkgs }\n'), 'inv.yaml', '/srv/cloud/set.yaml');
    assert.equal(r.packageDir, '/srv/cloud/pkgs');
    assert.equal(r.settings.asNumber, 64512, 'the default AS');
  });
});

describe('parsePolicy', () => {
  it("reads apt-cache policy's installed and candidate versions", () => {
    const text = [
      'brindle:',
      '  Installed: (none)',
      '  Candidate: 0.1.0+git20261207.abc',
      '  Version table:',
      '     0.1.0+git20261207.abc 500',
      'etcd-server:',
      '  Installed: 3.4.23-4+b4',
      '  Candidate: 3.4.23-4+b4',
    ].join('\n');
    assert.deepEqual(
      [...parsePolicy(text)],
      [
        ['brindle', { installed: '(none)', candidate: '0.1.0+git20261207.abc' }],
        ['etcd-server', { installed: '3.4.23-4+b4', candidate: '3.4.23-4+b4' }],
      ],
    );
  });
});
