"""Schedules: on or off, next ticks in New York time, and what each tick would do."""

from datetime import UTC, datetime
from itertools import islice

import dagster as dg

from stock_pipeline.background import inspect
from stock_pipeline.background.queue import REPOSITORY_NAME, location_name, workspace_in_process
from stock_pipeline.background.schedule_view import cron_ticks, schedule_views
from stock_pipeline.definitions import defs
from stock_pipeline.domain.trading_calendar import NEW_YORK

TIMEZONE = "America/New_York"
NOW = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)  # Wednesday 16:30 New York; Thanksgiving next


def _local(ticks: list[datetime]) -> list[str]:
    return [t.astimezone(NEW_YORK).strftime("%a %m-%d %H:%M %Z") for t in ticks]


def test_next_ticks_follow_the_cron_in_new_york_time() -> None:
    ticks = list(islice(cron_ticks("30 9 * * 1-5", "America/New_York", NOW), 3))
    assert _local(ticks) == ["Thu 11-26 09:30 EST", "Fri 11-27 09:30 EST", "Mon 11-30 09:30 EST"]


def test_ticks_keep_wall_clock_time_across_daylight_saving() -> None:
    friday = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)  # DST ends Sunday 2026-11-01
    ticks = list(islice(cron_ticks("30 9 * * 1-5", "America/New_York", friday), 2))
    assert _local(ticks) == ["Fri 10-30 09:30 EDT", "Mon 11-02 09:30 EST"]
    assert [t.astimezone(UTC).hour for t in ticks] == [13, 14]


def test_several_crons_merge_into_one_sequence() -> None:
    ticks = list(islice(cron_ticks(["0 16 * * 1-5", "0 13 * * 1-5"], "America/New_York", NOW), 3))
    assert _local(ticks) == ["Thu 11-26 13:00 EST", "Thu 11-26 16:00 EST", "Fri 11-27 13:00 EST"]


def test_each_schedule_is_listed_with_its_state_and_a_preview_of_each_tick(
    instance_with_symbols: dg.DagsterInstance,
) -> None:
    views = {v.name: v for v in inspect(instance_with_symbols).scheduled(ticks=2, now=NOW)}
    declared = {s.name for s in defs.get_repository_def().schedule_defs}
    assert set(views) == declared and "market_open_schedule" in views
    for name, view in views.items():
        default = defs.get_repository_def().get_schedule_def(name).default_status
        assert view.on == (default == dg.DefaultScheduleStatus.RUNNING)
        assert len(view.ticks) == 2 and all(t.at > NOW for t in view.ticks)
    thanksgiving, friday = views["market_open_schedule"].ticks
    assert thanksgiving.runs is None and thanksgiving.skip_reason
    assert "Thanksgiving" in thanksgiving.describe()
    assert friday.skip_reason is None and friday.runs and friday.runs >= 1
    assert friday.describe().endswith("run(s)")


def test_starting_and_stopping_a_schedule_on_the_instance_shows(
    instance: dg.DagsterInstance,
) -> None:
    with workspace_in_process(instance) as workspace:
        location = workspace.get_code_location(location_name(workspace))
        remote = location.get_repository(REPOSITORY_NAME).get_schedule("market_open_schedule")
        instance.start_schedule(remote)
        views = {v.name: v for v in schedule_views(instance, ticks=1, now=NOW, preview=False)}
        assert views["market_open_schedule"].on
        assert views["market_open_schedule"].ticks[0].describe() == ""  # not evaluated
        instance.stop_schedule(remote.get_remote_origin_id(), remote.selector_id, remote)
    views = {v.name: v for v in schedule_views(instance, ticks=1, now=NOW, preview=False)}
    assert not views["market_open_schedule"].on


def test_a_schedule_that_raises_shows_the_error_instead_of_a_preview(
    instance: dg.DagsterInstance,
) -> None:
    @dg.op
    def nothing() -> None:
        """A job for the schedule to target."""

    @dg.job
    def nothing_job() -> None:
        nothing()

    @dg.schedule(cron_schedule="0 12 * * *", job=nothing_job, execution_timezone=TIMEZONE)
    def broken_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        raise RuntimeError("the registry is unreachable")

    views = schedule_views(
        instance, ticks=1, now=NOW, defs=dg.Definitions(schedules=[broken_schedule])
    )
    (tick,) = views[0].ticks
    assert tick.error and "the registry is unreachable" in tick.error
    assert tick.describe().startswith("error: ")
