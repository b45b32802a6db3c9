"""S3 calls are bounded: a server that accepts and never answers fails the step, it never hangs."""

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_step


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A loopback port that accepts connections (the kernel's backlog) and never replies."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_a_silent_s3_server_fails_the_step_within_the_bounds(
    tmp_path: Path, silent_endpoint: str
) -> None:
    (tmp_path / "in.csv").write_text("id\n1\n")
    env = {
        "AWS_ENDPOINT_URL": silent_endpoint,
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_REGION": "us-east-1",
        "FERRY_S3_REQUEST_TIMEOUT": "1",
        "FERRY_S3_MAX_ATTEMPTS": "2",
        "FERRY_OUTPUTS_DIR": str(tmp_path / "outputs"),
    }
    started = time.monotonic()
    result = run_step(
        "extract-files",
        *("--pipeline", "p", "--step", "s", "--run-id", "r", "--store", "s3://bucket/store"),
        *("--output", "s3://bucket/store/artifacts/r/s"),
        *("--config", f'{{"path": "{tmp_path / "in.csv"}", "format": "csv"}}'),
        env=env,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert elapsed < 60
    assert result.stderr.strip().splitlines()[-1].startswith("ferry: pipeline 'p', step 's': ")


def test_a_bad_bound_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from steps.runtime.errors import StepUsageError
    from steps.runtime.store import s3_filesystem

    monkeypatch.setenv("FERRY_S3_REQUEST_TIMEOUT", "soon")
    s3_filesystem.cache_clear()
    try:
        with pytest.raises(StepUsageError) as info:
            s3_filesystem()
    finally:
        s3_filesystem.cache_clear()
    assert str(info.value) == (
        "$FERRY_S3_REQUEST_TIMEOUT is 'soon', not a positive number; seconds a request may "
        "wait for the next bytes (default 60)"
    )
