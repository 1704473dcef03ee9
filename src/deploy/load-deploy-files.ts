// Reading the inventory and settings files: YAML, validated by their schemas; the first problem
// is reported with the file and the field's path (machines.1.roles, asNumber, ...).
import { isAbsolute, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { deploySettingsSchema, type DeploySettings } from './deploy-settings.js';
import { DeployInputError } from './errors.js';
import { inventorySchema, type Inventory } from './inventory.js';
import type { EtcdTls } from './plan-deploy.js';

export interface DeployFiles {
  readonly inventory: Inventory;
  readonly settings: DeploySettings;
  /** packages.directory, resolved against the settings file's directory. */
  readonly packageDir: string | undefined;
  /** etcd.tls's PEM files, read. */
  readonly etcdTls: EtcdTls | undefined;
}

function parseFile<T>(file: string, text: string, schema: z.ZodType<T>): T {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new DeployInputError(file, `not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  const r = schema.safeParse(doc ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue === undefined || issue.path.length === 0 ? undefined : issue.path.join('.');
    throw new DeployInputError(file, issue?.message ?? 'invalid', field);
  }
  return r.data;
}

export async function loadDeployFiles(read: (path: string) => Promise<string>, inventoryFile: string, settingsFile: string): Promise<DeployFiles> {
  const text = async (file: string): Promise<string> => {
    try {
      return await read(file);
    } catch (err) {
      throw new DeployInputError(file, `cannot be read: ${(err as Error).message}`);
    }
  };
  const inventory = parseFile(inventoryFile, await text(inventoryFile), inventorySchema);
  const settings = parseFile(settingsFile, await text(settingsFile), deploySettingsSchema);
  const names = new Set(inventory.machines.map((m) => m.name));
  const retired = new Set(inventory.machines.filter((m) => m.retire).map((m) => m.name));
  for (const [i, member] of (settings.etcd.members ?? []).entries()) {
    if (!names.has(member)) throw new DeployInputError(settingsFile, `${member} is not a machine of the inventory`, `etcd.members.${i}`);
    if (retired.has(member)) throw new DeployInputError(settingsFile, `${member} is retired: take it out of the etcd members first`, `etcd.members.${i}`);
  }
  if (settings.bgp.topology === 'route-reflectors' && !inventory.machines.some((m) => m.roles.includes('route-reflector') && !m.retire)) {
    throw new DeployInputError(
      settingsFile,
      'route-reflectors needs at least one machine (not retired) with the route-reflector role in the inventory',
      'bgp.topology',
    );
  }
  const near = (p: string): string => (isAbsolute(p) ? p : resolve(dirname(settingsFile), p));
  const dir = 'directory' in settings.packages ? settings.packages.directory : undefined;
  const packageDir = dir === undefined ? undefined : near(dir);
  const tls = settings.etcd.tls;
  const pem = async (p: string, field: string): Promise<string> => {
    try {
      const t = await read(near(p));
      if (!t.includes('-----BEGIN ')) throw new Error('not a PEM file');
      return t;
    } catch (err) {
      throw new DeployInputError(settingsFile, `${near(p)}: ${(err as Error).message}`, `etcd.tls.${field}`);
    }
  };
  let etcdTls: EtcdTls | undefined;
  if (tls !== undefined) {
    const cert = await pem(tls.certFile, 'certFile');
    const key = await pem(tls.keyFile, 'keyFile');
    const client =
      tls.clientCertFile === undefined || tls.clientKeyFile === undefined
        ? { cert, key }
        : { cert: await pem(tls.clientCertFile, 'clientCertFile'), key: await pem(tls.clientKeyFile, 'clientKeyFile') };
    etcdTls = { ca: await pem(tls.caFile, 'caFile'), cert, key, client };
  }
  return { inventory, settings, packageDir, etcdTls };
}
