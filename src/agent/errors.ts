import { BrindleError } from '../lib/index.js';

/** The first lines of a tool's complaint (iptables-restore's first line is often only its banner). */
function firstLine(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(0, 3)
    .join(' ');
}

/** iptables-restore refused a transaction (nothing of it was applied: restore is atomic per table). */
export class IptablesRestoreError extends BrindleError {
  readonly input: string;
  constructor(command: string, stderr: string, input: string) {
    super('AGENT_IPTABLES_RESTORE', `${command} failed: ${firstLine(stderr)}`, { status: 500, recoverable: true });
    this.input = input;
  }
}

/** iptables-save could not read a table back. */
export class IptablesSaveError extends BrindleError {
  constructor(command: string, stderr: string) {
    super('AGENT_IPTABLES_SAVE', `${command} failed: ${firstLine(stderr)}`, { status: 500, recoverable: true });
  }
}

/** The agent's settings or FelixConfiguration are not usable. */
export class AgentConfigError extends BrindleError {
  constructor(message: string, hint?: string) {
    super('AGENT_CONFIG', `Invalid agent configuration: ${message}`, { status: 400, ...(hint === undefined ? {} : { hint }) });
  }
}

/** A rendered rule uses a fragment the nftables translation does not know (a renderer change not taught to it). */
export class NftTranslateError extends BrindleError {
  constructor(rule: string, what: string) {
    super('AGENT_NFT_TRANSLATE', `Cannot translate to nftables (${what}): ${rule}`, { status: 500 });
  }
}

/** `nft -f` refused a transaction (nothing of it was applied: one transaction is atomic). */
export class NftApplyError extends BrindleError {
  readonly input: string;
  constructor(stderr: string, input: string) {
    super('AGENT_NFT_APPLY', `nft -f failed: ${firstLine(stderr)}`, { status: 500, recoverable: true });
    this.input = input;
  }
}

/** `nft list table` could not read our table back. */
export class NftListError extends BrindleError {
  constructor(stderr: string) {
    super('AGENT_NFT_LIST', `nft list table failed: ${firstLine(stderr)}`, { status: 500, recoverable: true });
  }
}
