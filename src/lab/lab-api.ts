import { randomUUID } from 'node:crypto';
import { parseCidr } from '../model/index.js';
import { LabApiError, LabBindingError, LabInputError } from './errors.js';
import type { Lab, LabVm, VmIp } from './lab-topology.js';
import type { Netns } from './netns.js';
import type { NeutronClient, Port, Subnet } from './neutron-client.js';

export interface BootVmSpec {
  /** The lab host, also the host name Neutron binds to (the agent's `--hostname`). */
  readonly host: string;
  readonly name: string;
  readonly networkId: string;
  /** Take the address from this subnet (Neutron picks one from every subnet if neither is given). */
  readonly subnetId?: string;
  /** Ask for this address (in `subnetId` if given). */
  readonly fixedIp?: string;
  /** The port's fixed_ips as Neutron takes them (overrides subnetId/fixedIp), e.g. one per subnet. */
  readonly fixedIps?: readonly { readonly subnet_id?: string; readonly ip_address?: string }[];
  readonly securityGroups: readonly string[];
  readonly mac?: string;
  /**
   * Boot like a real guest: the tap gets the network's MTU (as Nova sets it), the VM asks DHCP
   * (busybox udhcpc) and takes IPv6 by SLAAC; resolves once it holds its lease.
   */
  readonly dhcp?: boolean;
  /** How long to wait for the DHCP lease (default 20 s). */
  readonly dhcpTimeoutMs?: number;
  /** Plug the VM into this host instead of the one the port is bound to (a test of misplugging). */
  readonly plugInto?: string;
}

export interface BootedVm {
  readonly vm: Netns;
  readonly info: LabVm;
  readonly port: Port;
}

/**
 * Boots a VM the way Nova does with a Calico network: create the port, bind it to the host
 * (`binding:host_id`, a new instance uuid as `device_id`, `device_owner` `compute:nova`), read
 * it back, then plug a VM namespace into the host with the port's tap name, MAC and addresses
 * (prefix length and gateway from each address's subnet). If Neutron reports `binding_failed`
 * (no live agent on the host) or plugging fails, the port is deleted again and the error
 * thrown, as Nova fails the boot.
 */
export async function bootVm(lab: Lab, client: NeutronClient, spec: BootVmSpec): Promise<BootedVm> {
  lab.hostInfo(spec.host);
  if (lab.vms().some((v) => v.name === spec.name) || lab.hosts().some((h) => h.name === spec.name)) {
    throw new LabInputError(`Lab name already used: ${spec.name}`);
  }
  const fixedIp =
    spec.fixedIps !== undefined
      ? spec.fixedIps
      : spec.fixedIp !== undefined
        ? [{ ...(spec.subnetId === undefined ? {} : { subnet_id: spec.subnetId }), ip_address: spec.fixedIp }]
        : spec.subnetId !== undefined
          ? [{ subnet_id: spec.subnetId }]
          : undefined;
  const created = await client.createPort({
    network_id: spec.networkId,
    name: spec.name,
    security_groups: spec.securityGroups,
    ...(fixedIp === undefined ? {} : { fixed_ips: fixedIp }),
    ...(spec.mac === undefined ? {} : { mac_address: spec.mac }),
  });
  try {
    const bound = await client.updatePort(created.id, { 'binding:host_id': spec.host, device_id: randomUUID(), device_owner: 'compute:nova' });
    if (bound['binding:vif_type'] === 'binding_failed') throw new LabBindingError(created.id, spec.host);
    const port = await client.showPort(created.id);
    const subnets = new Map<string, Subnet>();
    const ips: VmIp[] = [];
    for (const f of port.fixed_ips) {
      let subnet = subnets.get(f.subnet_id);
      if (subnet === undefined) {
        subnet = await client.showSubnet(f.subnet_id);
        subnets.set(f.subnet_id, subnet);
      }
      const cidr = parseCidr(subnet.cidr);
      if (cidr === undefined)
        throw new LabApiError(`GET /v2.0/subnets/${subnet.id}`, { httpStatus: 200, neutronType: 'InvalidResponse', neutronMessage: `bad cidr ${subnet.cidr}` });
      ips.push({ ip: f.ip_address, prefixLen: cidr.prefixLength, gateway: subnet.gateway_ip });
    }
    const mtu = spec.dhcp === true ? (await client.showNetwork(spec.networkId)).mtu : undefined;
    const vm = await lab.addVm({
      host: spec.plugInto ?? spec.host,
      name: spec.name,
      portId: port.id,
      mac: port.mac_address,
      ips,
      ...(spec.dhcp === true ? { dhcp: true } : {}),
      ...(spec.dhcpTimeoutMs === undefined ? {} : { dhcpTimeoutMs: spec.dhcpTimeoutMs }),
      ...(mtu === undefined ? {} : { mtu }),
    });
    return { vm, info: lab.vmInfo(spec.name), port };
  } catch (err) {
    // Best effort: the error that made the boot fail is the one to report.
    if (lab.vms().some((v) => v.name === spec.name)) await lab.removeVm(spec.name).catch(() => undefined);
    await deletePortIfThere(client, created.id).catch(() => undefined);
    throw err;
  }
}

/** Undoes `bootVm` as Nova does: unplug and remove the VM, then delete its port (gone already is fine). */
export async function deleteVm(lab: Lab, client: NeutronClient, name: string): Promise<void> {
  const { portId } = lab.vmInfo(name);
  await lab.removeVm(name);
  await deletePortIfThere(client, portId);
}

async function deletePortIfThere(client: NeutronClient, portId: string): Promise<void> {
  try {
    await client.deletePort(portId);
  } catch (err) {
    if (!(err instanceof LabApiError && err.httpStatus === 404)) throw err;
  }
}
