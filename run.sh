#!/usr/bin/env bash
# One-step set-up and run on a fresh machine with Python 3.11:
#   ./run.sh demo    the offline demo (fake Yahoo -> Dagster runs -> local DuckDB)
#   ./run.sh test    the whole test suite, in parallel on every core (installs the Debian
#                    packages the browser and proxy tests need when they are missing)
#   ./run.sh test --fast   the inner loop: domain and unit tests, no processes, no browser
#   ./run.sh bench   the benchmarks B1-B12 and P1, one table (BENCHMARKS.md; --smoke: reduced sizes)
#   ./run.sh <any stock-pipeline arguments>
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check uv 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --user uv
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --quiet

# Debian packages some tests drive for real: Chromium (the UI test; Playwright's own
# browser download does not work offline); nginx and openssl (the authenticated-UI test runs
# deploy/nginx in front of the webserver; on a machine with systemd, installing nginx also
# starts its default site: `systemctl disable --now nginx` if unwanted).
system_test_packages() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)  # verifies deploy/systemd
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} for the tests"
  local sudo
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

case "${1:-demo}" in
  test)
    shift
    if [ "${1:-}" = "--fast" ]; then
      shift
      exec uv run --frozen pytest -n auto -m "not integration and not browser and not bench" \
        stock_pipeline_tests/domain stock_pipeline_tests/settings stock_pipeline_tests/yahoo \
        stock_pipeline_tests/warehouse "$@"
    fi
    system_test_packages
    exec uv run --frozen pytest -n auto "$@"
    ;;
  bench)
    shift
    exec uv run --frozen python -m bench "$@"
    ;;
  *)
    exec uv run --frozen stock-pipeline "$@"
    ;;
esac
