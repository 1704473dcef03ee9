import { BrindleError } from '../lib/index.js';

/** A namespace, link or address operation the kernel refused. */
export class LabCommandError extends BrindleError {
  constructor(command: string, stderr: string) {
    super('LAB_COMMAND', `Lab command failed: ${command}: ${stderr.trim().split('\n')[0] ?? ''}`, { status: 500 });
  }
}

/** A lab request that cannot be met as asked: an unknown or duplicate name, a bad prefix or address. */
export class LabInputError extends BrindleError {
  constructor(message: string) {
    super('LAB_INVALID', message, { status: 400 });
  }
}

/** Namespaces or a state file with this prefix already exist (a lab still up, or one not cleaned). */
export class LabPrefixInUseError extends BrindleError {
  constructor(prefix: string, what: string) {
    super('LAB_PREFIX_IN_USE', `Lab prefix in use: ${prefix}: ${what}`, {
      status: 409,
      hint: 'remove the old lab with `brindle lab down` or pick another prefix',
    });
  }
}

/** The lab's state file is missing or unreadable. */
export class LabStateError extends BrindleError {
  constructor(path: string, detail: string, cause?: unknown) {
    super('LAB_STATE', `Lab state unusable: ${path}: ${detail}`, { status: 500, ...(cause === undefined ? {} : { cause }) });
  }
}

/** The prober or responder inside a namespace could not start or misbehaved. */
export class LabProbeError extends BrindleError {
  constructor(message: string) {
    super('LAB_PROBE', message, { status: 500 });
  }
}

/** A Neutron API call from the lab failed: carries the NeutronError type and message and the HTTP status. */
export class LabApiError extends BrindleError {
  readonly neutronType: string;
  readonly neutronMessage: string;
  readonly httpStatus: number;

  constructor(request: string, details: { httpStatus: number; neutronType: string; neutronMessage: string }, cause?: unknown) {
    super('LAB_API', `Neutron API call failed: ${request}: ${details.httpStatus} ${details.neutronType}: ${details.neutronMessage}`, {
      status: details.httpStatus === 0 ? 503 : details.httpStatus,
      recoverable: details.httpStatus === 0 || details.httpStatus === 503,
      ...(cause === undefined ? {} : { cause }),
    });
    this.neutronType = details.neutronType;
    this.neutronMessage = details.neutronMessage;
    this.httpStatus = details.httpStatus;
  }
}

/** Neutron bound the port as `binding_failed`: no live agent on the host, as Nova would see it. */
export class LabBindingError extends BrindleError {
  constructor(portId: string, host: string) {
    super('LAB_BINDING_FAILED', `Port binding failed: port ${portId} on host ${host}`, {
      status: 409,
      hint: `is \`brindle node\` running for host ${host} on the same datastore?`,
    });
  }
}

/** A Brindle process of the lab (API or agent) did not start or come ready. */
export class LabProcessError extends BrindleError {
  constructor(name: string, detail: string) {
    super('LAB_PROCESS', `Lab process ${name}: ${detail}`, { status: 500 });
  }
}
