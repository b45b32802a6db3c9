"""``extract-files``: CSV, JSON Lines or Parquet files, local or on S3, into an artifact."""
