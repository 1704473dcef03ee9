import { Command, Option } from 'commander';
import { deploy, DeployVerifyError, loadDeployFiles, type DeployReport } from '../../deploy/index.js';
import { realClock, realExec } from '../../lib/index.js';
import type { CliIo } from '../io.js';
import type { Env } from '../settings.js';

function summary(report: DeployReport): string {
  const lines = report.checks.map((c) => `${c.ok ? 'ok    ' : 'FAILED'} ${c.check}: ${c.detail}`);
  const head = report.check ? `${report.changes} change(s) would be made` : report.changes === 0 ? 'no changes' : `${report.changes} change(s) made`;
  return `${[head, ...lines].join('\n')}\n`;
}

/** `brindle deploy`: installs the cloud's network on the inventory's machines over ssh. */
export function deployCommand(deps: { io: CliIo; env: Env }): Command {
  const cmd = new Command('deploy')
    .description(
      'Install and configure Brindle on the machines of an inventory by role, over ssh (etcd, the API, the agents, the Calico resources), then verify the cloud',
    )
    .requiredOption('-i, --inventory <file>', 'the machines: name, address, roles (YAML)')
    .requiredOption('-s, --settings <file>', "the cloud's network settings (YAML)")
    .option('--check', 'show what would change without changing anything')
    .option('--ssh-identity <file>', 'private key for every machine (ssh -i)')
    .option('--ssh-option <option...>', 'extra ssh -o options, e.g. StrictHostKeyChecking=accept-new', [])
    .option('--no-verify', 'skip the checks after the deploy')
    .option('--verify-timeout <seconds>', 'how long each check may take to pass', '120')
    .addOption(new Option('-o, --output <format>', 'report format').choices(['text', 'json']).default('text'));
  cmd.action(async (opts: Record<string, unknown>) => {
    const files = await loadDeployFiles(deps.io.readFile, opts['inventory'] as string, opts['settings'] as string);
    const report = await deploy(
      {
        ...files,
        settingsFile: opts['settings'] as string,
        ssh: { identity: opts['sshIdentity'] as string | undefined, options: opts['sshOption'] as string[] },
        check: opts['check'] === true,
        verify: opts['verify'] !== false,
        verifyTimeoutMs: Number(opts['verifyTimeout']) * 1000,
      },
      { exec: realExec(), clock: realClock(), progress: (line) => deps.io.err(`${line}\n`) },
    );
    deps.io.out(opts['output'] === 'json' ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
    const failed = report.checks.filter((c) => !c.ok);
    if (failed.length > 0) throw new DeployVerifyError(failed.map((c) => c.check));
  });
  return cmd;
}
