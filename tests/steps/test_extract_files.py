from tests.conftest import run_step


def test_import() -> None:
    assert run_step
