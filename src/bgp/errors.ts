// The bgp module's error catalogue.
import { BrindleError } from '../lib/index.js';

/** This node cannot run BGP yet: its Node resource is missing or carries no usable address. */
export class BgpNodeNotReadyError extends BrindleError {
  readonly nodeName: string;
  constructor(nodeName: string, reason: string) {
    super('BGP_NODE_NOT_READY', `BGP is not ready on node ${nodeName}: ${reason}`, {
      status: 503,
      recoverable: true,
      hint: 'Give the Node resource spec.bgp.ipv4Address and/or spec.bgp.ipv6Address (brindle node writes them at start)',
    });
    this.nodeName = nodeName;
  }
}
