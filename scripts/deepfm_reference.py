#!/usr/bin/env python3
"""Independent NumPy reference for the DeepFM forward pass (shared/spec/deepfm.md).

Writes small test fixtures under Tests/Fixtures/Inference/<case>/:
  pipeline.config               a placeholder comment (the structure is in model.json)
  model.json                    structure (columns, groups, layers) for the Swift test to build a ModelSpec
  DENSE_UPDATE_VARIABLES        {"<name>": id}   (names/ids derived here independently)
  embed_name_to_ids.txt         "<name>\t<id>"
  variables/dense/<id>.npy      dense variables, <f4, real shapes
  embeddings/<id>.npy           fixed tables [rows, dim]
  embeddings/<id>.keys.npy/.values.npy   key-value tables
  batch.json                    per column CSR offsets/ids/weights
  expected.json                 logits and probs computed here in float64 from the float32 parameters

Run: python3 scripts/deepfm_reference.py   (numpy only; deterministic)
"""
import json
import os
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "Inference")

COLUMNS = [
    # name, kind, size (rows; None = key-value), dim, combiner, embedding_name
    dict(name="user_id", kind="hashed", size=40, dim=4, combiner="sum", embedding_name=None),
    dict(name="item_id", kind="keyValue", size=None, dim=4, combiner="mean", embedding_name=None),
    dict(name="tags", kind="hashed", size=30, dim=4, combiner="sqrtn", embedding_name=None),
    dict(name="price", kind="boundaries", size=4, boundaries=[1.0, 5.0, 10.0], dim=4, combiner="sum", embedding_name=None),
    dict(name="cat", kind="identity", size=10, dim=4, combiner="mean", embedding_name="cat_shared"),
    dict(name="cat2", kind="identity", size=10, dim=4, combiner="mean", embedding_name="cat_shared"),
    dict(name="score", kind="raw", size=3, dim=4, combiner="sum", embedding_name="only_one_user"),
]
WIDE = [0, 1, 3, 4, 5]
DEEP = [0, 1, 2, 3, 4, 5, 6]
EPS = 1e-3


def table_name(cols, i, part):
    """deepfm.md / formats.md naming; embedding_name shared by >= 2 columns shares a table."""
    c = cols[i]
    shared = c["embedding_name"]
    if shared is not None and sum(1 for x in cols if x["embedding_name"] == shared) >= 2:
        return "input_layer/%s_wide" % shared if part == "wide" else "input_layer_1/%s" % shared
    return ("input_layer/" if part == "wide" else "input_layer_1/") + c["name"] + "_embedding"


def build_names(case):
    tables = []  # (name, part, column, dim, rows)
    seen = set()
    for part, group, width in (("wide", WIDE, case["wide_output_dim"]), ("deep", DEEP, 4)):
        for i in group:
            n = table_name(COLUMNS, i, part)
            if n in seen:
                continue
            seen.add(n)
            tables.append((n, part, i, width, COLUMNS[i]["size"]))
    dense = []  # (name, shape)

    def dnn(scope, inp, hidden, bn):
        w = inp
        for i, u in enumerate(hidden):
            dense.append(("%s/dnn_%d/kernel" % (scope, i), [w, u]))
            dense.append(("%s/dnn_%d/bias" % (scope, i), [u]))
            if bn:
                for v in ("gamma", "beta", "moving_mean", "moving_variance"):
                    dense.append(("%s/dnn_%d/bn/%s" % (scope, i, v), [u]))
            w = u
        return w

    d = 4
    out = dnn("deep_feature", len(DEEP) * d, case["dnn"], case["dnn_bn"])
    if case["final_dnn"] is not None:
        out2 = dnn("final_dnn", 1 + d + out, case["final_dnn"], case["final_bn"])
        dense.append(("output/kernel", [out2, 1]))
        dense.append(("output/bias", [1]))
    else:
        dense.append(("deep_logits/kernel", [out, 1]))
        dense.append(("deep_logits/bias", [1]))
    return tables, dense


