// The Fuel 6.1 plugin: written valid, every fpb 2.0 check catching what it should, built as fpb
// --build builds it, the Fuel node YAML read as brindle deploy's inventory and settings, and
// the plugin's deployment script run for real on a simulated Fuel node.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { stringify as toYaml, parse as parseYaml } from 'yaml';
import { realExec, realFs } from '../../lib/index.js';
import { trackTempDir, untrackTempDir } from '../../lib/testing.js';
import { DeployInputError } from '../errors.js';
import { startTestFabric, type TestFabric } from '../testing/test-machines.js';
import { makeTestPackageDir } from '../testing/test-package-dir.js';
import { ensureTestRootfs } from '../testing/test-rootfs.js';
import { buildFuelPlugin, writeFuelPlugin } from './build-fuel-plugin.js';
import { pluginDirName } from './fuel-plugin-files.js';
import { fromFuel, PLUGIN_NAME } from './fuel-settings.js';
import { validateFuelPlugin } from './validate-fuel-plugin.js';

const VERSION = '0.1.0';
const log = (line: string): void => {
  process.stderr.write(`[fuel-plugin ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

const NODE_1 = [
  { uid: '1', name: 'node-1', fqdn: 'node-1.domain.tld', role: 'primary-controller', internal_address: '198.18.0.21' },
  { uid: '1', name: 'node-1', fqdn: 'node-1.domain.tld', role: 'compute', internal_address: '198.18.0.21' },
];
const OTHERS = [
  { uid: '2', name: 'node-2', fqdn: 'node-2.domain.tld', role: 'compute', internal_address: '198.18.0.22' },
  { uid: '3', name: 'node-3', fqdn: 'node-3.domain.tld', role: 'cinder', internal_address: '198.18.0.23' },
];

/** A Fuel 6.1 node's YAML: its cluster's nodes (once per role) and the plugin's values. */
const astute = (values: Record<string, unknown> = {}, nodes: readonly object[] = [...NODE_1, ...OTHERS]): string =>
  toYaml({ fqdn: 'node-1.domain.tld', role: 'primary-controller', nodes, [PLUGIN_NAME]: { metadata: { enabled: true }, ...values } });

describe('the Fuel 6.1 plugin', { timeout: 900_000 }, () => {
  const exec = realExec();
  const fs = realFs();
  const io = { exec, fs };
  let dir = '';

  before(async () => {
    dir = await fs.makeTempDir('brindle-fuel-plugin-test-');
    trackTempDir(dir);
  });
  after(async () => {
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  const fresh = async (name: string): Promise<string> => {
    const p = join(dir, name);
    await writeFuelPlugin(io, p, VERSION);
    return p;
  };
  const validate = (p: string): Promise<string[]> =>
    validateFuelPlugin(p, { read: async (f) => (fs.exists(f) ? fs.readText(f) : undefined), exists: (f) => fs.exists(f) });
  /** Rewrites one YAML file of a plugin through `change`. */
  const edit = async (p: string, file: string, change: (doc: Record<string, unknown>) => void): Promise<void> => {
    const doc = parseYaml(await fs.readText(join(p, file))) as Record<string, unknown>;
    change(doc);
    await fs.writeTextAtomic(join(p, file), toYaml(doc));
  };

  it('is written valid by the fpb 2.0 rules', async () => {
    assert.deepEqual(await validate(await fresh('valid')), []);
  });

  it('each fpb check catches what it should, with the file and the value path', async () => {
    const cases: [string, string, (doc: Record<string, unknown>) => void, RegExp][] = [
      [
        'stage',
        'tasks.yaml',
        (d) => ((d as unknown as { stage: string }[])[0]!.stage = 'post_deploy'),
        /tasks\.yaml', .*stage pattern.*value path '0 -> stage'/,
      ],
      ['type', 'tasks.yaml', (d) => ((d as unknown as { type: string }[])[1]!.type = 'ansible'), /value path '1 -> type'/],
      ['cmd', 'tasks.yaml', (d) => delete (d as unknown as { parameters: { cmd?: string } }[])[0]!.parameters.cmd, /value path '0 -> parameters -> cmd'/],
      ['name', 'metadata.yaml', (d) => (d['name'] = 'Brindle Plugin'), /does not match '\^\[a-z0-9_-\]\+\$', value path 'name'/],
      ['package', 'metadata.yaml', (d) => (d['package_version'] = '3.0.0'), /value path 'package_version'/],
      ['groups', 'metadata.yaml', (d) => (d['groups'] = ['network', 'network']), /non-unique/],
      ['fuel', 'metadata.yaml', (d) => (d['fuel_version'] = ['6.0']), /not compatible with 6\.0 Fuel release/],
      [
        'weight',
        'environment_config.yaml',
        (d) => ((d['attributes'] as Record<string, { weight: unknown }>)['as_number']!.weight = 'ten'),
        /value path 'attributes -> as_number -> weight'/,
      ],
      [
        'as',
        'environment_config.yaml',
        (d) => ((d['attributes'] as Record<string, { value: unknown }>)['as_number']!.value = '0'),
        /Invalid AS number.*'0', value path 'attributes -> as_number -> value'/,
      ],
      [
        'as-big',
        'environment_config.yaml',
        (d) => ((d['attributes'] as Record<string, { value: unknown }>)['as_number']!.value = '4294967295'),
        /Invalid AS number/,
      ],
    ];
    for (const [name, file, change, expected] of cases) {
      const p = await fresh(`bad-${name}`);
      await edit(p, file, change);
      const errors = await validate(p);
      assert.ok(
        errors.some((e) => expected.test(e)),
        `${name}: ${errors.join(' | ')}`,
      );
    }
    const noRepo = await fresh('no-repo');
    await fs.remove(join(noRepo, 'repositories', 'ubuntu'));
    assert.ok((await validate(noRepo)).some((e) => /repository_path 'repositories\/ubuntu' of release 0 does not exist/.test(e)));
  });

  it('builds as fpb --build: the checksummed .fp inside a noarch RPM that installs under /var/www/nailgun/plugins', async () => {
    const p = await fresh('build');
    const rpm = await buildFuelPlugin(io, p, VERSION);
    assert.equal(rpm, join(p, `${PLUGIN_NAME}-0.1-${VERSION}-1.noarch.rpm`));
    const files = (await exec.run('rpm', ['-qpl', rpm])).stdout.trim().split('\n');
    for (const f of [
      'metadata.yaml',
      'tasks.yaml',
      'environment_config.yaml',
      'deployment_scripts/brindle_deploy.sh',
      'checksums.sha1',
      'repositories/ubuntu/Packages.gz',
    ])
      assert.ok(files.includes(`/var/www/nailgun/plugins/${pluginDirName(VERSION)}/${f}`), `${f} in ${files.join(', ')}`);
    const fp = join(p, '.build', 'rpm', 'SOURCES', `${pluginDirName(VERSION)}.fp`);
    const listing = (await exec.run('tar', ['-tzf', fp])).stdout.split('\n').filter((l) => l !== '');
    assert.ok(
      listing.every((l) => l.startsWith(`${pluginDirName(VERSION)}/`)),
      'the archive root is <name>-<major.minor>',
    );
    // Every file's SHA-1, sorted by path, as fpb writes them.
    const src = join(p, '.build', 'src');
    const sums = (await fs.readText(join(src, 'checksums.sha1'))).trim().split('\n');
    const paths = sums.map((l) => l.slice(41));
    assert.deepEqual(paths, [...paths].sort());
    for (const line of sums) {
      const [sha, path] = [line.slice(0, 40), line.slice(41)];
      const bytes = (await exec.run('sha1sum', [join(src, path)])).stdout.slice(0, 40);
      assert.equal(bytes, sha, path);
    }
    assert.equal(
      createHash('sha1')
        .update(await fs.readText(join(src, 'tasks.yaml')))
        .digest('hex'),
      sums.find((l) => l.endsWith(' tasks.yaml'))?.slice(0, 40),
    );
  });

  it("reads a Fuel node's YAML as brindle deploy's inventory and settings", () => {
    const { inventory, settings } = fromFuel(
      astute({
        as_number: '65010',
        bgp_topology: 'route-reflectors',
        enable_external_peering: true,
        external_peers: 'border:65000:198.19.0.1\n',
        ip_pool: '198.18.64.0/20',
        nat_outgoing: true,
      }),
      'astute.yaml',
    );
    assert.deepEqual(
      inventory.machines.map((m) => [m.name, m.address, m.roles]),
      [
        ['node-1', '198.18.0.21', ['controller', 'route-reflector', 'compute']],
        ['node-2', '198.18.0.22', ['compute']],
      ],
      'controllers reflect; the cinder node is left alone',
    );
    assert.equal(settings.asNumber, 65010);
    assert.equal(settings.bgp.topology, 'route-reflectors');
    assert.deepEqual(settings.externalPeers, [{ name: 'border', asNumber: 65000, address: '198.19.0.1' }]);
    assert.deepEqual(settings.ipPools, [{ cidr: '198.18.64.0/20', natOutgoing: true }]);
    assert.deepEqual(settings.packages, { apt: true });
  });

  it('refuses a value out of range in the Fuel YAML with the field named, as the plugin UI does', () => {
    for (const [values, field] of [
      [{ as_number: '0' }, `${PLUGIN_NAME}.as_number`],
      [{ as_number: '4294967295' }, `${PLUGIN_NAME}.as_number`],
      [{ ip_pool: '198.18.0.0/40' }, `${PLUGIN_NAME}.ip_pool`],
      [{ external_peers: 'border:65000' }, `${PLUGIN_NAME}.external_peers`],
    ] as const) {
      assert.throws(
        () => fromFuel(astute(values), 'astute.yaml'),
        (err: unknown) => err instanceof DeployInputError && err.field === field && err.message.startsWith(`astute.yaml: ${field}: `),
        JSON.stringify(values),
      );
    }
  });

  describe('its deployment script on a simulated Fuel node', () => {
    let fabric: TestFabric | undefined;

    after(async () => {
      await fabric?.remove();
    });

    // On a new machine this first builds the root filesystem and downloads the packages (a few minutes).
    it('installs Brindle from the plugin repository and deploys the node, tasks in tasks.yaml order', { timeout: 480_000 }, async () => {
      const rootfs = await ensureTestRootfs(log);
      const [fab, pkgs] = await Promise.all([startTestFabric([{ name: 'node-1', host: 21 }], log), makeTestPackageDir(rootfs, join(dir, 'debs'), log)]);
      fabric = fab;
      const node = fab.machines[0];
      if (node === undefined) throw new Error('no machine');
      const plugin = join(dir, 'node-plugin');
      await writeFuelPlugin(io, plugin, VERSION, pkgs.dir);
      await buildFuelPlugin(io, plugin, VERSION);
      const built = join(plugin, '.build', 'src');
      // What Fuel does before the tasks: the plugin's repository as an apt source (the node
      // reaches no other), its deployment scripts synced to /etc/fuel/plugins/<name>-<major.minor>/.
      const scripts = `/etc/fuel/plugins/${pluginDirName(VERSION)}`;
      await node.must(`mkdir -p /srv/plugin-repo ${scripts} && rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*`);
      const copy = async (from: string, to: string): Promise<void> => {
        const r = await fab.netns.run('scp', [...fab.sshOptions, '-q', '-r', from, `root@${node.address}:${to}`]);
        assert.equal(r.code, 0, r.stderr);
      };
      await copy(`${join(built, 'repositories', 'ubuntu')}/.`, '/srv/plugin-repo/');
      await copy(`${join(built, 'deployment_scripts')}/.`, `${scripts}/`);
      await node.must(`echo 'deb [trusted=yes] file:/srv/plugin-repo /' > /etc/apt/sources.list.d/${PLUGIN_NAME}-${VERSION}.list && apt-get update -qq`);
      // A one-node environment: the controller is also the compute.
      await node.must(`cat > /etc/astute.yaml`, astute({ as_number: '64512', ip_pool: '198.18.64.0/20' }, NODE_1).replaceAll('198.18.0.21', node.address));
      const tasks = parseYaml(await fs.readText(join(plugin, 'tasks.yaml'))) as { role: string[]; stage: string; parameters: { cmd: string } }[];
      const order = [...tasks].sort((a, b) => Number(a.stage.split('/')[1] ?? 0) - Number(b.stage.split('/')[1] ?? 0));
      for (const task of order) {
        log(`task ${task.stage} (${task.role.join(', ')}): ${task.parameters.cmd}`);
        const r = await node.ssh(`cd ${scripts} && ${task.parameters.cmd}`);
        assert.equal(r.code, 0, `${task.parameters.cmd}:\n${(r.stdout + r.stderr).slice(-4000)}`);
        if (task.parameters.cmd.includes('--verify')) {
          assert.match(r.stdout, /^ok +agents alive/m, r.stdout);
          assert.match(r.stdout, /^ok +BGP sessions on node-1/m, r.stdout);
        }
      }
      assert.equal((await node.must('systemctl is-active etcd brindle-api brindle-node')).trim(), 'active\nactive\nactive');
      assert.match(await node.must(`cat /var/log/${PLUGIN_NAME}.log`), /brindle_deploy\.sh --verify/);
    });
  });
});
