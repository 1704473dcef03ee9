// Loads everything the renderer produces into a real kernel (in a throwaway network namespace)
// with iptables-restore / ip6tables-restore, for both iptables backends: first `--test`, then
// a real load, then reads it back with iptables-save. Proves the text is valid iptables, not
// just what we expect it to be.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeTestNetns, type TestNetns } from '../../lib/testing.js';
import { fullFixture, restoreInput } from './testing/index.js';

describe('the rendered rules load into the kernel', () => {
  for (const family of [4, 6] as const) {
    describe(`IPv${family}`, () => {
      const rendered = fullFixture(family);

      it('has no dangling jump or goto', () => {
        for (const { chains, kernel } of Object.values(rendered)) {
          const names = new Set(chains.map((c) => c.name));
          const rules = [...chains.flatMap((c) => c.rules), ...Object.values(kernel).flatMap((k) => [...k.insert, ...k.append])];
          for (const r of rules) {
            const target = /^-[jg] (\S+)/.exec(r.action)?.[1];
            if (target === undefined || /^[A-Z]+$/.test(target)) continue;
            assert.ok(names.has(target), `missing chain ${target}`);
          }
        }
      });

      for (const backend of ['nft', 'legacy'] as const) {
        describe(`${backend} backend`, () => {
          let ns: TestNetns;
          const tool = `${family === 4 ? 'iptables' : 'ip6tables'}-${backend}`;

          before(async () => {
            ns = await makeTestNetns('brr');
            const text = Object.values(rendered)
              .flatMap((t) => t.chains.flatMap((c) => c.rules))
              .map((r) => r.match)
              .join('\n');
            const sets = new Set([...text.matchAll(/--match-set (\S+)/g)].map((m) => m[1] ?? ''));
            assert.ok(sets.size >= 4, 'the fixture references IP sets');
            for (const set of sets) await ns.must('ipset', ['create', set, 'hash:net', 'family', family === 4 ? 'inet' : 'inet6']);
          });
          after(async () => {
            await ns.remove();
          });

          for (const table of ['raw', 'mangle', 'filter', 'nat'] as const) {
            it(`${table}: iptables-restore --test accepts it, then it loads and reads back`, async () => {
              const { chains, kernel } = rendered[table];
              const input = restoreInput(table, chains, kernel);
              await ns.must(`${tool}-restore`, ['--test'], input);
              await ns.must(`${tool}-restore`, [], input);
              const saved = await ns.must(`${tool}-save`, ['-t', table]);
              for (const chain of chains) {
                assert.match(saved, new RegExp(`^:${chain.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'));
                const count = saved.split('\n').filter((l) => l.startsWith(`-A ${chain.name} `)).length;
                assert.equal(count, chain.rules.length, `${table} ${chain.name}`);
              }
              for (const [name, rules] of Object.entries(kernel)) {
                const count = saved.split('\n').filter((l) => l.startsWith(`-A ${name} `)).length;
                assert.equal(count, rules.insert.length + rules.append.length, `${table} ${name}`);
              }
            });
          }
        });
      }
    });
  }
});
