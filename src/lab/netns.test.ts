import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { realExec, realFs } from '../lib/index.js';
import { LabCommandError } from './errors.js';
import { connectVeth, createNetns, deleteNetns, listNetns, type Netns } from './netns.js';

const deps = { exec: realExec(), fs: realFs() };

describe('lab namespaces and veths (real ip netns, real packets)', () => {
  const prefix = `brl-t${randomBytes(3).toString('hex')}-`;
  let a: Netns;
  let b: Netns;
  before(async () => {
    a = await createNetns(deps, `${prefix}a`);
    b = await createNetns(deps, `${prefix}b`);
  });
  after(async () => {
    for (const n of await listNetns(deps.exec, prefix)) await deleteNetns(deps, n);
  });

  it('namespaces exist with loopback up and their own resolv.conf', async () => {
    assert.deepEqual((await listNetns(deps.exec, prefix)).sort(), [`${prefix}a`, `${prefix}b`]);
    assert.match(await a.ip('-o', 'link', 'show', 'lo'), /state UNKNOWN|,UP/);
    assert.match(await a.must('cat', ['/etc/resolv.conf']), /no DNS inside the lab/);
  });

  it('a veth pair carries packets between namespaces, with the MACs asked for', async () => {
    await connectVeth({ a, aName: 'tapabcdef01-23', b, bName: 'eth0' }, { aMac: '00:61:fe:ed:ca:fe', bMac: 'fa:16:3e:00:00:01', mtu: 1450 });
    const tap = await a.ip('-o', 'link', 'show', 'tapabcdef01-23');
    assert.match(tap, /link\/ether 00:61:fe:ed:ca:fe /);
    assert.match(tap, /mtu 1450 /);
    assert.match(await b.ip('-o', 'link', 'show', 'eth0'), /fa:16:3e:00:00:01/);
    await a.ip('addr', 'add', '198.18.250.1/30', 'dev', 'tapabcdef01-23');
    await b.ip('addr', 'add', '198.18.250.2/30', 'dev', 'eth0');
    const ping = await b.run('ping', ['-c', '1', '-W', '2', '198.18.250.1']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });

  it('refuses bad names and reports kernel refusals clearly', async () => {
    await assert.rejects(createNetns(deps, 'bad name'), LabCommandError);
    await assert.rejects(a.ip('link', 'set', 'no-such-dev', 'up'), /Lab command failed: ip link set no-such-dev up/);
  });

  it('deleting removes the namespace and its /etc/netns directory', async () => {
    await deleteNetns(deps, `${prefix}b`);
    assert.deepEqual(await listNetns(deps.exec, prefix), [`${prefix}a`]);
    assert.equal(deps.fs.exists(`/etc/netns/${prefix}b`), false);
  });
});
