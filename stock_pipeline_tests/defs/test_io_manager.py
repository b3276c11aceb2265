from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd

from stock_pipeline.defs.io_manager import DuckDBWarehouseIOManager
from stock_pipeline.defs.partitions import intraday_partitions
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline_tests.support.frames import bars

DAY1, DAY2 = date(2026, 11, 24), date(2026, 11, 25)
FRAMES: dict[str, pd.DataFrame] = {}


@dg.asset(
    partitions_def=intraday_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    io_manager_key="warehouse_io_manager",
)
def intraday_prices(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return FRAMES["next"]


def run(
    instance: dg.DagsterInstance, db: Path, frame: pd.DataFrame, first: str, last: str
) -> dg.ExecuteInProcessResult:
    FRAMES["next"] = frame
    warehouse = WarehouseResource(path=str(db))
    return dg.materialize(
        [intraday_prices],
        instance=instance,
        raise_on_error=False,
        resources={"warehouse_io_manager": DuckDBWarehouseIOManager(warehouse=warehouse)},
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )


def stored(db: Path) -> pd.DataFrame:
    with WarehouseResource(path=str(db)).connect(read_only=True) as con:
        return con.execute(
            "SELECT * EXCLUDE (fetched_at) FROM intraday_prices ORDER BY symbol, ts"
        ).df()


def test_rematerializing_three_times_leaves_identical_rows(
    instance: dg.DagsterInstance, duckdb_file: Path
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT"])
    frame = pd.concat([bars(s, d) for s in ("AAPL", "MSFT") for d in (DAY1, DAY2)])
    snapshots = []
    for _ in range(3):
        assert run(instance, duckdb_file, frame, "2026-11-24|AAPL", "2026-11-25|MSFT").success
        snapshots.append(stored(duckdb_file))
    assert len(snapshots[0]) == 4 * 78
    pd.testing.assert_frame_equal(snapshots[0], snapshots[1])
    pd.testing.assert_frame_equal(snapshots[1], snapshots[2])
    assert instance.get_materialized_partitions(dg.AssetKey("intraday_prices")) == {
        "2026-11-24|AAPL",
        "2026-11-24|MSFT",
        "2026-11-25|AAPL",
        "2026-11-25|MSFT",
    }


def test_a_partition_without_rows_fails_and_wipes_nothing(
    instance: dg.DagsterInstance, duckdb_file: Path
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT"])
    full = pd.concat([bars(s, DAY1) for s in ("AAPL", "MSFT")])
    assert run(instance, duckdb_file, full, "2026-11-24|AAPL", "2026-11-24|MSFT").success
    # MSFT came back empty: the run fails, and neither symbol's rows change.
    result = run(
        instance, duckdb_file, bars("AAPL", DAY1, price=5), "2026-11-24|AAPL", "2026-11-24|MSFT"
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert failure is not None and "no rows for 1 partition" in str(failure.description)
    after = stored(duckdb_file)
    assert len(after) == 2 * 78 and set(after["open"]) == {100.0}

    empty = bars("AAPL", DAY1).iloc[0:0]
    assert not run(instance, duckdb_file, empty, "2026-11-24|AAPL", "2026-11-24|AAPL").success
    assert len(stored(duckdb_file)) == 2 * 78


def test_load_input_reads_the_partitions_back(
    instance: dg.DagsterInstance, duckdb_file: Path
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    assert run(
        instance, duckdb_file, bars("AAPL", DAY1), "2026-11-24|AAPL", "2026-11-24|AAPL"
    ).success
    manager = DuckDBWarehouseIOManager(warehouse=WarehouseResource(path=str(duckdb_file)))
    context = dg.build_input_context(
        asset_key=dg.AssetKey("intraday_prices"),
        partition_key="2026-11-24|AAPL",
        instance=instance,
        asset_partitions_def=intraday_partitions,
    )
    frame = manager.load_input(context)
    assert len(frame) == 78 and frame["ts"].dt.tz is not None
