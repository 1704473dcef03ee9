// systemd units on a machine: enabled and running, restarted when their configuration changed,
// or masked (a package's own service that must not run beside Brindle's).
import { DeployStepError } from './errors.js';
import { shq, type Remote } from './remote.js';

interface UnitState {
  readonly enabled: string;
  readonly active: string;
}

async function unitStates(remote: Remote, step: string, units: readonly string[]): Promise<Map<string, UnitState>> {
  const r = await remote.run(
    units.map((u) => `echo "$(systemctl is-enabled ${shq(u)} 2>/dev/null || true) $(systemctl is-active ${shq(u)} 2>/dev/null || true)"`).join('\n'),
  );
  if (r.code !== 0) throw new DeployStepError(remote.machine.name, step, 'systemctl is-enabled/is-active', r.stderr);
  const lines = r.stdout.split('\n');
  return new Map(
    units.map((u, i) => {
      const [enabled = '', active = ''] = (lines[i] ?? '').trim().split(' ');
      return [u, { enabled, active }];
    }),
  );
}

/** Masks and stops each unit that is not masked yet. */
export async function ensureMasked(remote: Remote, step: string, units: readonly string[], check: boolean): Promise<string[]> {
  if (units.length === 0) return [];
  const states = await unitStates(remote, step, units);
  const todo = units.filter((u) => states.get(u)?.enabled !== 'masked');
  if (!check && todo.length > 0) {
    const r = await remote.run(`systemctl mask --now ${todo.map(shq).join(' ')}`);
    if (r.code !== 0) throw new DeployStepError(remote.machine.name, step, `systemctl mask --now ${todo.join(' ')}`, r.stderr);
  }
  return todo.map((u) => `mask ${u}`);
}

/**
 * Enables and starts each unit; one already running is restarted if `restart` holds for it.
 * `noBlock` starts without waiting (etcd members, which wait for each other).
 */
export async function ensureRunning(
  remote: Remote,
  step: string,
  units: readonly string[],
  o: { readonly restart: (unit: string) => boolean; readonly check: boolean; readonly noBlock?: boolean },
): Promise<string[]> {
  const { restart, check, noBlock = false } = o;
  if (units.length === 0) return [];
  const states = await unitStates(remote, step, units);
  const changes: string[] = [];
  const commands: string[] = [];
  const block = noBlock ? ' --no-block' : '';
  for (const u of units) {
    const s = states.get(u) ?? { enabled: '', active: '' };
    if (s.enabled !== 'enabled') {
      changes.push(`enable ${u}`);
      commands.push(`systemctl enable --quiet ${shq(u)}`);
    }
    if (s.active !== 'active' && s.active !== 'activating') {
      changes.push(`start ${u}`);
      commands.push(`systemctl restart${block} ${shq(u)}`);
    } else if (restart(u)) {
      changes.push(`restart ${u} (its configuration changed)`);
      commands.push(`systemctl restart${block} ${shq(u)}`);
    }
  }
  if (!check && commands.length > 0) {
    const r = await remote.run(commands.join('\n'));
    if (r.code !== 0) {
      const journal = await remote.run(`journalctl -n 30 --no-pager ${units.map((u) => `-u ${shq(u)}`).join(' ')} || true`);
      throw new DeployStepError(remote.machine.name, step, commands.join('; '), `${r.stderr}\n${journal.stdout}`);
    }
  }
  return changes;
}
