// The dhcp module's error catalogue.
import { BrindleError } from '../lib/index.js';

/** The renderer's input cannot be written as dnsmasq configuration (a bad address, id or name). */
export class DhcpRenderError extends BrindleError {
  constructor(detail: string) {
    super('DHCP_RENDER_INVALID', `Cannot render the DHCP configuration: ${detail}`, { status: 400 });
  }
}

/** The interface holding the gateway addresses could not be created or given its addresses. */
export class DhcpGatewayError extends BrindleError {
  constructor(iface: string, detail: string, cause?: unknown) {
    super('DHCP_GATEWAY_IFACE', `Cannot set up the DHCP gateway interface ${iface}: ${detail}`, {
      status: 500,
      recoverable: true,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/** dnsmasq could not be started (or did not write its pid file in time). */
export class DnsmasqStartError extends BrindleError {
  constructor(detail: string, cause?: unknown) {
    super('DHCP_DNSMASQ_START', `dnsmasq did not start: ${detail}`, {
      status: 500,
      recoverable: true,
      hint: 'is dnsmasq (dnsmasq-base) installed, and is another DHCP server using port 67 in this namespace?',
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/** dnsmasq is running but could not be told to re-read its files (SIGHUP failed). */
export class DnsmasqReloadError extends BrindleError {
  constructor(pid: number, detail: string) {
    super('DHCP_DNSMASQ_RELOAD', `dnsmasq (pid ${pid}) could not be reloaded: ${detail}`, { status: 500, recoverable: true });
  }
}

/** The DHCP worker thread could not start its service, or died and is being restarted. */
export class DhcpWorkerError extends BrindleError {
  constructor(detail: string, cause?: unknown) {
    super('DHCP_WORKER', `The DHCP worker failed: ${detail}`, { status: 500, recoverable: true, ...(cause === undefined ? {} : { cause }) });
  }
}
