"""The command line starts without the heavy libraries: each command imports what it needs.

Importing Dagster costs ~2.3 s on the project's machine, pandas ~1.7 s (bench B8 measures the
start-up); ``--help`` and the listing commands must not pay for what they do not use.
"""

import subprocess
import sys

from stock_pipeline.settings import PROJECT_DIR

HEAVY = ("dagster", "pandas", "duckdb", "matplotlib", "yfinance", "exchange_calendars")


def imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(','.join(sorted(m for m in sys.modules if '.' not in m)))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=120,
        check=True,
    )
    return set(result.stdout.strip().splitlines()[-1].split(","))


def test_help_imports_none_of_the_heavy_libraries() -> None:
    code = (
        "from click.testing import CliRunner\n"
        "from stock_pipeline.cli import main\n"
        "assert CliRunner().invoke(main, ['--help']).exit_code == 0\n"
        "assert CliRunner().invoke(main, ['chart', '--help']).exit_code == 0"
    )
    assert imported_after(code).isdisjoint(HEAVY)


def test_listing_symbols_needs_dagster_only() -> None:
    code = (
        "from stock_pipeline.services.instance import get_instance\n"
        "from stock_pipeline.services.registry import registered_symbols"
    )
    loaded = imported_after(code)
    assert "dagster" in loaded
    assert loaded.isdisjoint({"matplotlib", "yfinance", "duckdb"})
