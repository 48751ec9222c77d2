#!/usr/bin/env bash
# Installs the real migration tools that test/integration/migrations/ drives, into a cache outside the repo,
# one directory per tool and version (<cache>/migration-tools/<tool>-<version>), and prints one line per tool:
# "<tool> <version> <directory>". A directory with a .complete marker is reused, so a warm run costs seconds.
# Usage: hack/install-migration-tools.sh [tool...]   (default: all)
# Sources: golang-migrate from the Go module proxy; Flyway, Liquibase and the PostgreSQL JDBC driver from Maven
# Central (Flyway through its Java API: its command-line artifact is not served); Alembic and Django from PyPI;
# knex from npm; ActiveRecord from Debian (hack/ensure-system-packages.sh installs it in CI).
set -euo pipefail

GOLANG_MIGRATE_VERSION=v4.20.1
FLYWAY_VERSION=13.12.1
LIQUIBASE_VERSION=4.33.0
PICOCLI_VERSION=4.7.7
PGJDBC_VERSION=42.7.14
ALEMBIC_VERSION=1.20.1
SQLALCHEMY_VERSION=2.1.9
PSYCOPG2_VERSION=2.9.13
DJANGO_VERSION=5.2.19
KNEX_VERSION=3.3.0
PG_NODE_VERSION=8.23.1

here=$(cd "$(dirname "$0")" && pwd)
cache=${DBWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbwatch}/migration-tools
mkdir -p "$cache"
log() { echo "install-migration-tools: $*" >&2; }

# Runs "$2..." to fill directory $1 unless it is complete; a failed install leaves no marker and is redone.
install_once() {
  local dir=$1; shift
  [ -f "$dir/.complete" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir"
  log "installing $(basename "$dir") (cold)"
  "$@" "$dir"
  touch "$dir/.complete"
}

golang_migrate() {
  GOBIN="$1" CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod \
    go install -tags postgres "github.com/golang-migrate/migrate/v4/cmd/migrate@$GOLANG_MIGRATE_VERSION"
}

# Copies an artifact and its runtime dependencies into $dir/lib with Maven (repository cache in ~/.m2).
maven_libs() {
  local dir=$1; shift
  mvn -q -B -f "$here/migrations/java/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$dir/lib" -Dstyle.color=never "$@" >&2
}
flyway() { maven_libs "$1" -P flyway -Dflyway.version="$FLYWAY_VERSION" -Dpgjdbc.version="$PGJDBC_VERSION"; }
liquibase() {
  maven_libs "$1" -P liquibase -Dliquibase.version="$LIQUIBASE_VERSION" -Dpicocli.version="$PICOCLI_VERSION" \
    -Dpgjdbc.version="$PGJDBC_VERSION"
}

python_tools() {
  python3 -m venv "$1/venv"
  "$1/venv/bin/pip" install -q --disable-pip-version-check "alembic==$ALEMBIC_VERSION" \
    "sqlalchemy==$SQLALCHEMY_VERSION" "psycopg2-binary==$PSYCOPG2_VERSION" "django==$DJANGO_VERSION"
}

knex() {
  npm install -s --no-audit --no-fund --prefix "$1" "knex@$KNEX_VERSION" "pg@$PG_NODE_VERSION" >/dev/null
}

activerecord() {
  # Debian's package: nothing to cache, only to check.
  ruby -e 'require "active_record"; require "pg"; puts ActiveRecord.version' >"$1/version"
}

java_check() {
  command -v java >/dev/null && command -v mvn >/dev/null ||
    { log "java and mvn are needed (hack/ensure-system-packages.sh installs them)"; return 1; }
}

tools=("$@")
[ ${#tools[@]} -eq 0 ] && tools=(golang-migrate knex python flyway liquibase activerecord)
for tool in "${tools[@]}"; do
  case $tool in
    golang-migrate) d="$cache/golang-migrate-$GOLANG_MIGRATE_VERSION"; install_once "$d" golang_migrate
      echo "golang-migrate $GOLANG_MIGRATE_VERSION $d" ;;
    flyway) java_check; d="$cache/flyway-$FLYWAY_VERSION"; install_once "$d" flyway; echo "flyway $FLYWAY_VERSION $d" ;;
    liquibase) java_check; d="$cache/liquibase-$LIQUIBASE_VERSION"; install_once "$d" liquibase
      echo "liquibase $LIQUIBASE_VERSION $d" ;;
    python) d="$cache/python-alembic-$ALEMBIC_VERSION-django-$DJANGO_VERSION"; install_once "$d" python_tools
      echo "alembic $ALEMBIC_VERSION $d"; echo "django $DJANGO_VERSION $d" ;;
    knex) d="$cache/knex-$KNEX_VERSION"; install_once "$d" knex; echo "knex $KNEX_VERSION $d" ;;
    activerecord) d="$cache/activerecord-debian"; rm -f "$d/.complete"; install_once "$d" activerecord
      echo "activerecord $(cat "$d/version") $d" ;;
    *) log "unknown tool $tool"; exit 2 ;;
  esac
done
