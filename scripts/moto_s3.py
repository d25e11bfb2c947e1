#!/usr/bin/env python3
"""A local S3-compatible server for odl's tests and bench: moto in server mode on 127.0.0.1.

Signature checking is ON: moto checks SigV4 signatures and IAM policies once
INITIAL_NO_AUTH_ACTION_COUNT requests have been served. This script spends exactly those
requests creating an IAM user, its access key and an allow-all-S3 policy, then creates the
bucket with that key. Every later request must be signed with that key: a wrong secret key
gets 403 SignatureDoesNotMatch.

Prints one JSON line {"endpoint", "ak", "sk", "bucket", "pid"} and serves until SIGTERM or
SIGINT, or until its parent process is gone (so a crashed test leaves no server behind).
"""
import json
import os
import signal
import socket
import sys
import threading

# Requests served before authentication is enforced: create_user, create_access_key, put_user_policy.
NO_AUTH_REQUESTS = 3
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(NO_AUTH_REQUESTS)

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    bucket = sys.argv[1] if len(sys.argv) > 1 else "odl-test"
    port = int(os.environ.get("MOTO_PORT", "0")) or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    cfg = Config(retries={"max_attempts": 1})
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="setup", aws_secret_access_key="setup", config=cfg)
    iam.create_user(UserName="odl")
    key = iam.create_access_key(UserName="odl")["AccessKey"]
    iam.put_user_policy(UserName="odl", PolicyName="s3-all", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], config=cfg)
    s3.create_bucket(Bucket=bucket)
    print(json.dumps({"endpoint": endpoint, "ak": key["AccessKeyId"], "sk": key["SecretAccessKey"],
                      "bucket": bucket, "pid": os.getpid()}), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    parent = os.getppid()
    while not done.wait(1.0):
        if os.getppid() != parent:
            break
    server.stop()


if __name__ == "__main__":
    main()
