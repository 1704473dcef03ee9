/** The four iptables tables Brindle writes, in the order they are handled. */
export const TABLE_NAMES = ['raw', 'mangle', 'filter', 'nat'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/**
 * One rule of a chain, in iptables-restore syntax without the `-A <chain>` and without the hash
 * comment (the table driver adds `-m comment --comment "cali:<hash>"` first).
 * `match` may be empty (match everything); `action` is e.g. `-j ACCEPT`, `-g cali-fw-tap1`,
 * `-j MARK --set-mark 0x10000/0x10000`. Extra comments are free text (sanitised by the driver).
 */
export interface IptRule {
  readonly match: string;
  readonly action: string;
  readonly comment?: readonly string[];
}

/** A chain Brindle owns: its whole content. */
export interface Chain {
  readonly name: string;
  readonly rules: readonly IptRule[];
}

/** Rules Brindle puts into a kernel chain (INPUT, FORWARD, …) beside other programs' rules. */
export interface KernelChainRules {
  /** Rules kept at the top (insert mode) or after foreign rules (append mode). */
  readonly insert: readonly IptRule[];
  /** Rules always kept at the very end. */
  readonly append: readonly IptRule[];
}
