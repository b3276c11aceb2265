"""Each schedule's state and next ticks, and what each tick would do (``inspect().scheduled()``).

Crons fire on holidays and at 13:00 on full days too; the schedule then skips with a reason.
So a preview does not stop at the cron: it evaluates the schedule at each coming tick, as
the daemon will, and shows the runs it would request or why it would skip.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

import dagster as dg

from stock_pipeline import settings
from stock_pipeline.defs.dagster_private import cron_instants

SCHEDULE = "SCHEDULE"
STOPPED = "STOPPED"
FOLLOWS_CODE = "DECLARED_IN_CODE"


@dataclass(frozen=True)
class TickPreview:
    at: datetime  # in the schedule's execution timezone
    runs: int | None = None  # runs the tick would request; None: not evaluated
    skip_reason: str | None = None
    error: str | None = None  # the schedule raised: the daemon would record a failed tick

    def describe(self) -> str:
        if self.error:
            return f"error: {self.error}"
        if self.skip_reason:
            return f"skips: {self.skip_reason}"
        return "" if self.runs is None else f"{self.runs} run(s)"


@dataclass(frozen=True)
class ScheduleView:
    name: str
    on: bool
    crons: tuple[str, ...]
    timezone: str
    description: str | None
    ticks: list[TickPreview]


def cron_ticks(
    cron: str | Sequence[str], timezone: str | None, after: datetime
) -> Iterator[datetime]:
    """The cron's instants from ``after`` on, in ``timezone``, as the daemon computes them."""
    return cron_instants(cron, timezone, after)


def stored_states(instance: dg.DagsterInstance) -> dict[str, str]:
    """Schedule name → status stored on the instance (RUNNING, STOPPED, DECLARED_IN_CODE)."""
    return {
        state.name: state.status.value
        for state in instance.all_instigator_state()
        if state.instigator_type.value == SCHEDULE
    }


def is_on(schedule: dg.ScheduleDefinition, stored: str | None) -> bool:
    """Started or stopped in the UI/CLI wins; otherwise the schedule's default status."""
    if stored is not None and stored != FOLLOWS_CODE:
        return stored != STOPPED
    return schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def preview_tick(
    schedule: dg.ScheduleDefinition,
    instance: dg.DagsterInstance,
    at: datetime,
    repository: dg.RepositoryDefinition,
) -> TickPreview:
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=at, repository_def=repository
    )
    try:
        data = schedule.evaluate_tick(context)
    except Exception as exc:  # shown in the preview, as the daemon records a failed tick
        cause: BaseException = exc
        while cause.__cause__ is not None:  # Dagster wraps the schedule's own error
            cause = cause.__cause__
        return TickPreview(at, error=f"{type(cause).__name__}: {cause}".splitlines()[0])
    if data.skip_message or not data.run_requests:
        return TickPreview(at, skip_reason=data.skip_message or "no run requested")
    return TickPreview(at, runs=len(data.run_requests))


def schedule_views(
    instance: dg.DagsterInstance,
    ticks: int = 3,
    now: datetime | None = None,
    defs: dg.Definitions | None = None,
    preview: bool = True,
) -> list[ScheduleView]:
    """Every schedule of the code location with its next ``ticks`` ticks after ``now``."""
    if defs is None:
        from stock_pipeline.definitions import defs as project_defs

        defs = project_defs
    now = now or settings.now()
    repository = defs.get_repository_def()
    states = stored_states(instance)
    views = []
    for schedule in sorted(repository.schedule_defs, key=lambda s: s.name):
        crons = schedule.cron_schedule
        timezone = schedule.execution_timezone or "UTC"
        instants = list(islice(cron_ticks(crons, timezone, now), ticks))
        views.append(
            ScheduleView(
                name=schedule.name,
                on=is_on(schedule, states.get(schedule.name)),
                crons=(crons,) if isinstance(crons, str) else tuple(crons),
                timezone=timezone,
                description=schedule.description,
                ticks=[
                    preview_tick(schedule, instance, at, repository) if preview else TickPreview(at)
                    for at in instants
                ],
            )
        )
    return views
