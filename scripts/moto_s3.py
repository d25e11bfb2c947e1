#!/usr/bin/env python3
"""A local S3-compatible server for odl's tests and bench: moto in server mode on 127.0.0.1.

Signature checking is ON: moto checks SigV4 signatures and IAM policies once
INITIAL_NO_AUTH_ACTION_COUNT requests have been served. This script spends exactly those
requests creating an IAM user, its access key and an allow-all-S3 policy, then creates the
bucket with that key. Every later request must be signed with that key: a wrong secret key
gets 403 SignatureDoesNotMatch.

Prints one JSON line {"endpoint", "ak", "sk", "bucket", "pid"} and serves until SIGTERM or
SIGINT, or until its parent process is gone (so a crashed test leaves no server behind).

Fault injection for tests (only when set): MOTO_HOLD_PARTS="killed/:3,stalled/:2" holds the first
UploadPart request whose path contains the text and whose partNumber is the number. The held
request is never answered while the server runs (the client sees a stalled server, and the upload
cannot complete however fast the client is); a line {"held": <path>, "part": <n>} is printed
when it arrives, so a test can act while that upload is known to be in flight.
"""
import json
import os
import signal
import socket
import sys
import threading
import urllib.parse

# Requests served before authentication is enforced: create_user, create_access_key, put_user_policy.
NO_AUTH_REQUESTS = 3
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(NO_AUTH_REQUESTS)

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402


class HoldParts:
    """WSGI middleware: holds the first UploadPart request matching each MOTO_HOLD_PARTS rule."""

    def __init__(self, app, spec: str) -> None:
        self.app = app
        self.rules = []  # [path text, part number, used]
        for item in filter(None, (x.strip() for x in spec.split(","))):
            text, _, part = item.rpartition(":")
            if not text or not part.isdigit():
                raise SystemExit(f"MOTO_HOLD_PARTS: expected <path text>:<part number>, got {item!r}")
            self.rules.append([text, part, False])
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def __call__(self, environ, start_response):
        if self.rules and environ.get("REQUEST_METHOD") == "PUT":
            query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
            part = (query.get("partNumber") or [None])[0]
            path = environ.get("PATH_INFO", "")
            if part is not None and "uploadId" in query:
                with self.lock:
                    rule = next((r for r in self.rules if not r[2] and r[0] in path and r[1] == part), None)
                    if rule:
                        rule[2] = True
                if rule:
                    print(json.dumps({"held": path, "part": int(part)}), flush=True)
                    self.stopping.wait()
                    start_response("503 Service Unavailable", [("Content-Length", "0")])
                    return [b""]
        return self.app(environ, start_response)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    bucket = sys.argv[1] if len(sys.argv) > 1 else "odl-test"
    port = int(os.environ.get("MOTO_PORT", "0")) or free_port()
    app = HoldParts(DomainDispatcherApplication(create_backend_app), os.environ.get("MOTO_HOLD_PARTS", ""))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
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
    app.stopping.set()
    server.shutdown()


if __name__ == "__main__":
    main()
