import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors.js';
import { kindInfo, type CalicoResource, type KindName, type ResourceOf } from './kinds.js';
import { API_VERSION } from './resources/common.js';

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Renders a zod path as `spec.ingress[0].source.nets[1]` or `metadata.labels["a/b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && IDENT_RE.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

/** Turns zod issues into Brindle's issue list (path + message). */
export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
}

/** Validates a value against a schema, throwing ValidationError naming `subject` on failure. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, subject: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(subject, toIssues(result.error));
  return result.data;
}

/**
 * Validates any Calico v3 document: picks the schema from `kind`, checks `apiVersion`, and
 * returns the typed resource. Errors name the field path and the reason.
 */
export function validateResource(doc: unknown): CalicoResource {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ValidationError('resource', [{ path: '', message: 'must be an object with apiVersion, kind, metadata and spec' }]);
  }
  const { kind, apiVersion } = doc as { kind?: unknown; apiVersion?: unknown };
  if (typeof kind !== 'string') throw new ValidationError('resource', [{ path: 'kind', message: 'is required' }]);
  if (apiVersion !== API_VERSION) {
    throw new ValidationError(`${kind}`, [{ path: 'apiVersion', message: `must be ${API_VERSION}` }]);
  }
  const info = kindInfo(kind);
  if (info.kind !== kind) {
    throw new ValidationError('resource', [{ path: 'kind', message: `must be spelled ${info.kind}` }]);
  }
  return parseWith(info.schema, doc, kind);
}

/** validateResource narrowed to one kind (throws if the document is of another kind). */
export function validateKind<K extends KindName>(kind: K, doc: unknown): ResourceOf<K> {
  const r = validateResource(doc);
  if (r.kind !== kind) throw new ValidationError(kind, [{ path: 'kind', message: `expected ${kind}, got ${r.kind}` }]);
  return r as ResourceOf<K>;
}
