#!/usr/bin/env bash
# What `make run`, `make test` and .ci/run need from the system, checked before anything starts:
#   run:  PostgreSQL and Redis running on 127.0.0.1, libpq-dev (NetBox's database driver builds against it)
#   test: the same, plus chromium and chromium-driver (browser tests) and systemd (systemd-analyze checks the
#         shipped unit file)
# As root, installs what is missing and starts what is stopped. Otherwise it stops at once and prints the exact
# command to run, so that a missing package never fails a test run halfway through.
set -euo pipefail

purpose=${1:-test}
case "$purpose" in
    run|test) ;;
    *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac

say() { printf '[prerequisites] %s\n' "$*" >&2; }

# command that proves the package is there -> Debian package that provides it
declare -A PACKAGES=(
    [pg_ctlcluster]=postgresql
    [redis-server]=redis-server
    [pg_config]=libpq-dev
)
if [ "$purpose" = test ]; then
    PACKAGES+=([chromium]=chromium [chromedriver]=chromium-driver [systemd-analyze]=systemd)
fi

missing=()
for command in "${!PACKAGES[@]}"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGES[$command]}")
done
if [ ${#missing[@]} -gt 0 ]; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort)
    install=(apt-get install -y --no-install-recommends "${missing[@]}")
    if [ "$(id -u)" -ne 0 ]; then
        say "missing system packages: ${missing[*]}"
        say "install them with:  sudo apt-get update && sudo ${install[*]}"
        exit 1
    fi
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${install[@]}" -qq >/dev/null
fi

wait_for() {
    local what=$1; shift
    for _ in $(seq 1 60); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    say "$what did not come up"; exit 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        say 'PostgreSQL does not answer on 127.0.0.1:5432'
        say 'start it with:  sudo pg_ctlcluster <version> main start   (versions: ls /etc/postgresql)'
        exit 1
    fi
    say 'PostgreSQL is down; starting it'
    for version in /etc/postgresql/*/; do
        pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start || true
    done
    wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        say 'Redis does not answer on 127.0.0.1:6379'
        say 'start it with:  sudo systemctl start redis-server   (or: redis-server --daemonize yes)'
        exit 1
    fi
    say 'Redis is down; starting it'
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
fi