def make_batch(rng, kv_keys):
    """B items; each column CSR. Some items miss some features; weights vary."""
    B = 7
    cols = []
    for ci, c in enumerate(COLUMNS):
        offsets, ids, weights = [0], [], []
        for b in range(B):
            if c["kind"] == "keyValue":
                n = [1, 2, 0, 1, 3, 1, 2][b]
                for k in range(n):
                    if (b + k) % 4 == 3:
                        ids.append(987654321012345 + b)  # absent key -> zero row, weight counts
                    else:
                        ids.append(int(kv_keys[(b * 3 + k) % len(kv_keys)]))
                    weights.append(1.0 if k % 2 == 0 else 0.5)
            elif c["kind"] == "raw":
                for k in range(c["size"]):
                    ids.append(k)
                    weights.append(float(np.float32(rng.normal())))
            else:
                n = [1, 3, 0, 2, 1, 4, 2][(b + ci) % 7]
                if c["name"] == "user_id":
                    n = 1 if b != 2 else 0
                for k in range(n):
                    ids.append(int(rng.integers(0, c["size"])))
                    w = 1.0 if c["name"] in ("user_id", "price") else float(np.float32(rng.uniform(0.2, 2.0)))
                    weights.append(w)
            offsets.append(len(ids))
        cols.append(dict(offsets=offsets, ids=ids, weights=weights))
    return B, cols


def combine(table_lookup, col, b, dim, combiner):
    lo, hi = col["offsets"][b], col["offsets"][b + 1]
    acc = np.zeros(dim, dtype=np.float64)
    wsum = 0.0
    wsq = 0.0
    for e in range(lo, hi):
        w = np.float64(np.float32(col["weights"][e]))
        wsum += w
        wsq += w * w
        row = table_lookup(col["ids"][e])
        if row is not None:
            acc += w * row.astype(np.float64)
    if combiner == "sum":
        return acc
    denom = wsum if combiner == "mean" else np.sqrt(wsq)
    return acc / denom if denom != 0 else np.zeros(dim)


def forward(case, tables, dense, tvals, dvals, B, cols):
    d = 4
    name_to_dense = {n: dvals[i] for i, (n, _) in enumerate(dense)}
    tid = {t[0]: i for i, t in enumerate(tables)}

    def lookup_fn(i):
        vals = tvals[i]
        if isinstance(vals, tuple):
            keys, values = vals
            index = {int(k): r for r, k in enumerate(keys)}
            return lambda key: values[index[key]] if key in index else None
        return lambda key: vals[key]

    wide = np.zeros(B)
    for i in WIDE:
        t = tid[table_name(COLUMNS, i, "wide")]
        f = lookup_fn(t)
        for b in range(B):
            wide[b] += combine(f, cols[i], b, case["wide_output_dim"], "sum").sum()
    V = np.zeros((B, len(DEEP), d))
    for j, i in enumerate(DEEP):
        t = tid[table_name(COLUMNS, i, "deep")]
        f = lookup_fn(t)
        for b in range(B):
            V[b, j] = combine(f, cols[i], b, d, COLUMNS[i]["combiner"])
    fm = 0.5 * (V.sum(axis=1) ** 2 - (V ** 2).sum(axis=1))  # [B, D]

    def dnn(scope, x, hidden, bn):
        for i in range(len(hidden)):
            p = "%s/dnn_%d/" % (scope, i)
            z = x @ name_to_dense[p + "kernel"].astype(np.float64) + name_to_dense[p + "bias"]
            if bn:
                z = (z - name_to_dense[p + "bn/moving_mean"]) / np.sqrt(name_to_dense[p + "bn/moving_variance"].astype(np.float64) + EPS) \
                    * name_to_dense[p + "bn/gamma"] + name_to_dense[p + "bn/beta"]
            x = np.maximum(z, 0.0)
        return x

    deep = dnn("deep_feature", V.reshape(B, -1), case["dnn"], case["dnn_bn"])
    if case["final_dnn"] is not None:
        x = np.concatenate([wide[:, None], fm, deep], axis=1)
        x = dnn("final_dnn", x, case["final_dnn"], case["final_bn"])
        logits = (x @ name_to_dense["output/kernel"].astype(np.float64))[:, 0] + name_to_dense["output/bias"][0]
    else:
        logits = wide + fm.sum(axis=1) + (deep @ name_to_dense["deep_logits/kernel"].astype(np.float64))[:, 0] \
            + name_to_dense["deep_logits/bias"][0]
    probs = 1.0 / (1.0 + np.exp(-logits))
    return logits, probs


