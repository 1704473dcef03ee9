import { Command, Option } from 'commander';
import {
  describeRef,
  openDatastore,
  refOf,
  ResourceClient,
  ResourceNotFoundError,
  type CommitOutcome,
  type KvStore,
  type ResourceAction,
  type ResourceRef,
} from '../../datastore/index.js';
import { kindInfo, type CalicoResource, type KindName } from '../../model/index.js';
import { formatResources, OUTPUT_FORMATS, type OutputFormat } from '../ctl/format-output.js';
import { readDocuments } from '../ctl/read-documents.js';
import { ctlNodeCommand } from './ctl-node.js';
import { UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import type { Clock } from '../../lib/index.js';
import { addSettingsOptions, optionsWithGlobals, resolveSettings, type Env } from '../settings.js';

export interface CtlDeps {
  readonly io: CliIo;
  readonly env: Env;
  /** For the age of node statuses (default: the real clock). */
  readonly clock?: Clock;
}

type Opts = Record<string, unknown>;

async function withClient<T>(opts: Opts, deps: CtlDeps, fn: (client: ResourceClient) => Promise<T>): Promise<T> {
  const settings = await resolveSettings(opts, deps.env, deps.io);
  const kv: KvStore = await openDatastore(settings.datastore);
  try {
    return await fn(new ResourceClient(kv));
  } finally {
    await kv.close();
  }
}

function summary(verb: string, outcomes: readonly CommitOutcome[]): string {
  const done = outcomes.filter((o) => o.result !== 'skipped');
  const skipped = outcomes.length - done.length;
  const tail = skipped > 0 ? ` (${skipped} skipped)` : '';
  return `Successfully ${verb} ${done.length} resource(s)${tail}: ${done.map((o) => describeRef(o.ref)).join(', ')}\n`;
}

const PAST: Record<ResourceAction, string> = { create: 'created', apply: 'applied', replace: 'replaced', delete: 'deleted' };

/** `ctl create|apply|replace -f FILE...`: validate every document first, then write them in one commit. */
function writeCommand(action: Exclude<ResourceAction, 'delete'>, deps: CtlDeps, about: string): Command {
  const cmd = new Command(action)
    .description(about)
    .requiredOption('-f, --filename <file...>', 'YAML or JSON file(s) with one or more resources; - for standard input')
    .option('-n, --namespace <ns>', 'namespace for namespaced resources that do not name one', 'default');
  if (action === 'create') cmd.option('--skip-exists', 'leave resources that already exist as they are');
  addSettingsOptions(cmd);
  cmd.action(async (opts: Opts) => {
    const docs = await readDocuments(opts['filename'] as string[], deps.io, opts['namespace'] as string);
    await withClient(optionsWithGlobals(cmd), deps, async (client) => {
      const outcomes = await client.commit(
        docs.map((d) => ({ action, resource: d.resource })),
        { skipExisting: opts['skipExists'] === true },
      );
      deps.io.out(summary(PAST[action], outcomes));
    });
  });
  return cmd;
}

function getCommand(deps: CtlDeps): Command {
  const cmd = new Command('get')
    .description('Show resources of one kind (all, or the named ones)')
    .argument('<kind>', 'resource kind, plural or alias (e.g. workloadendpoints, wep, networkpolicy, ippool)')
    .argument('[names...]', 'names of the resources to show')
    .option('-n, --namespace <ns>', 'namespace (namespaced kinds)')
    .option('-A, --all-namespaces', 'every namespace (the default when no -n is given and no name)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('ps'));
  addSettingsOptions(cmd);
  cmd.action(async (kindArg: string, names: string[], opts: Opts) => {
    const info = kindInfo(kindArg);
    const format = opts['output'] as OutputFormat;
    const ns = opts['allNamespaces'] === true ? undefined : (opts['namespace'] as string | undefined);
    if (info.namespaced && names.length > 0 && ns === undefined) {
      throw new UsageError(`${info.kind} is namespaced: give -n NAMESPACE with names`);
    }
    await withClient(optionsWithGlobals(cmd), deps, async (client) => {
      let items: CalicoResource[];
      if (names.length > 0) {
        items = [];
        for (const name of names) {
          const r = await client.get(info.kind as KindName, name, info.namespaced ? ns : undefined);
          if (r === undefined) throw new ResourceNotFoundError(`${info.kind} ${info.namespaced ? `${ns}/` : ''}${name}`);
          items.push(r);
        }
      } else {
        const listed = await client.list(info.kind as KindName, info.namespaced ? ns : undefined);
        items = listed.items;
        for (const bad of listed.invalid) deps.io.err(`warning: skipped ${bad.key}: ${bad.error.message}\n`);
      }
      deps.io.out(formatResources(items, info, format, names.length === 1));
    });
  });
  return cmd;
}

function deleteCommand(deps: CtlDeps): Command {
  const cmd = new Command('delete')
    .description('Delete resources named in files (-f) or on the command line')
    .argument('[kind]', 'resource kind (when not using -f)')
    .argument('[names...]', 'names of the resources to delete')
    .option('-f, --filename <file...>', 'YAML or JSON file(s) naming the resources; - for standard input')
    .option('-n, --namespace <ns>', 'namespace for namespaced resources', 'default')
    .option('--skip-not-exists', 'do not fail for resources that are already gone');
  addSettingsOptions(cmd);
  cmd.action(async (kindArg: string | undefined, names: string[], opts: Opts) => {
    const files = opts['filename'] as string[] | undefined;
    if ((files === undefined) === (kindArg === undefined)) throw new UsageError('give either -f FILE or KIND NAME...');
    if (kindArg !== undefined && names.length === 0) throw new UsageError('give the names of the resources to delete');
    const ns = opts['namespace'] as string;
    const refs: ResourceRef[] =
      files !== undefined
        ? (await readDocuments(files, deps.io, ns)).map((d) => refOf(d.resource))
        : names.map((name) => {
            const info = kindInfo(kindArg ?? '');
            return { kind: info.kind as KindName, name, ...(info.namespaced ? { namespace: ns } : {}) };
          });
    await withClient(optionsWithGlobals(cmd), deps, async (client) => {
      const outcomes = await client.commit(
        refs.map((ref) => ({ action: 'delete' as const, ref })),
        { skipMissing: opts['skipNotExists'] === true },
      );
      deps.io.out(summary('deleted', outcomes));
    });
  });
  return cmd;
}

/** `brindle ctl`: calicoctl-style management of Calico v3 resources in the datastore. */
export function ctlCommand(deps: CtlDeps): Command {
  // The datastore flags work before the subcommand too (`brindle ctl --datastore X apply -f f`).
  return addSettingsOptions(new Command('ctl'))
    .description('Manage Calico v3 resources in the datastore, like calicoctl')
    .addCommand(getCommand(deps))
    .addCommand(writeCommand('create', deps, 'Create resources from files; fails (writing nothing) if any exists'))
    .addCommand(writeCommand('apply', deps, 'Create or update resources from files, all or nothing'))
    .addCommand(writeCommand('replace', deps, 'Replace existing resources from files; fails (writing nothing) if any is missing'))
    .addCommand(deleteCommand(deps))
    .addCommand(ctlNodeCommand(deps));
}
