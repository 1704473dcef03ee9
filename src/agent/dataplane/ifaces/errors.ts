import { BrindleError } from '../../../lib/index.js';

/** Listing links (`ip -j link show`) failed or printed something unreadable (retryable). */
export class IfaceListError extends BrindleError {
  constructor(detail: string) {
    super('AGENT_IFACE_LIST', `Listing interfaces failed: ${detail}`, { recoverable: true });
  }
}
