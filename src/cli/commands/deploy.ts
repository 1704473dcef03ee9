import { Command, Option } from 'commander';
import {
  buildFuelPlugin,
  checkFuelPlugin,
  deploy,
  DeployInputError,
  DeployVerifyError,
  fromFuel,
  loadDeployFiles,
  writeFuelPlugin,
  type DeployReport,
} from '../../deploy/index.js';
import { VERSION } from '../version.js';
import { UsageError } from '../errors.js';
import { realClock, realExec, realFs } from '../../lib/index.js';
import type { CliIo } from '../io.js';
import type { Env } from '../settings.js';

async function readAstute(io: CliIo, file: string): Promise<string> {
  try {
    return await io.readFile(file);
  } catch (err) {
    throw new DeployInputError(file, `cannot be read: ${(err as Error).message}`);
  }
}

function summary(report: DeployReport): string {
  const lines = report.checks.map((c) => `${c.ok ? 'ok    ' : 'FAILED'} ${c.check}: ${c.detail}`);
  const head = report.check ? `${report.changes} change(s) would be made` : report.changes === 0 ? 'no changes' : `${report.changes} change(s) made`;
  return `${[head, ...lines].join('\n')}\n`;
}

/** `brindle deploy fuel-plugin`: the Fuel 6.1 plugin, written, checked and built as fpb does. */
function fuelPluginCommand(deps: { io: CliIo }): Command {
  return new Command('fuel-plugin')
    .description('Write the Fuel 6.1 plugin (package_version 2.0.0) that deploys Brindle from the Fuel UI; --build packs it as fpb --build does')
    .option('--out <dir>', 'write the plugin into this directory')
    .option('--packages <dir>', ".debs for the plugin's Ubuntu repository (brindle, Node.js 20 and what the nodes lack)")
    .option('--build', 'build <name>-<major.minor>-<version>-1.noarch.rpm in the plugin directory')
    .option('--validate <dir>', 'only check a plugin directory, as fpb --check does')
    .action(async (opts: Record<string, unknown>) => {
      const io = { exec: realExec(), fs: realFs() };
      const check = opts['validate'] as string | undefined;
      if (check !== undefined) {
        await checkFuelPlugin(io, check);
        deps.io.out('Plugin is valid\n');
        return;
      }
      const out = opts['out'] as string | undefined;
      if (out === undefined) throw new UsageError('give --out DIR (or --validate DIR)');
      await writeFuelPlugin(io, out, VERSION, opts['packages'] as string | undefined);
      await checkFuelPlugin(io, out);
      deps.io.out(`Plugin is created: ${out}\n`);
      if (opts['build'] === true) deps.io.out(`Plugin is built: ${await buildFuelPlugin(io, out, VERSION)}\n`);
    });
}

/** `brindle deploy`: installs the cloud's network on the inventory's machines over ssh. */
export function deployCommand(deps: { io: CliIo; env: Env }): Command {
  const cmd = new Command('deploy')
    .description(
      'Install and configure Brindle on the machines of an inventory by role, over ssh (etcd, the API, the agents, the Calico resources), then verify the cloud',
    )
    .option('-i, --inventory <file>', 'the machines: name, address, roles (YAML)')
    .option('-s, --settings <file>', "the cloud's network settings (YAML)")
    .option(
      '--fuel-astute <file>',
      "instead of -i and -s: a Fuel node's YAML (its cluster's nodes and the plugin's settings), as the Fuel plugin's tasks run it",
    )
    .option('--local [name]', "deploy only this machine (default: this host's name), here, without ssh")
    .option('--check', 'show what would change without changing anything')
    .option('--ssh-identity <file>', 'private key for every machine (ssh -i)')
    .option('--ssh-option <option...>', 'extra ssh -o options, e.g. StrictHostKeyChecking=accept-new', [])
    .option('--no-verify', 'skip the checks after the deploy')
    .option('--verify-timeout <seconds>', 'how long each check may take to pass', '120')
    .addOption(new Option('-o, --output <format>', 'report format').choices(['text', 'json']).default('text'))
    .addCommand(fuelPluginCommand(deps));
  cmd.action(async (opts: Record<string, unknown>) => {
    const astute = opts['fuelAstute'] as string | undefined;
    const inventoryFile = opts['inventory'] as string | undefined;
    const settingsFile = opts['settings'] as string | undefined;
    if (astute === undefined && (inventoryFile === undefined || settingsFile === undefined))
      throw new UsageError('give -i INVENTORY and -s SETTINGS, or --fuel-astute FILE');
    if (astute !== undefined && (inventoryFile !== undefined || settingsFile !== undefined)) throw new UsageError('--fuel-astute replaces -i and -s');
    const files =
      astute === undefined
        ? await loadDeployFiles(deps.io.readFile, inventoryFile ?? '', settingsFile ?? '')
        : { ...fromFuel(await readAstute(deps.io, astute), astute), packageDir: undefined, etcdTls: undefined };
    const verifyTimeout = Number(opts['verifyTimeout']);
    if (!Number.isFinite(verifyTimeout) || verifyTimeout <= 0)
      throw new UsageError(`--verify-timeout must be a positive number of seconds, not ${String(opts['verifyTimeout'])}`);
    const localOpt = opts['local'] as string | boolean | undefined;
    const local = localOpt === undefined ? undefined : localOpt === true ? (deps.io.hostname().split('.')[0] ?? '') : String(localOpt);
    const report = await deploy(
      {
        ...files,
        local,
        settingsFile: astute ?? settingsFile ?? '',
        ssh: { identity: opts['sshIdentity'] as string | undefined, options: opts['sshOption'] as string[] },
        check: opts['check'] === true,
        verify: opts['verify'] !== false,
        verifyTimeoutMs: verifyTimeout * 1000,
      },
      { exec: realExec(), clock: realClock(), progress: (line) => deps.io.err(`${line}\n`) },
    );
    deps.io.out(opts['output'] === 'json' ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
    const failed = report.checks.filter((c) => !c.ok);
    if (failed.length > 0) throw new DeployVerifyError(failed.map((c) => c.check));
  });
  return cmd;
}
