"""inspect(): active, queued and failed runs; run ids by prefix; is the daemon there."""

import dagster as dg
import pytest

from stock_pipeline.background import JobStatus, inspect, submit_intraday_sync
from stock_pipeline.background.monitor import find_run_id


def test_runs_are_listed_by_where_they_stand(instance_with_symbols: dg.DagsterInstance) -> None:
    failed = submit_intraday_sync(["ZZGONE"], eager=True, instance=instance_with_symbols)
    queued = submit_intraday_sync(["AAPL", "MSFT"], instance=instance_with_symbols)
    look = inspect(instance_with_symbols)
    assert look.active() == []
    (waiting,) = look.queued()
    assert waiting.run_id == queued.run_id and waiting.status == JobStatus.QUEUED
    assert waiting.partitions == "2026-11-25|AAPL…2026-11-25|MSFT"
    assert (waiting.origin, waiting.interval, waiting.seconds) == ("background", "5m", None)
    (broken,) = look.failed()
    assert broken.run_id == failed.run_id and broken.partitions == "2026-11-25|ZZGONE"
    assert broken.seconds is not None and broken.seconds > 0
    assert not look.daemon_running()


def test_a_run_id_prefix_finds_its_run(instance_with_symbols: dg.DagsterInstance) -> None:
    first = submit_intraday_sync(["AAPL"], instance=instance_with_symbols).run_ids[0]
    submit_intraday_sync(["MSFT"], instance=instance_with_symbols)
    assert find_run_id(instance_with_symbols, first[:8]) == first
    assert find_run_id(instance_with_symbols, first) == first
    with pytest.raises(KeyError, match="matches 2 runs"):
        find_run_id(instance_with_symbols, "")
    with pytest.raises(KeyError, match="no run"):
        find_run_id(instance_with_symbols, "zz")
