import { parseIp } from '../model/index.js';
import { LabInputError } from './errors.js';
import { isLabAddress } from './vif.js';

/** One address of a VM: the port's fixed IP, its subnet's prefix length and gateway. */
export interface VmIp {
  readonly ip: string;
  readonly prefixLen: number;
  readonly gateway: string | null;
}

export interface AddVmSpec {
  readonly host: string;
  readonly name: string;
  readonly portId: string;
  readonly mac: string;
  readonly ips: readonly VmIp[];
  /** Boot like a real guest: DHCPv4 (busybox udhcpc) and SLAAC, no static address. */
  readonly dhcp?: boolean;
  /** The tap's MTU, as Nova sets the network's MTU on it. */
  readonly mtu?: number;
  /** How long a DHCP VM waits for its lease (default 20 s). */
  readonly dhcpTimeoutMs?: number;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Refuses a VM spec the lab cannot or must not build (addresses outside the lab's ranges, bad MAC). */
export function checkVmSpec(spec: AddVmSpec): void {
  if (spec.portId.length < 11) throw new LabInputError(`Port id too short for a tap name: ${spec.portId}`);
  if (!MAC_RE.test(spec.mac.toLowerCase())) throw new LabInputError(`Invalid MAC: ${spec.mac}`);
  if (spec.ips.length === 0) throw new LabInputError(`Lab VM without addresses: ${spec.name}`);
  for (const a of spec.ips) {
    const family = parseIp(a.ip)?.family;
    if (family === undefined || !isLabAddress(a.ip)) throw new LabInputError(`Address outside the lab ranges (198.18.0.0/15, 2001:db8::/32): ${a.ip}`);
    if (!Number.isInteger(a.prefixLen) || a.prefixLen < 1 || a.prefixLen > (family === 4 ? 32 : 128))
      throw new LabInputError(`Invalid prefix length for ${a.ip}: ${a.prefixLen}`);
    if (a.gateway !== null && (parseIp(a.gateway)?.family !== family || !isLabAddress(a.gateway))) {
      throw new LabInputError(`Gateway outside the lab ranges or of another family: ${a.gateway}`);
    }
  }
}
