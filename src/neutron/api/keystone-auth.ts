import { createHash } from 'node:crypto';
import type { Clock } from '../../lib/index.js';
import type { KeystoneClient, TokenInfo } from '../keystone/index.js';
import type { RequestContext } from '../service/neutron-deps.js';
import type { Authenticator } from './auth.js';

/** A 401 in Keystone's words (keystonemiddleware's body and `WWW-Authenticate`), not Neutron's. */
export class UnauthorizedFault extends Error {
  readonly status = 401;
  readonly headers: Readonly<Record<string, string>>;
  readonly body = { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } };

  constructor(authUrl: string, reason: string) {
    super(`unauthorized: ${reason}`);
    // Where to get a token: the identity endpoint's root, as keystonemiddleware's www_authenticate_uri.
    this.headers = { 'www-authenticate': `Keystone uri="${authUrl.replace(/\/v3\/?$/, '')}"` };
  }
}

export interface KeystoneAuthOptions {
  readonly client: Pick<KeystoneClient, 'validate' | 'authUrl'>;
  readonly clock: Clock;
  /** How long a validated token is trusted before Keystone is asked again (keystonemiddleware's token_cache_time; default 300 s). A revoked token keeps working at most this long. */
  readonly cacheSeconds?: number;
  /** Tokens remembered at most (the oldest are forgotten first). */
  readonly maxEntries?: number;
}

function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function contextOf(info: TokenInfo): RequestContext {
  return { projectId: info.projectId, isAdmin: info.roles.includes('admin'), userId: info.userId, roles: info.roles, rolesFromToken: true };
}

/**
 * Authentication by Keystone token (`--auth keystone`): the caller's project, user and roles
 * come from Keystone's answer for its `X-Auth-Token`, never from other headers. Valid tokens are
 * remembered (by hash) until they expire or `cacheSeconds` pass, whichever is first; concurrent
 * requests with one new token ask Keystone once. Missing, invalid or expired: 401 in Keystone's
 * words. Keystone unreachable: the validation's KeystoneUnavailableError (503), never a pass.
 */
export function keystoneAuth(o: KeystoneAuthOptions): Authenticator {
  const cacheMs = (o.cacheSeconds ?? 300) * 1_000;
  const max = o.maxEntries ?? 10_000;
  const valid = new Map<string, { info: TokenInfo; until: number }>();
  const asking = new Map<string, Promise<TokenInfo | undefined>>();
  return {
    async authenticate(headers) {
      const token = header(headers, 'x-auth-token');
      if (token === undefined || token === '') throw new UnauthorizedFault(o.client.authUrl, 'no X-Auth-Token');
      const key = createHash('sha256').update(token).digest('base64');
      const now = o.clock.now();
      const hit = valid.get(key);
      if (hit !== undefined && hit.until > now) return contextOf(hit.info);
      valid.delete(key);
      let pending = asking.get(key);
      if (pending === undefined) {
        pending = o.client.validate(token).finally(() => asking.delete(key));
        asking.set(key, pending);
      }
      const info = await pending;
      const at = o.clock.now();
      if (info === undefined || info.expiresAt <= at) throw new UnauthorizedFault(o.client.authUrl, 'Keystone does not accept the token');
      if (valid.size >= max) {
        const oldest = valid.keys().next();
        if (oldest.done !== true) valid.delete(oldest.value);
      }
      valid.set(key, { info, until: Math.min(info.expiresAt, at + cacheMs) });
      return contextOf(info);
    },
  };
}
