#!/usr/bin/env bash
# A reference Debian neutron-server 21 (Zed) for the API benchmark, set up as in
# /work/shared/reference/neutron-api.md §7: noauth, sqlite, the in-memory fake:// transport,
# ML2 flat/local with a 15-line stub mechanism driver that binds vif_type=tap, port_security.
#
# Usage:  bench/api/neutron-server.sh SCRATCH_DIR PORT
#
#   1. installs the Debian packages if any is missing (needs root; no service is started:
#      /usr/sbin/policy-rc.d exits 101 during the install);
#   2. writes neutron.conf, policy.yaml and the stub driver under SCRATCH_DIR;
#   3. builds the sqlite schema (SQLAlchemy create_all + `neutron-db-manage stamp heads`;
#      `upgrade heads` does not work on sqlite);
#   4. starts /usr/bin/neutron-server in the background (its own session), writes its PID to
#      SCRATCH_DIR/neutron-server.pid and waits until `GET /` on 127.0.0.1:PORT answers.
#
# Everything it writes is under SCRATCH_DIR; the only change outside it is what apt installs.
# Stop the server by the PID in the file (SIGTERM; its worker processes are its children).
set -euo pipefail

PACKAGES=(neutron-server neutron-plugin-ml2 python3-neutron python3-neutronclient)
PY=/usr/bin/python3   # Debian's python; the python3 on PATH may be another one without the packages

log() { printf '[neutron-server.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $# -eq 2 ]] || die "usage: $0 SCRATCH_DIR PORT"
SCRATCH=$1
PORT=$2
[[ $PORT =~ ^[0-9]+$ ]] && (( PORT > 0 && PORT < 65536 )) || die "PORT must be a TCP port number, not '$PORT'"
mkdir -p "$SCRATCH"
SCRATCH=$(cd "$SCRATCH" && pwd)

# --- 1. packages --------------------------------------------------------------------------------
# Installed, or (neutron-plugin-ml2 is a virtual package, provided by neutron-common) provided
# by an installed package.
present() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]] && return 0
  dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null \
    | awk -F'|' -v want="$1" '$1 ~ /^ii/ { n = split($2, p, /, */); for (i = 1; i <= n; i++) { sub(/ .*/, "", p[i]); if (p[i] == want) found = 1 } }
                              END { exit !found }'
}
missing=()
for p in "${PACKAGES[@]}"; do
  present "$p" || missing+=("$p")
