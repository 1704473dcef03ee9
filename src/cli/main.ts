import { Command, CommanderError } from 'commander';
import { DatastoreConfigError } from '../datastore/index.js';
import { DeployInputError } from '../deploy/index.js';
import { BrindleError } from '../lib/index.js';
import { UnknownKindError } from '../model/index.js';
import { apiCommand } from './commands/api.js';
import { consoleCommand } from './commands/console.js';
import { ctlCommand } from './commands/ctl.js';
import { deployCommand } from './commands/deploy.js';
import { labCommand } from './commands/lab.js';
import { metadataCommand } from './commands/metadata.js';
import { nodeCommand } from './commands/node.js';
import { ConfigFileError, UsageError } from './errors.js';
import { addSettingsOptions } from './settings.js';
import { realIo, type CliIo } from './io.js';
import type { Env } from './settings.js';

import { VERSION } from './version.js';
export { VERSION };

/** Builds the `brindle` command tree. */
export function buildProgram(io: CliIo, env: Env): Command {
  const program = new Command('brindle')
    .description("Brindle: Calico's routed networking for OpenStack")
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  // The shared settings are global flags: before the command, between a group and its
  // subcommand, or after it (kubectl and calicoctl take them anywhere); the nearest one given wins.
  addSettingsOptions(program);
  // A command that has no datastore of its own to set (the lab runs its own) refuses them rather
  // than ignoring them.
  program.hook('preAction', (root, action) => {
    if (action.options.some((o) => o.long === '--datastore')) return;
    const given = root.options.filter((o) => o.long !== undefined && root.getOptionValue(o.attributeName()) !== undefined).map((o) => o.long);
    const path = action.parent === root || action.parent === null ? action.name() : `${action.parent.name()} ${action.name()}`;
    if (given.length > 0) throw new UsageError(`${path} does not use ${given.join(', ')}`);
  });
  program.addCommand(ctlCommand({ io, env }));
  program.addCommand(apiCommand({ io, env }));
  program.addCommand(nodeCommand({ io, env }));
  program.addCommand(metadataCommand({ io, env }));
  program.addCommand(labCommand({ io, env }));
  program.addCommand(deployCommand({ io, env }));
  program.addCommand(consoleCommand({ io, env }));
  const applyToAll = (cmd: Command): void => {
    cmd.configureOutput({ writeOut: io.out, writeErr: io.err }).exitOverride();
    cmd.commands.forEach(applyToAll);
  };
  program.commands.forEach(applyToAll);
  return program;
}

/** Errors that mean the command line or the configuration was wrong (exit status 2). */
function isUsageProblem(err: unknown): boolean {
  return (
    err instanceof UsageError ||
    err instanceof UnknownKindError ||
    err instanceof DatastoreConfigError ||
    err instanceof ConfigFileError ||
    err instanceof DeployInputError
  );
}

/**
 * Runs the CLI and returns the exit status: 0 success, 1 the operation failed, 2 the command
 * line or configuration was wrong.
 * Errors are one line on stderr (plus a hint line when there is one), never a stack trace.
 */
export async function main(argv: readonly string[], env: Env, io: CliIo = realIo()): Promise<number> {
  const program = buildProgram(io, env);
  if (argv.length === 0) {
    io.out(program.helpInformation());
    return 0;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const message = err instanceof Error ? err.message : String(err);
    io.err(`brindle: ${message}\n`);
    if (err instanceof BrindleError && err.hint !== undefined) io.err(`hint: ${err.hint}\n`);
    if (!(err instanceof BrindleError)) io.err('(this is a bug in Brindle: please report it with the command you ran)\n');
    return isUsageProblem(err) ? 2 : 1;
  }
}
