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

/** BIRD's control socket cannot be reached: no socket, nobody listening, or no reply in time. */
export class BirdUnreachableError extends BrindleError {
  readonly socketPath: string;
  constructor(socketPath: string, detail: string, cause?: unknown) {
    super('BGP_BIRD_UNREACHABLE', `Cannot reach BIRD at ${socketPath}: ${detail}`, {
      status: 503,
      recoverable: true,
      hint: `is bird running with -s ${socketPath}?`,
      cause,
    });
    this.socketPath = socketPath;
  }
}

/** BIRD answered a command with a runtime error (8xxx) or did not parse it (9xxx). */
export class BirdCommandError extends BrindleError {
  readonly command: string;
  /** BIRD's reply code, e.g. 8002 (configuration file error) or 9001 (parse error). */
  readonly birdCode: number;
  /** BIRD's own message, e.g. `syntax error, unexpected CF_SYM_UNDEFINED`. */
  readonly birdText: string;
  constructor(command: string, birdCode: number, birdText: string) {
    super('BGP_BIRD_COMMAND', `BIRD rejected ${JSON.stringify(command)}: ${birdText} (${String(birdCode).padStart(4, '0')})`, { status: 500 });
    this.command = command;
    this.birdCode = birdCode;
    this.birdText = birdText;
  }
}

/** BIRD's reply to a command is not in the shape Brindle expects (another BIRD version?). */
export class BirdOutputError extends BrindleError {
  constructor(command: string, detail: string) {
    super('BGP_BIRD_OUTPUT', `Unexpected reply from BIRD to ${JSON.stringify(command)}: ${detail}`, { status: 502 });
  }
}
