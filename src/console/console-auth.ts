import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../lib/index.js';
import { LoginFailedError, LoginRequiredError } from './errors.js';

/** Who may use the console: anyone who reaches it (loopback only), a local admin password, or Keystone admins. */
export type ConsoleLogin =
  | { readonly kind: 'none' }
  | { readonly kind: 'password'; readonly password: string }
  | { readonly kind: 'keystone'; readonly isAdminToken: (token: string) => Promise<boolean> };

export const SESSION_COOKIE = 'brindle_console';
/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 8 * 3_600_000;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Login sessions, in memory (a restart logs everyone out): a random id in an HttpOnly cookie,
 * ended after eight idle hours or at logout. The password is compared in constant time.
 */
export class ConsoleSessions {
  readonly #login: ConsoleLogin;
  readonly #clock: Clock;
  readonly #sessions = new Map<string, { user: string; lastUsed: number }>();

  constructor(login: ConsoleLogin, clock: Clock) {
    this.#login = login;
    this.#clock = clock;
  }

  get required(): boolean {
    return this.#login.kind !== 'none';
  }

  get kind(): ConsoleLogin['kind'] {
    return this.#login.kind;
  }

  /** Checks a login and starts a session; returns its id. */
  async login(body: { password?: string | undefined; token?: string | undefined }): Promise<string> {
    const l = this.#login;
    let user: string;
    if (l.kind === 'password') {
      if (body.password === undefined || !timingSafeEqual(digest(body.password), digest(l.password))) throw new LoginFailedError('Wrong password');
      user = 'admin';
    } else if (l.kind === 'keystone') {
      if (body.token === undefined || body.token === '') throw new LoginFailedError('Give a Keystone token (openstack token issue)');
      if (!(await l.isAdminToken(body.token))) throw new LoginFailedError('Keystone does not accept this token as an admin');
      user = 'keystone admin';
    } else user = 'local';
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, { user, lastUsed: this.#clock.monotonic() });
    return id;
  }

  logout(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(id);
  }

  /** The session's user; throws LoginRequiredError when a login is needed and this is none. */
  check(id: string | undefined): string {
    if (!this.required) return 'local';
    const s = id === undefined ? undefined : this.#sessions.get(id);
    const now = this.#clock.monotonic();
    if (s === undefined || now - s.lastUsed > SESSION_IDLE_MS) {
      if (id !== undefined) this.#sessions.delete(id);
      throw new LoginRequiredError();
    }
    s.lastUsed = now;
    return s.user;
  }
}
