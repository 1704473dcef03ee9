import { BrindleError } from '../../lib/index.js';

/** Keystone could not be asked (unreachable, timed out, or answered with a server error): never a pass. */
export class KeystoneUnavailableError extends BrindleError {
  constructor(authUrl: string, detail: string, cause?: unknown) {
    super('KEYSTONE_UNAVAILABLE', `Keystone at ${authUrl} could not validate the token: ${detail}`, {
      status: 503,
      cause,
      hint: 'Check that Keystone is up and --keystone-url is right; requests are refused until it answers',
    });
  }
}

/** Keystone refused Brindle's own service credentials: nothing can be validated until they are fixed. */
export class KeystoneServiceAuthError extends BrindleError {
  constructor(authUrl: string, status: number) {
    super('KEYSTONE_SERVICE_AUTH', `Keystone at ${authUrl} refused the service credentials (HTTP ${status})`, {
      status: 503,
      hint: 'Check --keystone-username, --keystone-password and --keystone-project (or their BRINDLE_KEYSTONE_* variables)',
    });
  }
}
