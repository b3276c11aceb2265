"""Code location of the deployment test: the project's definitions, unchanged, plus one
schedule that ticks every minute so a test sees the daemon launch a real run quickly.

The run it requests goes through the project's own ``intraday_prices_job`` (its assets,
IO manager, resources, checks): one partition, the first registered symbol on the latest
session that has closed at the tick.
"""

import dagster as dg

from stock_pipeline import definitions
from stock_pipeline.defs.jobs import intraday_prices_job
from stock_pipeline.domain.partition_keys import intraday_key
from stock_pipeline.domain.trading_calendar import latest_session, previous_session, session_close
from stock_pipeline.services.registry import registered_symbols

EVERY_MINUTE = "every_minute_intraday_schedule"


@dg.schedule(
    name=EVERY_MINUTE,
    cron_schedule="* * * * *",
    job=intraday_prices_job,
    execution_timezone="UTC",
)
def every_minute_intraday_schedule(
    context: dg.ScheduleEvaluationContext,
) -> dg.RunRequest | dg.SkipReason:
    tick = context.scheduled_execution_time
    symbols = registered_symbols(context.instance)
    if not symbols:
        return dg.SkipReason("no symbols registered")
    day = latest_session(tick)
    if session_close(day) > tick:
        day = previous_session(day)
    return dg.RunRequest(run_key=tick.isoformat(), partition_key=intraday_key(symbols[0], day))


defs = dg.Definitions.merge(
    definitions.defs, dg.Definitions(schedules=[every_minute_intraday_schedule])
)
