// The managers (Dataplane) against a recording rules backend and a scripted exec: no root, no
// kernel. What each endpoint change asks of the rules (chains, dispatch entries, families),
// which endpoint owns a tap, and when an endpoint's status may say "up". The same behaviour
// against the real kernel is in dataplane.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Exec, RunResult } from '../../lib/index.js';
import type { CalcUpdate, IpFamily, LocalEndpoint } from '../calc/model.js';
import { DEFAULT_DATAPLANE_CONFIG } from '../config.js';
import { localEndpoint } from '../rules/testing/index.js';
import type { Chain, KernelChainRules, TableName } from './iptables/chain.js';
import { Dataplane } from './dataplane.js';
import type { RulesApplied, RulesBackend } from './rules-backend.js';

class RecordingRules implements RulesBackend {
  readonly kind = 'nft';
  readonly tables = [];
  readonly chains = new Map<string, Chain>();
  readonly dispatch = new Map<IpFamily, Set<string>>([
    [4, new Set()],
    [6, new Set()],
  ]);
  readonly sets = new Map<string, Set<string>>();
  /** How often each chain was set (by `family table name`). */
  readonly writes = new Map<string, number>();
  failApply = false;
  applies = 0;

  setChain(family: IpFamily, table: TableName, chain: Chain): void {
    const key = `${family} ${table} ${chain.name}`;
    this.chains.set(key, chain);
    this.writes.set(key, (this.writes.get(key) ?? 0) + 1);
  }
  removeChain(family: IpFamily, table: TableName, name: string): void {
    this.chains.delete(`${family} ${table} ${name}`);
  }
  setKernelRules(_family: IpFamily, _table: TableName, _kernelChain: string, _rules: KernelChainRules): void {}
  setDispatchEntry(family: IpFamily, iface: string, present: boolean): void {
    if (present) this.dispatch.get(family)?.add(iface);
    else this.dispatch.get(family)?.delete(iface);
  }
  setSet(name: string, _family: IpFamily, members: readonly string[]): void {
    this.sets.set(name, new Set(members));
  }
  removeSet(name: string): void {
    this.sets.delete(name);
  }
  addMembers(name: string, members: readonly string[]): void {
    for (const m of members) this.sets.get(name)?.add(m);
  }
  removeMembers(name: string, members: readonly string[]): void {
    for (const m of members) this.sets.get(name)?.delete(m);
  }
  failClosed(): Promise<boolean> {
    return Promise.resolve(true);
  }
  markForResync(): void {}
  apply(): Promise<RulesApplied> {
    this.applies++;
    return this.failApply ? Promise.reject(new Error('rules refused')) : Promise.resolve({ setsMs: 0, rulesMs: 0, lines: 0 });
  }
  has(family: IpFamily, name: string): boolean {
    return this.chains.has(`${family} filter ${name}`);
  }
}

/** Answers like the tools on an empty host: no routes, no neighbours, every write accepted. */
function scriptedExec(): Exec & { commands: string[] } {
  const commands: string[] = [];
  const ok = (stdout = ''): Promise<RunResult> => Promise.resolve({ code: 0, signal: null, stdout, stderr: '' });
  return {
    commands,
    spawn: () => {
      throw new Error('no long-lived children here');
    },
    run: (command, args) => {
      commands.push([command, ...args].join(' '));
      if (command === 'ip' && args.includes('show')) return ok('[]');
      if (command === 'sysctl' && args[0] === '-n') return ok('1\n');
      return ok();
    },
  };
}

const update = (endpoints: [string, LocalEndpoint | undefined][]): CalcUpdate => ({
  ipSets: new Map(),
  ipSetDeltas: new Map(),
  rules: new Map(),
  endpoints: new Map(endpoints),
});
const up = (...taps: string[]): Map<string, { up: boolean; index: number }> => new Map(taps.map((t, i) => [t, { up: true, index: i + 10 }]));

function make(): { dp: Dataplane; rules: RecordingRules; exec: ReturnType<typeof scriptedExec> } {
  const rules = new RecordingRules();
  const exec = scriptedExec();
  const dp = new Dataplane({ exec, config: { ...DEFAULT_DATAPLANE_CONFIG, workloadSourceSpoofing: 'Any' }, backend: 'nft', rules });
  return { dp, rules, exec };
}

