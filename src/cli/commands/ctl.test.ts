import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { startTestEtcd, type TestEtcd } from '../../datastore/testing/index.js';
import { realExec, realFs } from '../../lib/index.js';
import { runCli } from '../testing/run-cli.js';

const fs = realFs();
const BRINDLE = fileURLToPath(new URL('../../../../bin/brindle', import.meta.url));

/** The real command's environment: none of the caller's BRINDLE_* settings, and an empty config file. */
function cleanEnv(configFile: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BRINDLE_') && v !== undefined) env[k] = v;
  return { ...env, BRINDLE_CONFIG: configFile, ...extra };
}

const POLICIES = `
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: ossg.default.web, namespace: openstack}
spec:
  selector: has(sg.projectcalico.org/openstack-web)
  ingress: [{action: Allow, ipVersion: 4, protocol: TCP, destination: {ports: [80]}}]
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool-a}
spec: {cidr: 198.18.0.0/24}
---
# an empty document is skipped
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: node1-openstack-vm1-port1
  labels: {sg.projectcalico.org/openstack-web: web}
spec: {node: node1, orchestrator: openstack, workload: vm1, endpoint: port1, interfaceName: tapport1, ipNetworks: [198.18.0.5/32]}
`;

/** The same documents with one bad field in the third resource. */
const WITH_ONE_BAD = POLICIES.replace('ipNetworks: [198.18.0.5/32]', 'ipNetworks: [198.18.0.500/32]');

