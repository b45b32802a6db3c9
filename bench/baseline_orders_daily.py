"""The ``orders-daily`` work as one hand-written DuckDB script: the pipeline benchmark's baseline.

It does what the pipeline does, without artifacts between steps: reads the orders
CSVs typed, keeping every rejected line (file, line number, raw text); applies the
same eight rules with a reason per failing row (the first occurrence of an
``order_id`` passes, later ones fail); joins the customers; aggregates per order
date, country, status and currency; and writes the result as Parquet partitioned by
``order_date``, plus the rejected lines and rows as Parquet, as the pipeline keeps them.

Usage: ``python -m bench.baseline_orders_daily DATA_DIR OUT_DIR``
"""

import sys
from pathlib import Path

import duckdb

COLUMNS = (
    "{'order_id': 'BIGINT', 'customer_id': 'BIGINT', 'order_ts': 'TIMESTAMP', "
    "'status': 'VARCHAR', 'amount': 'DOUBLE', 'currency': 'VARCHAR', 'email': 'VARCHAR'}"
)

REASON_SQL = """\
concat_ws('; ',
    CASE WHEN o.order_id IS NULL THEN 'not_null(order_id)' END,
    CASE WHEN o.customer_id IS NULL THEN 'not_null(customer_id)' END,
    CASE WHEN o.amount IS NULL THEN 'not_null(amount)' END,
    CASE WHEN d.first_row <> o.rowid THEN 'unique(order_id)' END,
    CASE WHEN o.status NOT IN ('placed', 'shipped', 'delivered', 'cancelled', 'returned')
        THEN 'accepted_values(status)' END,
    CASE WHEN NOT (o.amount >= 0 AND o.amount <= 100000) THEN 'range(amount)' END,
    CASE WHEN NOT regexp_matches(o.email, '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$') THEN 'regex(email)' END,
    CASE WHEN o.currency NOT IN ('EUR', 'USD', 'GBP') THEN 'accepted_values(currency)' END
)"""
"""The eight rules of ``orders-checked``, each failing one naming itself, as the checks do."""


def run(data_dir: Path, out_dir: Path) -> None:
    """Read, check, join, aggregate and write ``orders-daily``'s output under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"memory_limit": "1GB", "temp_directory": str(out_dir / "tmp")})
    # a table keeps the files' row order in its rowid: the input order `unique` goes by
    con.execute(
        f"""CREATE TEMP TABLE orders AS
        SELECT * FROM read_csv('{data_dir}/orders/*.csv', header = true, columns = {COLUMNS},
            store_rejects = true, auto_detect = false)"""
    )
    con.execute(
        f"""COPY (
            SELECT s.file_path AS file, e.line, string_agg(e.error_message, '; ') AS reason,
                any_value(e.csv_line) AS raw
            FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id)
            GROUP BY ALL
        ) TO '{out_dir}/rejected_lines.parquet'"""
    )
    con.execute(
        "CREATE TEMP TABLE first_rows AS SELECT order_id, min(rowid) AS first_row "
        "FROM orders WHERE order_id IS NOT NULL GROUP BY order_id HAVING count(*) > 1"
    )
    con.execute(
        f"""CREATE TEMP TABLE judged AS SELECT o.*, {REASON_SQL} AS reason
        FROM orders o LEFT JOIN first_rows d ON d.order_id = o.order_id"""
    )
    con.execute(
        f"COPY (SELECT * FROM judged WHERE reason <> '') TO '{out_dir}/rejected_rows.parquet'"
    )
    con.execute(
        f"""COPY (
            SELECT cast(o.order_ts AS date) AS order_date,
                coalesce(c.country, 'unknown') AS country, o.status, o.currency,
                count(*) AS orders, sum(o.amount) AS revenue
            FROM judged o
            LEFT JOIN '{data_dir}/customers/*.parquet' c ON c.customer_id = o.customer_id
            WHERE o.reason = ''
            GROUP BY ALL ORDER BY ALL
        ) TO '{out_dir}/daily_revenue' (FORMAT parquet, PARTITION_BY (order_date))"""
    )
    con.close()


def main(argv: list[str]) -> int:
    """Entry point: ``DATA_DIR OUT_DIR``."""
    if len(argv) != 2:
        print("usage: python -m bench.baseline_orders_daily DATA_DIR OUT_DIR", file=sys.stderr)
        return 2
    run(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
