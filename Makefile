# Brindle. `make demo` and `make test` do all set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
.DEFAULT_GOAL := help
BIN := node_modules/.bin
# What `make lint` checks the formatting of (prettier; `make format` rewrites it).
FORMATTED := "src/**/*.ts" "src/**/*.tsx" "bench/**/*.ts" "scripts/**/*.mjs" "*.js" "*.cjs"

.PHONY: help deps build lint format test demo bench bench-api bench-agent bench-bgp bench-boot bench-console tempest package clean

help:
	@echo "make demo   install what is missing, build, and run the demo"
	@echo "make test   install what is missing, build, lint, and run every test"
	@echo "make bench  run the datastore benchmark (results in bench/results/)"
	@echo "make bench-api  the API benchmark against Debian's neutron-server (installs it)"
	@echo "make bench-agent  the agent benchmark: brindle node with 5,000 endpoints vs the kernel tools (root)"
	@echo "make bench-bgp  the BGP benchmark: bound port -> reachable from another host, 5,000 routes vs BIRD alone (root)"
	@echo "make bench-boot  the boot benchmark: VM plugged -> DHCP lease and -> metadata on a host with 1,000 endpoints (root)"
	@echo "make bench-console  the console benchmark: page loads and time to update with 1,000 hosts and 50,000 VM ports (root)"
	@echo "make package  build/brindle_<version>_amd64.deb: the program, its npm packages, systemd units, /etc/brindle"
	@echo "make tempest  OpenStack's tempest.api.network against brindle api --auth keystone (installs tempest; results in bench/results/tempest.json)"

deps:
	@scripts/install-deps.sh

# A clean build each time, so no compiled file outlives its source.
build: deps
	@rm -rf dist
	@$(BIN)/tsc -p tsconfig.json
	@node scripts/build-console.mjs
	@echo "build: ok"

lint: build
	@$(BIN)/prettier --check --log-level warn $(FORMATTED)
	@$(BIN)/eslint --max-warnings 0 .
	@$(BIN)/depcruise src bench --config .dependency-cruiser.cjs
	@echo "lint: ok"

format: deps
	@$(BIN)/prettier --write --log-level warn $(FORMATTED)

test: lint
	@node scripts/run-tests.mjs
	@echo "make test: the lab's end-to-end tests again on the iptables dataplane (the first pass ran nft)"
	@BRINDLE_DATAPLANE=iptables node scripts/run-tests.mjs -e2e.test connectivity-matrix

demo: build
	@scripts/demo.sh

bench: build
	@node dist/bench/datastore/run.js

bench-api: build
	@node dist/bench/api/run.js

bench-agent: build
	@node dist/bench/agent/run.js

bench-bgp: build
	@node dist/bench/bgp/run.js

bench-boot: build
	@node dist/bench/boot/run.js

bench-console: build
	@node dist/bench/console/run.js

# Tempest is not needed by anything else: this target alone installs it.
tempest: build
	@scripts/install-deps.sh tempest
	@node dist/bench/tempest/run.js $(TEMPEST_ARGS)

package: build
	@scripts/build-deb.sh build

clean:
	rm -rf dist build
