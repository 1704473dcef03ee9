import { BrindleError } from '../lib/index.js';

/** One problem found while validating a document: where (a field path) and why. */
export interface ValidationIssue {
  /** Field path such as `spec.ingress[0].protocol`; empty for the document itself. */
  readonly path: string;
  readonly message: string;
}

/** A resource or record failed its schema. Nothing that failed validation is ever written. */
export class ValidationError extends BrindleError {
  readonly issues: readonly ValidationIssue[];
  constructor(subject: string, issues: readonly ValidationIssue[]) {
    const first = issues[0];
    const where = first === undefined ? '' : first.path === '' ? `: ${first.message}` : `: ${first.path}: ${first.message}`;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('MODEL_INVALID', `Invalid ${subject}${where}${more}`, { status: 400 });
    this.issues = issues;
  }
}

/** A selector expression could not be parsed; `position` is the 0-based character offset. */
export class SelectorSyntaxError extends BrindleError {
  readonly position: number;
  readonly selector: string;
  constructor(selector: string, position: number, reason: string) {
    super('MODEL_SELECTOR_SYNTAX', `Invalid selector at position ${position}: ${reason}`, { status: 400 });
    this.position = position;
    this.selector = selector;
  }
}

/** A `kind` (or a CLI alias for one) that Brindle does not know. */
export class UnknownKindError extends BrindleError {
  constructor(kind: string) {
    super('MODEL_UNKNOWN_KIND', `Unknown resource kind: ${kind}`, {
      status: 400,
      hint: 'Kinds: WorkloadEndpoint, NetworkPolicy, GlobalNetworkPolicy, Profile, HostEndpoint, IPPool, Node, BGPPeer, BGPConfiguration, FelixConfiguration, ClusterInformation',
    });
  }
}

/** A name, region or key that cannot be turned into a datastore path. */
export class InvalidNameError extends BrindleError {
  constructor(what: string, value: string, reason: string) {
    super('MODEL_INVALID_NAME', `Invalid ${what} ${JSON.stringify(value)}: ${reason}`, { status: 400 });
  }
}
