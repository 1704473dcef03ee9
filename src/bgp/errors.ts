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

/** Two Calico nodes claim one BGP address: BGP would route one host's VMs to the other. */
export class BgpAddressConflictError extends BrindleError {
  constructor(address: string, mine: string, theirs: string) {
    super('BGP_ADDRESS_CONFLICT', `BGP address ${address} of node ${mine} is already claimed by node ${theirs}`, {
      status: 409,
      hint: `give ${mine} another --bgp-address, or delete the stale Node ${theirs} (brindle ctl delete node ${theirs})`,
    });
  }
}

/** No BGP address was given and none could be found on the host. */
export class BgpAddressNotFoundError extends BrindleError {
  constructor(where: string) {
    super('BGP_ADDRESS_NOT_FOUND', `No BGP address found: ${where}`, {
      status: 400,
      hint: 'pass --bgp-address (and --bgp-address6), or --bgp-interface naming the interface that holds it',
    });
  }
}

/** A BGP setting on the command line is not usable. */
export class BgpConfigError extends BrindleError {
  constructor(message: string) {
    super('BGP_CONFIG', `Invalid BGP setting: ${message}`, { status: 400 });
  }
}

/** BIRD could not be started (or would not stay up). */
export class BirdStartError extends BrindleError {
  constructor(detail: string, cause?: unknown) {
    super('BGP_BIRD_START', `BIRD did not start: ${detail}`, { status: 500, recoverable: true, ...(cause === undefined ? {} : { cause }) });
  }
}

/** `bird -p` refused a rendered configuration; the running one is kept. */
export class BirdConfigRejectedError extends BrindleError {
  constructor(detail: string) {
    super('BGP_BIRD_CONFIG_REJECTED', `BIRD rejected the new configuration (the previous one stays in force): ${detail}`, { status: 500 });
  }
}
