import { Command, Option } from 'commander';
import { join } from 'node:path';
import {
  addFloatingIp,
  bootVm,
  buildDataCenter,
  deleteVm,
  formatLabStatus,
  Lab,
  LabCluster,
  LAB_EXTERNAL,
  LAB_NETWORK,
  labStatus,
  NeutronClient,
  removeFloatingIps,
  runDemo,
  setUpExternalNetwork,
} from '../../lab/index.js';
import { realClock, realExec, realFs } from '../../lib/index.js';
import { DemoMismatchError, UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { waitForStop } from '../wait-for-stop.js';
import type { Env } from '../settings.js';

/** Labs live with the namespaces they describe: both are gone after a reboot. */
const DEFAULT_STATE_DIR = '/run/brindle-lab';

/** The project `brindle lab up` and `lab vm add` act in (noauth's X-Project-Id). */
export const LAB_PROJECT = 'lab-project';

function stateDir(opts: Record<string, unknown>, env: Env): string {
  return (opts['stateDir'] as string | undefined) ?? env['BRINDLE_LAB_DIR'] ?? DEFAULT_STATE_DIR;
}

/** The lab named by `--lab`, else the only one in the state directory. */
async function openLab(opts: Record<string, unknown>, env: Env): Promise<Lab> {
  const dir = stateDir(opts, env);
  const fs = realFs();
  const labs = await Lab.list({ fs, stateDir: dir });
  let prefix = opts['lab'] as string | undefined;
  if (prefix !== undefined && !prefix.endsWith('-')) prefix = `${prefix}-`;
  if (prefix === undefined) {
    if (labs.length === 0) throw new UsageError(`No lab is running (state directory ${dir})`, 'start one with brindle lab up');
    if (labs.length > 1) throw new UsageError(`Several labs are running: ${labs.join(' ')}`, 'choose one with --lab PREFIX');
    prefix = labs[0] ?? '';
  } else if (!labs.includes(prefix)) {
    throw new UsageError(`No lab ${prefix} in ${dir}`);
  }
  return Lab.open({ exec: realExec(), fs, clock: realClock(), stateDir: dir, prefix });
}

/** `brindle lab`: a virtual data center in network namespaces (up, down, demo). */
export function labCommand(deps: { io: CliIo; env: Env; signal?: AbortSignal }): Command {
  const cmd = new Command('lab').description('A virtual data center in network namespaces: compute hosts running brindle node, VMs, the Neutron API');
  const dirOption = (): Option => new Option('--state-dir <dir>', `where labs are recorded (default ${DEFAULT_STATE_DIR}) [env: BRINDLE_LAB_DIR]`);

  cmd
    .command('demo')
    .description(
      'One host, five VMs in three security groups (one in none), and a connectivity matrix of real packets checked against the policy; cleans up after itself',
    )
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
    .description(
      'Build a lab data center and run it until interrupted (Ctrl-C removes it): hosts on a fabric each running brindle node with BIRD, brindle api on 127.0.0.1, optionally route reflectors and a border router',
    )
    .option('--hosts <n>', 'number of compute hosts', '1')
    .option('--route-reflectors <k>', 'dedicated route reflectors (the full mesh is turned off)', '0')
    .option('--border', 'a border router (its own BIRD, AS 65000) with an outside host behind it')
    .addOption(dirOption())
    .action(async (opts: Record<string, unknown>) => {
      const hosts = Number(opts['hosts']);
      if (!Number.isInteger(hosts) || hosts < 1 || hosts > 16) throw new UsageError(`--hosts must be 1-16, not ${String(opts['hosts'])}`);
      const reflectors = Number(opts['routeReflectors']);
      if (!Number.isInteger(reflectors) || reflectors < 0 || reflectors > 4)
        throw new UsageError(`--route-reflectors must be 0-4, not ${String(opts['routeReflectors'])}`);
      const fs = realFs();
      const clock = realClock();
      const exec = realExec();
      const dir = stateDir(opts, deps.env);
      const lab = await Lab.create({ exec, fs, clock, stateDir: dir, prefix: Lab.randomPrefix() });
      const datastore = `embedded:${join(dir, `${lab.prefix}datastore`)}`;
      let cluster: LabCluster | undefined;
      try {
        deps.io.out(
          `lab ${lab.prefix}: building ${hosts} host(s)${reflectors > 0 ? `, ${reflectors} route reflector(s)` : ', full BGP mesh'}${opts['border'] === true ? ', a border router' : ''}\n`,
        );
        cluster = await LabCluster.start({
          lab,
          exec,
          fs,
          clock,
          datastore,
          workDir: join(dir, `${lab.prefix}run`),
          onOutput: (name, line) => deps.io.err(`[${name}] ${line}\n`),
        });
        await buildDataCenter(
          { lab, cluster, datastore, exec, fs, clock },
          {
            hosts: Array.from({ length: hosts }, (_, i) => `compute-${i + 1}`),
            reflectors,
            border: opts['border'] === true,
            progress: (l) => deps.io.out(`${l}\n`),
          },
        );
        const api = cluster.client(LAB_PROJECT);
        const net = await api.createNetwork({ name: LAB_NETWORK.name, shared: true });
        const v4 = await api.createSubnet({ network_id: net.id, ip_version: 4, cidr: LAB_NETWORK.cidr4, gateway_ip: LAB_NETWORK.gateway4 });
        const v6 = await api.createSubnet({ network_id: net.id, ip_version: 6, cidr: LAB_NETWORK.cidr6, ipv6_address_mode: 'slaac', ipv6_ra_mode: 'slaac' });
        const { externalNetworkId } = await setUpExternalNetwork(api, [v4.id]);
        await lab.setCloud({ api: cluster.apiUrl, datastore, networkId: net.id, subnetIds: [v4.id, v6.id], externalNetworkId });
        deps.io.out(`network ${LAB_NETWORK.name}: ${LAB_NETWORK.cidr4}, ${LAB_NETWORK.cidr6}\n`);
        deps.io.out(`external network ${LAB_EXTERNAL.name}: floating IPs from ${LAB_EXTERNAL.cidr4}, router ${LAB_EXTERNAL.router}\n`);
        deps.io.out(`Neutron API: ${cluster.apiUrl}\n`);
        deps.io.out(`Try: brindle lab vm add --host compute-1; brindle lab status; brindle ctl node status --hostname compute-1 --datastore ${datastore}\n`);
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
    .command('status')
    .description('Show the running lab: API, datastore, hosts (with their BIRD sockets), VMs and the border')
    .option('--lab <prefix>', 'which lab (default: the only one)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dirOption())
    .action(async (opts: Record<string, unknown>) => {
      const lab = await openLab(opts, deps.env);
      const status = labStatus(lab);
      deps.io.out(opts['output'] === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatLabStatus(status));
    });

  /** The lab named by `--lab` and a client of its API (a usage error when `lab up` is not running it). */
  const openLabCloud = async (opts: Record<string, unknown>): Promise<{ lab: Lab; api: NeutronClient }> => {
    const lab = await openLab(opts, deps.env);
    const cloud = lab.cloud;
    if (cloud === undefined) throw new UsageError(`Lab ${lab.prefix} has no API running (start it with brindle lab up)`);
    return { lab, api: new NeutronClient({ url: cloud.api, projectId: LAB_PROJECT }) };
  };

  const vm = cmd.command('vm').description('Plug VMs into the running lab (as Nova does) or unplug them');
  vm.command('add')
    .description(
      'Boot a VM on a host: a port on the lab network, bound to the host, plugged as Nova plugs it; the VM asks DHCP (udhcpc) and takes IPv6 by SLAAC',
    )
    .requiredOption('--host <host>', 'compute host (as in brindle lab status)')
    .option('--name <name>', 'VM name (default vm-<n>)')
    .option(
      '--security-group <sg>',
      "security group name or id (repeatable; default: the project's default group)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--static', 'configure the addresses statically instead of booting the VM with DHCP and SLAAC')
    .option('--lab <prefix>', 'which lab (default: the only one)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dirOption())
    .action(async (opts: Record<string, unknown>) => {
      const lab = await openLab(opts, deps.env);
      const cloud = lab.cloud;
      if (cloud?.networkId === undefined) throw new UsageError(`Lab ${lab.prefix} has no API running (start it with brindle lab up)`);
      const api = new NeutronClient({ url: cloud.api, projectId: LAB_PROJECT });
      const wanted = opts['securityGroup'] as string[];
      const groups = await api.listSecurityGroups();
      const ids = (wanted.length === 0 ? ['default'] : wanted).map((w) => {
        const found = groups.filter((g) => g.id === w || g.name === w);
        if (found.length !== 1) throw new UsageError(found.length === 0 ? `No security group ${w}` : `Security group name ${w} is ambiguous: use its id`);
        return found[0]?.id ?? '';
      });
      const used = new Set(lab.vms().map((v) => v.name));
      let n = lab.vms().length + 1;
      while (used.has(`vm-${n}`)) n++;
      const name = (opts['name'] as string | undefined) ?? `vm-${n}`;
      const booted = await bootVm(lab, api, {
        host: opts['host'] as string,
        name,
        networkId: cloud.networkId,
        fixedIps: cloud.subnetIds.map((id) => ({ subnet_id: id })),
        securityGroups: ids,
        dhcp: opts['static'] !== true,
      });
      const out = { name, host: booted.info.host, netns: booted.info.netns, port: booted.port.id, addresses: booted.info.ips.map((i) => i.ip) };
      deps.io.out(
        opts['output'] === 'json'
          ? `${JSON.stringify(out, null, 2)}\n`
          : `VM ${name} on ${out.host}: ${out.addresses.join(', ')} (namespace ${out.netns}, port ${out.port})\n`,
      );
    });
  vm.command('rm')
    .description('Unplug a VM and delete its port')
    .argument('<name>', 'VM name')
    .option('--lab <prefix>', 'which lab (default: the only one)')
    .addOption(dirOption())
    .action(async (name: string, opts: Record<string, unknown>) => {
      const { lab, api } = await openLabCloud(opts);
      lab.vmInfo(name);
      await deleteVm(lab, api, name);
      deps.io.out(`VM ${name} removed\n`);
    });

  const fip = cmd.command('fip').description('Floating IPs: reach a VM from outside by an address of the external network');
  fip
    .command('add')
    .description("Allocate a floating IP on the lab's external network and associate it with the VM's port")
    .argument('<vm>', 'VM name')
    .option('--lab <prefix>', 'which lab (default: the only one)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dirOption())
    .action(async (name: string, opts: Record<string, unknown>) => {
      const { lab, api } = await openLabCloud(opts);
      const added = await addFloatingIp(lab, api, name);
      const out = { vm: name, floatingIp: added.address, id: added.id, addresses: lab.vmInfo(name).ips.map((i) => i.ip) };
      deps.io.out(opts['output'] === 'json' ? `${JSON.stringify(out, null, 2)}\n` : `VM ${name}: floating IP ${out.floatingIp} → ${out.addresses[0] ?? '?'}\n`);
    });
  fip
    .command('rm')
    .description('Release the floating IPs of a VM')
    .argument('<vm>', 'VM name')
    .option('--lab <prefix>', 'which lab (default: the only one)')
    .addOption(dirOption())
    .action(async (name: string, opts: Record<string, unknown>) => {
      const { lab, api } = await openLabCloud(opts);
      const released = await removeFloatingIps(lab, api, name);
      deps.io.out(released.length === 0 ? `VM ${name} had no floating IP\n` : `VM ${name}: released ${released.join(', ')}\n`);
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
