// Golden tests of the pure renderer: each case's exact command line, files and gateway addresses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DhcpRenderError } from './errors.js';
import { renderDnsmasq, type DnsmasqRenderInput } from './render-dnsmasq.js';

const DIR = '/run/brindle/dhcp';

const BASE_ARGS = [
  '--conf-file=/dev/null',
  '--no-hosts',
  '--no-resolv',
  '--port=0',
  '--except-interface=lo',
  '--bind-dynamic',
  '--interface=ns-dhcp',
  '--interface=tap*',
  '--bridge-interface=ns-dhcp,tap*',
  `--pid-file=${DIR}/dnsmasq.pid`,
  `--dhcp-hostsfile=${DIR}/hosts`,
  `--dhcp-optsfile=${DIR}/opts`,
  `--dhcp-leasefile=${DIR}/leases`,
  `--log-facility=${DIR}/dnsmasq.log`,
];
const HEADER = '# dnsmasq for compute-1, written by brindle: do not edit\n';

const base: DnsmasqRenderInput = {
  hostname: 'compute-1',
  interfacePrefix: 'tap',
  gatewayIface: 'ns-dhcp',
  endpoints: [],
  subnets: [],
  leaseSeconds: 86400,
  defaultDnsServers: [],
  paths: { dir: DIR },
};

const v4 = { id: 'sub-v4', networkId: 'net-a', cidr: '198.18.1.0/24', gatewayIp: '198.18.1.1', dnsServers: [], hostRoutes: [] };

interface Case {
  readonly name: string;
  readonly input: DnsmasqRenderInput;
  readonly args: readonly string[];
  readonly hosts: string;
  readonly opts: string;
  readonly gateways: readonly string[];
}

const CASES: readonly Case[] = [
  {
    name: 'no endpoints: no subnet served, empty files',
    input: { ...base, subnets: [v4] },
    args: BASE_ARGS,
    hosts: HEADER,
    opts: HEADER,
    gateways: [],
  },
  {
    name: 'one IPv4 VM: fixed address, router, default DNS, network MTU, domain',
    input: {
      ...base,
      domain: 'brindle.test',
      defaultDnsServers: ['198.18.0.53', '2001:db8::53'],
      endpoints: [{ tap: 'tapaaaa', mac: 'FA:16:3E:00:00:01', ips: ['198.18.1.10'], networkId: 'net-a', mtu: 1450 }],
      subnets: [v4, { ...v4, id: 'sub-other', networkId: 'net-b', cidr: '198.18.9.0/24', gatewayIp: '198.18.9.1' }],
    },
    args: [...BASE_ARGS, '--dhcp-range=set:subnet-sub-v4,198.18.1.0,static,255.255.255.0,86400s', '--domain=brindle.test'],
    hosts: `${HEADER}fa:16:3e:00:00:01,host-198-18-1-10,198.18.1.10\n`,
    opts: `${HEADER}tag:subnet-sub-v4,option:router,198.18.1.1\ntag:subnet-sub-v4,option:dns-server,198.18.0.53\ntag:subnet-sub-v4,option:mtu,1450\n`,
    gateways: ['198.18.1.1/24'],
  },
  {
    name: "subnet's own DNS wins; host routes get the default route added; smallest MTU of the network; fqdn and hostname",
    input: {
      ...base,
      defaultDnsServers: ['198.18.0.53'],
      leaseSeconds: 600,
      endpoints: [
        { tap: 'tapbbbb', mac: 'fa:16:3e:00:00:02', ips: ['198.18.1.11', '198.19.0.5'], networkId: 'net-a', mtu: 1500, fqdn: 'vm-two.example.org' },
        { tap: 'tapaaaa', mac: 'fa:16:3e:00:00:01', ips: ['198.18.1.10'], networkId: 'net-a', mtu: 1400, hostname: 'vm-one' },
      ],
      subnets: [{ ...v4, dnsServers: ['198.18.2.53', '198.18.3.53'], hostRoutes: [{ destination: '198.19.0.0/16', nexthop: '198.18.1.1' }] }],
    },
    args: [...BASE_ARGS, '--dhcp-range=set:subnet-sub-v4,198.18.1.0,static,255.255.255.0,600s'],
    hosts: `${HEADER}fa:16:3e:00:00:01,vm-one,198.18.1.10\nfa:16:3e:00:00:02,vm-two,198.18.1.11\n`,
    opts:
      `${HEADER}tag:subnet-sub-v4,option:router,198.18.1.1\n` +
      'tag:subnet-sub-v4,option:dns-server,198.18.2.53,198.18.3.53\n' +
      'tag:subnet-sub-v4,option:classless-static-route,198.19.0.0/16,198.18.1.1,0.0.0.0/0,198.18.1.1\n' +
      'tag:subnet-sub-v4,249,198.19.0.0/16,198.18.1.1,0.0.0.0/0,198.18.1.1\n' +
      'tag:subnet-sub-v4,option:mtu,1400\n',
    gateways: ['198.18.1.1/24'],
  },
  {
    name: 'IPv6: SLAAC (RA only, no host entry), stateless, stateful (host entry); SLAAC wider than /64 skipped; subnet without gateway skipped',
    input: {
      ...base,
      defaultDnsServers: ['2001:db8::53'],
      endpoints: [{ tap: 'tapcccc', mac: 'fa:16:3e:00:00:03', ips: ['2001:db8:1::10', '2001:db8:2::10', '2001:db8:3::10'], networkId: 'net-6' }],
      subnets: [
        {
          id: 's6-slaac',
          networkId: 'net-6',
          cidr: '2001:db8:1::/64',
          gatewayIp: '2001:db8:1::1',
          dnsServers: [],
          hostRoutes: [],
          ipv6RaMode: 'slaac',
          ipv6AddressMode: 'slaac',
        },
        { id: 's6-stateful', networkId: 'net-6', cidr: '2001:db8:2::/64', gatewayIp: '2001:db8:2::1', dnsServers: ['2001:db8::35'], hostRoutes: [] },
        {
          id: 's6-stateless',
          networkId: 'net-6',
          cidr: '2001:db8:3::/64',
          gatewayIp: '2001:db8:3::1',
          dnsServers: [],
          hostRoutes: [],
          ipv6RaMode: 'dhcpv6-stateless',
          ipv6AddressMode: 'dhcpv6-stateless',
        },
        {
          id: 's6-wide',
          networkId: 'net-6',
          cidr: '2001:db8:100::/56',
          gatewayIp: '2001:db8:100::1',
          dnsServers: [],
          hostRoutes: [],
          ipv6RaMode: 'slaac',
          ipv6AddressMode: 'slaac',
        },
        { id: 's6-nogw', networkId: 'net-6', cidr: '2001:db8:4::/64', gatewayIp: null, dnsServers: [], hostRoutes: [] },
      ],
    },
    args: [
      ...BASE_ARGS,
      '--dhcp-range=set:subnet-s6-slaac,2001:db8:1::,slaac,ra-only,off-link,64,86400s',
      '--dhcp-range=set:subnet-s6-stateful,2001:db8:2::,static,off-link,64,86400s',
      '--dhcp-range=set:subnet-s6-stateless,2001:db8:3::,ra-stateless,off-link,64,86400s',
      '--enable-ra',
      '--ra-param=ns-dhcp,mtu:off,0',
    ],
    hosts: `${HEADER}fa:16:3e:00:00:03,host-2001-db8-2--10,[2001:db8:2::10]\n`,
    opts:
      `${HEADER}tag:subnet-s6-slaac,option6:dns-server,[2001:db8::53]\n` +
      'tag:subnet-s6-stateful,option6:dns-server,[2001:db8::35]\n' +
      'tag:subnet-s6-stateless,option6:dns-server,[2001:db8::53]\n',
    gateways: ['2001:db8:1::1/64', '2001:db8:2::1/64', '2001:db8:3::1/64'],
  },
];

