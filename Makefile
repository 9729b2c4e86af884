# Custody: `make run` starts the server, `make test` runs every test, `make bench` measures.
SHELL := /bin/bash
# What the server builds and links against (make run), then what the tests start and use (make test).
RUN_PACKAGES := libsqlite3-dev libssl-dev zlib1g-dev libssh2-1-dev libldap-dev libmariadb-dev pkg-config openssl curl ca-certificates \
	krb5-user
TEST_PACKAGES := sqlite3 procps binutils openssh-server openssh-client sudo inetutils-telnetd inetutils-inetd python3 jq \
	slapd ldap-utils samba samba-ad-dc samba-ad-provision samba-dsdb-modules iproute2 mariadb-server mariadb-client postgresql postgresql-client rsyslog python3-pip chromium chromium-driver
BENCH_PACKAGES := wrk python3-venv
DATA_DIR ?= ./custody-data
SWIFT ?= swift

.PHONY: deps deps-run build run test bench chaos clean

# A package counts when installed, not merely known: one removed with its configuration left (or
# displaced by another, as openbsd-inetd displaces inetutils-inetd) still answers `dpkg -s`.
define install_missing
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

deps-run:
	$(call install_missing,$(RUN_PACKAGES))

deps: deps-run
	$(call install_missing,$(TEST_PACKAGES))
	@python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install -q aiosmtpd 2>/dev/null \
	  || python3 -m pip install -q --break-system-packages aiosmtpd
	@python3 -c 'import paramiko' 2>/dev/null || python3 -m pip install -q paramiko 2>/dev/null \
	  || python3 -m pip install -q --break-system-packages paramiko
	@python3 -c 'import selenium' 2>/dev/null || python3 -m pip install -q selenium 2>/dev/null \
	  || python3 -m pip install -q --break-system-packages selenium
	@python3 -c 'import openapi_spec_validator' 2>/dev/null || python3 -m pip install -q openapi-spec-validator 2>/dev/null \
	  || python3 -m pip install -q --break-system-packages openapi-spec-validator
	@python3 -c 'import schemathesis' 2>/dev/null || python3 -m pip install -q schemathesis==4.32.5 2>/dev/null \
	  || python3 -m pip install -q --break-system-packages schemathesis==4.32.5

# The agent too: a bundle made by this server carries the custody-agent found beside it.
build: deps-run
	$(SWIFT) build --product custody
	$(SWIFT) build --product custody-agent

run: build
	$$($(SWIFT) build --show-bin-path)/custody serve --data-dir $(DATA_DIR)

# Tests/run.sh bounds the run (CUSTODY_TEST_DEADLINE) and names what hung, on stderr too.
test: deps
	$(SWIFT) build --build-tests
	SWIFT=$(SWIFT) bash Tests/run.sh
	bash Tests/fuzz/api-fuzz.sh "$$($(SWIFT) build --show-bin-path)/custody"

bench: deps
	$(call install_missing,$(BENCH_PACKAGES))
	@python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install -q cryptography 2>/dev/null \
	  || python3 -m pip install -q --break-system-packages cryptography
	$(SWIFT) build -c release --product custody
	$(SWIFT) build -c release --product custody-agent
	bash bench/run.sh "$$($(SWIFT) build -c release --show-bin-path)/custody"
	bash bench/cluster.sh "$$($(SWIFT) build -c release --show-bin-path)/custody"
	bash bench/reset.sh "$$($(SWIFT) build -c release --show-bin-path)/custody"
	bash bench/shared.sh "$$($(SWIFT) build -c release --show-bin-path)/custody"
	bash bench/dirdb.sh "$$($(SWIFT) build -c release --show-bin-path)/custody"
	bash bench/integrity.sh "$$($(SWIFT) build -c release --show-bin-path)/custody"
	bash bench/lists.sh "$$($(SWIFT) build -c release --show-bin-path)/custody"
	bash bench/access.sh "$$($(SWIFT) build -c release --show-bin-path)/custody"
	bash bench/backup.sh "$$($(SWIFT) build -c release --show-bin-path)/custody"
	bash bench/agent.sh "$$($(SWIFT) build -c release --show-bin-path)/custody"
	bash bench/netdev.sh "$$($(SWIFT) build -c release --show-bin-path)/custody"
	python3 bench/chaos.py "$$($(SWIFT) build -c release --show-bin-path)/custody"
	python3 bench/logins.py "$$($(SWIFT) build -c release --show-bin-path)/custody"

# Kill -9 trials: the real server killed at random moments of a 20-account rotation, 20 times.
chaos: deps
	$(SWIFT) build -c release --product custody
	python3 bench/chaos.py "$$($(SWIFT) build -c release --show-bin-path)/custody"

clean:
	rm -rf .build
