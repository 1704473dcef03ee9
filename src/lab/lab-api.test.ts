import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realExec, realFs } from '../lib/index.js';
import { trackNetns, trackTempDir, untrackTempDir } from '../lib/testing.js';
import { LabApiError, LabBindingError } from './errors.js';
import { bootVm, deleteVm } from './lab-api.js';
import { Lab } from './lab-topology.js';
import { listNetns } from './netns.js';
import { NeutronClient } from './neutron-client.js';
import { checkConnectivity } from './probe.js';
import { startLabTestApi, type LabTestApi } from './testing/index.js';
import { VIF } from './vif.js';

const exec = realExec();
const fs = realFs();

describe('bootVm/deleteVm: a VM driven through the real API as Nova does, plugged into the lab', () => {
  const prefix = Lab.randomPrefix();
  let stateDir: string;
  let api: LabTestApi;
  let client: NeutronClient;
  let lab: Lab;
  let networkId: string;
  let subnet4: string;
  let sg: string;

  before(async () => {
    stateDir = await fs.makeTempDir('brindle-lab-boot-');
    trackTempDir(stateDir);
    api = await startLabTestApi();
    client = new NeutronClient({ url: api.url });
    lab = await Lab.create({ exec, fs, stateDir, prefix });
    await lab.addHost('compute1');
    await lab.addHost('compute2');
    for (const n of await listNetns(exec, prefix)) trackNetns(n);
    await api.pretendAgentAlive('compute1');
    const net = await client.createNetwork({ name: 'lab' });
    networkId = net.id;
    subnet4 = (await client.createSubnet({ network_id: net.id, cidr: '198.18.20.0/24', ip_version: 4, gateway_ip: '198.18.20.1' })).id;
    await client.createSubnet({ network_id: net.id, cidr: '2001:db8:20::/64', ip_version: 6, gateway_ip: '2001:db8:20::1' });
    sg = (await client.createSecurityGroup({ name: 'lab' })).id;
  });

  after(async () => {
    if (stateDir === undefined) return;
    for (const n of await listNetns(exec, prefix)) trackNetns(n);
    await Lab.destroyByPrefix({ exec, fs, stateDir }, prefix);
    await api?.stop();
    await fs.remove(stateDir);
    untrackTempDir(stateDir);
  });

  it('creates and binds the port, then plugs the VM with its tap, MAC, addresses and gateway', async () => {
    const { vm, info, port } = await bootVm(lab, client, { host: 'compute1', name: 'web1', networkId, securityGroups: [sg] });
    for (const n of await listNetns(exec, prefix)) trackNetns(n);
    assert.deepEqual([port['binding:host_id'], port['binding:vif_type'], port.device_owner], ['compute1', 'tap', 'compute:nova']);
    assert.match(port.device_id, /^[0-9a-f-]{36}$/);
    assert.equal(info.tap, `tap${port.id.slice(0, 11)}`);
    assert.equal(info.mac, port.mac_address);
    assert.equal(port.fixed_ips.length, 2);
    const v4 = port.fixed_ips.find((f) => f.subnet_id === subnet4)!.ip_address;
    assert.deepEqual(
      info.ips.find((i) => i.ip === v4),
      { ip: v4, prefixLen: 24, gateway: '198.18.20.1' },
    );
    assert.match(await vm.ip('-o', 'link', 'show', 'dev', 'eth0'), new RegExp(`link/ether ${port.mac_address} `));
    assert.match(await vm.ip('-o', 'addr', 'show', 'dev', 'eth0'), new RegExp(`inet ${v4.replaceAll('.', '\\.')}/24`));
    assert.match(await vm.ip('route', 'show', 'default'), /default via 198\.18\.20\.1 dev eth0 onlink/);
    assert.match(await lab.host('compute1').ip('-o', 'link', 'show', 'dev', info.tap), new RegExp(VIF.tapMac));
  });

  it('a fixed IP is honoured, and two booted VMs talk once their host is programmed', async () => {
    const { info } = await bootVm(lab, client, { host: 'compute1', name: 'web2', networkId, subnetId: subnet4, fixedIp: '198.18.20.50', securityGroups: [sg] });
    for (const n of await listNetns(exec, prefix)) trackNetns(n);
    assert.deepEqual(info.ips, [{ ip: '198.18.20.50', prefixLen: 24, gateway: '198.18.20.1' }]);
    const host = lab.host('compute1');
    for (const v of lab.vms()) {
      for (const a of v.ips) await host.ip(a.ip.includes(':') ? '-6' : '-4', 'route', 'replace', a.ip, 'dev', v.tap);
      await host.must('sysctl', ['-qw', `net.ipv4.conf.${v.tap}.proxy_arp=1`, `net.ipv4.neigh.${v.tap}.proxy_delay=0`]);
    }
    assert.equal(await checkConnectivity(lab, 'web2', { ip: lab.addressOf('web1') }, 'ping'), true);
    assert.equal(await checkConnectivity(lab, 'web1', { ip: '198.18.20.50' }, 'ping'), true);
    assert.equal(await checkConnectivity(lab, 'web1', { ip: lab.addressOf('compute1', 6) }, 'ping'), true);
  });

  it('fails the boot and deletes the port when no agent runs on the host, as Nova would', async () => {
    // An address no earlier VM has (web1's was chosen at random by IPAM).
    const taken = new Set(lab.vms().flatMap((v) => v.ips.map((i) => i.ip)));
    const free = ['198.18.20.60', '198.18.20.61'].find((a) => !taken.has(a)) ?? '';
    await assert.rejects(
      bootVm(lab, client, { host: 'compute2', name: 'orphan', networkId, subnetId: subnet4, fixedIp: free, securityGroups: [sg] }),
      LabBindingError,
    );
    assert.equal(
      lab.vms().some((v) => v.name === 'orphan'),
      false,
    );
    // The address is free again: the port is gone.
    const again = await client.createPort({ network_id: networkId, fixed_ips: [{ subnet_id: subnet4, ip_address: free }] });
    await client.deletePort(again.id);
  });

  it('deleteVm removes the VM namespace, its tap and its port', async () => {
    const { portId, netns, tap } = lab.vmInfo('web2');
    await deleteVm(lab, client, 'web2');
    assert.deepEqual(await listNetns(exec, netns), []);
    assert.notEqual((await lab.host('compute1').run('ip', ['link', 'show', 'dev', tap])).code, 0);
    await assert.rejects(client.showPort(portId), (err: unknown) => err instanceof LabApiError && err.httpStatus === 404);
  });
});
