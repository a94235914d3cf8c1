#!/bin/sh
# Installs and starts what the tests need outside Python, when it is missing:
#   - Debian's Chromium at /usr/bin/chromium (browser tests; Playwright cannot download one here)
#   - a PostgreSQL server on 127.0.0.1:5432 with trust auth for user postgres and a database "test"
#   - a Python 3.10 for the install tests' 3.10 run (Debian 12 packages only 3.11): $PYTHON310,
#     python3.10 on the PATH, pyenv's or /usr/bin's; else uv installs one (into ~/.local)
# Installing needs root (apt-get); on a machine that has all of them already, it changes nothing.
set -eu

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "system-deps: need root to run: $*" >&2; exit 1
    fi
}

apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x /usr/bin/chromium ]; then
    echo "system-deps: installing Debian's chromium"
    apt_install chromium
fi

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! pg_ready; then
    if ! command -v pg_ctlcluster >/dev/null; then
        echo "system-deps: installing PostgreSQL"
        apt_install postgresql
    fi
    version=$(ls /etc/postgresql | sort -n | tail -1)
    conf=/etc/postgresql/$version/main
    if ! grep -q "^host all all 127.0.0.1/32 trust" "$conf/pg_hba.conf"; then
        as_root sh -c "printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' | cat - $conf/pg_hba.conf > $conf/pg_hba.tmp && mv $conf/pg_hba.tmp $conf/pg_hba.conf"
    fi
    echo "system-deps: starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    tries=0
    until pg_ready; do
        tries=$((tries + 1)); [ $tries -gt 30 ] && { echo "system-deps: PostgreSQL did not start" >&2; exit 1; }
        sleep 1
    done
fi
if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test' >/dev/null
fi

py310_ok() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
found=
for candidate in "${PYTHON310:-}" python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10 \
        /usr/bin/python3.10 /usr/local/bin/python3.10; do
    if py310_ok "$candidate"; then found=$candidate; break; fi
done
if [ -z "$found" ]; then
    venv=${VENV:-.venv}
    if [ -x "$venv/bin/uv" ] && py310_ok "$("$venv/bin/uv" python find 3.10 2>/dev/null)"; then
        :
    else
        echo "system-deps: installing Python 3.10 with uv"
        "$venv/bin/python" -m pip install --quiet uv
        "$venv/bin/uv" python install 3.10
    fi
fi
