#!/usr/bin/env python3
"""Calls a running `odl serve` with the unchanged Alibaba EAS Python SDK (pip install eas-prediction)
and prints one JSON line: {"item_ids": [...], "outputs": [...], "scores": {item: ["repr of each double", ...]}}.

Usage: eas_client_check.py ENDPOINT SERVICE_NAME [TOKEN]
Exit 3 when the SDK is not installed (the Swift test then skips with that message)."""
import json
import sys

try:
    from eas_prediction import PredictClient
    from eas_prediction.easyrec_request import EasyRecRequest
    from eas_prediction.easyrec_predict_pb2 import PBFeature, PBRequest
except ImportError as e:  # pragma: no cover
    print("eas-prediction is not installed: %s" % e, file=sys.stderr)
    sys.exit(3)


def main():
    endpoint, service = sys.argv[1], sys.argv[2]
    token = sys.argv[3] if len(sys.argv) > 3 else ""
    client = PredictClient(endpoint, service)
    if token:
        client.set_token(token)
    client.init()

    req = PBRequest()
    req.user_features["user_id"].string_feature = "u42"
    req.user_features["tags"].string_feature = "a\x1db\x1dc"
    req.item_ids.extend(["i1", "i2", "i3"])
    for value in ["books", "toys", "books"]:
        f = PBFeature()
        f.string_feature = value
        req.context_features["category"].features.append(f)
    for value in [0.5, 7, 120]:
        f = PBFeature()
        f.float_feature = value
        req.context_features["price"].features.append(f)

    request = EasyRecRequest()
    request.add_feed(req, debug_level=0)
    response = client.predict(request)
    print(json.dumps({
        "item_ids": list(response.item_ids),
        "outputs": list(response.outputs),
        "scores": {k: [repr(s) for s in v.scores] for k, v in response.results.items()},  # exact round trip
    }))


if __name__ == "__main__":
    main()
