"""``utc_text`` writes what ``astimezone(UTC).isoformat()`` writes, for any aware moment."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.persistence.transcoder import utc_text

ZONES = st.sampled_from([
    UTC,
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-9, minutes=-30)),
    ZoneInfo("Europe/Helsinki"),
])  # fmt: skip


_MOMENTS = st.datetimes(
    min_value=datetime(2, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(9998, 12, 31),  # noqa: DTZ001
    timezones=ZONES,
)


@settings(max_examples=500, deadline=None)
@given(_MOMENTS)
def test_utc_text_is_the_isoformat_of_the_moment_in_utc(moment: datetime) -> None:
    assert utc_text(moment) == moment.astimezone(UTC).isoformat()


def test_utc_text_keeps_a_whole_second_without_a_fraction() -> None:
    moment = datetime(2026, 12, 1, 7, 0, tzinfo=timezone(timedelta(hours=2)))
    assert utc_text(moment) == "2026-12-01T05:00:00+00:00"


def test_utc_text_writes_six_fraction_digits_when_there_is_a_fraction() -> None:
    assert (
        utc_text(datetime(2026, 1, 2, 3, 4, 5, 60, tzinfo=UTC))
        == "2026-01-02T03:04:05.000060+00:00"
    )
