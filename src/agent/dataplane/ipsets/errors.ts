import { BrindleError, type RunResult } from '../../../lib/index.js';

/** The first non-empty line of a command's stderr (or its exit status when stderr is empty). */
export function firstStderrLine(result: RunResult): string {
  const line = result.stderr.split('\n').find((l) => l.trim() !== '');
  return line?.trim() ?? `exit ${result.code ?? result.signal ?? 'unknown'}`;
}

/** `ipset restore` failed; the kernel state is unknown until the next resync (retryable). */
export class IpsetRestoreError extends BrindleError {
  constructor(result: RunResult) {
    super('AGENT_IPSET_RESTORE', `ipset restore failed: ${firstStderrLine(result)}`, { recoverable: true });
  }
}

/** `ipset save` (the resync read-back) failed (retryable). */
export class IpsetSaveError extends BrindleError {
  constructor(result: RunResult) {
    super('AGENT_IPSET_SAVE', `ipset save failed: ${firstStderrLine(result)}`, { recoverable: true });
  }
}

/** A caller asked for a set the driver cannot own or fill (a programming error, not retryable). */
export class IpsetSpecError extends BrindleError {
  constructor(name: string, detail: string) {
    super('AGENT_IPSET_SPEC', `Invalid IP set ${name}: ${detail}`, { status: 400 });
  }
}
