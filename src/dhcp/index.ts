// dhcp: one dnsmasq per compute host for its local VMs (DHCPv4, DHCPv6, router advertisements),
// rendered purely from the DHCP subnet records and the host's WorkloadEndpoints, run and
// supervised through its files, reloaded with SIGHUP when VMs come and go.
export { renderDnsmasq, type DnsmasqRenderInput, type DhcpEndpoint, type DhcpSubnetInput, type DhcpHostRoute, type RenderedDnsmasq } from './render-dnsmasq.js';
export { dnsmasqArgsKey } from './dnsmasq-args-key.js';
export { dnsmasqPaths, type DnsmasqPaths } from './dnsmasq-paths.js';
export { DnsmasqDaemon, type DnsmasqDaemonOptions, type DnsmasqApplyResult } from './dnsmasq-daemon.js';
export { DhcpRenderError, DhcpGatewayError, DnsmasqStartError, DnsmasqReloadError, DhcpWorkerError } from './errors.js';
export { startDhcpWorker, type DhcpWorker, type DhcpWorkerOptions } from './dhcp-worker.js';
export { dhcpWorkerDataSchema, type DhcpWorkerData } from './dhcp-worker-data.js';
export { startDhcpService, dhcpEndpointOf, dhcpSubnetOf, parseLinkLine, type DhcpService, type DhcpServiceOptions } from './dhcp-service.js';
