// Debian packages on a machine: from a directory of .debs on the deploying machine (copied to
// the machine as a local apt repository, only the files that differ) or from the machine's own
// apt sources. A package is installed or upgraded only when apt's candidate differs from what
// is installed; no service starts on its own during the install (policy-rc.d), since deploy
// configures each one first.
import { join } from 'node:path';
import type { Exec } from '../lib/index.js';
import { DeployInputError, DeployStepError } from './errors.js';
import type { FileSpec } from './plan-deploy.js';
import { shq, type Remote } from './remote.js';
import { differingFiles, writeFiles } from './step-files.js';

export const REMOTE_REPO = '/var/lib/brindle-deploy/packages';
const SOURCES = '/etc/apt/sources.list.d/brindle-deploy.list';

/** The package directory, read once on the deploying machine. */
export interface LocalRepo {
  readonly dir: string;
  /** File name -> sha256. */
  readonly debs: ReadonlyMap<string, string>;
  /** The apt index of the directory (dpkg-scanpackages). */
  readonly index: string;
}

export async function readLocalRepo(exec: Exec, dir: string, settingsFile: string): Promise<LocalRepo> {
  const list = await exec.run('bash', ['-c', 'shopt -s nullglob; cd "$1" && sha256sum -- *.deb', 'list', dir]);
  if (list.code !== 0) throw new DeployInputError(settingsFile, `cannot read ${dir}: ${list.stderr.trim()}`, 'packages.directory');
  const debs = new Map<string, string>();
  for (const line of list.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')) {
    const [hash, name] = line.split(/\s+\*?/);
    if (hash !== undefined && name !== undefined) debs.set(name, hash);
  }
  if (![...debs.keys()].some((n) => n.startsWith('brindle_')))
    throw new DeployInputError(settingsFile, `${dir} holds no brindle_*.deb (make package builds one)`, 'packages.directory');
  const scan = await exec.run('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], { cwd: dir });
  if (scan.code !== 0)
    throw new DeployInputError(settingsFile, `dpkg-scanpackages in ${dir} failed (is dpkg-dev installed?): ${scan.stderr.trim()}`, 'packages.directory');
  return { dir, debs, index: scan.stdout };
}

/** What the step did (or would do): one line per change. */
export async function ensurePackages(remote: Remote, packages: readonly string[], repo: LocalRepo | undefined, check: boolean): Promise<string[]> {
  const step = 'packages';
  const changes: string[] = [];
  let refresh = false;
  if (repo !== undefined) {
    const have = await remote.run(`mkdir -p ${REMOTE_REPO} && cd ${REMOTE_REPO} && shopt -s nullglob && for f in *.deb; do sha256sum -- "$f"; done`);
    if (have.code !== 0) throw new DeployStepError(remote.machine.name, step, `sha256sum ${REMOTE_REPO}/*.deb`, have.stderr);
    const there = new Map(
      have.stdout
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split(/\s+\*?/) as [string, string])
        .map(([h, n]) => [n, h] as const),
    );
    const send = [...repo.debs].filter(([name, hash]) => there.get(name) !== hash).map(([name]) => name);
    const drop = [...there.keys()].filter((name) => !repo.debs.has(name));
    const files: FileSpec[] = [
      { path: `${REMOTE_REPO}/Packages`, content: repo.index, mode: '0644', group: 'root' },
      { path: SOURCES, content: `# Written by brindle deploy.\ndeb [trusted=yes] file:${REMOTE_REPO} ./\n`, mode: '0644', group: 'root' },
    ];
    const stale = await differingFiles(remote, step, files);
    if (send.length > 0) changes.push(`copy ${send.length} package file(s) to ${REMOTE_REPO}`);
    if (drop.length > 0) changes.push(`remove ${drop.length} old package file(s)`);
    if (stale.length > 0) changes.push(`write ${stale.join(', ')}`);
    refresh = send.length > 0 || drop.length > 0 || stale.length > 0;
    if (!check && refresh) {
      if (send.length > 0) {
        const cp = await remote.copy(
          send.map((n) => join(repo.dir, n)),
          REMOTE_REPO,
        );
        if (cp.code !== 0) throw new DeployStepError(remote.machine.name, step, `scp ${send.length} package file(s)`, cp.stderr);
      }
      if (drop.length > 0) await remote.run(`cd ${REMOTE_REPO} && rm -f -- ${drop.map(shq).join(' ')}`);
      await writeFiles(remote, step, files, stale);
    }
  }
  // apt's lists: only our repository's when it is the source (the machine may reach no mirror).
  const update =
    repo === undefined ? 'apt-get update -qq' : `apt-get update -qq -o Dir::Etc::sourcelist=${SOURCES} -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0`;
  if (!check && (refresh || repo === undefined)) {
    const u = await remote.run(update);
    if (u.code !== 0) throw new DeployStepError(remote.machine.name, step, update, u.stderr + u.stdout);
  }
  const policy = await remote.run(`apt-cache policy ${packages.join(' ')}`);
  if (policy.code !== 0) throw new DeployStepError(remote.machine.name, step, 'apt-cache policy', policy.stderr);
  const wanted = parsePolicy(policy.stdout);
  const install: string[] = [];
  for (const p of packages) {
    const v = wanted.get(p);
    if (v === undefined || v.candidate === '(none)') {
      // In --check, a first copy of the package files has not happened yet: apt cannot know them.
      if (!(check && refresh))
        throw new DeployStepError(remote.machine.name, step, `apt-cache policy ${p}`, `no candidate for ${p}: is it in the package source?`);
      changes.push(`install ${p} (from the new package files)`);
      continue;
    }
    if (v.installed !== v.candidate) {
      install.push(`${p}=${v.candidate}`);
      changes.push(`install ${p} ${v.candidate}${v.installed === '(none)' ? '' : ` (was ${v.installed})`}`);
    }
  }
  if (!check && install.length > 0) {
    // No service starts on its own while apt runs; the policy file is marked as ours, so one left
    // behind by a deploy that was killed goes at the next.
    const script = [
      'policy=/usr/sbin/policy-rc.d',
      'if [ -e $policy ] && grep -q brindle-deploy $policy; then rm -f $policy; fi',
      'added=0',
      'if [ ! -e $policy ]; then printf "#!/bin/sh\\n# brindle-deploy\\nexit 101\\n" > $policy && chmod +x $policy && added=1; fi',
      'trap \'[ "$added" = 1 ] && rm -f $policy\' EXIT',
      `DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --allow-downgrades -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${install.join(' ')}`,
    ].join('\n');
    const r = await remote.run(script);
    if (r.code !== 0) throw new DeployStepError(remote.machine.name, step, `apt-get install ${install.join(' ')}`, r.stderr + r.stdout);
  }
  return changes;
}

/** `apt-cache policy` output: package -> installed and candidate versions. */
export function parsePolicy(text: string): Map<string, { installed: string; candidate: string }> {
  const out = new Map<string, { installed: string; candidate: string }>();
  let current: string | undefined;
  let installed = '';
  for (const line of text.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head?.[1] !== undefined) {
      current = head[1];
      continue;
    }
    const inst = /^\s+Installed: (\S+)/.exec(line);
    if (inst?.[1] !== undefined) installed = inst[1];
    const cand = /^\s+Candidate: (\S+)/.exec(line);
    if (cand?.[1] !== undefined && current !== undefined) out.set(current, { installed, candidate: cand[1] });
  }
  return out;
}
