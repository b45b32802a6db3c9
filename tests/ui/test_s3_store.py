"""The UI over an S3 store (moto's S3 server on loopback): the same pages as over a folder."""

import json
import re

import boto3

from tests.ui.conftest import PIPELINES, RealRuns, serve, stop
from tests.ui.http_client import request


def _upload(real_runs: RealRuns, bucket: str, endpoint: str, run_id: str) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    name = bucket.removeprefix("s3://")
    for folder in (
        real_runs.store / "runs" / "ui-strict" / run_id,
        real_runs.store / "artifacts" / run_id,
    ):
        for path in folder.rglob("*"):
            if path.is_file():
                key = str(path.relative_to(real_runs.store))
                body = path.read_bytes()
                if path.name == "run.json":
                    record = json.loads(body)
                    record["parameters"]["store"] = bucket
                    record["store"] = bucket
                    body = json.dumps(record).encode()
                s3.put_object(Bucket=name, Key=key, Body=body)


def test_pages_of_a_run_in_an_s3_store(
    real_runs: RealRuns, s3_bucket: str, s3_env: dict[str, str]
) -> None:
    record = real_runs.records["ui-strict"]
    run_id = record["run_id"]
    _upload(real_runs, s3_bucket, s3_env["AWS_ENDPOINT_URL"], run_id)
    served = serve(s3_bucket, PIPELINES)
    try:
        runs = request(f"{served.url}/pipelines/ui-strict")
        assert re.findall(r'<tr data-run="([^"]+)">', runs.body) == [run_id]
        run = request(f"{served.url}/pipelines/ui-strict/runs/{run_id}")
        assert run.status == 200
        assert run.body.count('class="node status-omitted"') == 2
        step = request(f"{served.url}/pipelines/ui-strict/runs/{run_id}/steps/orders-checked")
        assert step.status == 200
        assert f"<code>{s3_bucket}/artifacts/{run_id}/orders-checked</code>" in step.body
        assert "12 rows quarantined; the first 12:" in step.body
        assert step.body.count('<td class="reason">') == 12
        log = real_runs.store / "runs" / "ui-strict" / run_id / "logs" / "orders-checked.log"
        last_line = log.read_text().strip().splitlines()[-1]
        assert last_line.replace("'", "&#39;") in step.body
    finally:
        stop(served)
