"""A fanned-out step's page lists its partitions, each with its item, status and rows."""

import html
import json
import re
from pathlib import Path

from tests.e2e.ferry_cli import EXAMPLES, ferry
from tests.ui.conftest import serve, stop
from tests.ui.http_client import request
from workflows.demo_data import generate


def test_the_partitions_of_a_step_are_shown_with_their_records(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(data, 2_000)
    result = ferry(
        "run", "orders-partitioned", "--pipelines", EXAMPLES, "-p", f"data_dir={data}",
        "-p", f"output_dir={tmp_path / 'out'}", "--store", "store", "--output", "json",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    orders = next(t for t in record["tasks"] if t["name"] == "orders")

    served = serve(tmp_path / "store", EXAMPLES)
    try:
        page = request(
            f"{served.url}/pipelines/orders-partitioned/runs/{record['run_id']}/steps/orders"
        )
    finally:
        stop(served)

    assert page.status == 200
    table = page.body[page.body.index('id="partitions"') :].split("</table>")[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td><code>(.*?)</code></td>.*?</tr>", table)
    assert [(html.unescape(n), html.unescape(i)) for n, i in rows] == [
        (p["name"], p["item"]) for p in orders["partitions"]
    ]
    assert len(rows) == 4
    for partition in orders["partitions"]:
        assert f"{partition['rows_out']:,}" in table
