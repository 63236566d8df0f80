#!/usr/bin/env bash
# darkcrawl's one setup command for a fresh Debian machine (run as root, or with sudo available).
# Installs: Debian's tor, chromium and redis-server; the Python package in .venv; the Elasticsearch distribution
# (from Maven Central) with the system user it runs as. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '==> %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "run as root or install sudo: apt packages and the Elasticsearch user need root"
    SUDO="sudo"
fi

# 1. Debian packages ------------------------------------------------------------------------------------------------
DEBIAN_PACKAGES=(tor chromium redis-server maven python3-venv unzip)
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
else
    say "Debian packages present: ${DEBIAN_PACKAGES[*]}"
fi
# Debian starts a system tor and redis on install; darkcrawl runs its own, so the system ones are left alone but
# never relied upon.

# 2. Python package in .venv ----------------------------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python >= 3.11 needed ($PYTHON is older)"
if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$PYTHON" -m venv .venv
fi
stamp=".venv/.darkcrawl-installed"
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    say "installing darkcrawl and its Python dependencies into .venv"
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e '.[dev]'
    echo "$wanted" > "$stamp"
else
    say "Python dependencies up to date in .venv"
fi

# 3. Elasticsearch distribution and its user ------------------------------------------------------------------------
say "Elasticsearch distribution"
.venv/bin/darkcrawl es install

say "setup done. Next: source .venv/bin/activate && darkcrawl demo"
