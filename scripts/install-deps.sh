#!/usr/bin/env bash
# Installs everything Brindle needs on a Debian machine, idempotently: the Debian packages
# (only those missing), then the npm packages (only when package-lock.json changed since the
# last install). Run as root on a fresh machine; later runs do nothing and take a second.
# Arguments name extra Debian packages one target needs beyond these (`make tempest`: tempest).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  etcd-server etcd-client          # the production datastore, and etcdctl for tests
  bird2                            # BGP
  nftables                         # the dataplane (nft, the default): Brindle's own table
  iptables ipset iproute2          # the iptables dataplane, and routes/links
  dnsmasq-base                     # DHCP
  python3-openstackclient          # the real `openstack` CLI the API is tested with
  keystone                         # a real Keystone (sqlite, fernet) for the API's token validation tests
  iperf3 netcat-openbsd iputils-ping  # traffic in lab tests and benchmarks
  openssl ca-certificates          # TLS test certificates
  procps                           # pgrep/pkill
  busybox                          # udhcpc: the lab's VMs ask DHCP like real guests
  conntrack                        # the agent forgets a floating IP's flows when it is disassociated
  systemd-container mmdebstrap     # deploy tests: simulated machines booted with systemd-nspawn
  openssh-client                   # brindle deploy drives machines over ssh
  dpkg-dev lintian dpkg-repack     # make package and deploy: dpkg-scanpackages, lintian; tests repack this machine's Node.js 20
  rpm                              # brindle deploy fuel-plugin --build: rpmbuild, as fpb --build
  chromium                         # the console's tests and benchmark drive its pages in headless Chromium (puppeteer-core)
  "$@"                             # what the calling target adds
)

need_node_major=20
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install-deps: Node.js ${need_node_major}+ with npm is required (it comes with this machine image)" >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < need_node_major )); then
  echo "install-deps: Node.js ${need_node_major}+ is required, found $(node --version)" >&2
  exit 1
fi

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if (( ${#missing[@]} > 0 )); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: run as root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing Debian packages: ${missing[*]}"
  # Brindle starts its own etcd, BIRD and dnsmasq instances; keep the packages' system
  # services from starting during the install (only if no policy is in place already).
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && added_policy=1
  fi
  trap '[[ $added_policy -eq 1 ]] && rm -f "$policy"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: Debian packages installed"
fi

stamp=node_modules/.brindle-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "install-deps: installing npm packages (better-sqlite3 compiles from source: about two minutes)"
  # Compile native addons against this machine's Node headers, and do not try to download
  # prebuilt binaries first (nothing outside the package registries is reachable).
  if [[ -f /usr/include/node/node.h ]]; then export npm_config_nodedir=/usr; fi
  export npm_config_build_from_source=true
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
