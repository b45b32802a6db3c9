"""``load-parquet``: an artifact into a (Hive-partitioned) Parquet dataset, local or on S3."""
