// brindle deploy, in order (reference §3): reach every machine; packages; etcd members
// configured, started together and checked healthy; every machine's Brindle configuration;
// the API on controllers; the cloud's Calico resources; the agents on computes and reflectors;
// then the verification. Each step changes only what differs, so a second run changes nothing;
// with `check` nothing is changed and the report says what would be.
import { describeError, type Clock, type Exec } from '../lib/index.js';
import type { DeploySettings } from './deploy-settings.js';
import { DeployInputError, DeployStepError, DeployUnreachableError } from './errors.js';
import { hasRole, runsNode, type Inventory } from './inventory.js';
import { ETCD_DEFAULTS, NODE_HEALTH, planDeploy, type DeployPlan, type EtcdTls, type MachinePlan } from './plan-deploy.js';
import { localRemote, sshRemote, type Remote, type SshOptions } from './remote.js';
import { ensurePackages, readLocalRepo } from './step-packages.js';
import { differingFiles, writeFiles } from './step-files.js';
import { deleteNodes, ensureResources, retireMachine } from './step-resources.js';
import { ensureMasked, ensureRunning } from './step-services.js';
import { verifyCloud, type CheckResult } from './verify-cloud.js';

export interface DeployRequest {
  readonly inventory: Inventory;
  readonly settings: DeploySettings;
  /** For error messages that name the file. */
  readonly settingsFile: string;
  /** packages.directory resolved against the settings file's directory. */
  readonly packageDir: string | undefined;
  /** etcd.tls's files, read (PEM). */
  readonly etcdTls?: EtcdTls | undefined;
  readonly ssh: SshOptions;
  /** Deploy only this machine, on the machine itself without ssh (what a Fuel task does on its node). */
  readonly local?: string | undefined;
  readonly check: boolean;
  readonly verify: boolean;
  /** How long each verification check may take. */
  readonly verifyTimeoutMs: number;
}

export interface StepReport {
  readonly machine: string;
  readonly step: string;
  readonly changes: readonly string[];
  readonly seconds: number;
}

export interface DeployReport {
  readonly check: boolean;
  readonly changes: number;
  readonly steps: readonly StepReport[];
  readonly checks: readonly CheckResult[];
}

export interface DeployDeps {
  readonly exec: Exec;
  readonly clock: Clock;
  readonly progress: (line: string) => void;
}

