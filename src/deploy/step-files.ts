// Files on a machine: compared by content hash, mode and group; only differing ones are written
// (atomically: a temporary file beside the target, then rename).
import { createHash } from 'node:crypto';
import { DeployStepError } from './errors.js';
import type { FileSpec } from './plan-deploy.js';
import { shq, type Remote } from './remote.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The paths among `files` whose content, mode or group differ on the machine. */
export async function differingFiles(remote: Remote, step: string, files: readonly FileSpec[]): Promise<string[]> {
  if (files.length === 0) return [];
  const script = files
    .map((f) => `if [ -f ${shq(f.path)} ]; then echo "$(sha256sum < ${shq(f.path)} | cut -d' ' -f1) $(stat -c '%a %G' ${shq(f.path)})"; else echo missing; fi`)
    .join('\n');
  const r = await remote.run(script);
  if (r.code !== 0) throw new DeployStepError(remote.machine.name, step, 'sha256sum of the configuration files', r.stderr + r.stdout);
  const lines = r.stdout.trim().split('\n');
  return files.filter((f, i) => lines[i] !== `${sha256(f.content)} ${Number.parseInt(f.mode, 8).toString(8)} ${f.group}`).map((f) => f.path);
}

/** Writes the files named in `paths` (from `files`). */
export async function writeFiles(remote: Remote, step: string, files: readonly FileSpec[], paths: readonly string[]): Promise<void> {
  const chosen = files.filter((f) => paths.includes(f.path));
  if (chosen.length === 0) return;
  // Secrets (a key, the Keystone password) are never readable by others, not even for a moment.
  const script = ['umask 077']
    .concat(
      chosen.map((f, i) => {
        const tmp = `${f.path}.brindle-deploy.tmp`;
        return [
          // Directories stay traversable (the umask is for the files).
          `(umask 022; mkdir -p "$(dirname ${shq(f.path)})")`,
          `base64 -d > ${shq(tmp)} <<'BRINDLE_FILE_${i}'`,
          Buffer.from(f.content, 'utf8').toString('base64'),
          `BRINDLE_FILE_${i}`,
          `chmod ${f.mode} ${shq(tmp)} || exit 1`,
          `chgrp ${shq(f.group)} ${shq(tmp)} || exit 1`,
          `mv -f ${shq(tmp)} ${shq(f.path)} || exit 1`,
        ].join('\n');
      }),
    )
    .join('\n');
  const r = await remote.run(script);
  if (r.code !== 0) throw new DeployStepError(remote.machine.name, step, `write ${chosen.map((f) => f.path).join(', ')}`, r.stderr + r.stdout);
}
