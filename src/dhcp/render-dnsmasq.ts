import { parseCidr, parseIp, type ParsedCidr } from '../model/index.js';
import { DhcpRenderError } from './errors.js';
import { dnsmasqArgsKey } from './dnsmasq-args-key.js';
import { dnsmasqPaths, type DnsmasqPaths } from './dnsmasq-paths.js';

/** One local VM interface (a WorkloadEndpoint of this host), as the renderer needs it. */
export interface DhcpEndpoint {
  /** The host end of the VM's interface, e.g. `tapDEADBEEF-12`. */
  readonly tap: string;
  /** The VM's MAC (the WorkloadEndpoint's `mac`). */
  readonly mac: string;
  /** Fixed IPs, plain (no prefix): `ipNetworks` minus `allowedIps`. */
  readonly ips: readonly string[];
  /** The Neutron network id (annotation `openstack.projectcalico.org/network-id`). */
  readonly networkId: string;
  /** Host name handed out; else the first label of `fqdn`; else `host-<ip with - for . and :>`. */
  readonly hostname?: string;
  readonly fqdn?: string;
  /** The network's MTU as seen on the tap (Nova sets it), handed out as DHCP option 26. */
  readonly mtu?: number;
}

export interface DhcpHostRoute {
  readonly destination: string;
  readonly nexthop: string;
}

/** One DHCP subnet record (`/calico/dhcp/v2/<region>/subnet/<id>`), keyed by its id. */
export interface DhcpSubnetInput {
  readonly id: string;
  readonly networkId: string;
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly dnsServers: readonly string[];
  readonly hostRoutes: readonly DhcpHostRoute[];
  readonly ipv6RaMode?: string;
  readonly ipv6AddressMode?: string;
}

export interface DnsmasqRenderInput {
  /** This compute host (named in the files' header only). */
  readonly hostname: string;
  /** Workload interface prefix, `tap`: dnsmasq listens on `<prefix>*` and nothing else of the VMs'. */
  readonly interfacePrefix: string;
  /** The interface holding the subnets' gateway addresses (`ns-dhcp`). */
  readonly gatewayIface: string;
  readonly endpoints: readonly DhcpEndpoint[];
  readonly subnets: readonly DhcpSubnetInput[];
  readonly leaseSeconds: number;
  /** DNS domain (option 15 / DHCPv6 domain list); none if absent. */
  readonly domain?: string;
  /** DNS servers for subnets that name none (each family gets its own). */
  readonly defaultDnsServers: readonly string[];
  readonly paths: { readonly dir: string };
}

export interface RenderedDnsmasq {
  /** dnsmasq's arguments (without the binary), in a stable order. */
  readonly args: readonly string[];
  /** `--dhcp-hostsfile` and `--dhcp-optsfile` contents: re-read by dnsmasq on SIGHUP. */
  readonly files: { readonly hosts: string; readonly opts: string };
  /** `address/prefix` of each served subnet's gateway, for the gateway interface. */
  readonly gatewayAddresses: readonly string[];
  /** Digest of `args`: dnsmasq must be restarted exactly when it changes. */
  readonly argsKey: string;
  readonly paths: DnsmasqPaths;
}

type V6Mode = 'slaac' | 'stateless' | 'stateful';

interface Served {
  readonly input: DhcpSubnetInput;
  readonly cidr: ParsedCidr;
  readonly gateway: string;
  readonly tag: string;
  readonly v6Mode: V6Mode | undefined;
}

/** dnsmasq splits its option values at commas and whitespace; ids and names must have neither. */
const SAFE_TOKEN = /^[A-Za-z0-9_.:-]+$/;
const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function token(what: string, value: string): string {
  if (!SAFE_TOKEN.test(value)) throw new DhcpRenderError(`${what} ${JSON.stringify(value)} has characters dnsmasq cannot take`);
  return value;
}

function ip(what: string, value: string): string {
  const p = parseIp(value);
  if (p === undefined) throw new DhcpRenderError(`${what} ${JSON.stringify(value)} is not an IP address`);
  return p.address;
}

function familyOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

function contains(cidr: ParsedCidr, address: string): boolean {
  return familyOf(address) === cidr.family && parseCidr(`${address}/${cidr.prefixLength}`)?.network === cidr.network;
}

