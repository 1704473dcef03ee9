import { z } from 'zod';
import type { Clock } from '../../lib/index.js';
import { KeystoneServiceAuthError, KeystoneUnavailableError } from './keystone-errors.js';

/** Brindle's service user in Keystone, which validates the tokens callers bring. */
export interface KeystoneOptions {
  /** The identity v3 root, e.g. `http://controller:5000/v3`. */
  readonly authUrl: string;
  readonly username: string;
  readonly password: string;
  readonly projectName: string;
  readonly userDomainName: string;
  readonly projectDomainName: string;
  /** Deadline of each request to Keystone (default 5 s). */
  readonly timeoutMs?: number;
}

/** What a valid token says about its caller. */
export interface TokenInfo {
  readonly userId: string;
  readonly projectId: string;
  readonly roles: readonly string[];
  /** Epoch ms. */
  readonly expiresAt: number;
}

/** The HTTP the client needs (fetch's shape), injectable for tests of its logic. */
export type KeystoneHttp = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; json(): Promise<unknown> }>;

const tokenBody = z.object({
  token: z.object({
    expires_at: z.string(),
    user: z.object({ id: z.string() }),
    project: z.object({ id: z.string() }).optional(),
    roles: z.array(z.object({ name: z.string() })).optional(),
  }),
});

/** Renew the service token this long before it expires. */
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * Validates tokens against Keystone v3 as keystonemiddleware does: `GET /v3/auth/tokens` with
 * the caller's token as `X-Subject-Token`, authorised by Brindle's own service token (a
 * password login, renewed before it expires, and once more if Keystone no longer accepts it).
 */
export class KeystoneClient {
  readonly #o: KeystoneOptions;
  readonly #http: KeystoneHttp;
  readonly #clock: Clock;
  #service: Promise<{ token: string; expiresAt: number }> | undefined;

  constructor(options: KeystoneOptions, deps: { readonly http: KeystoneHttp; readonly clock: Clock }) {
    this.#o = { ...options, authUrl: options.authUrl.replace(/\/+$/, '') };
    this.#http = deps.http;
    this.#clock = deps.clock;
  }

  get authUrl(): string {
    return this.#o.authUrl;
  }

  /** The token's caller, or undefined if Keystone says it is not valid (unknown, expired, revoked, or scoped to no project). */
  async validate(subjectToken: string): Promise<TokenInfo | undefined> {
    for (let attempt = 0; ; attempt++) {
      const service = await this.#serviceToken();
      const r = await this.#call('GET', '/auth/tokens?nocatalog', { 'x-auth-token': service, 'x-subject-token': subjectToken });
      if (r.status === 404 || r.status === 400) return undefined;
      if (r.status === 401 && attempt === 0) {
        this.#service = undefined; // our own token was refused: log in again, once
        continue;
      }
      if (r.status !== 200) throw new KeystoneUnavailableError(this.#o.authUrl, `GET /auth/tokens answered HTTP ${r.status}`);
      const parsed = tokenBody.safeParse(await r.json().catch(() => undefined));
      if (!parsed.success) throw new KeystoneUnavailableError(this.#o.authUrl, 'GET /auth/tokens answered a body that is not a token');
      const t = parsed.data.token;
      if (t.project === undefined) return undefined;
      return { userId: t.user.id, projectId: t.project.id, roles: (t.roles ?? []).map((x) => x.name), expiresAt: Date.parse(t.expires_at) };
    }
  }

  /** Brindle's own token (for Nova's events), renewed before it expires; `fresh` logs in again (the last one was refused). */
  async serviceToken(fresh = false): Promise<string> {
    if (fresh) this.#service = undefined;
    return this.#serviceToken();
  }

  async #serviceToken(): Promise<string> {
    const current = this.#service;
    if (current !== undefined) {
      const s = await current.catch(() => undefined);
      if (s !== undefined && s.expiresAt - RENEW_BEFORE_MS > this.#clock.now()) return s.token;
      if (this.#service === current) this.#service = undefined;
    }
    const login = (this.#service ??= this.#login());
    login.catch(() => {
      if (this.#service === login) this.#service = undefined;
    });
    return (await login).token;
  }

  async #login(): Promise<{ token: string; expiresAt: number }> {
    const o = this.#o;
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: o.username, domain: { name: o.userDomainName }, password: o.password } } },
        scope: { project: { name: o.projectName, domain: { name: o.projectDomainName } } },
      },
    };
    const r = await this.#call('POST', '/auth/tokens?nocatalog', { 'content-type': 'application/json' }, JSON.stringify(body));
    if (r.status === 401 || r.status === 403 || r.status === 404) throw new KeystoneServiceAuthError(o.authUrl, r.status);
    const token = r.headers.get('x-subject-token');
    const parsed = tokenBody.safeParse(await r.json().catch(() => undefined));
    if (r.status !== 201 || token === null || !parsed.success) throw new KeystoneUnavailableError(o.authUrl, `the service login answered HTTP ${r.status}`);
    return { token, expiresAt: Date.parse(parsed.data.token.expires_at) };
  }

  async #call(method: string, path: string, headers: Record<string, string>, body?: string): ReturnType<KeystoneHttp> {
    const signal = AbortSignal.timeout(this.#o.timeoutMs ?? 5_000);
    try {
      return await this.#http(`${this.#o.authUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }), signal });
    } catch (err) {
      throw new KeystoneUnavailableError(this.#o.authUrl, err instanceof Error ? err.message : String(err), err);
    }
  }
}

/** The real HTTP (Node's fetch). */
export const fetchHttp: KeystoneHttp = (url, init) => fetch(url, init);
