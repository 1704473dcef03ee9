import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, parseDatastoreSpec, ResourceClient } from '../datastore/index.js';
import { API_VERSION } from '../model/index.js';
import type { ChildHandle } from '../lib/index.js';
import { untilPasses } from '../lib/testing.js';
import { bootVm } from './lab-api.js';
import { askSourceReporter, startLabCloud, startSourceReporter, type LabCloud } from './testing/index.js';

const HOST = 'compute-1';

/**
 * Outgoing NAT as Felix does it: VMs in an IP pool with `natOutgoing` reach the outside with
 * their host's address; VMs in a pool without it keep their own. Real packets through the
 * lab's border router to the outside host, which reports the source address it saw.
 */
describe('outgoing NAT for natOutgoing IP pools (real iptables, real packets)', { timeout: 120_000 }, () => {
  let cloud: LabCloud;
  let server: ChildHandle | undefined;
  const port = 8081;

  /** What the outside host saw as the source of a TCP connection from `vm`. */
  const seenFrom = (vm: string): Promise<string> => askSourceReporter(cloud.lab.vm(vm), cloud.lab.borderInfo?.outside.ip4 ?? '', port);

  before(async () => {
    cloud = await startLabCloud({ hosts: 1, border: true });
    const { api, lab } = cloud;
    // The operator's pools: Neutron subnets are covered by IP pools only if someone makes them.
    const kv = await openDatastore(parseDatastoreSpec(cloud.datastore));
    try {
      await new ResourceClient(kv).commit([
        {
          action: 'apply',
          resource: { apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'masq' }, spec: { cidr: '198.18.90.0/24', natOutgoing: true } },
        },
        { action: 'apply', resource: { apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'routed' }, spec: { cidr: '198.18.91.0/24' } } },
      ]);
    } finally {
      await kv.close();
    }
    const net = (await api.createNetwork({ name: 'nat' })).id;
    const masq = (await api.createSubnet({ network_id: net, ip_version: 4, cidr: '198.18.90.0/24', gateway_ip: '198.18.90.1' })).id;
    const routed = (await api.createSubnet({ network_id: net, ip_version: 4, cidr: '198.18.91.0/24', gateway_ip: '198.18.91.1' })).id;
    const sg = (await api.createSecurityGroup({ name: 'nat' })).id;
    await bootVm(lab, api, { host: HOST, name: 'hidden', networkId: net, fixedIps: [{ subnet_id: masq, ip_address: '198.18.90.10' }], securityGroups: [sg] });
    await bootVm(lab, api, {
      host: HOST,
      name: 'visible',
      networkId: net,
      fixedIps: [{ subnet_id: routed, ip_address: '198.18.91.10' }],
      securityGroups: [sg],
    });
    const out = lab.borderInfo?.outside.ip4 ?? '';
    // The outside host answers every connection with the source address it saw.
    server = await startSourceReporter(lab.outside.name, out, port);
  });

  after(async () => {
    server?.kill();
    await cloud?.destroy();
  });

  it("a VM in a natOutgoing pool reaches the outside with its host's address", async () => {
    await untilPasses(async () => assert.equal(await seenFrom('hidden'), cloud.lab.hostInfo(HOST).ip4), { timeoutMs: 15_000 });
  });

  it('a VM in a pool without natOutgoing is not masqueraded: the outside sees its own address', async () => {
    await untilPasses(async () => assert.equal(await seenFrom('visible'), '198.18.91.10'), { timeoutMs: 15_000 });
  });

  it('turning natOutgoing off stops the masquerade', async () => {
    const kv = await openDatastore(parseDatastoreSpec(cloud.datastore));
    try {
      await new ResourceClient(kv).commit([
        {
          action: 'apply',
          resource: { apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'masq' }, spec: { cidr: '198.18.90.0/24', natOutgoing: false } },
        },
      ]);
    } finally {
      await kv.close();
    }
    await untilPasses(async () => assert.equal(await seenFrom('hidden'), '198.18.90.10'), { timeoutMs: 15_000 });
  });
});
