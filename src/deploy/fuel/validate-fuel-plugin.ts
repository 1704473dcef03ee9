// The checks `fpb --check` makes on a package_version 2.0.0 plugin (reference fuel-plugin.md
// §2.2–2.5: the metadata, tasks and environment_config schemas, each task type's parameters,
// the releases' paths, Fuel ≥ 6.1), plus Nailgun's own check that each attribute's value
// matches its regex. Errors read as fpb's: File '<path>', <message>, value path 'a -> b'.
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const str = z.string();
const strings = z.array(str);

const metadataSchema = z.object({
  name: str.regex(/^[a-z0-9_-]+$/, "does not match '^[a-z0-9_-]+$'"),
  title: str,
  version: str,
  package_version: z.enum(['2.0.0']),
  description: str,
  fuel_version: strings,
  licenses: strings,
  authors: strings,
  homepage: str,
  groups: z
    .array(z.enum(['network', 'storage', 'storage::cinder', 'storage::glance', 'hypervisor', 'monitoring']))
    .refine((g) => new Set(g).size === g.length, 'has non-unique elements'),
  releases: z.array(
    z.object({
      version: str,
      os: z.enum(['ubuntu', 'centos']),
      mode: z.array(z.enum(['ha', 'multinode'])),
      deployment_scripts_path: str.optional(),
      repository_path: str.optional(),
    }),
  ),
});

const NUM = '[-+]?([0-9]+([.][0-9]+)?)';
const taskSchema = z.object({
  role: z.union([strings, z.literal('*')]),
  stage: str.regex(new RegExp(`^(post_deployment|pre_deployment)(/${NUM})?$`), 'does not match the stage pattern (post_deployment|pre_deployment)[/N]'),
  type: z.enum(['shell', 'puppet', 'reboot']),
  parameters: z.record(str, z.unknown()),
});
const timeout = z.number().int().min(0);
const parameterSchemas = {
  shell: z.object({ cmd: str, timeout }),
  puppet: z.object({ puppet_manifest: str, puppet_modules: str, timeout }),
  reboot: z.object({ timeout }),
} as const;

const restrictions = z.array(z.union([str, z.object({ condition: str, message: str.optional(), action: str.optional() }).loose(), z.record(str, str)])).min(1);
const attributeSchema = z.object({
  type: str,
  label: str,
  weight: z.number().int(),
  value: z.union([str, z.boolean()]),
  values: z.array(z.object({ data: str, label: str }).loose()).optional(),
  restrictions: restrictions.optional(),
  regex: z.object({ source: str, error: str }).optional(),
});
const metaAttributeSchema = z.object({
  label: str.optional(),
  weight: z.number().int().optional(),
  toggleable: z.boolean().optional(),
  enabled: z.boolean().optional(),
  restrictions: restrictions.optional(),
});

function issues(file: string, r: z.ZodSafeParseResult<unknown>, prefix: readonly (string | number)[] = []): string[] {
  if (r.success) return [];
  return r.error.issues.map((i) => `File '${file}', ${i.message}, value path '${[...prefix, ...i.path].join(' -> ')}'`);
}

/** fpb's StrictVersion comparison of a Fuel release with the format's basic version 6.1. */
function atLeast61(v: string): boolean {
  const [major = NaN, minor = 0] = v.split('.').map(Number);
  return major > 6 || (major === 6 && minor >= 1);
}

/**
 * Every problem with the plugin in `dir` (an empty list means valid). `read` returns a file's
 * text or undefined; `exists` says whether a path exists.
 */
export async function validateFuelPlugin(
  dir: string,
  io: { read: (path: string) => Promise<string | undefined>; exists: (path: string) => boolean },
): Promise<string[]> {
  const errors: string[] = [];
  const load = async (name: string): Promise<unknown> => {
    const path = join(dir, name);
    const text = await io.read(path);
    if (text === undefined) {
      errors.push(`File '${path}' does not exist`);
      return undefined;
    }
    try {
      return parseYaml(text) as unknown;
    } catch (err) {
      errors.push(`File '${path}', not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
      return undefined;
    }
  };
  const metaPath = join(dir, 'metadata.yaml');
  const meta = await load('metadata.yaml');
  const tasks = await load('tasks.yaml');
  const env = await load('environment_config.yaml');
  if (errors.length > 0) return errors;

  const m = metadataSchema.safeParse(meta);
  errors.push(...issues(metaPath, m));
  const tasksPath = join(dir, 'tasks.yaml');
  const t = z.array(taskSchema).safeParse(tasks);
  errors.push(...issues(tasksPath, t));
  if (t.success) {
    for (const [i, task] of t.data.entries()) errors.push(...issues(tasksPath, parameterSchemas[task.type].safeParse(task.parameters), [i, 'parameters']));
  }
  const envPath = join(dir, 'environment_config.yaml');
  const attrs = z
    .object({ attributes: z.record(str, z.unknown()).optional() })
    .nullable()
    .safeParse(env ?? null);
  errors.push(...issues(envPath, attrs));
  for (const [name, attr] of Object.entries(attrs.success ? (attrs.data?.attributes ?? {}) : {})) {
    const r = (name === 'metadata' ? metaAttributeSchema : attributeSchema).safeParse(attr);
    errors.push(...issues(envPath, r, ['attributes', name]));
    // Nailgun refuses a value its own regex does not match, as the UI would.
    if (
      r.success &&
      'regex' in r.data &&
      r.data.regex !== undefined &&
      typeof r.data.value === 'string' &&
      !new RegExp(r.data.regex.source).test(r.data.value)
    ) {
      errors.push(`File '${envPath}', ${r.data.regex.error}: '${r.data.value}', value path 'attributes -> ${name} -> value'`);
    }
  }
  if (m.success) {
    for (const [i, rel] of m.data.releases.entries()) {
      for (const key of ['deployment_scripts_path', 'repository_path'] as const) {
        const p = rel[key];
        if (p === undefined || !io.exists(join(dir, p)))
          errors.push(`File '${metaPath}', ${key} '${p ?? ''}' of release ${i} does not exist in the plugin, value path 'releases -> ${i} -> ${key}'`);
      }
    }
    for (const v of m.data.fuel_version) {
      if (!atLeast61(v)) errors.push(`Current plugin format 2.0.0 is not compatible with ${v} Fuel release. Fuel version must be 6.1 or higher.`);
    }
  }
  return errors;
}