def write_case(case):
    rng = np.random.default_rng(case["seed"])
    out = os.path.join(ROOT, case["name"])
    os.makedirs(os.path.join(out, "variables", "dense"), exist_ok=True)
    os.makedirs(os.path.join(out, "embeddings"), exist_ok=True)
    tables, dense = build_names(case)
    tvals = []
    kv_keys = None
    for i, (n, part, col, dim, rows) in enumerate(tables):
        if rows is None:
            keys = np.array([(1 << 40) + 7919 * k for k in range(12)], dtype=np.int64)
            keys = rng.permutation(keys).astype(np.int64)
            kv_keys = keys if kv_keys is None else kv_keys
            values = rng.normal(0, 0.5, size=(len(keys), dim)).astype(np.float32)
            np.save(os.path.join(out, "embeddings", "%d.keys.npy" % i), keys)
            np.save(os.path.join(out, "embeddings", "%d.values.npy" % i), values)
            tvals.append((keys, values))
        else:
            values = rng.normal(0, 0.5, size=(rows, dim)).astype(np.float32)
            np.save(os.path.join(out, "embeddings", "%d.npy" % i), values)
            tvals.append(values)
    dvals = []
    for i, (n, shape) in enumerate(dense):
        if n.endswith("moving_variance"):
            v = rng.uniform(0.5, 1.5, size=shape)
        elif n.endswith("gamma"):
            v = rng.uniform(0.8, 1.2, size=shape)
        else:
            v = rng.normal(0, 0.3, size=shape)
        v = v.astype(np.float32)
        np.save(os.path.join(out, "variables", "dense", "%d.npy" % i), v)
        dvals.append(v)
    with open(os.path.join(out, "DENSE_UPDATE_VARIABLES"), "w") as f:
        json.dump({n: i for i, (n, _) in enumerate(dense)}, f, indent=1)
    with open(os.path.join(out, "embed_name_to_ids.txt"), "w") as f:
        for i, t in enumerate(tables):
            f.write("%s\t%d\n" % (t[0], i))
    B, cols = make_batch(rng, kv_keys)
    logits, probs = forward(case, tables, dense, tvals, dvals, B, cols)
    model = dict(columns=COLUMNS, wide=WIDE, deep=DEEP, wide_output_dim=case["wide_output_dim"],
                 dnn=case["dnn"], final_dnn=case["final_dnn"], dnn_bn=case["dnn_bn"], final_bn=case["final_bn"])
    with open(os.path.join(out, "pipeline.config"), "w") as f:
        f.write("# test fixture: the model structure is in model.json\n")
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(model, f, indent=1)
    with open(os.path.join(out, "batch.json"), "w") as f:
        json.dump(dict(batch_size=B, columns=cols), f)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(dict(logits=[float(x) for x in logits], probs=[float(x) for x in probs]), f, indent=1)
    print(case["name"], "probs", np.round(probs, 6))


CASES = [
    dict(name="deepfm_final", seed=7, wide_output_dim=3, dnn=[16, 8], final_dnn=[8], dnn_bn=True, final_bn=True),
    dict(name="deepfm_nofinal", seed=11, wide_output_dim=1, dnn=[16, 8], final_dnn=None, dnn_bn=False, final_bn=True),
]

if __name__ == "__main__":
    for c in CASES:
        write_case(c)
