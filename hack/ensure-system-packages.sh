#!/usr/bin/env bash
# Installs what dbwatch's tests and demo need from Debian when missing: the PostgreSQL server, openssl.
# Node.js 20 and Go come with the machine image.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
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
apt-get install -y -qq "${missing[@]}" >/dev/null
