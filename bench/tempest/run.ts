// `make tempest`: OpenStack's own network API tests against Brindle. Brings up Debian's keystone
// on sqlite and a real etcd, starts `brindle api --auth keystone`, writes a tempest workspace whose
// tempest.conf lists the extensions Brindle serves, runs tempest's `tempest.api.network` serially,
// and records passed/failed/skipped with the failing tests' names in bench/results/tempest.json.
// Everything runs on 127.0.0.1 and is stopped by PID; the workspace is removed unless --keep.
import { join } from 'node:path';
import { realExec, realFs } from '../../src/lib/index.js';
import { trackChild, trackTempDir, untrackTempDir } from '../../src/lib/testing.js';
import { freePort } from '../../src/lib/index.js';
import { startTestEtcd, type TestEtcd } from '../../src/datastore/testing/index.js';
import { startTestKeystone, type TestKeystone } from '../../src/neutron/testing/index.js';
import { EXTENSIONS } from '../../src/neutron/index.js';
import { progress } from '../datastore/workload.js';
import { projectRoot, startBrindle, type RunningServer } from '../api/servers.js';
import { workTree } from '../work-tree.js';
import { accountsYaml, tempestConf, type TempestAccount } from './tempest-conf.js';
import { parseTestLine, tempestOutcome, type TempestOutcome } from './tempest-outcome.js';

const TAG = 'tempest';
const REGEX = '^tempest\\.api\\.network';
const SERVICE_PASSWORD = 'brindle-tempest';

/**
 * Tests left out of the run, each for a reason in Calico's model or Brindle's surface that no
 * tempest.conf flag expresses (tempest's own --exclude-list; tempest is not changed). Everything
 * else tempest skips, it skips by the extensions and services tempest.conf lists.
 */
export const EXCLUDED: readonly { readonly regex: string; readonly reason: string }[] = [
  {
    regex: 'test_routers_negative\\.RoutersNegative(IpV6)?Test\\.test_add_router_interfaces_on_overlapping_subnets_returns_400',
    reason: 'needs two networks holding the same CIDR: Calico networks share one address space, so the second subnet gets the next free block',
  },
  {
    regex: 'test_networks\\.NetworksIpV6Test\\.(test_create_delete_subnet_with_gw_and_allocation_pools|test_update_subnet_gw_dns_host_routes_dhcp)',
    reason:
      "need the project CIDR's first /64 (their allocation pools are in it) while an earlier test of the class still holds it: tempest frees a class's subnets only when the class ends, and Calico networks share one address space",
  },
  {
    regex: 'test_tags\\.TagsExtTest\\.',
    reason: 'its class setup creates a subnet pool, unguarded by the subnet_allocation extension: Brindle serves no subnet pools',
  },
];

/** Four member accounts and two admins: tempest locks one per test class that needs it. */
const ACCOUNTS: readonly TempestAccount[] = [
  ...[1, 2, 3, 4].map((n) => ({ username: `demo${n}`, password: 'demo-pw', project: `demo${n}`, admin: false })),
  { username: 'admin2', password: 'admin2-pw', project: 'admin2', admin: true },
];

/**
 * tempest 33's subnets client sleeps 10 s before every subnet DELETE (for Neutron's DHCP ports
 * to go); Brindle has none to wait for. This shim, loaded through PYTHONPATH, replaces that one
 * module's sleep with nothing: tempest's files are not changed.
 */
const SHIM = [
  'import time as _t, types as _ty',
  'import tempest.lib.services.network.subnets_client as _sc',
  '_sc.time = _ty.SimpleNamespace(sleep=lambda s: None, time=_t.time)',
  '',
].join('\n');

/** The external network floating IPs come from (tempest's `public_network_id`): inside the test range, apart from the projects'. */
const PUBLIC_CIDR = '198.19.0.0/24';

