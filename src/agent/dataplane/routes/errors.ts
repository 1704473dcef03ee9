import { BrindleError, type RunResult } from '../../../lib/index.js';

function firstLine(result: RunResult): string {
  const line = result.stderr.split('\n').find((l) => l.trim() !== '');
  return line?.trim() ?? `exit ${result.code ?? result.signal ?? 'unknown'}`;
}

/** Reading routes or neighbours back (`ip -j route|neigh show`) failed (retryable). */
export class RouteReadError extends BrindleError {
  constructor(what: string, detail: RunResult | string) {
    super('AGENT_ROUTE_READ', `Reading ${what} failed: ${typeof detail === 'string' ? detail : firstLine(detail)}`, { recoverable: true });
  }
}

/** `ip -batch` itself failed (not single lines of it, which are reported per line) (retryable). */
export class RouteBatchError extends BrindleError {
  constructor(result: RunResult) {
    super('AGENT_ROUTE_BATCH', `ip -batch failed: ${firstLine(result)}`, { recoverable: true });
  }
}

/** A caller asked for a route the driver could never recognise as its own (not retryable). */
export class RouteSpecError extends BrindleError {
  constructor(detail: string) {
    super('AGENT_ROUTE_SPEC', `Invalid route request: ${detail}`, { status: 400 });
  }
}
