import { felixHostStatusKey } from '../../model/index.js';
import type { NetworkRecord, PortRecord } from '../records.js';
import type { NeutronDeps } from './neutron-deps.js';

/** What networking-calico binds with: Nova plugs a tap and sets this MAC on its host side. */
export const CALICO_VIF_DETAILS = { port_filter: true, mac_address: '00:61:fe:ed:ca:fe' } as const;

export type Binding = Pick<PortRecord, 'binding:host_id' | 'binding:vif_type' | 'binding:vif_details'>;

/**
 * Port binding as networking-calico's mechanism driver does it: `tap` with Calico's details on
 * a flat or local network when the host's agent is alive (its leased Felix status key exists),
 * `binding_failed` otherwise; no host means `unbound`.
 */
export async function bindPort(d: NeutronDeps, host: string, network: NetworkRecord, vnicType: string): Promise<Binding> {
  if (host === '') return { 'binding:host_id': '', 'binding:vif_type': 'unbound', 'binding:vif_details': {} };
  const typeOk = network['provider:network_type'] === 'flat' || network['provider:network_type'] === 'local';
  const alive = (await d.kv.get(felixHostStatusKey(d.regionString, host))) !== undefined;
  if (typeOk && alive && vnicType === 'normal') {
    return { 'binding:host_id': host, 'binding:vif_type': 'tap', 'binding:vif_details': { ...CALICO_VIF_DETAILS } };
  }
  d.logger.warn({ host, alive, networkType: network['provider:network_type'], vnicType }, 'port binding failed: no live Calico agent on the host');
  return { 'binding:host_id': host, 'binding:vif_type': 'binding_failed', 'binding:vif_details': {} };
}
