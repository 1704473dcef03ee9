import { parse } from 'yaml';
import { z } from 'zod';
import type { Fs } from '../../lib/index.js';
import { NEUTRON_DEFAULT_RULES } from './default-rules.js';
import { PolicyError } from './policy-errors.js';
import { Policy } from './policy.js';

/** An oslo.policy file: YAML (or JSON, which YAML reads) mapping rule names to check strings. */
const policyFileSchema = z.record(z.string().min(1), z.string());

/** Parses an override file's text: a map of rule name -> check string; errors name the file. */
export function parsePolicyFile(text: string, path: string): Record<string, string> {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new PolicyError('POLICY_FILE', path, `is not YAML or JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, err);
  }
  if (raw === null || raw === undefined) return {};
  const parsed = policyFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') ?? '';
    throw new PolicyError(
      'POLICY_FILE',
      where === '' ? path : where,
      `${path}: each entry must be "rule name": "check string" (${issue?.message ?? 'invalid'})`,
    );
  }
  return parsed.data;
}

/**
 * Neutron's default rules with an operator's file over them (a rule in the file replaces the
 * default of that name; new names are added), parsed and checked as one policy.
 */
export async function loadPolicy(fs: Fs, path: string | undefined): Promise<Policy> {
  if (path === undefined) return new Policy(NEUTRON_DEFAULT_RULES);
  let text: string;
  try {
    text = await fs.readText(path);
  } catch (err) {
    throw new PolicyError('POLICY_FILE', path, `cannot be read: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  return new Policy({ ...NEUTRON_DEFAULT_RULES, ...parsePolicyFile(text, path) });
}
