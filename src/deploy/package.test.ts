// `make package`: the .deb is built from this tree, is lintian-clean, its systemd units pass
// `systemd-analyze verify` on a Debian root with the package laid over it, and the program it
// ships runs from where the package puts it (its own node_modules only).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { freePort, realExec, realFs } from '../lib/index.js';
import { eventually, projectRoot, trackChild, trackMount, trackTempDir, untrackMount, untrackTempDir } from '../lib/testing.js';
import { ensureTestRootfs } from './testing/test-rootfs.js';

const UNITS = ['brindle-api.service', 'brindle-node.service', 'brindle-metadata.service', 'brindle-console.service'];

describe('make package: the Debian package', { timeout: 240_000 }, () => {
  const exec = realExec();
  const fs = realFs();
  let dir = '';
  let deb = '';
  let tree = '';

  before(async () => {
    dir = await fs.makeTempDir('brindle-package-test-');
    trackTempDir(dir);
    const r = await exec.run('bash', [join(projectRoot(), 'scripts', 'build-deb.sh'), join(dir, 'out')], { cwd: projectRoot(), timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    deb = r.stdout.trim().split('\n').at(-1) ?? '';
    assert.match(deb, /brindle_0\.1\.0\+git\d{14}\.[0-9a-f]{7}(\.modified\d{14})?_amd64\.deb$/);
    tree = join(dir, 'tree');
    await fs.ensureDir(tree);
    const x = await exec.run('dpkg-deb', ['-x', deb, tree]);
    assert.equal(x.code, 0, x.stderr);
  });

  after(async () => {
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  it('says what it is and what it needs', async () => {
    const field = async (name: string): Promise<string> => (await exec.run('dpkg-deb', ['-f', deb, name])).stdout.trim();
    assert.equal(await field('Package'), 'brindle');
    assert.equal(await field('Architecture'), 'amd64');
    const depends = (await field('Depends')).split(',').map((d) => d.trim().split(' ')[0]);
    for (const need of ['nodejs', 'etcd-client', 'bird2', 'dnsmasq-base', 'iptables', 'ipset', 'iproute2', 'nftables'])
      assert.ok(depends.includes(need), `Depends names ${need}: ${depends.join(', ')}`);
    const conffiles = (await exec.run('dpkg-deb', ['-I', deb, 'conffiles'])).stdout.trim().split('\n');
    assert.deepEqual(conffiles, ['/etc/brindle/brindle.yaml', '/etc/default/brindle'], 'the configuration survives upgrades as conffiles');
    for (const path of ['etc/brindle/brindle.yaml', 'etc/default/brindle', 'usr/bin/brindle', ...UNITS.map((u) => `lib/systemd/system/${u}`)])
      assert.ok(fs.exists(join(tree, path)), `${path} is in the package`);
    const listing = (await exec.run('dpkg-deb', ['-c', deb])).stdout.split('\n');
    assert.deepEqual(
      listing.filter((l) => /\.test\.js$/.test(l)),
      [],
      'no test files',
    );
    assert.deepEqual(
      listing.filter((l) => /node_modules\/(typescript|eslint|prettier)\//.test(l)),
      [],
      'no development packages',
    );
  });

  it('is lintian-clean (with the two documented overrides)', async () => {
    const r = await exec.run('lintian', ['--tag-display-limit', '0', deb], { timeoutMs: 120_000 });
    const tags = r.stdout
      .split('\n')
      .filter((l) => /^[EW]: /.test(l))
      .join('\n');
    assert.equal(tags, '', `lintian reported:\n${tags}`);
  });

  it('its systemd units pass systemd-analyze verify on a Debian root, and a broken unit would not', async () => {
    const rootfs = await ensureTestRootfs();
    const merged = join(dir, 'merged');
    const work = join(dir, 'work');
    const upper = join(dir, 'upper');
    for (const d of [merged, work, upper]) await fs.ensureDir(d);
    assert.equal((await exec.run('cp', ['-a', `${tree}/.`, upper])).code, 0);
    // A unit whose program does not exist: the check must catch it.
    await fs.writeTextAtomic(join(upper, 'lib/systemd/system/brindle-broken.service'), '[Service]\nExecStart=/usr/bin/brindle-missing\n');
    const mount = await exec.run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${rootfs},upperdir=${upper},workdir=${work}`, merged]);
    assert.equal(mount.code, 0, mount.stderr);
    trackMount(merged);
    try {
      const verify = (units: readonly string[]): Promise<{ code: number | null; stderr: string }> =>
        exec.run('systemd-analyze', ['verify', '--man=no', `--root=${merged}`, ...units.map((u) => `/lib/systemd/system/${u}`)]);
      const good = await verify(UNITS);
      assert.equal(good.code, 0, good.stderr);
      const bad = await verify(['brindle-broken.service']);
      assert.notEqual(bad.code, 0, 'systemd-analyze verify catches a missing ExecStart program');
      assert.match(bad.stderr, /brindle-missing/);
    } finally {
      await exec.run('umount', [merged]);
      untrackMount(merged);
    }
  });

  it('runs from where it is installed: brindle api serves Neutron from the package tree', async () => {
    const port = await freePort();
    const bin = join(tree, 'usr/lib/brindle/bin/brindle');
    const child = exec.spawn(process.execPath, [
      bin,
      'api',
      '--datastore',
      `embedded:${join(dir, 'store')}`,
      '--listen',
      `127.0.0.1:${port}`,
      '--hostname',
      'pkg-test',
    ]);
    trackChild(child);
    child.stdin.end();
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await eventually(
        async () => {
          try {
            return (await fetch(`http://127.0.0.1:${port}/`)).ok;
          } catch {
            return false;
          }
        },
        { timeoutMs: 20_000, what: `brindle api from the package answering (output: ${output.slice(-500)})` },
      );
      const res = await fetch(`http://127.0.0.1:${port}/v2.0/networks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ network: { name: 'from-the-package' } }),
      });
      assert.equal(res.status, 201, await res.text());
    } finally {
      child.kill('SIGTERM');
      await child.exited;
    }
  });

  it('brindle console serves its bundled page and reads the store from the package tree', async () => {
    const port = await freePort();
    const child = exec.spawn(process.execPath, [
      join(tree, 'usr/lib/brindle/bin/brindle'),
      'console',
      '--datastore',
      `embedded:${join(dir, 'store')}`,
      '--listen',
      `127.0.0.1:${port}`,
    ]);
    trackChild(child);
    child.stdin.end();
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await eventually(() => output.includes('brindle console: serving'), {
        timeoutMs: 20_000,
        what: `brindle console from the package serving (output: ${output.slice(-500)})`,
      });
      for (const [path, type] of [
        ['/', 'text/html'],
        ['/app.js', 'javascript'],
        ['/app.css', 'text/css'],
      ] as const) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        assert.equal(res.status, 200, path);
        assert.match(res.headers.get('content-type') ?? '', new RegExp(type), path);
      }
      const settings = (await (await fetch(`http://127.0.0.1:${port}/api/settings`)).json()) as { form: { asNumber: string } };
      assert.equal(settings.form.asNumber, '64512');
    } finally {
      child.kill('SIGTERM');
      await child.exited;
    }
  });
});