describe('brindle ctl (in-process, embedded store)', () => {
  let dir: string;
  let ds: string;
  before(async () => {
    dir = await fs.makeTempDir('brindle-ctl-');
    ds = `embedded:${dir}`;
  });
  after(async () => {
    await fs.remove(dir);
  });

  it('takes the datastore flags anywhere: before the command, between ctl and its subcommand, after it (the nearest wins)', async () => {
    const own = `embedded:${dir}/anywhere`;
    const pool = 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: anywhere}\nspec: {cidr: 198.18.99.0/24}\n';
    const applied = await runCli(['ctl', '--datastore', own, 'apply', '-f', 'a.yaml'], { files: { 'a.yaml': pool } });
    assert.equal(applied.code, 0, applied.err);
    for (const argv of [
      ['--datastore', own, 'ctl', 'get', 'ippool', 'anywhere'],
      ['ctl', 'get', 'ippool', 'anywhere', '--datastore', own],
      ['--datastore', `embedded:${dir}/elsewhere`, 'ctl', 'get', 'ippool', 'anywhere', '--datastore', own],
    ]) {
      const r = await runCli(argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.out, /198\.18\.99\.0\/24/);
    }
    assert.equal((await runCli(['--datastore', ds, 'ctl', 'get', 'ippool', 'anywhere'])).code, 1, 'another datastore has no such pool');
    // A command with no datastore to set (the lab runs its own) refuses them rather than ignoring them.
    const lab = await runCli(['--datastore', own, 'lab', 'status']);
    assert.equal(lab.code, 2);
    assert.match(lab.err, /lab status does not use --datastore/);
  });

  it('apply -f a multi-document file, then get in every format', async () => {
    const applied = await runCli(['ctl', 'apply', '-f', 'p.yaml', '--datastore', ds], { files: { 'p.yaml': POLICIES } });
    assert.equal(applied.code, 0, applied.err);
    assert.match(
      applied.out,
      /Successfully applied 3 resource\(s\): NetworkPolicy openstack\/ossg.default.web, IPPool pool-a, WorkloadEndpoint default\/node1-openstack-vm1-port1/,
    );
    const table = await runCli(['ctl', 'get', 'wep', '--datastore', ds]);
    assert.equal(
      table.out,
      'NAMESPACE   NAME                        WORKLOAD   NODE    NETWORKS        INTERFACE\ndefault     node1-openstack-vm1-port1   vm1        node1   198.18.0.5/32   tapport1\n',
    );
    const json = await runCli(['ctl', 'get', 'networkpolicy', 'ossg.default.web', '-n', 'openstack', '-o', 'json', '--datastore', ds]);
    const doc = JSON.parse(json.out) as { spec: unknown; metadata: { resourceVersion: string } };
    assert.deepEqual(doc.spec, {
      selector: 'has(sg.projectcalico.org/openstack-web)',
      ingress: [{ action: 'Allow', ipVersion: 4, protocol: 'TCP', destination: { ports: [80] } }],
    });
    assert.match(doc.metadata.resourceVersion, /^\d+$/);
    const yaml = await runCli(['ctl', 'get', 'ippools', '-o', 'yaml', '--datastore', ds]);
    const list = parseYaml(yaml.out) as { kind: string; items: { spec: { cidr: string } }[] };
    assert.equal(list.kind, 'IPPoolList');
    assert.equal(list.items[0]?.spec.cidr, '198.18.0.0/24');
  });

  it('create fails on an existing resource and writes none of the batch; --skip-exists skips it', async () => {
    const more = POLICIES.replace('pool-a', 'pool-b').replace('198.18.0.0/24', '198.18.1.0/24');
    const r = await runCli(['ctl', 'create', '-f', 'm.yaml', '--datastore', ds], { files: { 'm.yaml': more } });
    assert.equal(r.code, 1);
    assert.match(r.err, /already exists/);
    assert.equal((await runCli(['ctl', 'get', 'ippool', 'pool-b', '--datastore', ds])).code, 1, 'pool-b was not written');
    const skip = await runCli(['ctl', 'create', '--skip-exists', '-f', 'm.yaml', '--datastore', ds], { files: { 'm.yaml': more } });
    assert.equal(skip.code, 0, skip.err);
    assert.match(skip.out, /created 1 resource\(s\) \(2 skipped\): IPPool pool-b/);
  });

  it('replace needs the resource to exist; delete by name and by file', async () => {
    const missing = `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: pool-z}\nspec: {cidr: 198.18.9.0/24}\n`;
    const r = await runCli(['ctl', 'replace', '-f', 'z.yaml', '--datastore', ds], { files: { 'z.yaml': missing } });
    assert.equal(r.code, 1);
    assert.match(r.err, /IPPool pool-z not found/);
    assert.equal((await runCli(['ctl', 'delete', 'ippool', 'pool-b', '--datastore', ds])).code, 0);
    const byFile = await runCli(['ctl', 'delete', '-f', '-', '--datastore', ds], { stdin: POLICIES });
    assert.equal(byFile.code, 0, byFile.err);
    assert.match(byFile.out, /deleted 3 resource/);
    const again = await runCli(['ctl', 'delete', '-f', '-', '--datastore', ds], { stdin: POLICIES });
    assert.equal(again.code, 1);
    assert.equal((await runCli(['ctl', 'delete', '-f', '-', '--skip-not-exists', '--datastore', ds], { stdin: POLICIES })).code, 0);
  });

  it('rejects bad input with one line naming the problem, exit status 1 or 2', async () => {
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [['ctl', 'apply', '-f', 'x.yaml'], { 'x.yaml': 'kind: [unclosed' }, 1, /x\.yaml: document 1: not valid YAML or JSON at line 1/],
      [
        ['ctl', 'apply', '-f', 'x.yaml'],
        { 'x.yaml': '{"apiVersion":"projectcalico.org/v3","kind":"Gizmo","metadata":{"name":"g"},"spec":{}}' },
        1,
        /document 1 \(Gizmo g\): Unknown resource kind: Gizmo/,
      ],
      [['ctl', 'apply', '-f', 'x.yaml'], { 'x.yaml': '# nothing\n' }, 1, /no resources found/],
      [['ctl', 'apply', '-f', 'missing.yaml'], {}, 1, /missing\.yaml: document 0: cannot be read/],
      [['ctl', 'apply'], {}, 2, /required option '-f, --filename/],
      [['ctl', 'get', 'widgets'], {}, 2, /Unknown resource kind: widgets/],
      [['ctl', 'get', 'ippool', '-o', 'xml'], {}, 2, /argument 'xml' is invalid/],
      [['ctl', 'delete'], {}, 2, /give either -f FILE or KIND NAME/],
      [['ctl', 'get', 'ippool', '--datastore', 'mysql:x'], {}, 2, /unknown datastore "mysql"/],
      [['ctl', 'get', 'ippool', '--log-level', 'loud'], {}, 2, /--log-level must be one of/],
      [['ctl', 'nonsense'], {}, 2, /unknown command 'nonsense'/],
    ];
    for (const [argv, files, code, pattern] of cases) {
      const r = await runCli([...argv, ...(argv.includes('--datastore') ? [] : ['--datastore', ds])], { files });
      assert.equal(r.code, code, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.err, pattern, argv.join(' '));
      assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    }
  });

  it('takes settings from flag, then environment, then config file', async () => {
    const other = await fs.makeTempDir('brindle-ctl-other-');
    try {
      const files = {
        'cfg.yaml': `datastore: embedded:${other}\n`,
        'pool.yaml': 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: from-config}\nspec: {cidr: 198.19.0.0/24}\n',
      };
      assert.equal((await runCli(['ctl', 'apply', '-f', 'pool.yaml', '--config', 'cfg.yaml'], { files })).code, 0);
      const viaEnvConfig = await runCli(['ctl', 'get', 'ippool'], { files, env: { BRINDLE_CONFIG: 'cfg.yaml' } });
      assert.match(viaEnvConfig.out, /from-config/);
      const envBeatsFile = await runCli(['ctl', 'get', 'ippool'], { files, env: { BRINDLE_CONFIG: 'cfg.yaml', BRINDLE_DATASTORE: ds } });
      assert.doesNotMatch(envBeatsFile.out, /from-config/);
      const flagBeatsEnv = await runCli(['ctl', 'get', 'ippool', '--datastore', `embedded:${other}`], { files, env: { BRINDLE_DATASTORE: ds } });
      assert.match(flagBeatsEnv.out, /from-config/);
      const bad = await runCli(['ctl', 'get', 'ippool', '--config', 'bad.yaml'], { files: { 'bad.yaml': 'datastor: x\n' } });
      assert.equal(bad.code, 2);
      assert.match(bad.err, /Invalid config file bad\.yaml: \(top level\): Unrecognized key: "datastor"/);
    } finally {
      await fs.remove(other);
    }
  });
});

