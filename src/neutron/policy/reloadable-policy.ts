import type { Fs } from '../../lib/index.js';
import { loadPolicy } from './policy-file.js';
import type { Policy } from './policy.js';

/**
 * The policy in force: Neutron's defaults with the operator's file over them, read at start
 * (an error there stops the server) and again on `reload` (SIGHUP). A reload that fails keeps
 * the policy in force and returns the error, which names the rule or the file.
 */
export class ReloadablePolicy {
  readonly #fs: Fs;
  readonly #path: string | undefined;
  #policy: Policy;
  /** Reloads started: only the latest one's result is installed (two SIGHUPs can finish out of order). */
  #started = 0;

  private constructor(fs: Fs, path: string | undefined, policy: Policy) {
    this.#fs = fs;
    this.#path = path;
    this.#policy = policy;
  }

  static async load(fs: Fs, path: string | undefined): Promise<ReloadablePolicy> {
    return new ReloadablePolicy(fs, path, await loadPolicy(fs, path));
  }

  get path(): string | undefined {
    return this.#path;
  }

  current(): Policy {
    return this.#policy;
  }

  async reload(): Promise<{ ok: true; rules: number } | { ok: false; error: unknown }> {
    const mine = ++this.#started;
    try {
      const policy = await loadPolicy(this.#fs, this.#path);
      if (mine === this.#started) this.#policy = policy;
      return { ok: true, rules: policy.ruleNames.length };
    } catch (error) {
      return { ok: false, error };
    }
  }
}
