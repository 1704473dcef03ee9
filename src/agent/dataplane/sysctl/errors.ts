import { BrindleError } from '../../../lib/index.js';

/** Writing kernel parameters failed (the interface may have gone; retryable). */
export class SysctlWriteError extends BrindleError {
  readonly keys: readonly string[];
  constructor(keys: readonly string[], firstStderrLine: string) {
    super('AGENT_SYSCTL_WRITE', `Setting ${keys.join(', ')} failed: ${firstStderrLine}`, { recoverable: true });
    this.keys = keys;
  }
}

/** Reading a kernel parameter failed (retryable). */
export class SysctlReadError extends BrindleError {
  constructor(key: string, firstStderrLine: string) {
    super('AGENT_SYSCTL_READ', `Reading ${key} failed: ${firstStderrLine}`, { recoverable: true });
  }
}

/** An interface name that cannot be a path component under /proc/sys (not retryable). */
export class SysctlSpecError extends BrindleError {
  constructor(iface: string) {
    super('AGENT_SYSCTL_SPEC', `Invalid interface name for sysctls: ${JSON.stringify(iface)}`, { status: 400 });
  }
}
