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
    const flagged = await resolveSettings(parse(['--listen', '0.0.0.0:19696'], { server: { defaultListen: 'x:1' } }), {}, io(), {
      server: { defaultListen: '127.0.0.1:9696' },
    });
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

  it('takes the etcd call deadline and watch keepalive in seconds, from flags, env or file (numbers too)', async () => {
    const files = { '/etc/brindle/brindle.yaml': 'datastore: etcd:http://10.0.0.1:2379,http://10.0.0.2:2379\netcdKeepalive: 2.5\n' };
    const s = await resolveSettings(parse(['--etcd-timeout', '3']), {}, io(files));
    assert.deepEqual(s.datastore, { kind: 'etcd', endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'], callTimeoutMs: 3_000, watchKeepaliveMs: 2_500 });
    const env = await resolveSettings(parse([]), { BRINDLE_DATASTORE: 'etcd:http://10.0.0.1:2379', BRINDLE_ETCD_TIMEOUT: '0.5' }, io());
    assert.equal(env.datastore.kind === 'etcd' ? env.datastore.callTimeoutMs : undefined, 500);
    for (const bad of ['0', '-1', 'soon', '']) {
      await assert.rejects(
        resolveSettings(parse(['--etcd-timeout', bad, '--datastore', 'etcd:http://10.0.0.1:2379']), {}, io()),
        /--etcd-timeout .* must be a number of seconds/,
      );
    }
  });

  it('takes the Keystone service user from flags, env and file, with defaults for the rest', async () => {
    const scope = { keystone: true };
    const files = { 'c.yaml': 'keystoneUrl: http://ks:5000/v3\nkeystonePassword: from-file\nkeystoneCacheSeconds: 60\n' };
    const s = await resolveSettings(
      parse(['--config', 'c.yaml', '--keystone-username', 'neutron'], scope),
      { BRINDLE_KEYSTONE_PASSWORD: 'from-env' },
      io(files),
      scope,
    );
    assert.deepEqual(s.keystone, {
      url: 'http://ks:5000/v3',
      username: 'neutron',
      password: 'from-env',
      project: 'service',
      userDomain: 'Default',
      projectDomain: 'Default',
      cacheSeconds: 60,
    });
    assert.equal((await resolveSettings(parse([]), {}, io())).keystone, undefined, 'only commands that validate tokens have them');
    await assert.rejects(resolveSettings(parse(['--keystone-cache-seconds', 'soon'], scope), {}, io(), scope), /--keystone-cache-seconds "soon"/);
  });

  it('rejects a malformed config file, naming it', async () => {
    await assert.rejects(resolveSettings(parse(['--config', 'c.yaml']), {}, io({ 'c.yaml': 'logLevel: [' })), /Invalid config file c\.yaml/);
    await assert.rejects(resolveSettings(parse(['--config', 'c.yaml']), {}, io({ 'c.yaml': 'logLevel: loud\n' })), /Invalid config file c\.yaml: logLevel/);
    await assert.rejects(resolveSettings(parse(['--config', 'missing.yaml']), {}, io()), /missing\.yaml: cannot be read/);
  });
});
