#!/usr/bin/env bash
# Installs what dbwatch's tests and demo need from Debian when it is missing: the PostgreSQL server.
# Node.js 20 and Go come with the machine image.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL server binaries are missing: install the postgresql package (sudo apt-get install postgresql)" >&2
  exit 1
fi
echo "installing PostgreSQL from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
