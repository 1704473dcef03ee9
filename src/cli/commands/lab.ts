import { Command, Option } from 'commander';
import { join } from 'node:path';
import { Lab, LabCluster, runDemo } from '../../lab/index.js';
import { realClock, realExec, realFs } from '../../lib/index.js';
import { DemoMismatchError, UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { waitForStop } from '../wait-for-stop.js';
import type { Env } from '../settings.js';

/** Labs live with the namespaces they describe: both are gone after a reboot. */
const DEFAULT_STATE_DIR = '/run/brindle-lab';

function stateDir(opts: Record<string, unknown>, env: Env): string {
  return (opts['stateDir'] as string | undefined) ?? env['BRINDLE_LAB_DIR'] ?? DEFAULT_STATE_DIR;
}

/** `brindle lab`: a virtual data center in network namespaces (up, down, demo). */
export function labCommand(deps: { io: CliIo; env: Env; signal?: AbortSignal }): Command {
  const cmd = new Command('lab').description('A virtual data center in network namespaces: compute hosts running brindle node, VMs, the Neutron API');
  const dirOption = (): Option => new Option('--state-dir <dir>', `where labs are recorded (default ${DEFAULT_STATE_DIR}) [env: BRINDLE_LAB_DIR]`);

  cmd
    .command('demo')
    .description('One host, five VMs in three security groups (one in none), and a connectivity matrix of real packets checked against the policy; cleans up after itself')
    .action(async () => {
      const fs = realFs();
      const workDir = await fs.makeTempDir('brindle-demo-');
      try {
        const result = await runDemo({ exec: realExec(), fs, clock: realClock(), out: (l) => deps.io.out(`${l}\n`), workDir });
        if (!result.ok) throw new DemoMismatchError(result.results.filter((r) => !r.ok).length);
      } finally {
        await fs.remove(workDir);
      }
    });

  cmd
    .command('up')
    .description('Build a lab and run it until interrupted (Ctrl-C removes it): hosts on a fabric, one brindle node per host, brindle api on 127.0.0.1')
    .option('--hosts <n>', 'number of compute hosts', '1')
    .addOption(dirOption())
    .action(async (opts: Record<string, unknown>) => {
      const hosts = Number(opts['hosts']);
      if (!Number.isInteger(hosts) || hosts < 1 || hosts > 16) throw new UsageError(`--hosts must be 1-16, not ${String(opts['hosts'])}`);
      const fs = realFs();
      const clock = realClock();
      const dir = stateDir(opts, deps.env);
      const lab = await Lab.create({ exec: realExec(), fs, clock, stateDir: dir, prefix: Lab.randomPrefix() });
      let cluster: LabCluster | undefined;
      try {
        cluster = await LabCluster.start({ lab, exec: realExec(), fs, clock, datastore: `embedded:${join(dir, `${lab.prefix}datastore`)}`, workDir: join(dir, `${lab.prefix}run`), onOutput: (name, line) => deps.io.err(`[${name}] ${line}\n`) });
        for (let i = 1; i <= hosts; i++) {
          await lab.addHost(`compute-${i}`);
          await cluster.startNode(`compute-${i}`);
          deps.io.out(`host compute-${i}: namespace ${lab.hostInfo(`compute-${i}`).netns}, ${lab.hostInfo(`compute-${i}`).ip4} on the fabric\n`);
        }
        deps.io.out(`Neutron API: ${cluster.apiUrl}\n`);
        deps.io.out(`Try: openstack --os-auth-type none --os-endpoint ${cluster.apiUrl} network list\n`);
        deps.io.out('Ctrl-C removes the lab (or run `brindle lab down` from another shell).\n');
        await waitForStop(deps.signal);
      } finally {
        await cluster?.stop();
        await lab.destroy();
        await fs.remove(join(dir, `${lab.prefix}datastore`));
        await fs.remove(join(dir, `${lab.prefix}run`));
      }
    });

  cmd
    .command('down')
    .description('Remove every lab recorded in the state directory: its processes (by PID), namespaces and state')
    .addOption(dirOption())
    .action(async (opts: Record<string, unknown>) => {
      const removed = await Lab.destroyAll({ exec: realExec(), fs: realFs(), clock: realClock(), stateDir: stateDir(opts, deps.env) });
      deps.io.out(removed.length === 0 ? 'No lab namespaces found.\n' : `Removed ${removed.length} namespaces: ${removed.join(' ')}\n`);
    });
  return cmd;
}
