// The console benchmark: `brindle console` over a synthetic cloud of 1,000 hosts and 50,000 VM
// ports (2 route reflectors, 100 networks, 20 security groups) in an embedded datastore, driven
// by real headless Chromium. It measures the console's start (reading everything), each page's
// load (navigation -> its content on screen) beside the JSON call it makes, and the time from a
// datastore change to the open page showing it (a VM added on a host; an agent's report gone).
// The console and the browser run in a network namespace of their own, removed at the end.
// Prints a table on stdout (progress on stderr) and writes bench/results/console-<timestamp>.json.
// Run from the project root after building, as root:
//   node dist/bench/console/run.js [--quick]
import { join } from 'node:path';
import { openDatastore } from '../../src/datastore/index.js';
import { realExec, realFs, type ChildHandle } from '../../src/lib/index.js';
import { eventually, makeTestNetns, trackChild, trackTempDir } from '../../src/lib/testing.js';
import { felixHostStatusKey } from '../../src/model/index.js';
import { launchHeadlessBrowser } from '../../src/console/testing/index.js';
import { vmMemory } from '../agent/agent-process.js';
import { ms, ratio, table } from '../agent/report.js';
import { stats } from '../api/measure.js';
import { machineInfo } from '../bgp/report.js';
import { progress } from '../datastore/workload.js';
import { projectRoot } from '../project-root.js';
import { workTree } from '../work-tree.js';
import { endpointIp, endpointOps, hostName, portId, vmId, writeSyntheticCloud, type CloudShape } from './synthetic-cloud.js';

const QUICK = process.argv.includes('--quick');
const SHAPE: CloudShape = QUICK
  ? { hosts: 100, endpoints: 5_000, reflectors: 2, networks: 10, groups: 20 }
  : { hosts: 1_000, endpoints: 50_000, reflectors: 2, networks: 100, groups: 20 };
const LOADS = 5;
const UPDATES = 20;
const PORT = 9797;
const BASE = `http://127.0.0.1:${PORT}/`;
const TARGET_UPDATE_MS = 1_000;

