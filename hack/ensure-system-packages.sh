#!/usr/bin/env bash
# Installs what dbwatch's tests and demo need from Debian when missing: the PostgreSQL server, openssl,
# Prometheus (promtool tests the alert rules; the server scrapes the operator in test/integration/observability)
# and Alertmanager (amtool checks the routing examples; the server notifies a webhook in those tests).
# Node.js 20 and Go come with the machine image.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The real migration tools of test/integration/migrations (hack/install-migration-tools.sh): Flyway and
# Liquibase run on a JDK and come through Maven; ActiveRecord is Debian's.
command -v java >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
ruby -e 'require "active_record"; require "pg"' >/dev/null 2>&1 || missing+=(ruby-activerecord ruby-pg)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
# `e2e`: also what the real node and the image build need (npm run test:e2e, demo:cluster; docs/e2e.md).
if [ "${1:-}" = e2e ]; then
  for pair in containerd:containerd runc:runc ctr:containerd nft:nftables iptables:iptables conntrack:conntrack \
    mmdebstrap:mmdebstrap umoci:umoci gcc:gcc; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  # gcc only recommends libc6-dev, and the pause image is linked with -static.
  ls /usr/lib/*/libc.a >/dev/null 2>&1 || missing+=(libc6-dev)
  [ ${#missing[@]} -eq 0 ] || mapfile -t missing < <(printf "%s\n" "${missing[@]}" | sort -u)
fi
{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || missing+=(prometheus)
# A real PgBouncer in front of the test PostgreSQL (test/support/pgbouncer.ts), in every pooling mode.
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
{ command -v amtool && command -v prometheus-alertmanager; } >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing: ${missing[*]}: install them (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing from Debian: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The tests start their own servers: keep Debian from starting a system-wide prometheus, alertmanager,
# pgbouncer (or postgresql) service.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' >"$guard" && chmod +x "$guard"
  trap 'rm -f "$guard"' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
