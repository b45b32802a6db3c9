"""Upload a local folder to S3/MinIO (``scripts/kind.sh demo``).

Uses pyarrow's S3 filesystem, which the steps use too, configured from the standard
AWS variables. Usage: ``python scripts/s3_upload.py LOCAL_DIR BUCKET/PREFIX``.
"""

import os
import sys

from pyarrow import fs


def main() -> None:
    """Copy every file under LOCAL_DIR to BUCKET/PREFIX, creating the bucket if needed."""
    if len(sys.argv) != 3:
        raise SystemExit("usage: python scripts/s3_upload.py LOCAL_DIR BUCKET/PREFIX")
    local, target = sys.argv[1], sys.argv[2].strip("/")
    s3 = fs.S3FileSystem(
        endpoint_override=os.environ.get("AWS_ENDPOINT_URL"),
        region=os.environ.get("AWS_REGION", "us-east-1"),
        allow_bucket_creation=True,
    )
    s3.create_dir(target.split("/", 1)[0])
    fs.copy_files(local, target, source_filesystem=fs.LocalFileSystem(), destination_filesystem=s3)
    print(f"s3_upload: {local} -> s3://{target}")


if __name__ == "__main__":
    main()