function netmask(prefixLength: number): string {
  const bits = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return [24, 16, 8, 0].map((s) => String((bits >>> s) & 0xff)).join('.');
}

/** Calico's rule, extended with stateless: slaac only when both modes say so. */
function v6ModeOf(s: DhcpSubnetInput): V6Mode {
  if (s.ipv6RaMode === 'slaac' && s.ipv6AddressMode === 'slaac') return 'slaac';
  if (s.ipv6RaMode === 'dhcpv6-stateless' || s.ipv6AddressMode === 'dhcpv6-stateless') return 'stateless';
  return 'stateful';
}

function hostnameOf(e: DhcpEndpoint, address: string): string {
  const name = e.hostname ?? e.fqdn?.split('.')[0] ?? `host-${address.replaceAll(/[.:]/g, '-')}`;
  if (!HOST_LABEL.test(name)) throw new DhcpRenderError(`host name ${JSON.stringify(name)} of ${e.tap} is not a DNS label`);
  return name;
}

/**
 * Which subnets this host serves: those with a gateway (it is the address dnsmasq serves the
 * subnet from) on a network with at least one local endpoint, and for SLAAC a /64.
 */
function servedSubnets(input: DnsmasqRenderInput): Served[] {
  const localNetworks = new Set(input.endpoints.map((e) => e.networkId));
  const out: Served[] = [];
  for (const s of [...input.subnets].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (!localNetworks.has(s.networkId) || s.gatewayIp === null) continue;
    const cidr = parseCidr(s.cidr);
    if (cidr === undefined) throw new DhcpRenderError(`subnet ${s.id} has an invalid CIDR ${JSON.stringify(s.cidr)}`);
    const gateway = ip(`gateway of subnet ${s.id}`, s.gatewayIp);
    if (!contains(cidr, gateway)) throw new DhcpRenderError(`gateway ${gateway} of subnet ${s.id} is outside ${s.cidr}`);
    const v6Mode = cidr.family === 6 ? v6ModeOf(s) : undefined;
    if (v6Mode === 'slaac' && cidr.prefixLength !== 64) continue;
    out.push({ input: s, cidr, gateway, tag: `subnet-${token('subnet id', s.id)}`, v6Mode });
  }
  return out;
}

function rangeArg(s: Served, lease: string): string {
  const { network, prefixLength } = s.cidr;
  if (s.cidr.family === 4) return `--dhcp-range=set:${s.tag},${network},static,${netmask(prefixLength)},${lease}`;
  const mode = s.v6Mode === 'slaac' ? 'slaac,ra-only' : s.v6Mode === 'stateless' ? 'ra-stateless' : 'static';
  // off-link: the VM sends everything to its router (the tap), as it does for IPv4 via proxy ARP.
  return `--dhcp-range=set:${s.tag},${network},${mode},off-link,${prefixLength},${lease}`;
}

function hostsFile(input: DnsmasqRenderInput, served: readonly Served[]): string {
  const lines: string[] = [];
  for (const e of [...input.endpoints].sort((a, b) => (a.tap < b.tap ? -1 : a.tap > b.tap ? 1 : 0))) {
    const mac = e.mac.toLowerCase();
    if (!MAC.test(mac)) throw new DhcpRenderError(`MAC ${JSON.stringify(e.mac)} of ${e.tap} is not a MAC address`);
    for (const raw of e.ips) {
      const address = ip(`address of ${e.tap}`, raw);
      const s = served.find((x) => x.input.networkId === e.networkId && contains(x.cidr, address));
      // Addresses outside a served subnet, and SLAAC/stateless ones (the VM makes them), get no entry.
      if (s === undefined || (s.v6Mode !== undefined && s.v6Mode !== 'stateful')) continue;
      // No `set:<tag>` here: dnsmasq 2.90 crashes on the first DHCP packet after a SIGHUP
      // re-read of a hosts file whose lines set tags (see DESIGN.md).
      lines.push(`${mac},${hostnameOf(e, address)},${s.cidr.family === 4 ? address : `[${address}]`}`);
    }
  }
  return lines.join('\n') + (lines.length > 0 ? '\n' : '');
}

