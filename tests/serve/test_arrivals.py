"""Object arrival by polling: a folder and an S3 prefix, state kept across restarts."""

from pathlib import Path

from serve_testkit import PIPELINES, Clock, RecordingLauncher, captured_log, utc

from steps.runtime.store import open_location
from workflows.serve.arrivals import ArrivalWatch
from workflows.serve.intake import Intake
from workflows.serve.scheduler import Scheduler
from workflows.serve.served import load_served


def watch_and_intake(root: str, store: Path) -> tuple[ArrivalWatch, Intake, RecordingLauncher]:
    served = {"serve-arrivals": load_served([str(PIPELINES)])["serve-arrivals"]}
    clock = Clock(utc("2026-03-02T10:00:00"))
    log, _ = captured_log(clock)
    launcher = RecordingLauncher()
    scheduler = Scheduler(served, str(store), launcher, log, clock=clock, catchup="none")
    scheduler.recover()
    pipeline = served["serve-arrivals"]
    intake = Intake(pipeline.bindings, scheduler, log)
    return ArrivalWatch(pipeline.arrivals[0], root, open_location(str(store))), intake, launcher


def test_a_new_file_in_the_folder_starts_one_run_even_across_a_restart(tmp_path: Path) -> None:
    folder = tmp_path / "buckets" / "landing" / "orders"
    folder.mkdir(parents=True)
    (folder / "old.csv").write_text("id,name\n")
    store = tmp_path / ".ferry"
    watch, intake, launcher = watch_and_intake(str(tmp_path / "buckets"), store)
    log, _ = captured_log(Clock(utc("2026-03-02T10:00:00")))

    assert watch.poll(intake, log) == 0  # the first poll records what is there
    (folder / "new.csv").write_text("id,name\n1,ann\n")
    (folder / "notes.txt").write_text("not a csv")
    (folder / ".partial.csv").write_text("hidden")
    assert watch.poll(intake, log) == 0  # seen once: it may still be being written
    assert watch.poll(intake, log) == 1

    assert [p for _, p in launcher.started] == [{"input_key": "orders/new.csv"}]
    launcher.runs[0].finish()
    intake.scheduler.tick()
    again, intake_again, launcher_again = watch_and_intake(str(tmp_path / "buckets"), store)
    assert again.poll(intake_again, log) == 0
    assert again.poll(intake_again, log) == 0
    assert launcher_again.started == []


def test_an_object_under_the_s3_prefix_starts_a_run(tmp_path: Path, s3_env: dict[str, str]) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    s3.create_bucket(Bucket="landing")
    watch, intake, launcher = watch_and_intake("s3://", tmp_path / ".ferry")
    log, _ = captured_log(Clock(utc("2026-03-02T10:00:00")))
    assert watch.poll(intake, log) == 0

    s3.put_object(Bucket="landing", Key="orders/2026-05-01.csv", Body=b"id,name\n1,ann\n")
    s3.put_object(Bucket="landing", Key="elsewhere/x.csv", Body=b"id,name\n")
    s3.put_object(Bucket="landing", Key="orders/readme.txt", Body=b"no")

    assert watch.poll(intake, log) == 1  # S3 objects appear whole: no second look needed
    assert [p for _, p in launcher.started] == [{"input_key": "orders/2026-05-01.csv"}]
    assert watch.poll(intake, log) == 0
