import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../lib/index.js';
import { LoginFailedError, LoginRequiredError, LoginThrottledError } from './errors.js';

/** Who may use the console: anyone who reaches it (loopback only), a local admin password, or Keystone admins. */
export type ConsoleLogin =
  | { readonly kind: 'none' }
  | { readonly kind: 'password'; readonly password: string }
  | { readonly kind: 'keystone'; readonly isAdminToken: (token: string) => Promise<boolean> };

export const SESSION_COOKIE = 'brindle_console';
/** A session ends after this long without a request, and after SESSION_MAX_MS in any case. */
export const SESSION_IDLE_MS = 8 * 3_600_000;
export const SESSION_MAX_MS = 12 * 3_600_000;
/** Failed logins one address may make in LOGIN_WINDOW_MS before it has to wait. */
export const LOGIN_FAILURES = 10;
export const LOGIN_WINDOW_MS = 5 * 60_000;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Login sessions, in memory (a restart logs everyone out): a random id in an HttpOnly cookie,
 * ended after eight idle hours, twelve hours in all, or at logout. The password is compared in
 * constant time; an address with ten failed logins in five minutes waits for the window to pass.
 */
export class ConsoleSessions {
  readonly #login: ConsoleLogin;
  readonly #clock: Clock;
  readonly #sessions = new Map<string, { user: string; lastUsed: number; started: number }>();
  readonly #failures = new Map<string, { count: number; since: number }>();

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

  /** Checks a login from address `from` and starts a session; returns its id. */
  async login(body: { password?: string | undefined; token?: string | undefined }, from: string): Promise<string> {
    const now = this.#clock.monotonic();
    const f = this.#failures.get(from);
    if (f !== undefined && now - f.since > LOGIN_WINDOW_MS) this.#failures.delete(from);
    else if (f !== undefined && f.count >= LOGIN_FAILURES) throw new LoginThrottledError(Math.ceil((LOGIN_WINDOW_MS - (now - f.since)) / 1_000));
    try {
      const user = await this.#check(body);
      this.#failures.delete(from);
      for (const [id, s] of this.#sessions) if (this.#expired(s, now)) this.#sessions.delete(id);
      const id = randomBytes(32).toString('base64url');
      this.#sessions.set(id, { user, lastUsed: now, started: now });
      return id;
    } catch (err) {
      const seen = this.#failures.get(from) ?? { count: 0, since: now };
      this.#failures.set(from, { count: seen.count + 1, since: seen.since });
      throw err;
    }
  }

  #expired(s: { lastUsed: number; started: number }, now: number): boolean {
    return now - s.lastUsed > SESSION_IDLE_MS || now - s.started > SESSION_MAX_MS;
  }

  async #check(body: { password?: string | undefined; token?: string | undefined }): Promise<string> {
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
    return user;
  }

  logout(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(id);
  }

  /** The session's user; throws LoginRequiredError when a login is needed and this is none. */
  check(id: string | undefined): string {
    if (!this.required) return 'local';
    const s = id === undefined ? undefined : this.#sessions.get(id);
    const now = this.#clock.monotonic();
    if (s === undefined || this.#expired(s, now)) {
      if (id !== undefined) this.#sessions.delete(id);
      throw new LoginRequiredError();
    }
    s.lastUsed = now;
    return s.user;
  }
}
