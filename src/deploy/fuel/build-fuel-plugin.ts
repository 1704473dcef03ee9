// Writing the plugin's directory and building it as fpb 2.0's --build does (reference §2.5):
// the Ubuntu repository indexed, checksums.sha1, the <name>-<major.minor>.fp archive, and that
// archive's tree inside a noarch RPM for `fuel plugins --install`.
import { join } from 'node:path';
import type { Exec, Fs } from '../../lib/index.js';
import { fuelPluginFiles, pluginDirName } from './fuel-plugin-files.js';
import { PLUGIN_NAME } from './fuel-settings.js';
import { validateFuelPlugin } from './validate-fuel-plugin.js';
import { BrindleError } from '../../lib/index.js';

/** The plugin could not be written, is not valid, or a build tool failed. */
export class FuelPluginError extends BrindleError {
  constructor(message: string) {
    super('DEPLOY_FUEL_PLUGIN', message, { status: 500 });
  }
}

interface Io {
  readonly exec: Exec;
  readonly fs: Fs;
}

async function must(io: Io, command: string, args: readonly string[], cwd?: string): Promise<string> {
  const r = await io.exec.run(command, args, cwd === undefined ? {} : { cwd });
  if (r.code !== 0) throw new FuelPluginError(`${command} ${args.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' ')}`);
  return r.stdout;
}

/** Writes the plugin's files into `dir` (created), with the .debs of `packagesDir` in its Ubuntu repository. */
export async function writeFuelPlugin(io: Io, dir: string, version: string, packagesDir?: string): Promise<void> {
  for (const [path, file] of fuelPluginFiles(version)) {
    const target = join(dir, path);
    await io.fs.ensureDir(join(target, '..'));
    await io.fs.writeTextAtomic(target, file.content);
    await must(io, 'chmod', [file.mode.toString(8), target]);
  }
  if (packagesDir !== undefined)
    await must(io, 'bash', [
      '-c',
      'shopt -s nullglob; debs=("$1"/*.deb); (( ${#debs[@]} )) || { echo "no .deb in $1" >&2; exit 1; }; cp -- "${debs[@]}" "$2"/',
      'copy',
      packagesDir,
      join(dir, 'repositories', 'ubuntu'),
    ]);
}

/** Checks a plugin directory as fpb --check does; throws with every problem. */
export async function checkFuelPlugin(io: Io, dir: string): Promise<void> {
  const errors = await validateFuelPlugin(dir, {
    read: async (p) => (io.fs.exists(p) ? io.fs.readText(p) : undefined),
    exists: (p) => io.fs.exists(p),
  });
  if (errors.length > 0) throw new FuelPluginError(`Validation failed\n${errors.join('\n')}`);
}

/** Builds `<name>-<major.minor>-<version>-1.noarch.rpm` in `dir` (as fpb --build); returns its path. */
export async function buildFuelPlugin(io: Io, dir: string, version: string): Promise<string> {
  await checkFuelPlugin(io, dir);
  const short = pluginDirName(version);
  const build = join(dir, '.build');
  await io.fs.remove(build);
  await must(io, 'bash', ['-c', 'rm -f -- "$1"/*.noarch.rpm', 'clean', dir]);
  const src = join(build, 'src');
  await io.fs.ensureDir(src);
  await must(io, 'bash', ['-c', 'cd "$1" && tar --exclude=./.build --exclude="./*.noarch.rpm" -cf - . | tar -xf - -C "$2"', 'copy', dir, src]);
  const repo = join(src, 'repositories', 'ubuntu');
  await must(io, 'bash', ['-c', 'set -o pipefail; cd "$1" && dpkg-scanpackages -m . 2>/dev/null | gzip -c9 > Packages.gz', 'index', repo]);
  const [major = '0', minor = '0'] = version.split('.');
  await io.fs.writeTextAtomic(join(repo, 'Release'), `Origin: Brindle developers\nLabel: ${PLUGIN_NAME}\nVersion: ${major}.${minor}\n`);
  // checksums.sha1: every file's SHA-1, sorted by relative path.
  await must(io, 'bash', [
    '-c',
    'cd "$1" && find . -type f ! -name checksums.sha1 -printf "%P\\n" | LC_ALL=C sort | while read -r f; do echo "$(sha1sum < "$f" | cut -d" " -f1) $f"; done > checksums.sha1',
    'sum',
    src,
  ]);
  const rpmTop = join(build, 'rpm');
  for (const d of ['SOURCES', 'SPECS', 'BUILD', 'RPMS', 'SRPMS', 'BUILDROOT']) await io.fs.ensureDir(join(rpmTop, d));
  await must(io, 'tar', ['-czf', join(rpmTop, 'SOURCES', `${short}.fp`), `--transform=s,^\\.,${short},`, '-C', src, '.']);
  const spec = [
    `Name: ${short}`,
    `Version: ${version}`,
    'Release: 1',
    `Summary: Use Brindle networking (Calico's design)`,
    'License: Apache License Version 2.0',
    'Vendor: Brindle developers',
    'URL: file:///usr/share/doc/brindle/README.md',
    `Source0: ${short}.fp`,
    'BuildArch: noarch',
    'AutoReqProv: no',
    '',
    '%description',
    'Brindle networking for Fuel 6.1 (package_version 2.0.0).',
    '',
    '%prep',
    'rm -rf %{name}',
    'tar -xzf %{SOURCE0}',
    '',
    '%install',
    'mkdir -p %{buildroot}/var/www/nailgun/plugins/',
    'cp -r %{name} %{buildroot}/var/www/nailgun/plugins/',
    '',
    '%files',
    '/var/www/nailgun/plugins/%{name}',
    '',
  ].join('\n');
  const specPath = join(rpmTop, 'SPECS', `${short}.spec`);
  await io.fs.writeTextAtomic(specPath, spec);
  await must(io, 'rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${rpmTop}`, '--define', '_build_id_links none', specPath]);
  const rpm = `${short}-${version}-1.noarch.rpm`;
  await must(io, 'cp', [join(rpmTop, 'RPMS', 'noarch', rpm), join(dir, rpm)]);
  return join(dir, rpm);
}
