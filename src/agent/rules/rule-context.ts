/**
 * What rule rendering needs besides the rule: the mark bits, how IP set ids become kernel set
 * names, the LOG prefix and the verdict for denied packets. `ruleContext` derives it from the
 * agent's configuration for one IP family.
 */
import type { IpFamily } from '../calc/model.js';
import type { DataplaneConfig } from '../config.js';
import { ipSetName } from './chain-names.js';

export interface RuleContext {
  readonly marks: DataplaneConfig['marks'];
  /** Kernel name of the IP set with calc id `id` (for this table's family). */
  readonly ipSetName: (id: string) => string;
  /** Prefix of LOG rules, before `: ` is appended. */
  readonly logPrefix: string;
  /** Verdict of Deny rules (IptablesFilterDenyAction). */
  readonly denyAction: 'DROP' | 'REJECT';
}

/** The context for `family` under `config`: IP sets named `cali40…`/`cali60…`, deny = DROP. */
export function ruleContext(config: DataplaneConfig, family: IpFamily): RuleContext {
  return {
    marks: config.marks,
    ipSetName: (id) => ipSetName(id, family),
    logPrefix: config.logPrefix,
    denyAction: 'DROP',
  };
}
