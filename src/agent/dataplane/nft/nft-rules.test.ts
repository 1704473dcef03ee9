// Brindle's own nftables table, for real: the whole rendered ruleset loads in one transaction
// per family, a restarted driver writes nothing, drift is repaired, interval sets hold
// overlapping members, and a foreign table is never touched. Runs in a throwaway namespace.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { netnsExec, realExec, silentLogger } from '../../../lib/index.js';
import { makeTestNetns, type TestNetns } from '../../../lib/testing.js';
import type { IpFamily } from '../../calc/model.js';
import { fixtureEndpoints, fullFixture } from '../../rules/testing/index.js';
import type { TableName } from '../iptables/chain.js';
import { NftRules } from './nft-rules.js';

const FAMILIES: readonly IpFamily[] = [4, 6];

/** A driver wanting the full fixture (sets named by its rules get a member each). */
function wantFixture(r: NftRules): void {
  for (const family of FAMILIES) {
    const rendered = fullFixture(family);
    for (const [table, t] of Object.entries(rendered) as [TableName, (typeof rendered)[TableName]][]) {
      for (const c of t.chains) if (!c.name.startsWith('cali-from-wl-dispatch') && !c.name.startsWith('cali-to-wl-dispatch')) r.setChain(family, table, c);
      for (const [k, rules] of Object.entries(t.kernel)) r.setKernelRules(family, table, k, rules);
      const sets = new Set(t.chains.flatMap((c) => c.rules).flatMap((x) => [...x.match.matchAll(/--match-set (\S+)/g)].map((m) => m[1] ?? '')));
      for (const s of sets) r.setSet(s, family, [family === 4 ? '198.18.0.9' : '2001:db8::9']);
    }
    for (const iface of fixtureEndpoints.map((e) => e.iface).concat('tapreturn')) r.setDispatchEntry(family, iface, true);
  }
}

