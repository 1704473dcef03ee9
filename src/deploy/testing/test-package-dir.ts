// The package directory a deploy test hands `brindle deploy`: this tree's .deb (make package)
// and every Debian package it and etcd-server need that a bare machine (the test root
// filesystem) lacks, downloaded once by apt against that machine's dpkg status and cached.
// Debian 12 ships Node.js 18; Brindle needs 20, so this machine's own nodejs package is
// rebuilt into a .deb (dpkg-repack) and goes into the directory too, as an operator would put
// the Node.js 20 package of their choice there.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { realExec, realFs } from '../../lib/index.js';
import { projectRoot } from '../../lib/testing.js';
import { TEST_ROOTFS_CACHE } from './test-rootfs.js';

export interface TestPackageDir {
  readonly dir: string;
  /** The brindle .deb's file name in `dir`. */
  readonly deb: string;
}

/** Builds the .deb into `dir` and adds the dependencies (cached under /var/cache/brindle-test). */
export async function makeTestPackageDir(rootfs: string, dir: string, onProgress: (line: string) => void = () => {}): Promise<TestPackageDir> {
  const exec = realExec();
  const fs = realFs();
  await fs.ensureDir(dir);
  const build = await exec.run('bash', [join(projectRoot(), 'scripts', 'build-deb.sh'), dir], { cwd: projectRoot(), timeoutMs: 120_000 });
  if (build.code !== 0) throw new Error(`build-deb.sh: ${build.stderr}${build.stdout}`);
  const debPath = build.stdout.trim().split('\n').at(-1) ?? '';
  const deb = debPath.slice(debPath.lastIndexOf('/') + 1);
  const depends = (await exec.run('dpkg-deb', ['-f', debPath, 'Depends'])).stdout.trim();
  const node = (await exec.run('dpkg-query', ['-W', '-f', '${Version}', 'nodejs'])).stdout.trim();
  const key = createHash('sha256').update(`${rootfs}\n${depends}\netcd-server\nnodejs ${node}`).digest('hex').slice(0, 12);
  const cache = join(TEST_ROOTFS_CACHE, `debs-${key}`);
  if (!fs.exists(join(cache, '.complete'))) {
    onProgress(`downloading the machines' Debian packages (once): ${cache}`);
    const building = `${cache}.building-${process.pid}`;
    await fs.ensureDir(join(building, 'partial'));
    const repack = await exec.run('dpkg-repack', ['nodejs'], { cwd: building, timeoutMs: 300_000 });
    if (repack.code !== 0) throw new Error(`dpkg-repack nodejs: ${repack.stderr}`);
    const nodeDeb = (await exec.run('bash', ['-c', 'ls "$1"/nodejs_*.deb', 'ls', building])).stdout.trim();
    const download = (): Promise<{ code: number | null; stderr: string; stdout: string }> =>
      exec.run(
        'apt-get',
        [
          '-o',
          `Dir::State::status=${join(rootfs, 'var/lib/dpkg/status')}`,
          '-o',
          `Dir::Cache::archives=${building}`,
          '-o',
          'Debug::NoLocking=1',
          '-o',
          'APT::Install-Recommends=false',
          '--download-only',
          '-y',
          '-qq',
          'install',
          debPath,
          nodeDeb,
          'etcd-server',
        ],
        { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: 600_000 },
      );
    let r = await download();
    if (r.code !== 0) {
      // The package lists may never have been fetched on this machine.
      await exec.run('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
      r = await download();
    }
    if (r.code !== 0) {
      await fs.remove(building);
      throw new Error(`apt-get --download-only: ${r.stderr}${r.stdout}`);
    }
    await fs.remove(join(building, 'partial'));
    await exec.run('bash', ['-c', 'rm -f "$1"/lock "$1"/brindle_*.deb', 'clean', building]);
    await fs.writeTextAtomic(join(building, '.complete'), '');
    const mv = await exec.run('mv', ['-T', building, cache]);
    if (mv.code !== 0) await fs.remove(building);
  }
  const cp = await exec.run('bash', ['-c', 'cp "$1"/*.deb "$2"/', 'copy', cache, dir]);
  if (cp.code !== 0) throw new Error(`copying the cached packages: ${cp.stderr}`);
  return { dir, deb };
}
