import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatastore, parseDatastoreSpec, ResourceClient, type KvStore } from '../datastore/index.js';
import { realExec, realFs, type ChildHandle } from '../lib/index.js';
import { makeTestNetns, projectRoot, trackChild, trackTempDir, untilPasses, untrackTempDir, type TestNetns } from '../lib/testing.js';
import { BRINDLE_BIN, bootVm } from '../lab/index.js';
import { startLabCloud, type LabCloud } from '../lab/testing/index.js';
import { felixHostStatusKey, resourcePrefix } from '../model/index.js';
import { launchHeadlessBrowser, type HeadlessBrowser } from './testing/index.js';

const exec = realExec();
const fs = realFs();
const PORT = 9797;
const BASE = `http://127.0.0.1:${PORT}/`;
/** The agents' status lease (--report-ttl): a killed agent's host must turn not-alive within it. */
const REPORT_TTL_S = 4;
/** With BRINDLE_UPDATE_SCREENSHOTS=1 the screenshots replace those in docs/images (else they go to the test's temp dir). */
const SCREENSHOTS = process.env['BRINDLE_UPDATE_SCREENSHOTS'] === '1' ? join(projectRoot(), 'docs/images') : undefined;

/**
 * The console against a lab, in real headless Chromium: two hosts in a BGP mesh and a border
 * router nobody peers with yet; `brindle console` and the browser run in a namespace of their
 * own (they reach only each other and the lab's datastore file).
 */
