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

/**
 * A request's credentials: a Keystone token's roles as Keystone listed them (implied roles
 * included, by the cloud's own implication rules); under noauth the `X-Roles` given (none: admin)
 * with Keystone's default implications added.
 */
export function credentialsOf(ctx: RequestContext): Credentials {
  const given = ctx.roles ?? (ctx.isAdmin ? ['admin'] : ['member']);
  const roles = new Set(given.map((r) => r.toLowerCase()));
  if (ctx.rolesFromToken !== true) for (const r of [...roles]) for (const i of IMPLIED[r] ?? []) roles.add(i);
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

/** The same caller for a context derived from one already asked (no second lookup). */
function sameCaller(from: RequestContext, to: RequestContext): void {
  const known = callers.get(from);
  if (known !== undefined) callers.set(to, known);
}

/** 403 naming the rule, as Neutron's PolicyNotAuthorized: `(rule:create_port:mac_address) is disallowed by policy`. */
export function authorize(caller: CallerPolicy, rule: string, target: Target): void {
  if (!caller.allows(rule, target)) throw faults.policy(`rule:${rule}`);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A create or update: what it sets, on which resource. */
export interface AttributeWrite {
  readonly policy: Policy;
  readonly action: 'create' | 'update';
  readonly resource: string;
  readonly specs: Attributes;
  /** The attributes the request sets. */
  readonly attrs: Readonly<Record<string, unknown>>;
}

/**
 * The rules a create or update is held to, in Neutron's order: `<action>_<resource>`, then for
 * each attribute the request sets (on create, to other than its default) that has a rule
 * (`create_port:mac_address`), that rule and, for a dict value (`external_gateway_info`) or a
 * list of dicts (`fixed_ips`), the rules of the keys it sets (`create_port:fixed_ips:ip_address`).
 */
export function writeRules(w: AttributeWrite): string[] {
  const { policy, action, resource, specs } = w;
  const rules = [`${action}_${resource}`];
  for (const [name, value] of Object.entries(w.attrs)) {
    const rule = `${action}_${resource}:${name}`;
    if (!policy.has(rule)) continue;
    const spec = specs[name];
    if (action === 'create' && spec?.default !== undefined && same(spec.default, value)) continue;
    rules.push(rule);
    const items: unknown[] = Array.isArray(value) ? (value as unknown[]) : [value];
    const keys = new Set(items.flatMap((i) => (typeof i === 'object' && i !== null && !Array.isArray(i) ? Object.keys(i) : [])));
    for (const key of keys) if (policy.has(`${rule}:${key}`)) rules.push(`${rule}:${key}`);
  }
  return rules;
}

/**
 * Checks `rules` in order; the first that refuses is the 403 naming it. The target is built only
 * if a rule depends on it (an admin's do not: no parent is read for them).
 */
export async function authorizeAll(caller: CallerPolicy, rules: readonly string[], target: () => Promise<Target>): Promise<void> {
  let built: Target | undefined;
  for (const rule of rules) {
    const d = caller.decide(rule);
    const ok = typeof d === 'boolean' ? d : d((built ??= await target()));
    if (!ok) throw faults.policy(`rule:${rule}`);
  }
}

/** An existing object a request acts on: the rule to see it, the rules of the act, and the objects the rules see. */
export interface ActOn {
  /** `get_<resource>`: when it refuses, the object is not revealed (404). */
  readonly getRule: string;
  /** The act's rules, in order (403 naming the first that refuses). */
  readonly rules: readonly string[];
  /** The object as it is (built only if a rule depends on it). */
  readonly existing: () => Promise<Target>;
  /** What the act's rules see (default: the object as it is); an update's is the object with the change. */
  readonly acted?: (existing: Target) => Target;
  readonly notFound: () => Error;
}

/** Neutron's order for an act on an existing object: 404 when the caller may not see it, then its rules (403). */
export async function authorizeOn(caller: CallerPolicy, a: ActOn): Promise<void> {
  let existing: Target | undefined;
  const built = async (): Promise<Target> => (existing ??= await a.existing());
  const visible = caller.decide(a.getRule);
  if (visible === false || (visible !== true && !visible(await built()))) throw a.notFound();
  await authorizeAll(caller, a.rules, async () => (a.acted === undefined ? built() : a.acted(await built())));
}

/** Removes from a view the attributes the caller may not see. */
export type AttributeFilter = (view: Record<string, unknown>, target: Target) => void;

/** Each caller's filters per resource (a caller belongs to one policy version, so they never go stale). */
const filters = new WeakMap<CallerPolicy, Map<string, AttributeFilter | undefined>>();

/**
 * What a caller may see of records: `get_<resource>:<attr>` rules that refuse remove the
 * attribute (Neutron's member views omit `binding:*` and `provider:*` this way).
 */
export function attributeFilter(caller: CallerPolicy, resource: string): AttributeFilter | undefined {
  const policy = caller.policy;
  let byResource = filters.get(caller);
  if (byResource === undefined) filters.set(caller, (byResource = new Map<string, AttributeFilter | undefined>()));
  if (byResource.has(resource)) return byResource.get(resource);
  const prefix = `get_${resource}:`;
  const hide: string[] = [];
  const test: [string, (t: Target) => boolean][] = [];
  for (const rule of policy.rulesStartingWith(prefix)) {
    const d = caller.decide(rule);
    const attr = rule.slice(prefix.length);
    if (d === false) hide.push(attr);
    else if (d !== true) test.push([attr, d]);
  }
  const filter: AttributeFilter | undefined =
    hide.length === 0 && test.length === 0
      ? undefined
      : (view, target) => {
          for (const a of hide) delete view[a];
          for (const [a, f] of test) if (!f(target)) delete view[a];
        };
  byResource.set(resource, filter);
  return filter;
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
      if (isAdmin === ctx.isAdmin) return ctx;
      const decided = { ...ctx, isAdmin };
      sameCaller(ctx, decided);
      return decided;
    },
  };
}
