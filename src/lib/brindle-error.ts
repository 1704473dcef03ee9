/**
 * The base of every error catalogue in Brindle. Each module defines its own subclasses with a
 * stable `code` (e.g. `DS_CONFLICT`), an HTTP-like `status` where one makes sense, an optional
 * `hint` for CLI users, and a `recoverable` marker that retry loops consult.
 */
export interface BrindleErrorOptions {
  readonly cause?: unknown;
  readonly hint?: string;
  readonly status?: number;
  readonly recoverable?: boolean;
}

export class BrindleError extends Error {
  readonly code: string;
  readonly status: number;
  readonly hint: string | undefined;
  readonly recoverable: boolean;

  constructor(code: string, message: string, options: BrindleErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.hint = options.hint;
    this.recoverable = options.recoverable ?? false;
  }
}

/** True when retrying the failed operation may succeed (a marker set by the catalogue). */
export function isRecoverable(err: unknown): boolean {
  return err instanceof BrindleError && err.recoverable;
}

/** A one-line description of any thrown value, for logs and CLI output. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
