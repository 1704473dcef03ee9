#!/usr/bin/env bash
# A tour of `brindle ctl`: an embedded datastore in a temporary directory, and `brindle ctl`
# applying, listing and rejecting resources in Calico's v3 shapes. Cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."

store=$(mktemp -d /tmp/brindle-demo-XXXXXX)
trap 'rm -rf "$store"' EXIT
export BRINDLE_DATASTORE="embedded:$store"
brindle() { ./bin/brindle "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Datastore: $BRINDLE_DATASTORE (SQLite in WAL mode, shared safely by processes)"

step "brindle ctl apply -f examples/policies.yaml -f examples/openstack.yaml"
brindle ctl apply -f examples/policies.yaml -f examples/openstack.yaml

step "brindle ctl get workloadendpoints -o wide"
brindle ctl get workloadendpoints -o wide

step "brindle ctl get networkpolicies -o wide   (ossg.default.<sg> as networking-calico names them)"
brindle ctl get networkpolicies -o wide

step "brindle ctl get globalnetworkpolicy,ippools"
brindle ctl get globalnetworkpolicies -o wide
brindle ctl get ippools -o wide

step "brindle ctl get networkpolicy ossg.default.db -n openstack -o yaml"
brindle ctl get networkpolicy ossg.default.db -n openstack -o yaml

step "brindle ctl apply -f examples/invalid.yaml   (one bad document: nothing is written)"
if brindle ctl apply -f examples/invalid.yaml; then
  echo "demo: the invalid file was accepted" >&2
  exit 1
fi
if brindle ctl get ippool never-written >/dev/null 2>&1; then
  echo "demo: a document from the rejected file was written" >&2
  exit 1
fi
echo "(checked: IPPool never-written is not in the datastore)"

step "brindle ctl delete -f examples/policies.yaml"
brindle ctl delete -f examples/policies.yaml

step "Done; removing $store"