describe('brindle console in a browser, against a lab (real BIRD, real agents, real Chromium)', { timeout: 300_000 }, () => {
  let cloud: LabCloud;
  let ns: TestNetns;
  let dir: string;
  let consoleChild: ChildHandle;
  let consoleLog = '';
  let kv: KvStore;
  let b: HeadlessBrowser;
  let shots = '';

  const page = () => b.page;
  /** Opens a page afresh (a full load, as a user's new visit; not a hash change inside the app). */
  const go = async (hash: string): Promise<void> => {
    await page().goto('about:blank');
    await page().goto(`${BASE}${hash}`);
  };
  const fill = async (selector: string, value: string): Promise<void> => {
    await page().click(selector, { count: 3 });
    await page().keyboard.press('Backspace');
    await page().type(selector, value);
  };
  /** Waits until the element's text passes `test` (`includes`, `excludes` or `equals` a string). */
  const waitText = async (selector: string, test: 'includes' | 'excludes' | 'equals', value: string, timeoutMs = 10_000): Promise<void> => {
    const sel = JSON.stringify(selector);
    const v = JSON.stringify(value);
    const t = `(document.querySelector(${sel})?.textContent ?? null)`;
    const expr = test === 'includes' ? `${t}?.includes(${v})` : test === 'equals' ? `${t} === ${v}` : `${t} !== null && !${t}.includes(${v})`;
    await page().waitForFunction(expr, { timeout: timeoutMs });
  };
  /** Runs `expr` in the page (written as text: this project's types have no DOM). */
  const inPage = async <T>(expr: string): Promise<T> => (await page().evaluate(expr)) as T;
  const q = (selector: string): string => `document.querySelector(${JSON.stringify(selector)})`;
  const textOf = (selector: string): Promise<string | null> => inPage(`${q(selector)}?.textContent ?? null`);
  const bodyText = async (): Promise<string> => (await textOf('main')) ?? '';
  const shot = async (name: string): Promise<void> => {
    await page().screenshot({ path: join(shots, `console-${name}.png`), fullPage: true });
  };
  const birdSession = async (host: string, peer: string): Promise<string> => {
    const out = await cloud.lab.host(host).run('birdc', ['-s', cloud.cluster.birdSocket(host), 'show', 'protocols', 'all']);
    const block = out.stdout.split(/\n(?=\S)/).find((b) => b.includes(`Neighbor address: ${peer}`));
    return /BGP state:\s+(\S+)/.exec(block ?? '')?.[1] ?? 'absent';
  };
  const diag = (): string => `--- console log\n${consoleLog.split('\n').slice(-20).join('\n')}`;

  before(async () => {
    cloud = await startLabCloud({
      hosts: 2,
      border: true,
      borderPeers: false,
      nodeArgs: ['--refresh-interval', '5s', '--report-interval', '1s', '--report-ttl', `${REPORT_TTL_S}s`],
    });
    dir = await fs.makeTempDir('brindle-console-e2e-');
    trackTempDir(dir);
    shots = SCREENSHOTS ?? dir;
    await fs.ensureDir(shots);
    kv = await openDatastore(parseDatastoreSpec(cloud.datastore));
    ns = await makeTestNetns('bc');
    await ns.must('ip', ['link', 'set', 'lo', 'up']);
    consoleChild = exec.spawn('ip', [
      'netns',
      'exec',
      ns.name,
      process.execPath,
      BRINDLE_BIN,
      'console',
      '--datastore',
      cloud.datastore,
      '--listen',
      `127.0.0.1:${PORT}`,
    ]);
    trackChild(consoleChild);
    consoleChild.stdout.on('data', (d: Buffer) => (consoleLog += d.toString()));
    consoleChild.stderr.on('data', (d: Buffer) => (consoleLog += d.toString()));
    await untilPasses(() => assert.match(consoleLog, /brindle console: serving/), { timeoutMs: 20_000 });
    b = await launchHeadlessBrowser(ns.name, dir);
    page().on('pageerror', (e) => (consoleLog += `\n[page error] ${String(e)}`));
  });

  after(async () => {
    await b?.close();
    consoleChild?.kill('SIGTERM');
    await consoleChild?.exited;
    await kv?.close();
    await ns?.remove();
    await cloud?.destroy();
    if (dir !== undefined) {
      await fs.remove(dir);
      untrackTempDir(dir);
    }
  });

  it('shows both hosts alive with their mesh session Established', async () => {
    await go('#/hosts');
    await untilPasses(
      async () => {
        const rows = await inPage<string[]>(`[...document.querySelectorAll('tr[data-host]')].map((t) => t.textContent ?? '')`);
        assert.equal(rows.length, 2, diag());
        for (const r of rows) assert.match(r, /alive.*1 \/ 1|alive.*2 \/ 2/, `${r}\n${diag()}`);
      },
      { timeoutMs: 30_000 },
    );
  });

  it('adds an external peer through the settings page: the BGPPeer is written and the hosts peer with the border', async () => {
    const border = cloud.lab.borderInfo;
    assert.ok(border !== undefined);
    await go('#/settings');
    await page().waitForSelector('#f-asNumber');
    await page().click('button::-p-text(Add an external peer)');
    await fill('#f-externalPeers-0-name', 'border');
    await fill('#f-externalPeers-0-peerIP', border.ip4);
    await fill('#f-externalPeers-0-asNumber', String(border.asNumber));
    await page().click('button::-p-text(Review changes)');
    await page().waitForSelector('[data-change="create BGPPeer border"]');
    assert.equal(await new ResourceClient(kv).get('BGPPeer', 'border'), undefined, 'the review wrote nothing');
    await shot('settings');
    await page().click('button::-p-text(Apply)');
    await waitText('[data-testid="settings-status"]', 'includes', 'Applied 1 change');
    assert.deepEqual((await new ResourceClient(kv).get('BGPPeer', 'border'))?.spec, { peerIP: border.ip4, asNumber: border.asNumber });
    for (const h of ['compute-1', 'compute-2']) {
      await untilPasses(async () => assert.equal(await birdSession(h, border.ip4), 'Established', `${h}'s BIRD peers with the border\n${diag()}`), {
        timeoutMs: 30_000,
      });
    }
    // The host page shows that session as its BIRD reports it.
    await go('#/hosts/compute-1');
    await waitText(`tr[data-peer="${border.ip4}"]`, 'includes', 'Established', 15_000);
  });

  it('changes the AS number by keyboard alone: BGPConfiguration written, the mesh comes back under the new AS, the border (expecting 64512) drops', async () => {
    const border = cloud.lab.borderInfo!;
    await go('#/settings');
    await page().waitForSelector('#f-asNumber');
    await page().focus('#f-asNumber');
    await page().keyboard.down('Control');
    await page().keyboard.press('a');
    await page().keyboard.up('Control');
    await page().keyboard.type('64513');
    await page().keyboard.press('Enter'); // submits the form: the review
    await page().waitForSelector('[data-change="update BGPConfiguration default"]');
    assert.match(await bodyText(), /spec\.asNumber: 64512 → 64513/);
    await page().focus('[data-testid="review"] button');
    await page().keyboard.press('Enter');
    await waitText('[data-testid="settings-status"]', 'includes', 'Applied');
    assert.equal((await new ResourceClient(kv).get('BGPConfiguration', 'default'))?.spec.asNumber, 64513);
    const mesh = cloud.lab.hostInfo('compute-2').ip4;
    await untilPasses(
      async () => {
        assert.notEqual(await birdSession('compute-1', border.ip4), 'Established', 'the border refuses AS 64513');
        assert.equal(await birdSession('compute-1', mesh), 'Established', 'the mesh is up again under AS 64513');
      },
      { timeoutMs: 40_000 },
    );
    await go('#/hosts/compute-1');
    await waitText(`tr[data-peer="${border.ip4}"]`, 'excludes', 'Established', 20_000);
    await go('#/topology');
    // The border's session down, the mesh's up again (as each host's BIRD reports them).
    await page().waitForSelector('line.edge.down');
    await page().waitForSelector('line.edge.up', { timeout: 15_000 });
    await shot('topology');
  });

  it('an invalid AS or peer address shows the field’s error and writes nothing', async () => {
    // The newest change among the settings' resources (agents keep writing their statuses meanwhile).
    const revision = async (): Promise<number> => {
      let newest = 0;
      for (const kind of ['BGPConfiguration', 'BGPPeer', 'IPPool', 'FelixConfiguration', 'Node'])
        for (const kv1 of (await kv.list(resourcePrefix(kind))).items) newest = Math.max(newest, kv1.modRevision);
      return newest;
    };
    const before = await revision();
    await go('#/settings');
    await page().waitForSelector('#f-asNumber');
    await fill('#f-asNumber', '65536.70000');
    await page().click('button::-p-text(Add an external peer)');
    await fill('#f-externalPeers-1-name', 'tor-b');
    await fill('#f-externalPeers-1-peerIP', '198.18.0.300');
    await fill('#f-externalPeers-1-asNumber', '65001');
    await page().click('button::-p-text(Review changes)');
    await page().waitForSelector('[data-field-error="asNumber"]');
    assert.equal(await textOf('[data-field-error="asNumber"]'), 'must be between 1 and 4294967294 (each half of a dotted AS 0-65535)');
    assert.equal(await inPage(`${q('#f-asNumber')}.getAttribute('aria-invalid')`), 'true');
    assert.equal(await textOf('[data-field-error="externalPeers[1].peerIP"]'), 'must be an IP, "IPv4:port" or "[IPv6]:port"');
    assert.equal(await page().$('[data-testid="review"]'), null, 'no review of an invalid form');
    // Not even Apply's route writes an invalid form (the page never offers it; a script might).
    const form = await inPage<{ status: number }>(
      `fetch('/api/settings').then((r) => r.json()).then((s) => fetch('/api/settings/apply', { method: 'POST', headers: { 'content-type': 'application/json', 'x-console': '1' }, body: JSON.stringify({ base: s.form, desired: { ...s.form, asNumber: '0' } }) })).then((r) => ({ status: r.status }))`,
    );
    assert.equal(form.status, 422);
    assert.equal(await revision(), before, 'nothing was written');
  });

  it('a concurrent change made with brindle ctl is reported, not overwritten', async () => {
    await go('#/settings');
    await page().waitForSelector('#f-ipv6');
    await page().click('#f-ipv6');
    await page().click('button::-p-text(Review changes)');
    await page().waitForSelector('[data-testid="review"]');
    // Someone else adds a peer with the real CLI between the review and Apply.
    const file = join(dir, 'peer.yaml');
    await fs.writeTextAtomic(
      file,
      'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: tor-x\nspec:\n  peerIP: 198.18.250.1\n  asNumber: 65100\n',
    );
    const ctl = await exec.run(process.execPath, [BRINDLE_BIN, 'ctl', 'apply', '-f', file, '--datastore', cloud.datastore]);
    assert.equal(ctl.code, 0, ctl.stderr);
    const felixBefore = await new ResourceClient(kv).get('FelixConfiguration', 'default');
    await page().click('[data-testid="review"] button');
    await page().waitForSelector('[data-testid="conflict"]');
    assert.match((await textOf('[data-testid="conflict"]')) ?? '', /external peer tor-x: was \(none\) when you opened the page, now 198\.18\.250\.1 AS 65100/);
    assert.deepEqual(await new ResourceClient(kv).get('FelixConfiguration', 'default'), felixBefore, 'nothing of the page was written');
    assert.equal((await new ResourceClient(kv).get('BGPPeer', 'tor-x'))?.spec.peerIP, '198.18.250.1', "the other writer's peer stays");
    await new ResourceClient(kv).delete('BGPPeer', 'tor-x');
  });

  it("a VM booted in the lab appears on its host's page within a second; its page shows its addresses, group and rules", async () => {
    const { api, lab } = cloud;
    const net = await api.createNetwork({ name: 'web' });
    const sub = await api.createSubnet({ network_id: net.id, ip_version: 4, cidr: '198.18.70.0/24', gateway_ip: '198.18.70.1' });
    const sg = await api.createSecurityGroup({ name: 'web' });
    await api.createSecurityGroupRule({
      security_group_id: sg.id,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
    });
    await go('#/hosts/compute-1');
    await page().waitForSelector('[data-testid="sessions"]');
    // When the endpoint lands in the datastore, seen from this process's own watch.
    const from = (await kv.list(resourcePrefix('WorkloadEndpoint'))).revision + 1;
    const watch = kv.watch(resourcePrefix('WorkloadEndpoint'), { fromRevision: from });
    await watch.ready;
    const written = (async () => {
      for await (const batch of watch) if (batch.events.some((e) => e.type === 'put')) return Date.now();
      return 0;
    })();
    const vm = await bootVm(lab, api, {
      host: 'compute-1',
      name: 'web1',
      networkId: net.id,
      fixedIps: [{ subnet_id: sub.id, ip_address: '198.18.70.10' }],
      securityGroups: [sg.id],
    });
    await page().waitForSelector(`tr[data-endpoint="${vm.port.id}"]`, { timeout: 5_000 });
    const shown = Date.now();
    const at = await written;
    watch.close();
    assert.ok(shown - at <= 1_000, `shown ${shown - at} ms after the endpoint was written`);
    await go(`#/vms/${vm.port.device_id}`);
    await page().waitForSelector('[data-testid="addresses"]');
    const text = await bodyText();
    assert.match(text, /198\.18\.70\.10/);
    assert.match(text, /Security groups\s*web/);
    assert.match(text, /security group web.*Allow\s*IPv4 TCP to port 22/s);
    await shot('vm');
  });

  it("killing a host's agent turns the host not-alive on its page within the report TTL", async () => {
    await go('#/hosts/compute-2');
    await waitText('[data-testid="agent-state"]', 'equals', 'alive');
    // The lease on the last report may have just been renewed: the TTL is the worst case.
    const reported = await kv.get(felixHostStatusKey('no-region', 'compute-2'));
    assert.ok(reported !== undefined);
    const killed = Date.now();
    await cloud.cluster.stopNode('compute-2', 'SIGKILL');
    await waitText('[data-testid="agent-state"]', 'equals', 'not alive', (REPORT_TTL_S + 2) * 1_000);
    const took = Date.now() - killed;
    assert.ok(took <= (REPORT_TTL_S + 1) * 1_000, `not alive after ${took} ms (report TTL ${REPORT_TTL_S} s)`);
  });
});