const say = (m: string): void => progress('console', m);
const median = (xs: readonly number[]): number => stats(xs).p50Ms;
const round = (n: number): number => Math.round(n * 10) / 10;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the console benchmark makes a network namespace: run it as root');
  const date = new Date().toISOString();
  const brindle = await workTree();
  const machine = await machineInfo();
  const fs = realFs();
  const exec = realExec();
  const dir = await fs.makeTempDir('brindle-bench-console-');
  trackTempDir(dir);
  let child: ChildHandle | undefined;
  const ns = await makeTestNetns('bcb');
  try {
    await ns.must('ip', ['link', 'set', 'lo', 'up']);
    const spec = `embedded:${join(dir, 'ds')}`;
    const kv = await openDatastore({ kind: 'embedded', path: join(dir, 'ds') });
    const t0 = performance.now();
    let shown = 0;
    await writeSyntheticCloud(kv, SHAPE, (done, total) => {
      if (done - shown >= total / 10 || done === total) {
        shown = done;
        say(`synthetic cloud: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} keys`);
      }
    });
    const keys = (await kv.list('/')).items.length;
    say(`synthetic cloud written: ${keys.toLocaleString('en-US')} keys in ${ms(performance.now() - t0)}`);

    // 1. Start: spawn -> serving (the first full read of the datastore, then listen).
    const spawned = performance.now();
    let log = '';
    child = exec.spawn('ip', [
      'netns',
      'exec',
      ns.name,
      process.execPath,
      join(projectRoot(), 'bin/brindle'),
      'console',
      '--datastore',
      spec,
      '--listen',
      `127.0.0.1:${PORT}`,
    ]);
    trackChild(child);
    // Timed at the very output that says it serves.
    const serving = new Promise<number>((resolve) => {
      const take = (d: Buffer): void => {
        log += d.toString();
        if (log.includes('brindle console: serving')) resolve(performance.now() - spawned);
      };
      child?.stderr.on('data', take);
      child?.stdout.on('data', take);
    });
    const startMs = await Promise.race([
      serving,
      child.exited.then((st) => Promise.reject(new Error(`the console exited (${st.code ?? st.signal}) before serving:\n${log}`))),
    ]);
    // The console's own log line says how long its first read took (its logger may write it just after the "serving" line).
    const syncMs = async (): Promise<number> => {
      await eventually(() => /"ms":\d+,"endpoints"/.test(log), { timeoutMs: 5_000, what: "the console's in-sync log line" }).catch(() => undefined);
      return Number(/"ms":(\d+),"endpoints"/.exec(log)?.[1] ?? NaN);
    };
    const memStart = await vmMemory(child.pid);
    const inSyncMs = await syncMs();
    say(`console serving after ${ms(startMs)} (in sync after ${ms(inSyncMs)}), RSS ${memStart.vmRssMiB} MiB`);

    const b = await launchHeadlessBrowser(ns.name, dir);
    const page = b.page;
    try {
      // 2. Page loads: a fresh load each time, until the page's content is on screen.
      const midHost = hostName(Math.floor(SHAPE.hosts / 2));
      const someVm = vmId(Math.floor(SHAPE.endpoints / 3));
      const pages: { name: string; hash: string; marker: string; api: string }[] = [
        { name: 'overview', hash: '#/', marker: '[data-testid="hosts-alive"]', api: '/api/overview' },
        { name: `hosts (page 1 of ${SHAPE.hosts.toLocaleString('en-US')})`, hash: '#/hosts', marker: 'tr[data-host]', api: '/api/hosts' },
        { name: 'a host with its sessions and VMs', hash: `#/hosts/${midHost}`, marker: 'tr[data-endpoint]', api: `/api/hosts/${midHost}` },
        {
          name: 'VMs searched by address',
          hash: `#/vms?q=${endpointIp(12_345 % SHAPE.endpoints)}`,
          marker: 'tr[data-endpoint]',
          api: `/api/endpoints?q=${endpointIp(12_345 % SHAPE.endpoints)}`,
        },
        { name: "a VM's page with its policies", hash: `#/vms/${someVm}`, marker: '[data-testid="addresses"]', api: `/api/vms/${someVm}` },
        { name: 'networks with address usage', hash: '#/networks', marker: 'meter', api: '/api/networks' },
        {
          name: `topology (${(SHAPE.hosts + SHAPE.reflectors).toLocaleString('en-US')} speakers)`,
          hash: '#/topology',
          marker: 'svg[data-testid="topology"] line',
          api: '/api/topology',
        },
        { name: 'settings', hash: '#/settings', marker: '#f-asNumber', api: '/api/settings' },
      ];
      const loads: Record<string, { pageMs: number[]; apiMs: number[]; bytes: number }> = {};
      for (const p of pages) {
        const pageMs: number[] = [];
        const apiMs: number[] = [];
        let bytes = 0;
        for (let i = 0; i < LOADS; i++) {
          await page.goto('about:blank');
          const t = performance.now();
          await page.goto(`${BASE}${p.hash}`);
          await page.waitForSelector(p.marker, { timeout: 30_000 });
          pageMs.push(performance.now() - t);
          const r = await page.evaluate(
            `(async () => { const t = performance.now(); const res = await fetch(${JSON.stringify(p.api)}); const text = await res.text(); return [performance.now() - t, text.length]; })()`,
          );
          const [took, size] = r as [number, number];
          apiMs.push(took);
          bytes = size;
        }
        loads[p.name] = { pageMs: pageMs.map(round), apiMs: apiMs.map(round), bytes };
        say(`${p.name}: page ${ms(median(pageMs))}, its API call ${ms(median(apiMs))} (${bytes.toLocaleString('en-US')} bytes)`);
      }

      // 3. Time to update: a VM added on an open host page; an agent's report gone and back.
      const added: number[] = [];
      for (let k = 0; k < UPDATES; k++) {
        const i = SHAPE.endpoints + k;
        await page.goto('about:blank');
        await page.goto(`${BASE}#/hosts/${midHost}?q=${portId(i)}`);
        await page.waitForSelector('[data-testid="sessions"]');
        // The page's event stream has delivered its first event: it is listening.
        await page.waitForFunction('document.body.dataset.revision !== undefined');
        const t = performance.now();
        await kv.txn({ compare: [], success: endpointOps(i, midHost, SHAPE) });
        await page.waitForSelector(`tr[data-endpoint="${portId(i)}"]`, { timeout: 10_000 });
        added.push(performance.now() - t);
      }
      say(`VM added -> on its host's page: p50 ${ms(median(added))}, max ${ms(Math.max(...added))}`);
      const dead: number[] = [];
      const alive: number[] = [];
      const deadHost = hostName(Math.floor(SHAPE.hosts / 3));
      await page.goto(`${BASE}#/hosts/${deadHost}`);
      const state = (want: string): string => `document.querySelector('[data-testid="agent-state"]')?.textContent === ${JSON.stringify(want)}`;
      await page.waitForFunction(state('alive'));
      for (let k = 0; k < UPDATES; k++) {
        let t = performance.now();
        await kv.delete(felixHostStatusKey('no-region', deadHost));
        await page.waitForFunction(state('not alive'), { timeout: 10_000 });
        dead.push(performance.now() - t);
        t = performance.now();
        await kv.put(felixHostStatusKey('no-region', deadHost), JSON.stringify({ time: new Date().toISOString(), uptime: 1, first_update: true }));
        await page.waitForFunction(state('alive'), { timeout: 10_000 });
        alive.push(performance.now() - t);
      }
      say(`report gone -> not alive: p50 ${ms(median(dead))}; back -> alive: p50 ${ms(median(alive))}`);
      const memEnd = await vmMemory(child.pid);

      const updates = {
        vmAdded: { ...stats(added), n: added.length },
        reportGone: { ...stats(dead), n: dead.length },
        reportBack: { ...stats(alive), n: alive.length },
      };
      const rows: string[][] = [
        ['console start: spawn -> serving (reads every key)', ms(startMs), '', ''],
        ['  of which: in sync with the datastore', ms(inSyncMs), '', ''],
        ...Object.entries(loads).map(([name, l]) => [`page: ${name}`, ms(median(l.pageMs)), ms(median(l.apiMs)), ratio(median(l.pageMs), median(l.apiMs))]),
        [`update: VM added -> on its host's page, p50 / p99 (N=${UPDATES})`, `${ms(updates.vmAdded.p50Ms)} / ${ms(updates.vmAdded.p99Ms)}`, '', ''],
        [`update: agent report gone -> "not alive", p50 / p99`, `${ms(updates.reportGone.p50Ms)} / ${ms(updates.reportGone.p99Ms)}`, '', ''],
        [`update: report back -> "alive", p50 / p99`, `${ms(updates.reportBack.p50Ms)} / ${ms(updates.reportBack.p99Ms)}`, '', ''],
        ['console RSS after start / after the run (peak)', `${memStart.vmRssMiB} / ${memEnd.vmRssMiB} MiB (${memEnd.vmHwmMiB})`, '', ''],
      ];
      const text = table(
        [
          `${SHAPE.hosts.toLocaleString('en-US')} hosts, ${SHAPE.endpoints.toLocaleString('en-US')} VM ports, ${keys.toLocaleString('en-US')} keys (median of ${LOADS})`,
          'page (browser)',
          'its API call',
          'ratio',
        ],
        rows,
      );
      const worst = Math.max(updates.vmAdded.p99Ms, updates.reportGone.p99Ms, updates.reportBack.p99Ms);
      const target = `target: a change on the page within ${TARGET_UPDATE_MS} ms: worst p99 ${ms(worst)} -> ${worst <= TARGET_UPDATE_MS ? 'met' : 'MISSED'}`;
      process.stdout.write(`${text}\n${target}\n`);
      const results = {
        date,
        brindle,
        machine,
        quick: QUICK,
        shape: SHAPE,
        keys,
        start: { spawnToServingMs: round(startMs), inSyncMs },
        memory: { start: memStart, end: memEnd },
        loads,
        updates,
        target,
      };
      if (!QUICK) {
        const path = join(projectRoot(), 'bench', 'results', `console-${date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.json`);
        await fs.writeTextAtomic(path, `${JSON.stringify(results, null, 2)}\n`);
        say(`results: ${path}`);
      }
    } finally {
      await b.close();
      await kv.close();
    }
  } finally {
    child?.kill('SIGTERM');
    await child?.exited;
    await ns.remove();
    await fs.remove(dir);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`console benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