/** Creates the external network and its subnet as the cloud's admin would; returns the network's id. */
async function createPublicNetwork(apiUrl: string, adminToken: string): Promise<string> {
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const r = await fetch(`${apiUrl}/v2.0/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': adminToken },
      body: JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status !== 201) throw new Error(`creating the public network: POST /v2.0/${path} answered ${r.status}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const net = (await post('networks', { network: { name: 'public', 'router:external': true, shared: false } }))['network'] as { id: string };
  await post('subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: PUBLIC_CIDR, name: 'public-v4' } });
  return net.id;
}

interface Args {
  readonly keep: boolean;
  readonly filter?: string;
}

function parseArgs(argv: readonly string[]): Args {
  let keep = false;
  let filter: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--keep') keep = true;
    else if (a === '--filter') filter = argv[++i];
    else throw new Error(`unknown argument ${a ?? ''} (usage: run.js [--keep] [--filter REGEX])`);
  }
  return { keep, ...(filter === undefined ? {} : { filter }) };
}

async function tempestInstalled(ws: string): Promise<void> {
  const r = await realExec()
    .run('tempest', ['--version'], { timeoutMs: 60_000, cwd: ws })
    .catch(() => undefined);
  if (r === undefined || r.code !== 0) throw new Error('tempest is not installed: `make tempest` installs it (scripts/install-deps.sh tempest)');
}

/** Runs tempest in the workspace, printing each test's result as it comes; returns all it printed. */
async function runTempest(ws: string, shimDir: string, regex: string, total: number): Promise<string> {
  const child = realExec().spawn('tempest', ['run', '--serial', '--regex', regex, '--exclude-list', join(ws, 'exclude-list.txt')], {
    cwd: ws,
    env: { ...process.env, PYTHONPATH: shimDir },
  });
  trackChild(child);
  child.stdin.end();
  let out = '';
  let partial = '';
  let n = 0;
  const onData = (d: Buffer): void => {
    const s = d.toString('utf8');
    out += s;
    partial += s;
    for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      const t = parseTestLine(line);
      if (t !== undefined) progress(TAG, `[${++n}/${total}] ${t.status === 'passed' ? 'ok  ' : t.status === 'failed' ? 'FAIL' : 'skip'} ${t.id}`);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const status = await child.exited;
  progress(TAG, `tempest exited with ${status.code ?? status.signal}`);
  return out;
}

/** The tests a run would start: all that match `regex`, or those left after the exclude list. */
async function listTests(ws: string, regex: string, excluding: boolean): Promise<string[]> {
  const args = ['run', '--list-tests', '--regex', regex, ...(excluding ? ['--exclude-list', join(ws, 'exclude-list.txt')] : [])];
  const r = await realExec().run('tempest', args, { cwd: ws, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`tempest run --list-tests failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return r.stdout.split('\n').filter((l) => l.startsWith('tempest.'));
}

async function writeResults(record: unknown, date: string): Promise<string> {
  const fs = realFs();
  const dir = join(projectRoot(), 'bench', 'results');
  await fs.ensureDir(dir);
  const json = `${JSON.stringify(record, null, 2)}\n`;
  await fs.writeTextAtomic(join(dir, `tempest-${date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`), json);
  const path = join(dir, 'tempest.json');
  await fs.writeTextAtomic(path, json);
  return path;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const date = new Date().toISOString();
  const started = Date.now();
  const tree = await workTree();
  const fs = realFs();
  let ks: TestKeystone | undefined;
  let etcd: TestEtcd | undefined;
  let server: RunningServer | undefined;
  const scratch = await fs.makeTempDir('brindle-tempest-');
  trackTempDir(scratch);
  // tempest init wants a directory of its own (the scratch dir gets tempest.log from --version).
  const ws = join(scratch, 'workspace');
  try {
    await tempestInstalled(scratch);
    progress(TAG, 'starting keystone (sqlite, fernet)');
    ks = await startTestKeystone();
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    // The catalog entry first: Debian's keystone on sqlite has refused later catalog writes.
    await ks.addEndpoint('network', 'neutron', apiUrl);
    await ks.addUser('service', 'brindle', SERVICE_PASSWORD, 'admin');
    for (const a of ACCOUNTS) await ks.addUser(a.project, a.username, a.password, a.admin ? 'admin' : 'member');
    progress(TAG, `keystone at ${ks.url}, ${ACCOUNTS.length} tempest accounts and the admin`);
    etcd = await startTestEtcd();
    const auth = ['--auth', 'keystone', '--keystone-url', ks.url, '--keystone-username', 'brindle', '--keystone-password', SERVICE_PASSWORD];
    server = await startBrindle(TAG, `etcd:${etcd.endpoint}`, 1, auth, port);
    const publicNetworkId = await createPublicNetwork(apiUrl, await ks.token('admin', ks.adminPassword, 'admin'));
    progress(TAG, `public (external) network ${publicNetworkId}, subnet ${PUBLIC_CIDR}`);

    const init = await realExec().run('tempest', ['init', '--workspace-path', join(scratch, 'workspaces.yaml'), '--name', 'brindle', ws], {
      timeoutMs: 120_000,
      cwd: scratch,
    });
    if (init.code !== 0) throw new Error(`tempest init failed (${init.code}): ${init.stderr.slice(-2000)}`);
    const accounts: TempestAccount[] = [...ACCOUNTS, { username: 'admin', password: ks.adminPassword, project: 'admin', admin: true }];
    await fs.writeTextAtomic(join(ws, 'etc', 'accounts.yaml'), accountsYaml(accounts));
    const extensions = EXTENSIONS.map((e) => e.alias);
    await fs.writeTextAtomic(
      join(ws, 'etc', 'tempest.conf'),
      tempestConf({ identityUrl: ks.url, adminPassword: ks.adminPassword, workspace: ws, extensions, floatingIps: true, publicNetworkId }),
    );
    const shimDir = join(ws, 'shim');
    await fs.ensureDir(shimDir);
    await fs.writeTextAtomic(join(shimDir, 'sitecustomize.py'), SHIM);

    await fs.writeTextAtomic(join(ws, 'exclude-list.txt'), EXCLUDED.map((e) => `${e.regex}\n`).join(''));

    const regex = args.filter ?? REGEX;
    const listed = await listTests(ws, regex, false);
    const kept = new Set(await listTests(ws, regex, true));
    const excluded = EXCLUDED.map((e) => ({ ...e, tests: listed.filter((t) => !kept.has(t)).filter((t) => new RegExp(e.regex).test(t)).length }));
    for (const e of excluded) progress(TAG, `excluded ${e.tests}: ${e.reason}`);
    progress(TAG, `running ${kept.size} tests matching ${regex}, serially (workspace ${ws})`);
    const output = await runTempest(ws, shimDir, regex, kept.size);
    await fs.writeTextAtomic(join(ws, 'tempest-output.txt'), output);
    const outcome: TempestOutcome = tempestOutcome(output);
    const errors = await server.errorLog();
    const record = {
      benchmark: 'tempest',
      date,
      commit: tree.commit,
      modified: tree.dirty,
      tempest: (await realExec().run('tempest', ['--version'], { timeoutMs: 60_000, cwd: scratch })).stdout.trim(),
      regex,
      extensions,
      seconds: Math.round((Date.now() - started) / 1000),
      ...outcome,
      excluded,
      serverErrorLines: errors.count,
      serverFirstErrors: errors.first,
    };
    // A --filter run is for working on a few tests: kept in its workspace (with --keep), not recorded.
    const path = args.filter === undefined ? await writeResults(record, date) : join(ws, 'tempest.json');
    if (args.filter !== undefined) await fs.writeTextAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
    for (const t of outcome.failedTests) progress(TAG, `failed: ${t}`);
    for (const [reason, n] of Object.entries(outcome.skipReasons).sort((a, b) => b[1] - a[1])) progress(TAG, `skipped ${n}: ${reason}`);
    if (outcome.totals !== undefined && (outcome.totals.passed !== outcome.passed || outcome.totals.failed !== outcome.failed))
      progress(TAG, `note: tempest's own totals say ${outcome.totals.passed} passed, ${outcome.totals.failed} failed, ${outcome.totals.skipped} skipped`);
    progress(TAG, args.filter === undefined || args.keep ? `results in ${path}` : 'a --filter run is not recorded (--keep keeps its workspace)');
    const left = excluded.reduce((n, e) => n + e.tests, 0);
    console.log(`${outcome.passed} passed, ${outcome.failed} failed, ${outcome.skipped} skipped${left > 0 ? ` (${left} excluded)` : ''}`);
    if (args.keep) progress(TAG, `workspace kept: ${scratch}`);
    process.exitCode = outcome.failed > 0 || outcome.passed === 0 ? 1 : 0;
  } finally {
    // Each step whatever the others do: a failed stop must not leave the rest running.
    const steps = await Promise.allSettled([server?.stop(), etcd?.stop(), ks?.remove()]);
    for (const s of steps) if (s.status === 'rejected') progress(TAG, `cleanup: ${s.reason instanceof Error ? s.reason.message : String(s.reason)}`);
    // Kept or removed here: either way no longer the exit-time cleanup's to remove.
    untrackTempDir(scratch);
    if (!args.keep) await fs.remove(scratch);
  }
}

main().catch((err: unknown) => {
  console.error(`tempest: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