describe('renderDnsmasq (golden)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const r = renderDnsmasq(c.input);
      assert.deepEqual(r.args, c.args);
      assert.equal(r.files.hosts, c.hosts);
      assert.equal(r.files.opts, c.opts);
      assert.deepEqual(r.gatewayAddresses, c.gateways);
    });
  }
});

describe('renderDnsmasq argsKey', () => {
  const one = { tap: 'tapaaaa', mac: 'fa:16:3e:00:00:01', ips: ['198.18.1.10'], networkId: 'net-a' };
  const two = { tap: 'tapbbbb', mac: 'fa:16:3e:00:00:02', ips: ['198.18.1.11'], networkId: 'net-a', mtu: 1400 };
  const key = (i: Partial<DnsmasqRenderInput>): string => renderDnsmasq({ ...base, subnets: [v4], ...i }).argsKey;

  it('a VM added or removed on a served network changes the files, not the command line', () => {
    assert.equal(key({ endpoints: [one] }), key({ endpoints: [one, two] }));
    assert.notEqual(
      renderDnsmasq({ ...base, subnets: [v4], endpoints: [one] }).files.hosts,
      renderDnsmasq({ ...base, subnets: [v4], endpoints: [one, two] }).files.hosts,
    );
  });

  it('a changed subnet, domain or lease time changes it (a restart)', () => {
    const k = key({ endpoints: [one] });
    assert.notEqual(k, key({ endpoints: [one], subnets: [{ ...v4, cidr: '198.18.0.0/23' }] }));
    assert.notEqual(k, key({ endpoints: [one], domain: 'x.test' }));
    assert.notEqual(k, key({ endpoints: [one], leaseSeconds: 3600 }));
    assert.equal(k, key({ endpoints: [one], subnets: [{ ...v4, dnsServers: ['198.18.0.9'] }] }), 'DNS servers live in the opts file');
  });
});

describe('renderDnsmasq rejects what dnsmasq would misread', () => {
  const bad: readonly [string, Partial<DnsmasqRenderInput>][] = [
    ['a comma in a subnet id', { subnets: [{ ...v4, id: 'a,b' }], endpoints: [{ tap: 'tapa', mac: 'fa:16:3e:00:00:01', ips: [], networkId: 'net-a' }] }],
    ['a bad MAC', { subnets: [v4], endpoints: [{ tap: 'tapa', mac: 'fa:16:3e', ips: ['198.18.1.2'], networkId: 'net-a' }] }],
    [
      'a host name with a space',
      { subnets: [v4], endpoints: [{ tap: 'tapa', mac: 'fa:16:3e:00:00:01', ips: ['198.18.1.2'], networkId: 'net-a', hostname: 'a b' }] },
    ],
    [
      'a gateway outside its subnet',
      { subnets: [{ ...v4, gatewayIp: '198.18.2.1' }], endpoints: [{ tap: 'tapa', mac: 'fa:16:3e:00:00:01', ips: [], networkId: 'net-a' }] },
    ],
    ['a lease below 120 s', { leaseSeconds: 60 }],
  ];
  for (const [what, patch] of bad) {
    it(what, () => assert.throws(() => renderDnsmasq({ ...base, ...patch }), DhcpRenderError));
  }
});
