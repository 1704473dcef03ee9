import { z } from 'zod';
import { parseCidr, parseIp } from '../../model/index.js';

/**
 * Neutron's attribute validators (neutron-lib's `type:string`, `type:uuid`, ...) as zod schemas,
 * with neutron-server's reasons: a failure reads `Invalid input for <attr>. Reason: <reason>.`
 * A schema's output is the converted value (booleans from "true", MACs lower-cased, addresses
 * canonical).
 */

/** How a value is quoted in a reason: strings in quotes, the rest as JSON. */
const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v)));

/** Issue params naming the fault Neutron raises for a value instead of InvalidInput (the issue's message is the fault's). */
export interface FaultParams {
  readonly faultType: string;
}

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const MAC = /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/;
const BOOL_WORDS: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false };
const isDict = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export const nt = {
  string: (max = 255) =>
    z
      .string({ error: (iss) => `${show(iss.input)} is not a valid string` })
      .max(max, { error: (iss) => `${show(iss.input)} exceeds maximum length of ${max}` }),

  /** Neutron's convert_to_boolean: true/false, or "true"/"false"/"1"/"0" in any case. */
  boolean: () =>
    z.preprocess(
      (x) => (typeof x === 'string' ? (BOOL_WORDS[x.toLowerCase()] ?? x) : x),
      z.boolean({ error: (iss) => `${show(iss.input)} is not a valid boolean value` }),
    ),

  uuid: () => z.string({ error: (iss) => `${show(iss.input)} is not a valid UUID` }).regex(UUID, { error: (iss) => `${show(iss.input)} is not a valid UUID` }),

  /** Keystone project ids are hex, but noauth clouds use names: any short string. */
  projectId: () =>
    z
      .string({ error: (iss) => `${show(iss.input)} is not a valid project id` })
      .min(1, { error: (iss) => `${show(iss.input)} is not a valid project id` })
      .max(255, { error: (iss) => `${show(iss.input)} is not a valid project id` }),

  /** An integer in [min, max]; a numeric string is converted. */
  int: (min: number, max: number) =>
    z.preprocess(
      (x) => (typeof x === 'string' && /^-?\d+$/.test(x) ? Number(x) : x),
      z
        .number({ error: (iss) => `${show(iss.input)} is not an integer` })
        .int({ error: (iss) => `${show(iss.input)} is not an integer` })
        .min(min, { error: (iss) => `${String(iss.input)} is not in range ${min} through ${max}` })
        .max(max, { error: (iss) => `${String(iss.input)} is not in range ${min} through ${max}` }),
    ),

  oneOf: <const T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { error: (iss) => `${show(iss.input)} is not in ${JSON.stringify(values)}` }),

  /** An IP address, returned in canonical form. */
  ip: () =>
    z.string({ error: (iss) => `${show(iss.input)} is not a valid IP address` }).transform((s, ctx) => {
      const p = parseIp(s);
      if (p !== undefined) return p.address;
      ctx.issues.push({ code: 'custom', input: s, message: `${show(s)} is not a valid IP address` });
      return z.NEVER;
    }),

  cidr: () =>
    z
      .string({ error: (iss) => `${show(iss.input)} is not a valid IP subnet` })
      .refine((s) => parseCidr(s) !== undefined, { error: (iss) => `${show(iss.input)} is not a valid IP subnet` }),

  /** A MAC address, returned lower-case with colons. */
  mac: () =>
    z
      .string({ error: (iss) => `${show(iss.input)} is not a valid MAC address` })
      .regex(MAC, { error: (iss) => `${show(iss.input)} is not a valid MAC address` })
      .transform((s) => s.toLowerCase().replaceAll('-', ':')),

  list: <T extends z.ZodType>(item: T, max = 1000) =>
    z.array(item, { error: (iss) => `${show(iss.input)} is not a list` }).max(max, { error: () => `list exceeds maximum length of ${max}` }),

  uniqueList: <T extends z.ZodType>(item: T) =>
    nt.list(item).superRefine((values, ctx) => {
      const dup = values.find((e, i) => values.indexOf(e) !== i);
      if (dup !== undefined) ctx.addIssue({ code: 'custom', message: `Duplicate items in the list: ${show(dup)}` });
    }),

  /**
   * Neutron's `type:dict` with a key spec: no other keys, the required ones present. `required`
   * names the keys that must be there; the rest are optional.
   */
  dict: <S extends Record<string, z.ZodType>, R extends keyof S & string = never>(shape: S, required: readonly R[] = []) => {
    const fields = Object.fromEntries(
      Object.entries(shape).map(([k, s]) => [
        k,
        required.includes(k as R)
          ? z
              .any()
              .refine((v) => v !== undefined, { error: `Validation of dictionary's keys failed. Expected keys: {'${k}'}` })
              .pipe(s)
          : s.optional(),
      ]),
    ) as { [K in keyof S]: K extends R ? S[K] : z.ZodOptional<S[K]> };
    return z
      .custom<Record<string, unknown>>(isDict, { error: (iss) => `${show(iss.input)} is not a dictionary` })
      .pipe(z.strictObject(fields, { error: (iss) => (iss.code === 'unrecognized_keys' ? `Unexpected keys supplied: ${iss.keys.join(', ')}` : undefined) }));
  },

  /** Neutron's `type:dict_or_nodata`: null or {} mean none (null); anything else is the dict. */
  dictOrNoData: <T extends z.ZodType>(inner: T) => z.preprocess((x) => (isDict(x) && Object.keys(x).length === 0 ? null : x), inner.nullable()),

  anyDict: () => z.custom<Record<string, unknown>>(isDict, { error: (iss) => `${show(iss.input)} is not a dictionary` }),

  /** Neutron's convert_validate_port_value for security group rules: 0-65535, else SecurityGroupInvalidPortValue. */
  sgPort: () =>
    z.preprocess(
      (x) => (typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : x),
      z.custom<number>((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 65535, {
        error: (iss) => `Invalid value for port ${typeof iss.input === 'string' || typeof iss.input === 'number' ? iss.input : show(iss.input)}`,
        params: { faultType: 'SecurityGroupInvalidPortValue' } satisfies FaultParams,
      }),
    ),
};
