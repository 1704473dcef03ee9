import { Command, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { openDatastore, ResourceClient } from '../../datastore/index.js';
import { realClock, type Clock } from '../../lib/index.js';
import type { CalicoNodeStatus } from '../../model/index.js';
import { formatNodeStatus, staleStatusWarning } from '../ctl/format-node-status.js';
import { NodeStatusMissingError } from '../errors.js';
import type { CliIo } from '../io.js';
import { addSettingsOptions, optionsWithGlobals, resolveSettings, type Env } from '../settings.js';

export interface CtlNodeDeps {
  readonly io: CliIo;
  readonly env: Env;
  readonly clock?: Clock;
}

const SCOPE = { perHost: true } as const;

/** The CalicoNodeStatus named after the node, else the first whose spec.node is the node. */
async function findStatus(client: ResourceClient, node: string): Promise<CalicoNodeStatus | undefined> {
  const named = await client.get('CalicoNodeStatus', node);
  if (named !== undefined) return named;
  return (await client.list('CalicoNodeStatus')).items.find((r) => r.spec.node === node);
}

function statusCommand(deps: CtlNodeDeps): Command {
  const cmd = new Command('status')
    .description("Show a node's BIRD and BGP peers, from the CalicoNodeStatus its agent writes (like calicoctl node status)")
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'));
  addSettingsOptions(cmd, SCOPE);
  cmd.action(async (opts: Record<string, unknown>) => {
    const settings = await resolveSettings(optionsWithGlobals(cmd), deps.env, deps.io, SCOPE);
    const node = settings.hostname;
    const kv = await openDatastore(settings.datastore);
    let resource: CalicoNodeStatus | undefined;
    try {
      resource = await findStatus(new ResourceClient(kv), node);
    } finally {
      await kv.close();
    }
    if (resource?.status === undefined) throw new NodeStatusMissingError(node);
    const now = (deps.clock ?? realClock()).now();
    const warning = staleStatusWarning(resource, now);
    if (warning !== undefined) deps.io.err(`${warning}\n`);
    const format = opts['output'] as 'table' | 'json' | 'yaml';
    if (format === 'json') deps.io.out(`${JSON.stringify(resource.status, null, 2)}\n`);
    else if (format === 'yaml') deps.io.out(toYaml(resource.status));
    else deps.io.out(formatNodeStatus(resource, now));
  });
  return cmd;
}

/** `brindle ctl node`: per-node views, like calicoctl's `node` commands. */
export function ctlNodeCommand(deps: CtlNodeDeps): Command {
  return addSettingsOptions(new Command('node')).description("Show a node's state as its agent reports it").addCommand(statusCommand(deps));
}