export async function deploy(req: DeployRequest, deps: DeployDeps): Promise<DeployReport> {
  const plan = planDeploy(req.inventory, req.settings, req.etcdTls);
  if (req.local !== undefined && !req.inventory.machines.some((m) => m.name === req.local)) {
    throw new DeployInputError(req.settingsFile, `this machine (${req.local}) is not in the inventory`, 'local');
  }
  const remotes = new Map<string, Remote>(
    req.inventory.machines.map((m) => [m.name, req.local === m.name ? localRemote(deps.exec, m) : sshRemote(deps.exec, m, req.ssh)]),
  );
  const here = (mp: MachinePlan): boolean => req.local === undefined || mp.machine.name === req.local;
  const remote = (mp: MachinePlan): Remote => remotes.get(mp.machine.name) as Remote;
  const steps: StepReport[] = [];
  /** Per machine: whether its Brindle configuration or package changed in this run (its services restart). */
  const touched = new Set<string>();
  const verb = req.check ? 'would' : 'did';

  const step = async (mp: MachinePlan, name: string, work: () => Promise<string[]>): Promise<string[]> => {
    const t0 = deps.clock.monotonic();
    const changes = await work();
    const seconds = Math.round((deps.clock.monotonic() - t0) / 100) / 10;
    steps.push({ machine: mp.machine.name, step: name, changes, seconds });
    deps.progress(`[${mp.machine.name}] ${name}: ${changes.length === 0 ? 'unchanged' : `${verb} ${changes.join('; ')}`} (${seconds} s)`);
    return changes;
  };
  /** One step on every machine concerned at once; all of them finish, and every failure is reported. */
  const each = async (filter: (mp: MachinePlan) => boolean, name: string, work: (mp: MachinePlan) => Promise<string[]>): Promise<string[][]> => {
    const results = await Promise.allSettled(
      plan.machines
        .filter(filter)
        .filter(here)
        .map((mp) => step(mp, name, () => work(mp))),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    const [first, ...others] = failed;
    if (first !== undefined) {
      for (const other of others) deps.progress(`also failed: ${describeError(other)}`);
      throw first instanceof Error ? first : new Error(describeError(first));
    }
    return results.map((r) => (r.status === 'fulfilled' ? r.value : []));
  };
  const all = (): boolean => true;

  deps.progress(`deploy${req.check ? ' --check' : ''}: ${plan.machines.length} machine(s), etcd on ${plan.etcdMembers.map((m) => m.name).join(', ')}`);
  await each(all, 'reach', async (mp) => {
    const r = await remote(mp).run('true', 30_000);
    if (r.code !== 0) throw new DeployUnreachableError(mp.machine.name, mp.machine.address, r.stderr);
    return [];
  });

  const repo = req.packageDir === undefined ? undefined : await readLocalRepo(deps.exec, req.packageDir, req.settingsFile);
  await each(all, 'packages', async (mp) => {
    const changes = await ensurePackages(remote(mp), mp.packages, repo, req.check);
    if (changes.some((c) => c.startsWith('install brindle'))) touched.add(mp.machine.name);
    return changes;
  });

  const members = (mp: MachinePlan): boolean => mp.etcdFiles.length > 0;
  await each(members, 'etcd', async (mp) => {
    const stale = await differingFiles(remote(mp), 'etcd', mp.etcdFiles);
    if (stale.includes(ETCD_DEFAULTS)) await refuseMembershipChange(remote(mp));
    if (!req.check) await writeFiles(remote(mp), 'etcd', mp.etcdFiles, stale);
    const started = await ensureRunning(remote(mp), 'etcd', ['etcd.service'], { restart: () => stale.length > 0, check: req.check, noBlock: true });
    return [...stale.map((p) => `write ${p}`), ...started];
  });
  const localMembers = plan.machines.filter(members).filter(here);
  if (!req.check && localMembers.length > 0) await waitForEtcd(localMembers.map(remote), plan, deps);

  await each(all, 'configuration', async (mp) => {
    const masked = await ensureMasked(remote(mp), 'configuration', mp.masked, req.check);
    const stale = await differingFiles(remote(mp), 'configuration', mp.files);
    if (!req.check) await writeFiles(remote(mp), 'configuration', mp.files, stale);
    if (stale.length > 0) touched.add(mp.machine.name);
    return [...masked, ...stale.map((p) => `write ${p}`)];
  });

  const restart = (mp: MachinePlan) => (): boolean => touched.has(mp.machine.name);
  const controllers = (mp: MachinePlan): boolean => hasRole(mp.machine, 'controller');
  await each(controllers, 'api', async (mp) => {
    // The API, and the console where the plan has one (it reads the same datastore).
    const units = mp.services.map((sv) => sv.unit).filter((u) => u === 'brindle-api.service' || u === 'brindle-console.service');
    const changes = await ensureRunning(remote(mp), 'api', units, { restart: restart(mp), check: req.check });
    if (!req.check) await waitForPort(remote(mp), plan.apiPort, deps);
    return changes;
  });

  const primary = plan.machines.find((mp) => mp.machine.name === plan.primary.name) as MachinePlan;
  if (here(primary)) await step(primary, 'resources', () => ensureResources(remote(primary), plan.resources, req.check));

  const nodes = (mp: MachinePlan): boolean => runsNode(mp.machine);
  await each(nodes, 'agent', async (mp) => {
    const changes = await ensureRunning(remote(mp), 'agent', ['brindle-node.service'], { restart: restart(mp), check: req.check });
    if (!req.check && changes.length > 0) await waitForReady(remote(mp), deps);
    return changes;
  });

  for (const m of plan.retired.filter((r) => req.local === undefined || r.name === req.local)) {
    const pseudo: MachinePlan = { machine: m, packages: [], masked: [], etcdFiles: [], files: [], services: [] };
    await step(pseudo, 'retire', () => retireMachine(remotes.get(m.name) as Remote, req.check));
  }
  if (here(primary) && plan.retired.length > 0) {
    await step(primary, 'retire', () =>
      deleteNodes(
        remote(primary),
        plan.retired.map((m) => m.name),
        req.check,
      ),
    );
  }

  const changes = steps.reduce((n, s) => n + s.changes.length, 0);
  deps.progress(req.check ? `deploy --check: ${changes} change(s) would be made` : `deploy: ${changes === 0 ? 'no changes' : `${changes} change(s) made`}`);
  // A Fuel task verifies on the primary controller only, from the datastore and the API (no test port: no ssh to computes).
  const checks =
    req.check || !req.verify || !here(primary)
      ? []
      : await verifyCloud(plan, req.settings, remotes, {
          clock: deps.clock,
          progress: deps.progress,
          timeoutMs: req.verifyTimeoutMs,
          testPort: req.local === undefined,
        });
  return { check: req.check, changes, steps, checks };
}

/** etcd members answer health together once they have found each other (at most a minute). */
async function waitForEtcd(members: readonly Remote[], plan: DeployPlan, deps: DeployDeps): Promise<void> {
  const first = members[0];
  if (first === undefined) return;
  const endpoints = plan.datastore.slice('etcd:'.length);
  const deadline = deps.clock.monotonic() + 60_000;
  for (;;) {
    const r = await first.run(`ETCDCTL_API=3 etcdctl ${plan.etcdctlMemberFlags} --endpoints='${endpoints}' --command-timeout=3s endpoint health`);
    if (r.code === 0) return;
    if (deps.clock.monotonic() > deadline) {
      const journal = await first.run('journalctl -u etcd -n 20 --no-pager || true');
      throw new DeployStepError(first.machine.name, 'etcd', 'etcdctl endpoint health', `${r.stderr}${r.stdout}\n${journal.stdout}`);
    }
    await deps.clock.sleep(1_000);
  }
}

/**
 * etcd keeps the membership and URLs of its first start in its data directory: a member that
 * has started once cannot be given another cluster list, scheme or address by rewriting its
 * configuration (its peers would refuse it, or all members would restart at once).
 */
async function refuseMembershipChange(remote: Remote): Promise<void> {
  const r = await remote.run('test -d /var/lib/etcd/default/member');
  if (r.code === 0) {
    throw new DeployStepError(
      remote.machine.name,
      'etcd',
      `compare ${ETCD_DEFAULTS}`,
      "etcd's members, addresses or TLS differ from those this member was started with: deploy does not change a running etcd cluster's membership (add or remove members with etcdctl member add/remove, then deploy)",
    );
  }
}

/** A (re)started agent reports ready (in sync, first apply done) on its health port within 2 minutes. */
async function waitForReady(remote: Remote, deps: DeployDeps): Promise<void> {
  const deadline = deps.clock.monotonic() + 120_000;
  const probe = `node -e "fetch('http://${NODE_HEALTH}/readiness').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`;
  for (;;) {
    if ((await remote.run(probe, 30_000)).code === 0) return;
    if (deps.clock.monotonic() > deadline) {
      const journal = await remote.run('journalctl -u brindle-node -n 30 --no-pager || true');
      throw new DeployStepError(remote.machine.name, 'agent', `GET http://${NODE_HEALTH}/readiness`, `not ready in 2 minutes:\n${journal.stdout}`);
    }
    await deps.clock.sleep(1_000);
  }
}

/** The API answers on its port (loopback of the controller) within 30 s of its start. */
async function waitForPort(remote: Remote, port: number, deps: DeployDeps): Promise<void> {
  const deadline = deps.clock.monotonic() + 30_000;
  for (;;) {
    const r = await remote.run(`timeout 2 bash -c '</dev/tcp/127.0.0.1/${port}'`);
    if (r.code === 0) return;
    if (deps.clock.monotonic() > deadline) {
      const journal = await remote.run('journalctl -u brindle-api -n 30 --no-pager || true');
      throw new DeployStepError(remote.machine.name, 'api', `connect to 127.0.0.1:${port}`, journal.stdout);
    }
    await deps.clock.sleep(500);
  }
}