describe('NftRules: Brindle’s own nftables table (real nft in a namespace)', () => {
  let ns: TestNetns;
  const exec = (): ReturnType<typeof netnsExec> => netnsExec(realExec(), ns.name);
  const make = (): NftRules => new NftRules({ exec: exec(), families: FAMILIES, logger: silentLogger() });

  before(async () => {
    ns = await makeTestNetns('brn');
    await ns.must('nft', ['add', 'table', 'inet', 'foreign']);
    await ns.must('nft', ['add', 'chain', 'inet', 'foreign', 'input', '{ type filter hook input priority 0; policy accept; }']);
    await ns.must('nft', ['add', 'rule', 'inet', 'foreign', 'input', 'tcp', 'dport', '22', 'accept']);
  });
  after(async () => {
    await ns?.remove();
  });

  it('on a host without our table, first makes it fail closed: hooks, static chains, an empty dispatch', async () => {
    const fresh = await makeTestNetns('brn');
    try {
      const r = new NftRules({ exec: netnsExec(realExec(), fresh.name), families: FAMILIES, logger: silentLogger() });
      wantFixture(r);
      assert.equal(await r.failClosed(), true);
      const text = await fresh.must('nft', ['list', 'table', 'ip', 'brindle']);
      assert.match(text, /chain filter\.FORWARD \{\n\s*type filter hook forward priority filter; policy accept;/);
      assert.match(text, /chain cali-from-wl-dispatch \{\n\s*iifname vmap @cali-from-wl-dispatch-map/);
      assert.doesNotMatch(text, /chain cali-(tw|fw|pi|po)-/, 'no endpoint or policy chain yet');
      assert.doesNotMatch(text, /goto cali-fw-/, 'every tap is unknown');
      const full = await r.apply();
      assert.ok(full.lines > 300, 'the rest follows');
      assert.match(await fresh.must('nft', ['list', 'table', 'ip', 'brindle']), /"tapabcdef01-23" : goto cali-fw-tapabcdef01-23/);
      const again = new NftRules({ exec: netnsExec(realExec(), fresh.name), families: FAMILIES, logger: silentLogger() });
      wantFixture(again);
      assert.equal(await again.failClosed(), true);
      assert.equal((await again.apply()).lines, 0, 'where the table exists, the skeleton writes nothing');
    } finally {
      await fresh.remove();
    }
  });

  it('loads the whole rendered ruleset, both families, in one transaction each', async () => {
    const r = make();
    wantFixture(r);
    const applied = await r.apply();
    assert.ok(applied.lines > 300, `${applied.lines} lines`);
    for (const family of ['ip', 'ip6']) {
      const text = await ns.must('nft', ['list', 'table', family, 'brindle']);
      for (const name of ['filter.FORWARD', 'raw.PREROUTING', 'nat.POSTROUTING', 'cali-tw-tapabcdef01-23', 'cali-from-wl-dispatch-map'])
        assert.match(text, new RegExp(`(chain|map) ${name.replace('.', '\\.')} \\{`), `${family}: ${name}`);
      assert.match(text, /"tapabcdef01-23" : goto cali-fw-tapabcdef01-23/);
    }
    const rendered = fullFixture(4).filter.chains.find((c) => c.name === 'cali-tw-tapabcdef01-23');
    const listed = await ns.must('nft', ['list', 'chain', 'ip', 'brindle', 'cali-tw-tapabcdef01-23']);
    assert.equal(listed.split('\n').filter((l) => l.includes('comment "cali:')).length, rendered?.rules.length);
    assert.equal((await r.apply()).lines, 0, 'nothing left to do');
  });

  it('a restarted driver finds everything in place and writes nothing; counters survive', async () => {
    const r = make();
    wantFixture(r);
    assert.equal((await r.apply()).lines, 0);
    r.markForResync();
    assert.equal((await r.apply()).lines, 0);
  });

  it('repairs drift: a rule deleted by hand, a map entry and a set member removed by hand', async () => {
    const r = make();
    wantFixture(r);
    await r.apply();
    const handles = await ns.must('nft', ['-a', 'list', 'chain', 'ip', 'brindle', 'cali-fw-tapabcdef02-00']);
    const handle = /# handle (\d+)/.exec(handles.split('\n').find((l) => l.includes('comment "cali:')) ?? '')?.[1] ?? '';
    await ns.must('nft', ['delete', 'rule', 'ip', 'brindle', 'cali-fw-tapabcdef02-00', 'handle', handle]);
    await ns.must('nft', ['delete', 'element', 'ip', 'brindle', 'cali-to-wl-dispatch-map', '{ "vnet0" }']);
    r.markForResync();
    const repaired = await r.apply();
    assert.ok(repaired.lines > 0 && repaired.lines < 40, `only the drifted chain and entry are written (${repaired.lines} lines)`);
    assert.match(await ns.must('nft', ['list', 'map', 'ip', 'brindle', 'cali-to-wl-dispatch-map']), /"vnet0" : goto cali-tw-vnet0/);
    r.markForResync();
    assert.equal((await r.apply()).lines, 0);
  });

  it('holds overlapping set members as their union, and follows deltas', async () => {
    const r = make();
    wantFixture(r);
    r.setSet('cali40s:overlap', 4, ['10.0.0.0/8', '10.1.0.0/16', '198.18.1.1']);
    await r.apply();
    const elements = async (): Promise<string> =>
      (/elements = \{([^}]*)\}/.exec(await ns.must('nft', ['list', 'set', 'ip', 'brindle', 'cali40s.overlap'])) ?? [])[1]?.replace(/\s+/g, ' ').trim() ?? '';
    assert.equal(await elements(), '10.0.0.0/8, 198.18.1.1');
    r.removeMembers('cali40s:overlap', ['10.0.0.0/8']);
    await r.apply();
    assert.equal(await elements(), '10.1.0.0/16, 198.18.1.1', 'the covered net is in once its cover goes');
    r.addMembers('cali40s:overlap', ['198.18.1.2']);
    r.removeMembers('cali40s:overlap', ['198.18.1.1']);
    const delta = await r.apply();
    assert.equal(delta.lines, 3, 'a host-only delta: table, one delete, one add');
    assert.equal(await elements(), '10.1.0.0/16, 198.18.1.2');
    r.removeSet('cali40s:overlap');
    await r.apply();
    assert.equal((await ns.run('nft', ['list', 'set', 'ip', 'brindle', 'cali40s.overlap'])).code, 1, 'the set is gone');
  });

  it('a set of addresses is a hash set; gaining a net makes it an interval set again, with the chains that name it refilled', async () => {
    const r = make();
    wantFixture(r);
    await r.apply();
    const set = 'cali40s:remote-group-a';
    const listSet = async (): Promise<string> => ns.must('nft', ['list', 'set', 'ip', 'brindle', 'cali40s.remote-group-a']);
    const policyRules = async (): Promise<number> =>
      (await ns.must('nft', ['list', 'table', 'ip', 'brindle'])).split('\n').filter((l) => l.includes('@cali40s.remote-group-a')).length;
    assert.doesNotMatch(await listSet(), /flags interval/);
    const naming = await policyRules();
    assert.ok(naming > 0, 'a policy rule names the set');
    r.addMembers(set, ['198.18.8.0/24']);
    await r.apply();
    assert.match(await listSet(), /flags interval/);
    assert.match(await listSet(), /198\.18\.8\.0\/24/);
    assert.equal(await policyRules(), naming, 'the rules naming it are back');
    r.removeMembers(set, ['198.18.8.0/24']);
    await r.apply();
    assert.doesNotMatch(await listSet(), /flags interval/);
    r.markForResync();
    assert.equal((await r.apply()).lines, 0, 'and the read-back agrees');
  });

  it('a set made again in the same transaction as the last chain naming it stops naming it', async () => {
    const r = make();
    wantFixture(r);
    await r.apply();
    const naming = fullFixture(4).filter.chains.find((c) => c.rules.some((x) => x.match.includes('remote-group-a')));
    assert.ok(naming !== undefined);
    r.setChain(4, 'filter', { name: naming.name, rules: naming.rules.filter((x) => !x.match.includes('remote-group-a')) });
    r.addMembers('cali40s:remote-group-a', ['198.18.9.0/24']);
    await r.apply();
    assert.match(await ns.must('nft', ['list', 'set', 'ip', 'brindle', 'cali40s.remote-group-a']), /flags interval/);
    r.markForResync();
    assert.equal((await r.apply()).lines, 0);
  });

  it('takes a tap away in one transaction (entry, chains) and never touches a foreign table', async () => {
    const r = make();
    wantFixture(r);
    await r.apply();
    r.setDispatchEntry(4, 'vnet0', false);
    r.removeChain(4, 'filter', 'cali-tw-vnet0');
    r.removeChain(4, 'filter', 'cali-fw-vnet0');
    await r.apply();
    const text = await ns.must('nft', ['list', 'table', 'ip', 'brindle']);
    assert.doesNotMatch(text, /vnet0/);
    assert.match(await ns.must('nft', ['list', 'table', 'inet', 'foreign']), /tcp dport 22 accept/);
  });
});
