"""The UI mounted at ``/`` of another Starlette app, as ``ferry serve`` mounts it."""

import re
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from tests.ui.conftest import PIPELINES, RealRuns, serve_app, stop
from tests.ui.http_client import request
from workflows.ui import create_ui_app


@pytest.fixture(scope="module")
def mounted(real_runs: RealRuns) -> Iterator[str]:
    async def healthz(_: Request) -> PlainTextResponse:
        return PlainTextResponse("ok\n")

    outer = Starlette(
        routes=[
            Route("/healthz", healthz),
            Mount("/", app=create_ui_app(str(real_runs.store), PIPELINES)),
        ]
    )
    served = serve_app(outer)
    try:
        yield served.url
    finally:
        stop(served)


def test_the_mounted_ui_links_to_its_own_pages_and_assets(
    mounted: str, real_runs: RealRuns
) -> None:
    assert request(f"{mounted}/healthz").body == "ok\n"
    home = request(f"{mounted}/")
    assert home.status == 200
    links = re.findall(r'(?:href|src)="([^"]+)"', home.body)
    assert f"{mounted}/static/ui.css" in links
    assert f"{mounted}/static/ui.js" in links
    assert f"{mounted}/pipelines/ui-strict" in links
    for link in links:
        assert request(link).status == 200, link
    run_id = real_runs.records["ui-strict"]["run_id"]
    run = request(f"{mounted}/pipelines/ui-strict/runs/{run_id}")
    assert f'href="{mounted}/pipelines/ui-strict/runs/{run_id}/steps/orders-checked"' in run.body
    assert request(f"{mounted}/static/ui.js").headers["content-type"].startswith("text/javascript")