describe('brindle ctl (the real command, real etcd)', () => {
  let etcd: TestEtcd;
  let kv: KvStore;
  let dir: string;
  before(async () => {
    etcd = await startTestEtcd();
    kv = await openDatastore(etcd.config);
    dir = await fs.makeTempDir('brindle-ctl-etcd-');
    await fs.writeTextAtomic(join(dir, 'empty-config.yaml'), '');
  });
  after(async () => {
    await kv?.close();
    await etcd?.stop();
    await fs.remove(dir);
  });

  it('apply -f with one invalid document writes nothing and names the document and field', async () => {
    await fs.writeTextAtomic(join(dir, 'bad.yaml'), WITH_ONE_BAD);
    const before = await kv.revision();
    const r = await realExec().run(BRINDLE, ['ctl', 'apply', '-f', join(dir, 'bad.yaml'), '--datastore', `etcd:${etcd.endpoint}`], {
      env: cleanEnv(join(dir, 'empty-config.yaml')),
    });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `brindle: ${join(dir, 'bad.yaml')}: document 3 (WorkloadEndpoint default/node1-openstack-vm1-port1): spec.ipNetworks[0]: must be a CIDR (address/prefix) or an address; nothing was written`,
    );
    assert.equal(await kv.revision(), before, 'the datastore is unchanged');
    assert.deepEqual((await kv.list('/calico/')).items, []);
  });

  it('apply -f of the valid file writes every resource where Calico keeps it', async () => {
    await fs.writeTextAtomic(join(dir, 'good.yaml'), POLICIES);
    const r = await realExec().run(BRINDLE, ['ctl', 'apply', '-f', join(dir, 'good.yaml')], {
      env: cleanEnv(join(dir, 'empty-config.yaml'), { BRINDLE_DATASTORE: `etcd:${etcd.endpoint}` }),
    });
    assert.equal(r.code, 0, r.stderr);
    const keys = (await kv.list('/calico/resources/v3/projectcalico.org/')).items.map((i) => i.key);
    assert.deepEqual(keys, [
      '/calico/resources/v3/projectcalico.org/ippools/pool-a',
      '/calico/resources/v3/projectcalico.org/networkpolicies/openstack/ossg.default.web',
      '/calico/resources/v3/projectcalico.org/workloadendpoints/default/node1-openstack-vm1-port1',
    ]);
    const listed = await realExec().run(BRINDLE, ['ctl', 'get', 'networkpolicies', '-o', 'wide', '--datastore', `etcd:${etcd.endpoint}`], {
      env: cleanEnv(join(dir, 'empty-config.yaml')),
    });
    assert.match(listed.stdout, /openstack\s+ossg\.default\.web\s+has\(sg\.projectcalico\.org\/openstack-web\)/);
  });
});
