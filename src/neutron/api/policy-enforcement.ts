import { faults } from '../errors.js';
import type { CallerPolicy, Credentials, Policy, Target } from '../policy/index.js';
import type { RequestContext } from '../service/neutron-deps.js';
import type { Attributes } from '../resources/index.js';
import type { Authenticator } from './auth.js';

/** The policy in force now: replaced as a whole when the operator's file is reloaded (SIGHUP). */
export interface PolicySource {
  current(): Policy;
}

/** Keystone's default role implications (admin implies member implies reader), for noauth callers. */
const IMPLIED: Readonly<Record<string, readonly string[]>> = { admin: ['member', 'reader'], member: ['reader'] };

/** A request's credentials: the token's roles, else (noauth) admin's or a member's, with what they imply. */
export function credentialsOf(ctx: RequestContext): Credentials {
  const given = ctx.roles ?? (ctx.isAdmin ? ['admin'] : ['member']);
  const roles = new Set(given.map((r) => r.toLowerCase()));
  for (const r of [...roles]) for (const i of IMPLIED[r] ?? []) roles.add(i);
  return { project_id: ctx.projectId, ...(ctx.userId === undefined ? {} : { user_id: ctx.userId }), roles: [...roles] };
}

const callers = new WeakMap<RequestContext, { policy: Policy; caller: CallerPolicy }>();

/** The policy as this request's caller sees it (one per request context and policy version). */
export function callerPolicy(source: PolicySource, ctx: RequestContext): CallerPolicy {
  const policy = source.current();
  const known = callers.get(ctx);
  if (known?.policy === policy) return known.caller;
  const caller = policy.forCaller(credentialsOf(ctx));
  callers.set(ctx, { policy, caller });
  return caller;
}

/** 403 naming the rule, as Neutron's PolicyNotAuthorized: `(rule:create_port:mac_address) is disallowed by policy`. */
export function authorize(caller: CallerPolicy, rule: string, target: Target): void {
  if (!caller.allows(rule, target)) throw faults.policy(`rule:${rule}`);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The attribute rules of a create or update, as Neutron builds them: for each attribute the
 * request sets (on create, to other than its default) that has a rule `create_port:mac_address`,
 * that rule; for a dict value (`external_gateway_info`) or a list of dicts (`fixed_ips`), the
 * rules of the keys it sets (`create_port:fixed_ips:ip_address`) as well. The first that
 * refuses is the 403.
 */
export interface AttributeWrite {
  readonly policy: Policy;
  readonly action: 'create' | 'update';
  readonly resource: string;
  readonly specs: Attributes;
  /** The attributes the request sets. */
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly target: Target;
}

export function authorizeAttributes(caller: CallerPolicy, w: AttributeWrite): void {
  const { policy, action, resource, specs, target } = w;
  for (const [name, value] of Object.entries(w.attrs)) {
    const rule = `${action}_${resource}:${name}`;
    if (!policy.has(rule)) continue;
    const spec = specs[name];
    if (action === 'create' && spec?.default !== undefined && same(spec.default, value)) continue;
    authorize(caller, rule, target);
    const items: unknown[] = Array.isArray(value) ? (value as unknown[]) : [value];
    const keys = new Set(items.flatMap((i) => (typeof i === 'object' && i !== null && !Array.isArray(i) ? Object.keys(i) : [])));
    for (const key of keys) if (policy.has(`${rule}:${key}`)) authorize(caller, `${rule}:${key}`, target);
  }
}

/**
 * What a caller may see of records: `get_<resource>:<attr>` rules that refuse remove the
 * attribute (Neutron's member views omit `binding:*` and `provider:*` this way).
 */
export function attributeFilter(caller: CallerPolicy, policy: Policy, resource: string): ((view: Record<string, unknown>, target: Target) => void) | undefined {
  const prefix = `get_${resource}:`;
  const hide: string[] = [];
  const test: [string, (t: Target) => boolean][] = [];
  for (const rule of policy.ruleNames) {
    if (!rule.startsWith(prefix)) continue;
    const d = caller.decide(rule);
    const attr = rule.slice(prefix.length);
    if (d === false) hide.push(attr);
    else if (d !== true) test.push([attr, d]);
  }
  if (hide.length === 0 && test.length === 0) return undefined;
  return (view, target) => {
    for (const a of hide) delete view[a];
    for (const [a, f] of test) if (!f(target)) delete view[a];
  };
}

/** A fixed policy (tests, and servers given no file). */
export function fixedPolicy(policy: Policy): PolicySource {
  return { current: () => policy };
}

/**
 * The authenticator with `isAdmin` decided by the policy's `context_is_admin` rule (as Neutron's
 * request context), so an operator's file that changes who is admin changes it everywhere.
 */
export function adminByPolicy(auth: Authenticator, policy: PolicySource): Authenticator {
  return {
    authenticate: async (headers) => {
      const ctx = await auth.authenticate(headers);
      const isAdmin = callerPolicy(policy, ctx).isAdmin;
      return isAdmin === ctx.isAdmin ? ctx : { ...ctx, isAdmin };
    },
  };
}
