import { BrindleError } from '../lib/index.js';

/** Bad command-line use: exit status 2, one line on stderr. */
export class UsageError extends BrindleError {
  constructor(message: string, hint?: string) {
    super('CLI_USAGE', message, { status: 400, ...(hint === undefined ? {} : { hint }) });
  }
}

/** A config file that cannot be read or does not validate. */
export class ConfigFileError extends BrindleError {
  constructor(path: string, detail: string, cause?: unknown) {
    super('CLI_CONFIG', `Invalid config file ${path}: ${detail}`, { status: 400, cause });
  }
}

/** An input document (`-f FILE`) that cannot be parsed or validated; nothing was written. */
export class DocumentError extends BrindleError {
  constructor(at: { source: string; index: number; what?: string | undefined }, detail: string, cause?: unknown) {
    const label = at.what === undefined ? '' : ` (${at.what})`;
    super('CLI_DOCUMENT', `${at.source}: document ${at.index}${label}: ${detail}; nothing was written`, { status: 400, cause });
  }
}

/** `brindle lab demo` ran, but some pair of VMs did not behave as the security groups say. */
export class DemoMismatchError extends BrindleError {
  constructor(count: number) {
    super('CLI_DEMO_MISMATCH', `${count} probes did not behave as the security groups say (marked ! in the matrix above)`, { status: 500 });
  }
}

/** `brindle ctl node status`: the node has no CalicoNodeStatus, or one its agent never filled in. */
export class NodeStatusMissingError extends BrindleError {
  constructor(node: string) {
    super('CLI_NO_NODE_STATUS', `No status for node ${node}: is brindle node running there with BGP on?`, { status: 404 });
  }
}
