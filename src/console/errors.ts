import { BrindleError } from '../lib/index.js';
import type { Conflict, FieldError, SettingsForm } from './api-types.js';

/** The console's error catalogue: each renders as `{ error: { code, message, ... } }` with its status. */
export class ConsoleError extends BrindleError {}

/** A settings form that does not validate: one message per field, nothing written. */
export class SettingsInvalidError extends ConsoleError {
  readonly fields: readonly FieldError[];
  constructor(fields: readonly FieldError[]) {
    const first = fields[0];
    super('CONSOLE_INVALID', first === undefined ? 'The settings are not valid' : `${first.field}: ${first.message}`, { status: 422 });
    this.fields = fields;
  }
}

/** Someone else changed the settings since the page loaded them (or while they were written). */
export class SettingsConflictError extends ConsoleError {
  readonly conflicts: readonly Conflict[];
  readonly current: SettingsForm | undefined;
  constructor(conflicts: readonly Conflict[], current: SettingsForm | undefined, cause?: unknown) {
    super(
      'CONSOLE_CONFLICT',
      conflicts.length === 0
        ? 'The settings changed while they were being written; nothing of yours was applied. Review them and apply again.'
        : `Someone else changed the settings since you loaded them (${conflicts.map((c) => c.what).join(', ')}); nothing was applied.`,
      { status: 409, cause },
    );
    this.conflicts = conflicts;
    this.current = current;
  }
}

export class ConsoleNotFoundError extends ConsoleError {
  constructor(what: string) {
    super('CONSOLE_NOT_FOUND', `${what} not found`, { status: 404 });
  }
}

export class ConsoleBadRequestError extends ConsoleError {
  constructor(message: string) {
    super('CONSOLE_BAD_REQUEST', message, { status: 400 });
  }
}

export class LoginRequiredError extends ConsoleError {
  constructor() {
    super('CONSOLE_LOGIN_REQUIRED', 'Log in first', { status: 401 });
  }
}

export class LoginFailedError extends ConsoleError {
  constructor(reason: string) {
    super('CONSOLE_LOGIN_FAILED', reason, { status: 401 });
  }
}

/** A cross-site write: a request that changes something must come from the console's own page. */
export class ForeignOriginError extends ConsoleError {
  constructor() {
    super('CONSOLE_FOREIGN_ORIGIN', 'Requests that change something must come from the console page itself', { status: 403 });
  }
}

/** Without a login, a request whose Host is not loopback (a DNS-rebound page, or a proxy nobody secured). */
export class ForeignHostError extends ConsoleError {
  constructor(host: string) {
    super('CONSOLE_FOREIGN_HOST', `This console has no login and answers only to loopback names, not ${JSON.stringify(host)}`, { status: 403 });
  }
}

/** A stored settings resource the model does not accept: fix it with brindle ctl first. */
export class StoredSettingsInvalidError extends ConsoleError {
  constructor(problems: readonly string[]) {
    super('CONSOLE_STORED_INVALID', `Stored settings the console cannot read (fix them with brindle ctl): ${problems.join('; ')}`, { status: 409 });
  }
}

/** Too many failed logins from one address. */
export class LoginThrottledError extends ConsoleError {
  constructor(seconds: number) {
    super('CONSOLE_LOGIN_THROTTLED', `Too many failed logins; try again in ${seconds} s`, { status: 429 });
  }
}

/** Refused at start: a console on a non-loopback address needs TLS and a login. */
export class ConsoleExposedError extends ConsoleError {
  constructor(address: string, missing: string) {
    super('CONSOLE_EXPOSED', `The console on ${address} is reachable by others: it needs ${missing}`, {
      status: 400,
      hint: 'bind it to 127.0.0.1 (the default), or give --tls-cert/--tls-key and either Keystone or consoleAdminPassword in the config file',
    });
  }
}
