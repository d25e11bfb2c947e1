#!/usr/bin/env python3
"""The peer of odl's object-store transfers in `make bench`: boto3's transfer manager (what
`aws s3 cp --recursive` uses) moving the same folder to/from the same S3 server, with the same
part size and concurrency as odl (16 MiB parts, 4 at a time). Prints one JSON line."""
import argparse
import json
import os
import time

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["upload", "download", "delete"], required=True)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--ak", required=True)
    ap.add_argument("--sk", required=True)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--local", required=True)
    a = ap.parse_args()
    s3 = boto3.client("s3", endpoint_url=a.endpoint, region_name="us-east-1", aws_access_key_id=a.ak,
                      aws_secret_access_key=a.sk, config=Config(max_pool_connections=16))
    cfg = TransferConfig(multipart_threshold=16 << 20, multipart_chunksize=16 << 20, max_concurrency=4)
    t = time.monotonic()
    total = 0
    if a.mode == "upload":
        for d, _, files in os.walk(a.local):
            for f in files:
                path = os.path.join(d, f)
                s3.upload_file(path, a.bucket, a.prefix + "/" + os.path.relpath(path, a.local), Config=cfg)
                total += os.path.getsize(path)
    else:
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=a.bucket, Prefix=a.prefix + "/"):
            keys += [(o["Key"], o["Size"]) for o in page.get("Contents", [])]
        for key, size in keys:
            if a.mode == "delete":
                s3.delete_object(Bucket=a.bucket, Key=key)
                continue
            path = os.path.join(a.local, key[len(a.prefix) + 1:])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            s3.download_file(a.bucket, key, path, Config=cfg)
            total += size
    print(json.dumps({"bytes": total, "seconds": time.monotonic() - t, "mode": a.mode}))


if __name__ == "__main__":
    main()