done
if (( ${#missing[@]} > 0 )); then
  [[ $(id -u) -eq 0 ]] || die "installing ${missing[*]} needs root"
  log "installing ${missing[*]} (and dependencies) ..."
  POLICY=/usr/sbin/policy-rc.d
  saved=""
  added=0
  if [[ -e $POLICY ]]; then
    if ! grep -qx 'exit 101' "$POLICY"; then
      # A policy that may allow starts: keep it aside and put it back afterwards.
      saved=$(mktemp /usr/sbin/policy-rc.d.bench-saved.XXXXXX)
      cp -p "$POLICY" "$saved"
    fi
  else
    added=1
  fi
  restore_policy() {
    if [[ -n $saved ]]; then mv -f "$saved" "$POLICY"; saved=""; fi
    if (( added )); then rm -f "$POLICY"; added=0; fi
  }
  trap restore_policy EXIT
  if [[ $added -eq 1 || -n $saved ]]; then
    printf '#!/bin/sh\n# written by brindle bench/api/neutron-server.sh during apt-get install\nexit 101\n' >"$POLICY"
    chmod 755 "$POLICY"
  fi
  # Only refresh the package lists when apt does not know the packages yet.
  if ! apt-cache show neutron-server >/dev/null 2>&1; then apt-get update -q >&2; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >&2
  restore_policy
  trap - EXIT
  log "installed: $(dpkg-query -W neutron-server)"
fi
[[ -x /usr/bin/neutron-server ]] || die "/usr/bin/neutron-server is missing after the install"
[[ -r /etc/neutron/api-paste.ini ]] || die "/etc/neutron/api-paste.ini is missing (package neutron-common)"

# --- 2. configuration ---------------------------------------------------------------------------
PIDFILE=$SCRATCH/neutron-server.pid
if [[ -s $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  die "a neutron-server from this scratch dir is already running (pid $(cat "$PIDFILE"))"
fi
mkdir -p "$SCRATCH/state" "$SCRATCH/lock" "$SCRATCH/plugin/calicostub-0.1.dist-info"
DB=$SCRATCH/neutron.sqlite
rm -f "$DB" "$DB-journal" "$DB-wal" "$DB-shm"   # each start gets fresh state

cat >"$SCRATCH/neutron.conf" <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $PORT
auth_strategy = noauth
core_plugin = ml2
service_plugins =
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
transport_url = fake://
notify_nova_on_port_status_changes = False
notify_nova_on_port_data_changes = False
send_events_interval = 1
allow_overlapping_ips = True
state_path = $SCRATCH/state
api_paste_config = /etc/neutron/api-paste.ini
log_file = $SCRATCH/server.log
[database]
connection = sqlite:///$DB
[oslo_concurrency]
lock_path = $SCRATCH/lock
[oslo_policy]
policy_file = $SCRATCH/policy.yaml
[quotas]
# Brindle has no limits unless an operator sets them; the benchmark creates more than the
# default 500 ports.
quota_port = -1
[ml2]
type_drivers = flat,local
tenant_network_types = local
mechanism_drivers = calicostub
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
EOF
echo '{}' >"$SCRATCH/policy.yaml"   # the built-in Zed defaults

cat >"$SCRATCH/plugin/calicostub.py" <<'EOF'
# Binds like networking-calico (vif_type tap, Calico's vif_details) on flat/local segments,
# without checking for a live Felix agent.
from neutron_lib.plugins.ml2 import api
from neutron_lib import constants


class CalicoStubMechanismDriver(api.MechanismDriver):
    def initialize(self):
        pass

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            if segment[api.NETWORK_TYPE] in ('flat', 'local'):
                context.set_binding(segment[api.ID], 'tap',
                                    {'port_filter': True, 'mac_address': '00:61:fe:ed:ca:fe'},
                                    status=constants.PORT_STATUS_ACTIVE)
                return
EOF
printf 'Metadata-Version: 2.1\nName: calicostub\nVersion: 0.1\n' >"$SCRATCH/plugin/calicostub-0.1.dist-info/METADATA"
printf '[neutron.ml2.mechanism_drivers]\ncalicostub = calicostub:CalicoStubMechanismDriver\n' \
  >"$SCRATCH/plugin/calicostub-0.1.dist-info/entry_points.txt"

# --- 3. schema ----------------------------------------------------------------------------------
log "building the sqlite schema in $DB ..."
"$PY" -c "
import sys
import sqlalchemy as sa
from neutron.db.migration.models import head
head.get_metadata().create_all(sa.create_engine('sqlite:///' + sys.argv[1]))
" "$DB" >>"$SCRATCH/schema.log" 2>&1 || { tail -n 20 "$SCRATCH/schema.log" >&2; die "create_all failed (log: $SCRATCH/schema.log)"; }
"$PY" /usr/bin/neutron-db-manage --config-file "$SCRATCH/neutron.conf" stamp heads >>"$SCRATCH/schema.log" 2>&1 \
  || { tail -n 20 "$SCRATCH/schema.log" >&2; die "neutron-db-manage stamp heads failed (log: $SCRATCH/schema.log)"; }

# --- 4. start and wait --------------------------------------------------------------------------
log "starting neutron-server on 127.0.0.1:$PORT ..."
# setsid: its own session, so the caller's terminal signals and exit do not reach it; the
# caller stops it by PID. (In a script the background child is no group leader, so setsid
# does not fork and $! is neutron-server's PID.)
PYTHONPATH=$SCRATCH/plugin setsid "$PY" /usr/bin/neutron-server --config-file "$SCRATCH/neutron.conf" \
  </dev/null >>"$SCRATCH/stdout.log" 2>&1 &
pid=$!
echo "$pid" >"$PIDFILE"

deadline=$((SECONDS + 90))
until curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 30 "$SCRATCH/server.log" "$SCRATCH/stdout.log" >&2 2>/dev/null || true
    die "neutron-server (pid $pid) exited before it answered on port $PORT"
  fi
  if (( SECONDS > deadline )); then
    tail -n 30 "$SCRATCH/server.log" >&2 2>/dev/null || true
    die "neutron-server (pid $pid) did not answer GET / on port $PORT within 90 s (still running; pid in $PIDFILE)"
  fi
  sleep 0.5
done
log "neutron-server $(dpkg-query -W -f='${Version}' neutron-server) up: pid $pid, http://127.0.0.1:$PORT, logs in $SCRATCH"
echo "$pid"
