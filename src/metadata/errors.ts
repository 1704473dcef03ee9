import { BrindleError } from '../lib/index.js';

/** No instance has the address a request came from. */
export class InstanceNotFoundError extends BrindleError {
  constructor(address: string) {
    super('METADATA_INSTANCE_NOT_FOUND', `No instance has the address ${address}`, { status: 404 });
  }
}

/** The Neutron API could not answer the lookup (the metadata service then answers 503). */
export class NeutronLookupError extends BrindleError {
  constructor(detail: string, cause?: unknown) {
    super('METADATA_NEUTRON_LOOKUP', `Cannot look the instance up in Neutron: ${detail}`, {
      status: 503,
      recoverable: true,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
