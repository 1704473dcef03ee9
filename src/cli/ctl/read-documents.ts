import { parseAllDocuments } from 'yaml';
import { BrindleError } from '../../lib/index.js';
import { kindInfo, validateResource, ValidationError, type CalicoResource } from '../../model/index.js';
import { DocumentError } from '../errors.js';
import type { CliIo } from '../io.js';

/** One validated resource read from an input file, remembering where it came from. */
export interface InputDocument {
  readonly source: string;
  /** 1-based position in the file (List items count as documents of their own). */
  readonly index: number;
  readonly resource: CalicoResource;
}

function describeDoc(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof d.kind !== 'string') return undefined;
  const name = typeof d.metadata?.name === 'string' ? d.metadata.name : '(unnamed)';
  const ns = typeof d.metadata?.namespace === 'string' ? `${d.metadata.namespace}/` : '';
  return `${d.kind} ${ns}${name}`;
}

/** Expands calicoctl's `kind: <Kind>List` / `kind: List` envelopes into their items. */
function expandLists(value: unknown): unknown[] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const v = value as { kind?: unknown; items?: unknown };
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) return v.items;
  }
  return [value];
}

/** Fills `metadata.namespace` of namespaced kinds from -n (or `default`), as calicoctl does. */
function defaultNamespace(doc: unknown, namespace: string): unknown {
  if (typeof doc !== 'object' || doc === null) return doc;
  const d = doc as { kind?: unknown; metadata?: Record<string, unknown> };
  if (typeof d.kind !== 'string' || typeof d.metadata !== 'object' || d.metadata === null || d.metadata['namespace'] !== undefined) return doc;
  try {
    if (!kindInfo(d.kind).namespaced) return doc;
  } catch {
    return doc;
  }
  return { ...d, metadata: { ...d.metadata, namespace } };
}

/**
 * Reads and validates every document of every file (`-` is standard input), YAML or JSON,
 * multi-document. Throws DocumentError for the first bad one, naming file, document and field;
 * the caller writes only after everything has validated.
 */
export async function readDocuments(files: readonly string[], io: CliIo, namespace: string): Promise<InputDocument[]> {
  const out: InputDocument[] = [];
  for (const file of files) {
    const source = file === '-' ? '(stdin)' : file;
    let text: string;
    try {
      text = file === '-' ? await io.readStdin() : await io.readFile(file);
    } catch (err) {
      throw new DocumentError({ source, index: 0 }, `cannot be read: ${err instanceof Error ? err.message : String(err)}`, err);
    }
    let index = 0;
    for (const doc of parseAllDocuments(text)) {
      if ('errors' in doc && doc.errors.length > 0) {
        const e = doc.errors[0];
        throw new DocumentError(
          { source, index: index + 1 },
          `not valid YAML or JSON at line ${e?.linePos?.[0].line ?? '?'}: ${e?.message.split('\n')[0] ?? ''}`,
        );
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue;
      for (const item of expandLists(value)) {
        index++;
        const withNs = defaultNamespace(item, namespace);
        try {
          out.push({ source, index, resource: validateResource(withNs) });
        } catch (err) {
          if (err instanceof ValidationError) {
            const first = err.issues[0];
            const detail = first === undefined ? err.message : `${first.path === '' ? '' : `${first.path}: `}${first.message}`;
            throw new DocumentError({ source, index, what: describeDoc(withNs) }, detail, err);
          }
          if (err instanceof BrindleError) throw new DocumentError({ source, index, what: describeDoc(withNs) }, err.message, err);
          throw err;
        }
      }
    }
  }
  if (out.length === 0) throw new DocumentError({ source: files.join(', '), index: 0 }, 'no resources found');
  return out;
}
