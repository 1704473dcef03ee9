import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ActiveRules } from '../calc/model.js';
import { DEFAULT_DATAPLANE_CONFIG } from '../config.js';
import { renderRulesChains } from './render-policy.js';
import { ruleContext } from './rule-context.js';
import { parsedRule, ruleLines } from './testing/index.js';

const ctx4 = ruleContext(DEFAULT_DATAPLANE_CONFIG, 4);

interface Case {
  readonly name: string;
  readonly rules: ActiveRules;
  readonly want: { readonly ingress: [string, string[]]; readonly egress: [string, string[]] };
}

const cases: Case[] = [
  {
    name: 'policy: first rule carries the policy comment, a trailing RETURN is dropped',
    rules: {
      id: 'np/ns/web',
      ingress: [parsedRule({ action: 'Deny', srcNets: ['10.9.0.0/16'] }), parsedRule({ protocol: 'TCP' })],
      egress: [],
    },
    want: {
      ingress: [
        'cali-pi-ns/web',
        [
          '--source 10.9.0.0/16 -j MARK --set-mark 0x40000/0x40000 # Policy np/ns/web ingress',
          '-m mark --mark 0x40000/0x40000 -j DROP',
          '-p tcp -j MARK --set-mark 0x10000/0x10000',
        ],
      ],
      egress: ['cali-po-ns/web', []],
    },
  },
  {
    name: 'profile: Profile comment; rules not for this family vanish',
    rules: {
      id: 'pro/sg1',
      ingress: [parsedRule({ ipVersion: 6 })],
      egress: [parsedRule({ action: 'Pass' }), parsedRule({ action: 'Log', protocol: 'UDP' })],
    },
    want: {
      ingress: ['cali-pri-sg1', []],
      egress: [
        'cali-pro-sg1',
        [
          '-j MARK --set-mark 0x20000/0x20000 # Profile pro/sg1 egress',
          '-m mark --mark 0x20000/0x20000 -j RETURN',
          '-p udp -j LOG --log-prefix "calico-packet: " --log-level 5',
        ],
      ],
    },
  },
  {
    name: 'global policy: allow-only chain keeps the mark rule',
    rules: { id: 'gnp/allow-all', ingress: [], egress: [parsedRule()] },
    want: {
      ingress: ['cali-pi-allow-all', []],
      egress: ['cali-po-allow-all', ['-j MARK --set-mark 0x10000/0x10000 # Policy gnp/allow-all egress']],
    },
  },
];

describe('renderRulesChains', () => {
  for (const c of cases) {
    it(c.name, () => {
      const [ingress, egress] = renderRulesChains(c.rules, 4, ctx4);
      assert.deepEqual([ingress?.name, ruleLines(ingress?.rules ?? [])], c.want.ingress);
      assert.deepEqual([egress?.name, ruleLines(egress?.rules ?? [])], c.want.egress);
    });
  }

  it('expands %k %n %p %t in the LOG prefix', () => {
    const rules: ActiveRules = { id: 'np/ns/web', ingress: [parsedRule({ action: 'Log' })], egress: [] };
    const [ingress] = renderRulesChains(rules, 4, { ...ctx4, logPrefix: '%k-%p-%n%t' });
    assert.equal(ingress?.rules[0]?.action, '-j LOG --log-prefix "np-ns/web-web: " --log-level 5');
  });

  it('hashes long policy ids into the chain name', () => {
    const [ingress, egress] = renderRulesChains({ id: 'np/default/ossg.default.0123456789abcdef', ingress: [], egress: [] }, 4, ctx4);
    assert.match(ingress?.name ?? '', /^cali-pi-_[\w-]{19}$/);
    assert.match(egress?.name ?? '', /^cali-po-_[\w-]{19}$/);
  });
});
