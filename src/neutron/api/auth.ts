import type { RequestContext } from '../service/neutron-deps.js';

/** Turns a request's headers into who is asking; throws to refuse. The seam for Keystone. */
export interface Authenticator {
  authenticate(headers: Readonly<Record<string, string | string[] | undefined>>): Promise<RequestContext>;
}

/**
 * The authenticator asked once per request: the hook that guards every /v2.0 route and the
 * route itself share the answer (keyed by the request's headers object, which lives as long as
 * the request).
 */
export function oncePerRequest(auth: Authenticator): Authenticator {
  const seen = new WeakMap<object, Promise<RequestContext>>();
  return {
    authenticate: (headers) => {
      let ctx = seen.get(headers);
      if (ctx === undefined) seen.set(headers, (ctx = auth.authenticate(headers)));
      return ctx;
    },
  };
}

function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * No authentication (as neutron-server's `auth_strategy = noauth`): the project comes from the
 * `X-Project-Id` (or `X-Tenant-Id`) header, else the default project; every caller is admin
 * unless `X-Roles` is sent (then those are its roles: tests act as a member or a reader).
 */
export function noAuth(defaultProject: string): Authenticator {
  return {
    authenticate: (headers) => {
      const projectId = header(headers, 'x-project-id') ?? header(headers, 'x-tenant-id') ?? defaultProject;
      const header_ = header(headers, 'x-roles');
      if (header_ === undefined) return Promise.resolve({ projectId, isAdmin: true });
      const roles = header_
        .split(',')
        .map((r) => r.trim().toLowerCase())
        .filter((r) => r !== '');
      return Promise.resolve({ projectId, isAdmin: roles.includes('admin'), roles });
    },
  };
}
