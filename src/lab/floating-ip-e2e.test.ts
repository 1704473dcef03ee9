import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildHandle } from '../lib/index.js';
import { untilPasses } from '../lib/testing.js';
import { addFloatingIp, setUpExternalNetwork } from './floating-ips.js';
import { bootVm, deleteVm } from './lab-api.js';
import type { Netns } from './netns.js';
import { askSourceReporter, rulesetText, startLabCloud, startSourceReporter, type LabCloud } from './testing/index.js';

const PORT = 8080;

/**
 * Floating IPs end to end, as networking-calico does them: the API puts the mapping in the
 * endpoint's ipNATs, the VM's host DNATs and routes the /32 to the tap, BGP carries it to the
 * other hosts and the border. Real packets from the outside host, through the border.
 */
describe('floating IPs (real iptables NAT, real BIRD, real packets from outside)', { timeout: 180_000 }, () => {
  let cloud: LabCloud;
  let server: ChildHandle | undefined;
  let fip = { id: '', address: '' };
  const fixed = '198.18.70.10';

  /** What the VM's server saw as the source of a TCP connection from the outside host to `address`, or NOTHING. */
  const fromOutside = (address: string): Promise<string> => askSourceReporter(cloud.lab.outside, address, PORT);
  const pings = async (address: string): Promise<boolean> => (await cloud.lab.outside.run('ping', ['-c', '1', '-W', '1', '-n', address])).code === 0;
  const routeOn = async (ns: Netns, address: string): Promise<string> => (await ns.must('ip', ['-4', 'route', 'show', `${address}/32`])).trim();
  const border = (): Netns => cloud.lab.border;

  before(async () => {
    cloud = await startLabCloud({ hosts: 2, border: true });
    const { api, lab } = cloud;
    const net = (await api.createNetwork({ name: 'tenant' })).id;
    const subnet = (await api.createSubnet({ network_id: net, ip_version: 4, cidr: '198.18.70.0/24', gateway_ip: '198.18.70.1' })).id;
    const { externalNetworkId } = await setUpExternalNetwork(api, [subnet]);
    await lab.setCloud({ api: cloud.cluster.apiUrl, datastore: cloud.datastore, networkId: net, subnetIds: [subnet], externalNetworkId });
    const sg = (await api.createSecurityGroup({ name: 'web' })).id;
    await api.createSecurityGroupRule({
      security_group_id: sg,
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: PORT,
      port_range_max: PORT,
      remote_ip_prefix: '0.0.0.0/0',
    });
    await api.createSecurityGroupRule({ security_group_id: sg, direction: 'ingress', protocol: 'icmp', remote_ip_prefix: '0.0.0.0/0' });
    await bootVm(lab, api, { host: 'compute-1', name: 'web', networkId: net, fixedIps: [{ subnet_id: subnet, ip_address: fixed }], securityGroups: [sg] });
    // The VM answers every connection with the source address it saw.
    server = await startSourceReporter(lab.vmInfo('web').netns, fixed, PORT);
  });

  after(async () => {
    server?.kill();
    await cloud?.destroy();
  });

  it('lab fip add: the floating /32 is routed to the tap on the VM’s host and learned by the other host and the border over BGP', async () => {
    fip = await addFloatingIp(cloud.lab, cloud.api, 'web');
    assert.match(fip.address, /^198\.18\.224\.\d+$/);
    const tap = cloud.lab.vmInfo('web').tap;
    await untilPasses(
      async () =>
        assert.match(await routeOn(cloud.lab.host('compute-1'), fip.address), new RegExp(`^${fip.address.replaceAll('.', '\\.')} dev ${tap} scope link`)),
      { timeoutMs: 15_000 },
    );
    const host1 = cloud.lab.hostInfo('compute-1').ip4;
    await untilPasses(
      async () => assert.match(await routeOn(cloud.lab.host('compute-2'), fip.address), new RegExp(`via ${host1.replaceAll('.', '\\.')} .*proto bird`)),
      { timeoutMs: 15_000 },
    );
    await untilPasses(async () => assert.match(await routeOn(border(), fip.address), new RegExp(`via ${host1.replaceAll('.', '\\.')}`)), { timeoutMs: 15_000 });
  });

  it('the outside host reaches the VM by its floating IP (TCP and ping); the VM sees the outside host’s real address', async () => {
    const outside = cloud.lab.borderInfo?.outside.ip4 ?? '';
    await untilPasses(async () => assert.equal(await fromOutside(fip.address), outside), { timeoutMs: 15_000 });
    assert.equal(await pings(fip.address), true);
  });

  it('disassociating stops it at once: no route anywhere, no NAT, no tracked flow left on the VM’s host', async () => {
    const vmHost = cloud.lab.host('compute-1');
    assert.ok((await vmHost.must('conntrack', ['-L', '--orig-dst', fip.address])).includes(`dst=${fip.address}`), 'the flows of the previous test are tracked');
    assert.match(
      (await rulesetText(vmHost)).join('\n'),
      new RegExp(fip.address.replaceAll('.', '\\.')),
      'the NAT rules name the floating IP while it is associated',
    );
    await cloud.api.updateFloatingIp(fip.id, { port_id: null });
    await untilPasses(
      async () => {
        assert.equal(await routeOn(vmHost, fip.address), '');
        assert.equal(await routeOn(cloud.lab.host('compute-2'), fip.address), '');
        assert.equal(await routeOn(border(), fip.address), '');
      },
      { timeoutMs: 10_000 },
    );
    assert.doesNotMatch((await rulesetText(vmHost)).join('\n'), new RegExp(fip.address.replaceAll('.', '\\.')));
    await untilPasses(
      async () => assert.doesNotMatch((await vmHost.run('conntrack', ['-L', '--orig-dst', fip.address])).stdout, new RegExp(`dst=${fip.address}`)),
      { timeoutMs: 5_000 },
    );
    assert.equal(await fromOutside(fip.address), 'NOTHING');
    assert.equal(await pings(fip.address), false);
  });

  it('re-associating restores it; deleting the VM keeps the floating IP, disassociated', async () => {
    await cloud.api.updateFloatingIp(fip.id, { port_id: cloud.lab.vmInfo('web').portId });
    const outside = cloud.lab.borderInfo?.outside.ip4 ?? '';
    await untilPasses(async () => assert.equal(await fromOutside(fip.address), outside), { timeoutMs: 15_000 });
    await deleteVm(cloud.lab, cloud.api, 'web');
    const [left] = await cloud.api.listFloatingIps();
    assert.equal(left?.id, fip.id);
    assert.equal(left?.port_id, null);
    await untilPasses(async () => assert.equal(await routeOn(border(), fip.address), ''), { timeoutMs: 10_000 });
  });
});
