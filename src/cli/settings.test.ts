import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import type { CliIo } from './io.js';
import { addSettingsOptions, parseListen, resolveSettings } from './settings.js';

function io(files: Record<string, string> = {}): CliIo {
  return {
    out: () => {},
    err: () => {},
    readFile: (p) => (p in files ? Promise.resolve(files[p] ?? '') : Promise.reject(new Error('ENOENT'))),
    readStdin: () => Promise.resolve(''),
    hostname: () => 'machine-name',
    fileExists: (p) => p in files,
  };
}

function parse(argv: string[], scope: Parameters<typeof addSettingsOptions>[1] = {}): Record<string, unknown> {
  const cmd = addSettingsOptions(new Command('x').exitOverride(), scope);
  cmd.parse(argv, { from: 'user' });
  return cmd.opts();
}

describe('settings', () => {
  it('parses --listen as HOST:PORT, IPv6 in brackets', () => {
    assert.deepEqual(parseListen('127.0.0.1:9696'), { host: '127.0.0.1', port: 9696 });
    assert.deepEqual(parseListen('[::1]:9696'), { host: '::1', port: 9696 });
    for (const bad of ['9696', 'host:', 'host:0', 'host:70000', '::1:9696']) assert.throws(() => parseListen(bad), /must be HOST:PORT/);
  });

  it('servers get --listen with their default; per-host commands get --hostname, defaulting to the machine name', async () => {
    const server = await resolveSettings(parse([], { server: { defaultListen: '127.0.0.1:9696' } }), {}, io(), { server: { defaultListen: '127.0.0.1:9696' } });
    assert.deepEqual(server.listen, { host: '127.0.0.1', port: 9696 });
    const flagged = await resolveSettings(parse(['--listen', '0.0.0.0:19696'], { server: { defaultListen: 'x:1' } }), {}, io(), { server: { defaultListen: '127.0.0.1:9696' } });
    assert.deepEqual(flagged.listen, { host: '0.0.0.0', port: 19696 });
    const fromEnv = await resolveSettings(parse([], { perHost: true }), { BRINDLE_HOSTNAME: 'compute-7' }, io(), { perHost: true });
    assert.equal(fromEnv.hostname, 'compute-7');
    assert.equal((await resolveSettings(parse([], { perHost: true }), {}, io(), { perHost: true })).hostname, 'machine-name');
    assert.equal((await resolveSettings(parse([]), {}, io())).listen, undefined, 'no --listen for non-servers');
  });

  it('puts etcd TLS and auth settings into the datastore config, from flags, env and file', async () => {
    const files = { '/etc/brindle/brindle.yaml': 'datastore: etcd:https://127.0.0.1:2379\netcdCaFile: /ca.pem\netcdPassword: from-file\n' };
    const s = await resolveSettings(parse(['--etcd-username', 'root']), { BRINDLE_ETCD_CERT_FILE: '/c.pem', BRINDLE_ETCD_KEY_FILE: '/k.pem' }, io(files));
    assert.deepEqual(s.datastore, {
      kind: 'etcd',
      endpoints: ['https://127.0.0.1:2379'],
      caFile: '/ca.pem',
      certFile: '/c.pem',
      keyFile: '/k.pem',
      username: 'root',
      password: 'from-file',
    });
    assert.equal(s.logLevel, 'info');
  });

  it('rejects a malformed config file, naming it', async () => {
    await assert.rejects(resolveSettings(parse(['--config', 'c.yaml']), {}, io({ 'c.yaml': 'logLevel: [' })), /Invalid config file c\.yaml/);
    await assert.rejects(resolveSettings(parse(['--config', 'c.yaml']), {}, io({ 'c.yaml': 'logLevel: loud\n' })), /Invalid config file c\.yaml: logLevel/);
    await assert.rejects(resolveSettings(parse(['--config', 'missing.yaml']), {}, io()), /missing\.yaml: cannot be read/);
  });
});
