"""The command line's shared pieces: date options, and the project's errors as exit code 2."""

from datetime import date

import click
from click.testing import CliRunner

from stock_pipeline.cli.common import EXIT_USAGE, guarded, parse_date
from stock_pipeline.domain.errors import InvalidSymbolError


@click.command()
@click.option("--start", callback=parse_date)
@guarded
def probe(start: date | None) -> None:
    """A command shaped like the project's: a date option and a guarded body."""
    if start is not None and start.year < 2000:
        raise InvalidSymbolError("too old; use a date after 2000")
    click.echo(f"start={start}")


def test_a_date_option_is_parsed() -> None:
    result = CliRunner().invoke(probe, ["--start", "2026-11-25"])
    assert (result.exit_code, result.output) == (0, "start=2026-11-25\n")
    assert CliRunner().invoke(probe, []).output == "start=None\n"


def test_a_bad_date_says_the_form_to_use() -> None:
    result = CliRunner().invoke(probe, ["--start", "25/11/2026"])
    assert result.exit_code == 2
    assert "'25/11/2026' is not a date; use YYYY-MM-DD" in result.output


def test_the_project_s_errors_become_a_message_and_exit_2() -> None:
    result = CliRunner().invoke(probe, ["--start", "1999-01-04"])
    assert result.exit_code == EXIT_USAGE == 2
    assert result.output == "error: too old; use a date after 2000\n"


def test_other_errors_are_not_hidden() -> None:
    @click.command()
    @guarded
    def broken() -> None:
        raise RuntimeError("a bug")

    result = CliRunner().invoke(broken, [])
    assert isinstance(result.exception, RuntimeError)
