import type { z } from 'zod';
import { faults, NeutronApiError } from '../errors.js';
import type { FaultParams } from './neutron-types.js';
import type { Attributes, CreateInput, RequiredParams, ResourceDecl, UpdateInput } from './resource.js';

const isDict = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The first issue of a failed parse, as the fault neutron-server answers with. */
function toFault(error: z.ZodError): NeutronApiError {
  const issue = error.issues[0];
  if (issue === undefined) return faults.badRequest('Body contains invalid data');
  const params = (issue as { params?: Partial<FaultParams & RequiredParams> }).params;
  if (params?.required === true) return faults.badRequest(issue.message);
  if (params?.faultType !== undefined) return new NeutronApiError(params.faultType, 400, issue.message);
  const attribute = String(issue.path[0] ?? '');
  return faults.badRequest(`Invalid input for ${attribute}. Reason: ${issue.message}.`);
}

/** Neutron's checks on the keys before the values: unknown ones, then ones this method may not set. */
function checkKeys(item: Record<string, unknown>, attributes: Attributes, mode: 'create' | 'update'): void {
  const unknown = Object.keys(item).filter((k) => !(k in attributes));
  if (unknown.length > 0) throw faults.badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  for (const k of Object.keys(item)) {
    const a = attributes[k];
    if (mode === 'create' && a?.post !== true) throw faults.badRequest(`Attribute '${k}' not allowed in POST`);
    if (mode === 'update' && a?.put !== true) throw faults.badRequest(`Cannot update read-only attribute ${k}`);
  }
}

/**
 * A POST body: `{"<resource>": {...}}`, or `{"<collection>": [...]}` for a bulk create. Each item
 * is checked against the declaration (neutron-server's messages) and gets the defaults of what
 * it leaves out.
 */
export function parseCreate<D extends ResourceDecl<Attributes>>(body: unknown, decl: D): { items: CreateInput<D>[]; bulk: boolean } {
  if (!isDict(body)) throw faults.badRequest('Body contains invalid data');
  let raw: unknown[];
  const bulk = Array.isArray(body[decl.collection]);
  if (bulk) {
    raw = body[decl.collection] as unknown[];
    if (raw.length === 0) throw faults.badRequest('Resources required');
  } else if (decl.resource in body) raw = [body[decl.resource]];
  else throw faults.badRequest(`Unable to find '${decl.resource}' in request body`);
  if (Object.keys(body).length !== 1) throw faults.badRequest('Body contains invalid data');
  const items = raw.map((item) => {
    if (!isDict(item)) throw faults.badRequest('Body contains invalid data');
    checkKeys(item, decl.attributes, 'create');
    const parsed = decl.create.safeParse(item);
    if (!parsed.success) throw toFault(parsed.error);
    if (typeof item['project_id'] === 'string' && typeof item['tenant_id'] === 'string' && item['project_id'] !== item['tenant_id'])
      throw faults.badRequest("'project_id' and 'tenant_id' do not match");
    // The schema's output (with defaults, which are values of the same attributes), as above.
    return { ...decl.defaults, ...parsed.data } as CreateInput<D>;
  });
  return { items, bulk };
}

/** A PUT body: `{"<resource>": {...}}` with only attributes PUT may change. */
export function parseUpdate<D extends ResourceDecl<Attributes>>(body: unknown, decl: D): UpdateInput<D> {
  if (!isDict(body)) throw faults.badRequest('Body contains invalid data');
  const item = body[decl.resource];
  if (item === undefined) throw faults.badRequest(`Unable to find '${decl.resource}' in request body`);
  if (Object.keys(body).length !== 1 || !isDict(item)) throw faults.badRequest('Body contains invalid data');
  checkKeys(item, decl.attributes, 'update');
  const parsed = decl.update.safeParse(item);
  if (!parsed.success) throw toFault(parsed.error);
  // The schema's output type, which TypeScript cannot follow through the generic declaration.
  return parsed.data as UpdateInput<D>;
}
