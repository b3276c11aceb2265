"""Sensors: the symbol list, gaps in stored bars, dead symbols, quotes while open, alerts.

Each one is thin: the decisions live in ``backfill``, ``quarantine``, ``alerts`` and the
calendar; a sensor reads the clock (``settings.now()``), the instance and the warehouse,
and turns the answer into run requests, a cursor and a message shown on its tick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import dagster as dg

from stock_pipeline import settings
from stock_pipeline.defs.jobs import (
    current_prices_job,
    daily_prices_job,
    intraday_prices_job,
    stocks_job,
)
from stock_pipeline.defs.partitions import symbols_partitions, trading_days
from stock_pipeline.defs.resources import WarehouseResource, YahooFinanceResource
from stock_pipeline.defs.run_requests import (
    history_run_config,
    intraday_run_config,
    intraday_slices,
    run_request,
    symbol_slices,
    unfinished_cells,
)
from stock_pipeline.defs.run_sensors import dead_symbols_sensor, run_failure_alert_sensor
from stock_pipeline.domain.intervals import DEFAULT_INTRADAY_INTERVAL, normalize_period
from stock_pipeline.domain.market_schedule import (
    closed_reason,
    is_market_open,
    new_york_date,
    ny_clock,
)
from stock_pipeline.domain.partition_keys import history_key
from stock_pipeline.domain.repair_plan import (
    closed_sessions,
    gaps,
    lookback_sessions,
    nothing_stored,
)
from stock_pipeline.domain.run_keys import ORIGIN_TAG
from stock_pipeline.domain.trading_calendar import session_close, session_open
from stock_pipeline.services.quarantine import active_symbols
from stock_pipeline.services.registry import registered_symbols, screen_with_yahoo
from stock_pipeline.services.sync import history_years, slice_runs
from stock_pipeline.settings import automation as knobs
from stock_pipeline.settings.automation import read_symbol_file, retained_since
from stock_pipeline.warehouse.commits import BUSY_ERRORS
from stock_pipeline.warehouse.completeness import slice_states
from stock_pipeline.warehouse.tables import connect

INTRADAY_INTERVAL = DEFAULT_INTRADAY_INTERVAL
HISTORY_INTERVAL = "1d"
ORIGIN = "sensor"
WAREHOUSE_WAIT_SECONDS = 10.0  # a sensor tick must not wait out a long write


def partition_days() -> list[date]:
    """Sessions that are intraday partitions now."""
    keys = trading_days.get_partition_keys(current_time=settings.now())
    return [date.fromisoformat(k) for k in keys]


# ---- the symbol list -------------------------------------------------------------------


@dataclass(frozen=True)
class SymbolsCursor:
    """Symbols already seen (registration order), and how many backfills were requested:
    the epoch makes run keys unique per batch yet stable if a tick is evaluated twice."""

    known: list[str]
    epoch: int

    @classmethod
    def parse(cls, raw: str | None) -> SymbolsCursor:
        if not raw:
            return cls([], 0)
        doc = json.loads(raw)
        return cls([str(s) for s in doc["known"]], int(doc["epoch"]))

    def dump(self) -> str:
        return json.dumps({"known": self.known, "epoch": self.epoch})


def new_symbol_requests(order: list[str], new: list[str], epoch: int) -> list[dg.RunRequest]:
    """History within Yahoo's lookback for newly registered symbols: 5m bars of the
    sessions it still serves, the profile, and the daily bars of the backfill period."""
    now = settings.now()
    prefix = f"symbols_sensor:{epoch}"
    days = lookback_sessions(now, INTRADAY_INTERVAL, partition_days(), retained_since(now))
    today = new_york_date(now)
    years = history_years(normalize_period(knobs.backfill_period()), None, None, today)
    requests = [
        run_request(
            run,
            f"{prefix}:intraday",
            ORIGIN,
            job_name=intraday_prices_job.name,
            run_config=intraday_run_config(INTRADAY_INTERVAL),
            interval=INTRADAY_INTERVAL,
        )
        for run in intraday_slices(order, days, [(s, d) for s in new for d in days])
    ]
    requests += [
        run_request(run, f"{prefix}:stocks", ORIGIN, job_name=stocks_job.name)
        for run in symbol_slices(order, new)
    ]
    requests += [
        run_request(
            run,
            f"{prefix}:daily",
            ORIGIN,
            job_name=daily_prices_job.name,
            run_config=history_run_config(HISTORY_INTERVAL),
            interval=HISTORY_INTERVAL,
        )
        for run in slice_runs([(s, y) for s in new for y in years], order, years, history_key)
    ]
    return requests


@dg.sensor(
    name="symbols_sensor",
    jobs=[intraday_prices_job, stocks_job, daily_prices_job],
    minimum_interval_seconds=60,
    description=(
        "Keeps the `symbols` partitions in step with the symbol list file "
        "($STOCK_PIPELINE_SYMBOLS_FILE; unset: the list is what `stock-pipeline symbols "
        "add/remove` registered) and backfills every newly registered symbol: 5-minute bars "
        "as far back as Yahoo serves them, its profile, and daily bars "
        "($STOCK_PIPELINE_BACKFILL_PERIOD, default 1y). Removed symbols stop syncing; "
        "their stored data is kept. Symbols the file adds are checked with one Yahoo quote "
        "request: an unknown symbol or one that does not trade NYSE sessions (currency, "
        "crypto, future, foreign listing) fails the tick naming it, and nothing is applied."
    ),
)
def symbols_sensor(
    context: dg.SensorEvaluationContext, yahoo: YahooFinanceResource
) -> dg.SensorResult:
    registered = registered_symbols(context.instance)
    adds: list[str] = []
    removes: list[str] = []
    path = knobs.symbols_file()
    if path is not None:
        wanted = read_symbol_file(path)
        adds = [s for s in wanted if s not in registered]
        removes = [s for s in registered if s not in set(wanted)]
        if adds:
            # As `symbols add`: one quote request; an unknown or out-of-scope symbol fails
            # the tick naming it, and nothing in the file is applied until it is fixed.
            screen_with_yahoo(yahoo.client(), adds)
    # Registration order once the requests below are applied: removals drop out, adds append.
    order = [s for s in registered if s not in set(removes)] + adds
    cursor = SymbolsCursor.parse(context.cursor)
    new = active_symbols(context.instance, [s for s in order if s not in set(cursor.known)])
    epoch = cursor.epoch + (1 if new else 0)
    partition_requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest]
    partition_requests = []
    if adds:
        partition_requests.append(symbols_partitions.build_add_request(adds))
    if removes:
        partition_requests.append(symbols_partitions.build_delete_request(removes))
    changes = [f"added {', '.join(adds)}"] if adds else []
    changes += [f"removed {', '.join(removes)} (data kept)"] if removes else []
    changes += [f"backfilling {', '.join(new)}"] if new else []
    if changes:
        context.log.info("; ".join(changes))
    return dg.SensorResult(
        run_requests=new_symbol_requests(order, new, epoch) if new else [],
        dynamic_partitions_requests=partition_requests,
        cursor=SymbolsCursor(order, epoch).dump(),
        skip_reason=None if changes else f"{len(order)} symbol(s) registered, none new",
    )


# ---- gaps in stored bars ---------------------------------------------------------------


@dg.sensor(
    name="missing_partitions_sensor",
    job=intraday_prices_job,
    minimum_interval_seconds=300,
    description=(
        "Compares stored 5-minute bars with the NYSE calendar for every active symbol over "
        "the sessions Yahoo still serves (60 days) and requests only the (day, symbol) "
        "partitions that are missing, provisional (last answer arrived before that "
        "session's close plus $STOCK_PIPELINE_FINAL_GRACE_MINUTES, default 15), or short "
        "(final with fewer bars than the calendar allows; fetched again at most "
        "$STOCK_PIPELINE_SHORT_SESSION_REFETCHES times, default 2, then accepted as "
        "confirmed), in a few range runs. Today's session is left to the hourly schedule "
        "until the grace period after the close. At most $STOCK_PIPELINE_MISSING_MAX_PARTITIONS "
        "(default 1000) per tick, newest sessions first; partitions a queued or running "
        "run already covers are not requested again."
    ),
)
def missing_partitions_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    now = settings.now()
    grace = knobs.final_grace()
    order = registered_symbols(context.instance)
    active = active_symbols(context.instance, order)
    days = closed_sessions(
        lookback_sessions(now, INTRADAY_INTERVAL, partition_days(), retained_since(now)),
        now,
        grace,
    )
    if not active or not days:
        return dg.SkipReason("no active symbols or no closed session within Yahoo's lookback")
    database = warehouse.database
    if database.exists():
        try:
            with connect(database, read_only=True, wait_seconds=WAREHOUSE_WAIT_SECONDS) as con:
                states = slice_states(con, active, days, INTRADAY_INTERVAL, grace)
        except BUSY_ERRORS as exc:
            return dg.SkipReason(f"warehouse busy, looking again next tick: {exc}")
    else:
        states = nothing_stored(active, days, INTRADAY_INTERVAL)
    busy = unfinished_cells(context.instance, order, days)
    todo = gaps(states, order, busy, knobs.missing_max_partitions())
    if not todo:
        return dg.SkipReason(
            f"{len(active)} symbol(s) × {len(days)} session(s) complete or confirmed short"
            + (f"; {len(busy)} partition(s) being fetched" if busy else "")
        )
    tick = (json.loads(context.cursor)["tick"] if context.cursor else 0) + 1
    return dg.SensorResult(
        run_requests=[
            run_request(
                run,
                f"missing_partitions_sensor:{tick}",
                ORIGIN,
                run_config=intraday_run_config(INTRADAY_INTERVAL),
                interval=INTRADAY_INTERVAL,
            )
            # Newest sessions first: the daemon submits (and the writer pool runs) in order.
            for run in sorted(
                intraday_slices(order, days, todo), key=lambda r: r.last_key, reverse=True
            )
        ],
        cursor=json.dumps({"tick": tick}),
    )


# ---- quotes while the market is open ---------------------------------------------------


@dg.sensor(
    name="current_prices_sensor",
    job=current_prices_job,
    minimum_interval_seconds=60,
    description=(
        "While the NYSE is open, refreshes the latest quote of every registered symbol every "
        "$STOCK_PIPELINE_CURRENT_PRICES_MINUTES minutes (default 5), on slots counted from "
        "the open (09:35, 09:40, …; the 09:30 quote is market_open_schedule's). Skips "
        "outside market hours, on holidays and after early closes."
    ),
)
def current_prices_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    now = settings.now()
    day = new_york_date(now)
    closed = closed_reason(day)
    if closed:
        return dg.SkipReason(closed)
    if not is_market_open(now):
        opened, close = session_open(day), session_close(day)
        return dg.SkipReason(
            f"{day.isoformat()} {ny_clock(now)}: outside market hours "
            f"({ny_clock(opened)}–{ny_clock(close)})"
        )
    if not registered_symbols(context.instance):
        return dg.SkipReason("no symbols registered")
    minutes = knobs.current_prices_minutes()
    slot = int((now - session_open(day)).total_seconds() // (minutes * 60))
    key = f"{day.isoformat()}/{minutes}m/{slot}"
    if slot == 0:
        return dg.SkipReason("the open's quotes are market_open_schedule's run")
    if context.cursor == key:
        return dg.SkipReason(f"quotes for this {minutes}-minute slot already requested")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"current_prices_sensor:{key}", tags={ORIGIN_TAG: ORIGIN})
        ],
        cursor=key,
    )


SENSORS: list[dg.SensorDefinition] = [
    symbols_sensor,
    missing_partitions_sensor,
    current_prices_sensor,
    dead_symbols_sensor,
    run_failure_alert_sensor,
]
