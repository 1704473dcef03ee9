#!/usr/bin/env bash
# The demo (`make demo`): a lab with one compute host running `brindle node`, `brindle api` in
# front of it, five VMs booted through the Neutron API in three security groups (one in none),
# and a matrix of real packets (ping, TCP, UDP) between every pair, checked against the policy.
# Everything it makes (namespaces, processes, temp dirs) is removed at the end, even on failure.
# Needs root (network namespaces). `scripts/demo-ctl.sh` is a tour of `brindle ctl`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./bin/brindle lab demo
