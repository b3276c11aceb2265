#!/usr/bin/env bash
# One-step set-up and run on a fresh machine with Python 3.11:
#   ./run.sh demo    the offline demo (fake Yahoo -> Dagster runs -> local DuckDB)
#   ./run.sh test    the whole test suite
#   ./run.sh bench   the benchmarks B1-B7, one table (BENCHMARKS.md; --smoke: reduced sizes)
#   ./run.sh <any stock-pipeline arguments>
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check uv 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --user uv
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --quiet

case "${1:-demo}" in
  test)
    shift
    # The authenticated-UI test runs Debian's nginx (deploy/nginx) and openssl; installing
    # nginx also enables its default site on a machine with systemd (systemctl disable --now
    # nginx if unwanted). Needs root or sudo, as .ci/run does.
    if [ ! -x /usr/sbin/nginx ] || ! command -v openssl >/dev/null 2>&1; then
      echo "installing nginx and openssl"
      sudo=$([ "$(id -u)" = 0 ] || echo sudo)
      $sudo apt-get update -q && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx openssl
    fi
    exec uv run --frozen pytest "$@"
    ;;
  bench)
    shift
    exec uv run --frozen python -m bench "$@"
    ;;
  *)
    exec uv run --frozen stock-pipeline "$@"
    ;;
esac
