// The cloud's Calico resources, applied from the primary controller with `brindle ctl`: each one
// is read first, and only those whose spec differs from the settings are written.
import { isDeepStrictEqual } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { DeployStepError } from './errors.js';
import type { CalicoDoc } from './plan-deploy.js';
import { shq, type Remote } from './remote.js';

const SEPARATOR = '---brindle-deploy---';

/** True when every key the settings set has the same value in the resource as stored. */
function specMatches(want: Readonly<Record<string, unknown>>, have: unknown): boolean {
  if (typeof have !== 'object' || have === null) return false;
  const spec = (have as { spec?: Record<string, unknown> }).spec ?? {};
  return Object.entries(want).every(([k, v]) => isDeepStrictEqual(spec[k], v));
}

export async function ensureResources(remote: Remote, docs: readonly CalicoDoc[], check: boolean): Promise<string[]> {
  const step = 'resources';
  const read = await remote.run(
    docs
      .map(
        (d) => `if out=$(brindle ctl get ${shq(d.kind)} ${shq(d.metadata.name)} -o json 2>&1); then echo "$out"; else echo "ERROR $out"; fi; echo ${SEPARATOR}`,
      )
      .join('\n'),
  );
  if (read.code !== 0) throw new DeployStepError(remote.machine.name, step, 'brindle ctl get', read.stderr);
  const stored = read.stdout.split(`${SEPARATOR}\n`);
  const differing = docs.filter((d, i) => {
    const text = stored[i] ?? '';
    if (text.startsWith('ERROR ')) {
      if (/not found/i.test(text)) return true;
      throw new DeployStepError(remote.machine.name, step, `brindle ctl get ${d.kind} ${d.metadata.name}`, text.slice('ERROR '.length));
    }
    return !specMatches(d.spec, JSON.parse(text));
  });
  if (!check && differing.length > 0) {
    const yaml = differing.map((d) => toYaml(d)).join('---\n');
    const r = await remote.run(`brindle ctl apply -f - <<'BRINDLE_RESOURCES'\n${yaml}BRINDLE_RESOURCES`);
    if (r.code !== 0) throw new DeployStepError(remote.machine.name, step, 'brindle ctl apply -f -', r.stderr + r.stdout);
  }
  return differing.map((d) => `apply ${d.kind} ${d.metadata.name}`);
}
