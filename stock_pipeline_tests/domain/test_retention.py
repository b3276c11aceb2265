from datetime import UTC, date, datetime

import pytest

from stock_pipeline.domain.retention import first_kept_day


def test_retention_counts_days_back_from_today_in_new_york() -> None:
    # 02:00 UTC on the 28th is still the 27th in New York.
    assert first_kept_day(datetime(2026, 11, 28, 2, 0, tzinfo=UTC), 30) == date(2026, 10, 28)
    assert first_kept_day(datetime(2026, 11, 28, 12, 0, tzinfo=UTC), 1) == date(2026, 11, 27)
    with pytest.raises(ValueError, match="at least 1"):
        first_kept_day(datetime(2026, 11, 28, tzinfo=UTC), 0)
