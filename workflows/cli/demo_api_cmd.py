"""``ferry demo-api``: serve the deterministic orders API of the demo pipeline."""

import os

import click

from workflows.errors import UsageError


@click.command("demo-api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--orders",
    default=500,
    show_default=True,
    type=click.IntRange(0, 10_000_000),
    help="Number of orders served.",
)
@click.option(
    "--seed", default=7, show_default=True, type=int, help="Seed of the generated orders."
)
def demo_api(host: str, port: int, orders: int, seed: int) -> None:
    """Serve a small deterministic orders API (paged JSON) until Ctrl-C.

    GET /orders?updated_since=ISO&page=N&per_page=M answers {"data": [...], "next": URL}.
    With FERRY_DEMO_API_TOKEN set, requests need "Authorization: Bearer <token>".

    \b
    Example:
      FERRY_DEMO_API_TOKEN=demo-token ferry demo-api --port 8765 --orders 1000
      curl -H 'Authorization: Bearer demo-token' 'http://127.0.0.1:8765/orders?per_page=2'
    """  # noqa: D301 - click needs the real \b (backspace) marker
    from workflows.demo_api import TOKEN_ENV, make_server

    token = os.environ.get(TOKEN_ENV) or None
    try:
        server = make_server(host, port, orders=orders, seed=seed, token=token)
    except OSError as err:
        raise UsageError(
            f"demo-api cannot listen on {host}:{port}: {err.strerror}; pick another --port"
        ) from None
    auth = f"bearer token from {TOKEN_ENV} required" if token else f"no auth ({TOKEN_ENV} unset)"
    click.echo(f"serving {orders} orders at {server.base_url}/orders, {auth}; Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("demo-api stopped")
    finally:
        server.server_close()