function optsFile(input: DnsmasqRenderInput, served: readonly Served[]): string {
  const lines: string[] = [];
  const mtus = new Map<string, number>();
  for (const e of input.endpoints) {
    if (e.mtu === undefined) continue;
    if (!Number.isInteger(e.mtu) || e.mtu < 576 || e.mtu > 65535) throw new DhcpRenderError(`MTU ${e.mtu} of ${e.tap} is out of range`);
    mtus.set(e.networkId, Math.min(mtus.get(e.networkId) ?? e.mtu, e.mtu));
  }
  for (const s of served) {
    const family = s.cidr.family;
    const own = s.input.dnsServers.map((d) => ip(`DNS server of subnet ${s.input.id}`, d)).filter((d) => familyOf(d) === family);
    const dns = own.length > 0 ? own : input.defaultDnsServers.map((d) => ip('default DNS server', d)).filter((d) => familyOf(d) === family);
    const t = `tag:${s.tag}`;
    if (family === 4) {
      lines.push(`${t},option:router,${s.gateway}`);
      if (dns.length > 0) lines.push(`${t},option:dns-server,${dns.join(',')}`);
      const routes = s.input.hostRoutes.map((r) => {
        const dest = parseCidr(r.destination);
        if (dest?.family !== 4) throw new DhcpRenderError(`host route ${JSON.stringify(r.destination)} of subnet ${s.input.id} is not an IPv4 CIDR`);
        return `${dest.network}/${dest.prefixLength},${ip(`next hop of subnet ${s.input.id}`, r.nexthop)}`;
      });
      if (routes.length > 0) {
        // A client given classless routes ignores the router option (RFC 3442): add the default.
        if (!s.input.hostRoutes.some((r) => parseCidr(r.destination)?.prefixLength === 0)) routes.push(`0.0.0.0/0,${s.gateway}`);
        lines.push(`${t},option:classless-static-route,${routes.join(',')}`);
        lines.push(`${t},249,${routes.join(',')}`);
      }
      const mtu = mtus.get(s.input.networkId);
      if (mtu !== undefined) lines.push(`${t},option:mtu,${mtu}`);
    } else if (dns.length > 0) {
      lines.push(`${t},option6:dns-server,${dns.map((d) => `[${d}]`).join(',')}`);
    }
  }
  return lines.join('\n') + (lines.length > 0 ? '\n' : '');
}

/**
 * Renders the one dnsmasq of a compute host: its command line (which changes only when the
 * served subnets, the domain or the lease time change) and the hosts and options files (which
 * change with every VM, and are re-read on SIGHUP). Pure.
 */
export function renderDnsmasq(input: DnsmasqRenderInput): RenderedDnsmasq {
  const prefix = token('interface prefix', input.interfacePrefix);
  const gw = token('gateway interface', input.gatewayIface);
  if (!Number.isInteger(input.leaseSeconds) || input.leaseSeconds < 120)
    throw new DhcpRenderError(`lease time ${input.leaseSeconds} s is below dnsmasq's minimum of 120 s`);
  const lease = `${input.leaseSeconds}s`;
  const served = servedSubnets(input);
  const paths = dnsmasqPaths(input.paths.dir);
  const args = [
    '--conf-file=/dev/null',
    '--no-hosts',
    '--no-resolv',
    '--port=0',
    '--except-interface=lo',
    '--bind-dynamic',
    `--interface=${gw}`,
    `--interface=${prefix}*`,
    `--bridge-interface=${gw},${prefix}*`,
    `--pid-file=${paths.pid}`,
    `--dhcp-hostsfile=${paths.hosts}`,
    `--dhcp-optsfile=${paths.opts}`,
    `--dhcp-leasefile=${paths.leases}`,
    `--log-facility=${paths.log}`,
    ...served.map((s) => rangeArg(s, lease)),
  ];
  if (served.some((s) => s.cidr.family === 6)) args.push('--enable-ra', `--ra-param=${gw},mtu:off,0`);
  if (input.domain !== undefined) args.push(`--domain=${token('domain', input.domain)}`);
  const header = `# dnsmasq for ${input.hostname}, written by brindle: do not edit\n`;
  return {
    args,
    files: { hosts: header + hostsFile(input, served), opts: header + optsFile(input, served) },
    gatewayAddresses: served.map((s) => `${s.gateway}/${s.cidr.prefixLength}`),
    argsKey: dnsmasqArgsKey(args),
    paths,
  };
}
