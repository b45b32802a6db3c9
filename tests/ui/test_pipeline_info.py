"""What the pipelines page says of a definition: next fire time, triggers, final steps."""

from datetime import UTC, datetime

from workflows import EventTrigger, ObjectArrival, Schedule
from workflows.pipelines.orders_daily import pipeline as daily
from workflows.ui.pipeline_info import describe_trigger, final_steps, next_fire


def test_next_fire_reads_the_cron_in_its_timezone() -> None:
    schedule = Schedule(cron=["0 3 * * *"], timezone="Europe/Berlin")
    winter = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert next_fire(schedule, winter) == datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    assert next_fire(schedule, summer) == datetime(2026, 7, 2, 1, 0, tzinfo=UTC)


def test_next_fire_is_the_earliest_of_several_crons_and_none_when_suspended() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    schedule = Schedule(cron=["0 3 * * *", "30 14 * * *"])
    assert next_fire(schedule, now) == datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    paused = Schedule(cron=["0 3 * * *"], suspend=True)
    assert next_fire(paused, now) is None


def test_triggers_are_described_in_one_line() -> None:
    event = EventTrigger(discriminator="orders-ready", selector='payload.kind == "daily"')
    arrival = ObjectArrival(bucket="landing", prefix="orders/", suffix=".csv")
    assert describe_trigger(event) == 'event orders-ready when payload.kind == "daily"'
    assert describe_trigger(EventTrigger(discriminator="go")) == "event go"
    assert describe_trigger(arrival) == "object arrival in s3://landing/orders/*.csv"


def test_final_steps_are_those_no_step_reads() -> None:
    assert final_steps(daily) == frozenset({"revenue-dataset"})
