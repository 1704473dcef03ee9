import { BrindleError } from '../../lib/index.js';

/** Why a policy (the defaults with an operator's file over them) could not be loaded. */
export type PolicyErrorCode =
  /** A check string that does not parse. */
  | 'POLICY_SYNTAX'
  /** A check kind Brindle does not evaluate (oslo's `http:`). */
  | 'POLICY_UNSUPPORTED'
  /** `rule:X` where no rule X is defined, or rules that refer to each other in a circle. */
  | 'POLICY_REFERENCE'
  /** The file cannot be read, or is not a map of rule names to strings. */
  | 'POLICY_FILE';

/** A policy error names the rule (or file) it is about: operators fix one line. */
export class PolicyError extends BrindleError {
  readonly rule: string;
  constructor(code: PolicyErrorCode, rule: string, message: string, cause?: unknown) {
    super(code, `policy rule "${rule}": ${message}`, { status: 500, ...(cause === undefined ? {} : { cause }) });
    this.rule = rule;
  }
}