describe('Dataplane managers with a recording rules backend (no root)', () => {
  it('an IPv4-only endpoint gets IPv4 chains and dispatch only; its status is up once its tap is up and an apply completed', async () => {
    const { dp, rules } = make();
    dp.ingest(update([['a', localEndpoint('tapa', { id: 'a', ipv4Nets: ['198.18.1.1/32'], mac: 'fa:16:3e:00:00:01' })]]));
    dp.setIfaces(new Map([['tapa', { up: false, index: 10 }]]));
    await dp.apply();
    assert.ok(rules.has(4, 'cali-tw-tapa') && rules.has(4, 'cali-fw-tapa'));
    assert.equal(rules.has(6, 'cali-tw-tapa'), false, 'no IPv6 chain for an IPv4-only endpoint');
    assert.deepEqual([...(rules.dispatch.get(4) ?? [])], ['tapa']);
    assert.deepEqual([...(rules.dispatch.get(6) ?? [])], []);
    assert.deepEqual(
      dp.takeStatusChanges().map((c) => c.status),
      ['down'],
      'tap down: down',
    );
    dp.setIfaces(up('tapa'), ['tapa']);
    await dp.apply();
    assert.deepEqual(
      dp.takeStatusChanges().map((c) => c.status),
      ['up'],
    );
    assert.deepEqual(dp.takeStatusChanges(), [], 'nothing changed since');
  });

  it('a tap configured by an apply whose rules failed is not reported up', async () => {
    const { dp, rules } = make();
    dp.ingest(update([['a', localEndpoint('tapa', { id: 'a', ipv4Nets: ['198.18.1.1/32'] })]]));
    dp.setIfaces(up('tapa'));
    rules.failApply = true;
    await assert.rejects(dp.apply(), /rules refused/);
    assert.ok(dp.takeStatusChanges().every((c) => c.status !== 'up'));
    rules.failApply = false;
    await dp.apply();
    assert.deepEqual(
      dp.takeStatusChanges().map((c) => c.status),
      ['up'],
      'up once an apply completed',
    );
  });

  it('two endpoints on one tap: the lowest id wins, the other takes over when it goes, the loser is reported gone', async () => {
    const { dp, rules } = make();
    dp.setIfaces(up('tapp'));
    dp.ingest(
      update([
        ['b', localEndpoint('tapp', { id: 'b', statusIds: { orchestrator: 'openstack', workload: 'wb', endpoint: 'b' } })],
        ['a', localEndpoint('tapp', { id: 'a', statusIds: { orchestrator: 'openstack', workload: 'wa', endpoint: 'a' } })],
      ]),
    );
    await dp.apply();
    assert.deepEqual(
      dp.endpointStatuses().map((s) => s.ep.id),
      ['a'],
    );
    dp.takeStatusChanges();
    dp.ingest(update([['a', undefined]]));
    await dp.apply();
    assert.deepEqual(
      dp.endpointStatuses().map((s) => s.ep.id),
      ['b'],
    );
    const changes = dp.takeStatusChanges();
    assert.deepEqual(changes.find((c) => c.ids.endpoint === 'a')?.status, undefined);
    assert.ok(
      changes.some((c) => c.ids.endpoint === 'a'),
      'a is reported gone',
    );
    assert.deepEqual(changes.find((c) => c.ids.endpoint === 'b')?.status, 'up', 'b comes up on the tap');
    assert.deepEqual([...(rules.dispatch.get(4) ?? [])], ['tapp'], 'the dispatch entry stays');
  });

  it('gaining IPv6 adds its IPv6 chains and dispatch entry; losing it removes them', async () => {
    const { dp, rules } = make();
    const v4 = localEndpoint('tapc', { id: 'c', ipv4Nets: ['198.18.1.3/32'] });
    dp.setIfaces(up('tapc'));
    dp.ingest(update([['c', v4]]));
    await dp.apply();
    dp.ingest(update([['c', { ...v4, ipv6Nets: ['2001:db8::3/128'] }]]));
    await dp.apply();
    assert.ok(rules.has(6, 'cali-tw-tapc'));
    assert.deepEqual([...(rules.dispatch.get(6) ?? [])], ['tapc']);
    dp.ingest(update([['c', v4]]));
    await dp.apply();
    assert.equal(rules.has(6, 'cali-tw-tapc'), false);
    assert.deepEqual([...(rules.dispatch.get(6) ?? [])], []);
  });

  it('the chains listing every endpoint are rendered again only when an endpoint with spoofing or a floating IP changes', async () => {
    const { dp, rules } = make();
    dp.setIfaces(up('tapd', 'tape', 'tapf'));
    dp.ingest(update([['d', localEndpoint('tapd', { id: 'd', allowSpoofedSourcePrefixes: ['198.18.128.0/17'] })]]));
    await dp.apply();
    const rpf = (): number => rules.writes.get('4 raw cali-rpf-skip') ?? 0;
    const before = rpf();
    dp.ingest(update([['e', localEndpoint('tape', { id: 'e', ipv4Nets: ['198.18.1.5/32'] })]]));
    await dp.apply();
    assert.equal(rpf(), before, 'a plain endpoint does not re-render them');
    dp.ingest(update([['f', localEndpoint('tapf', { id: 'f', ipv4Nat: [{ internal: '198.18.1.6', external: '198.19.9.6' }] })]]));
    await dp.apply();
    assert.equal(rpf(), before + 1, 'one with a floating IP does');
  });
});
