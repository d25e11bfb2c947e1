#!/usr/bin/env python3
"""ONNX Runtime peer of odl's DeepFM forward (benchmark 1 of `make bench`).

Builds the identical DeepFM (shared/spec/deepfm.md: wide sum, FM, DNN with BN at inference,
final_dnn, output, sigmoid) as an ONNX graph from an export folder's .npy files
(formats.md section 2), checks that ONNX Runtime, a NumPy reference and `odl bench forward`
agree on the same bucket ids, then measures items/s at several batch sizes, alternating
ORT and odl repetitions in this one invocation. Prints one JSON object on stdout.

Input convention (shared with `odl bench forward`): an int64 .npy [B, F] whose column k holds
the row id of the k-th deep feature (the k-th `input_layer_1/...` table by embedding id).
Every deep feature is also a wide feature here (the bench model).

Graph choices (the fastest honest graph for ORT): the per-feature tables are concatenated
into one [sum rows, D] table (and one [sum rows, 1] wide table) gathered once with per-feature
row offsets; batch norm is folded into the preceding MatMul's kernel and bias (exact up to
float rounding, as any inference engine does).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def load_npy(path):
    if os.path.exists(path):
        return np.load(path)
    if os.path.exists(path + ".gz"):
        import gzip
        import io
        with gzip.open(path + ".gz", "rb") as f:
            return np.load(io.BytesIO(f.read()))
    raise FileNotFoundError(path)


def resolve_version_dir(path):
    if os.path.exists(os.path.join(path, "DENSE_UPDATE_VARIABLES")):
        return path
    versions = [d for d in os.listdir(path) if d.isdigit() and os.path.isdir(os.path.join(path, d))]
    if not versions:
        raise SystemExit(f"{path}: no export version folder")
    return os.path.join(path, max(versions, key=int))


class ExportModel:
    """Parameters of an exported DeepFM, by EasyRec name."""

    def __init__(self, export_dir):
        self.dir = resolve_version_dir(export_dir)
        with open(os.path.join(self.dir, "DENSE_UPDATE_VARIABLES")) as f:
            dense_ids = json.load(f)
        self.dense = {name: load_npy(os.path.join(self.dir, "variables", "dense", f"{i}.npy")).astype(np.float32)
                      for name, i in dense_ids.items()}
        tables = []
        with open(os.path.join(self.dir, "embed_name_to_ids.txt")) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                name, i = line.rsplit("\t", 1)
                tables.append((int(i), name))
        tables.sort()
        self.wide = {}
        self.deep_order = []
        self.deep = {}
        for i, name in tables:
            scope, base = name.split("/", 1)
            feature = base[:-len("_embedding")] if base.endswith("_embedding") else base
            values = load_npy(os.path.join(self.dir, "embeddings", f"{i}.npy")).astype(np.float32)
            if scope == "input_layer":
                self.wide[feature] = values
            elif scope == "input_layer_1":
                self.deep[feature] = values
                self.deep_order.append(feature)
            else:
                raise SystemExit(f"{name}: unknown embedding scope")
        for f in self.wide:
            if f not in self.deep:
                raise SystemExit(f"wide-only feature {f}: the bench convention needs every wide feature deep too")
        self.dim = self.deep[self.deep_order[0]].shape[1]

    def layers(self, scope):
        out = []
        i = 0
        while f"{scope}/dnn_{i}/kernel" in self.dense:
            p = f"{scope}/dnn_{i}"
            w = self.dense[p + "/kernel"]
            b = self.dense[p + "/bias"]
            if p + "/bn/gamma" in self.dense:
                g, beta = self.dense[p + "/bn/gamma"], self.dense[p + "/bn/beta"]
                mean, var = self.dense[p + "/bn/moving_mean"], self.dense[p + "/bn/moving_variance"]
                bn = (g, beta, mean, var)
            else:
                bn = None
            out.append((w, b, bn))
            i += 1
        return out

    # NumPy reference, literally as deepfm.md says (no folding).
    def reference(self, ids):
        ids = np.asarray(ids, dtype=np.int64)
        B = ids.shape[0]
        V = np.stack([self.deep[f][ids[:, k]] for k, f in enumerate(self.deep_order)], axis=1)  # [B,F,D]
        wide = np.zeros((B, 1), np.float32)
        for k, f in enumerate(self.deep_order):
            if f in self.wide:
                wide += self.wide[f][ids[:, k]].sum(axis=1, keepdims=True)
        s = V.sum(axis=1)
        fm = 0.5 * (s * s - (V * V).sum(axis=1))
        x = V.reshape(B, -1)

        def dnn(x, layers):
            for w, b, bn in layers:
                x = x @ w + b
                if bn is not None:
                    g, beta, mean, var = bn
                    x = (x - mean) / np.sqrt(var + 1e-3) * g + beta
                x = np.maximum(x, 0)
            return x

        deep = dnn(x, self.layers("deep_feature"))
        if "output/kernel" in self.dense:
            h = dnn(np.concatenate([wide, fm, deep], axis=1), self.layers("final_dnn"))
            logits = (h @ self.dense["output/kernel"] + self.dense["output/bias"])[:, 0]
        else:
            logits = wide[:, 0] + fm.sum(axis=1) + (deep @ self.dense["deep_logits/kernel"] + self.dense["deep_logits/bias"])[:, 0]
        return 1 / (1 + np.exp(-logits.astype(np.float64)))


def build_onnx(model):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    feats = model.deep_order
    F, D = len(feats), model.dim
    rows = [model.deep[f].shape[0] for f in feats]
    offsets = np.cumsum([0] + rows[:-1]).astype(np.int64)
    const("deep_table", np.concatenate([model.deep[f] for f in feats], axis=0))
    wide_parts = [model.wide[f] if f in model.wide else np.zeros((model.deep[f].shape[0], 1), np.float32) for f in feats]
    wide_width = wide_parts[0].shape[1]
    const("wide_table", np.concatenate(wide_parts, axis=0))
    const("row_offsets", offsets.reshape(1, F))
    nodes.append(helper.make_node("Add", ["ids", "row_offsets"], ["rows"]))
    nodes.append(helper.make_node("Gather", ["deep_table", "rows"], ["V"], axis=0))        # [B,F,D]
    nodes.append(helper.make_node("Gather", ["wide_table", "rows"], ["Wg"], axis=0))       # [B,F,w]
    const("axis1", np.array([1], np.int64))
    const("axes12", np.array([1, 2], np.int64))
    nodes.append(helper.make_node("ReduceSum", ["Wg", "axes12" if wide_width == 1 else "axis1"], ["wide"], keepdims=0 if wide_width != 1 else 1))
    if wide_width == 1:
        const("shape_b1", np.array([-1, 1], np.int64))
        nodes.append(helper.make_node("Reshape", ["wide", "shape_b1"], ["wide2"]))
        wide_out = "wide2"
    else:
        wide_out = "wide"
    # FM
    nodes.append(helper.make_node("ReduceSum", ["V", "axis1"], ["S"], keepdims=0))
    nodes.append(helper.make_node("Mul", ["S", "S"], ["S2"]))
    nodes.append(helper.make_node("Mul", ["V", "V"], ["VV"]))
    nodes.append(helper.make_node("ReduceSum", ["VV", "axis1"], ["Q"], keepdims=0))
    nodes.append(helper.make_node("Sub", ["S2", "Q"], ["Dif"]))
    const("half", np.array(0.5, np.float32))
    nodes.append(helper.make_node("Mul", ["Dif", "half"], ["fm"]))
    const("shape_bfd", np.array([-1, F * D], np.int64))
    nodes.append(helper.make_node("Reshape", ["V", "shape_bfd"], ["x0"]))

    def dnn(x, scope):
        for i, (w, b, bn) in enumerate(model.layers(scope)):
            if bn is not None:
                g, beta, mean, var = bn
                a = g / np.sqrt(var + np.float32(1e-3))
                w = w * a[None, :]
                b = b * a + (beta - mean * a)
            wn = const(f"{scope}_{i}_w", w.astype(np.float32))
            bnm = const(f"{scope}_{i}_b", b.astype(np.float32))
            nodes.append(helper.make_node("Gemm", [x, wn, bnm], [f"{scope}_{i}_z"]))
            nodes.append(helper.make_node("Relu", [f"{scope}_{i}_z"], [f"{scope}_{i}_a"]))
            x = f"{scope}_{i}_a"
        return x

    deep = dnn("x0", "deep_feature")
    if "output/kernel" in model.dense:
        nodes.append(helper.make_node("Concat", [wide_out, "fm", deep], ["head_in"], axis=1))
        h = dnn("head_in", "final_dnn")
        const("out_w", model.dense["output/kernel"])
        const("out_b", model.dense["output/bias"])
        nodes.append(helper.make_node("Gemm", [h, "out_w", "out_b"], ["logit2"]))
    else:
        const("dl_w", model.dense["deep_logits/kernel"])
        const("dl_b", model.dense["deep_logits/bias"])
        nodes.append(helper.make_node("Gemm", [deep, "dl_w", "dl_b"], ["dl"]))
        nodes.append(helper.make_node("ReduceSum", ["fm", "axis1"], ["fm_sum"], keepdims=1))
        nodes.append(helper.make_node("Add", [wide_out, "fm_sum"], ["wf"]))
        nodes.append(helper.make_node("Add", ["wf", "dl"], ["logit2"]))
    const("shape_b", np.array([-1], np.int64))
    nodes.append(helper.make_node("Reshape", ["logit2", "shape_b"], ["logits"]))
    nodes.append(helper.make_node("Sigmoid", ["logits"], ["probs"]))
    graph = helper.make_graph(
        nodes, "deepfm",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["B", F])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["B"])],
        initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def ort_session(onnx_model):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(onnx_model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def ort_items_per_second(sess, ids, seconds):
    """(items per wall second, items per CPU second of this thread). With one intra-op thread ORT
    computes on the calling thread, so its thread CPU time is the run's CPU time."""
    feed = {"ids": ids}
    sess.run(["probs"], feed)
    n = 0
    t0, c0 = time.perf_counter(), time.thread_time()
    while True:
        sess.run(["probs"], feed)
        n += 1
        el = time.perf_counter() - t0
        if el >= seconds and n >= 3:
            cpu = time.thread_time() - c0
            return ids.shape[0] * n / el, (ids.shape[0] * n / cpu if cpu > 0 else 0.0)


def odl_forward(odl, export, ids_path, seconds, probs_out=None):
    cmd = [odl, "bench", "forward", "--export", export, "--ids", ids_path, "--seconds", str(seconds)]
    if probs_out:
        cmd += ["--probs-out", probs_out]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--export", required=True)
    ap.add_argument("--odl", help="odl binary (release); without it only ORT vs NumPy")
    ap.add_argument("--work", required=True, help="folder for ids/probs files")
    ap.add_argument("--batches", default="1,16,128,1024")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    import onnxruntime
    model = ExportModel(a.export)
    om = build_onnx(model)
    sess = ort_session(om)
    rng = np.random.default_rng(a.seed)
    rows = np.array([model.deep[f].shape[0] for f in model.deep_order], np.int64)
    os.makedirs(a.work, exist_ok=True)

    # Correctness on one 1024-batch: ORT vs NumPy reference vs odl.
    batches = [int(b) for b in a.batches.split(",")]
    check_ids = (rng.random((max(batches), len(rows))) * rows[None, :]).astype(np.int64)
    check_path = os.path.join(a.work, "ids_check.npy")
    np.save(check_path, check_ids)
    ref = model.reference(check_ids)
    ort_probs = sess.run(["probs"], {"ids": check_ids})[0]
    result = {"onnxruntime": onnxruntime.__version__, "features": len(rows), "dim": model.dim,
              "rows_per_feature": int(rows[0]),
              "max_abs_diff_ort_vs_numpy": float(np.max(np.abs(ort_probs - ref)))}
    if a.odl:
        probs_path = os.path.join(a.work, "probs_odl.npy")
        odl_forward(a.odl, a.export, check_path, 0.0, probs_out=probs_path)
        odl_probs = np.load(probs_path)
        result["max_abs_diff_odl_vs_ort"] = float(np.max(np.abs(odl_probs - ort_probs)))
        result["max_abs_diff_odl_vs_numpy"] = float(np.max(np.abs(odl_probs - ref)))
        result["probs_equal_1e-5"] = bool(result["max_abs_diff_odl_vs_ort"] <= 1e-5)

    per_batch = {}
    for b in batches:
        ids = np.ascontiguousarray(check_ids[:b])
        path = os.path.join(a.work, f"ids_{b}.npy")
        np.save(path, ids)
        per_batch[b] = {"ids": ids, "path": path, "ort": [], "odl": [], "ort_cpu": [], "odl_cpu": []}
    for rep in range(a.reps):
        for b in batches:
            pb = per_batch[b]
            # alternate which side goes first each repetition
            sides = ["ort", "odl"] if rep % 2 == 0 else ["odl", "ort"]
            for side in sides:
                if side == "ort":
                    wall, cpu = ort_items_per_second(sess, pb["ids"], a.seconds)
                    pb["ort"].append(wall)
                    pb["ort_cpu"].append(cpu)
                elif a.odl:
                    r = odl_forward(a.odl, a.export, pb["path"], a.seconds)
                    pb["odl"].append(r["items_per_second"])
                    pb["odl_cpu"].append(r.get("items_per_cpu_second", 0.0))
    result["batches"] = {}
    for b in batches:
        pb = per_batch[b]
        entry = {"ort_items_per_s": statistics.median(pb["ort"]), "ort_reps": pb["ort"]}
        if a.odl:
            entry["odl_items_per_s"] = statistics.median(pb["odl"])
            entry["odl_reps"] = pb["odl"]
            entry["ratio"] = entry["odl_items_per_s"] / entry["ort_items_per_s"]
            # The same on thread CPU time: the ratio less disturbed by other load on the machine.
            entry["ort_items_per_cpu_s"] = statistics.median(pb["ort_cpu"])
            entry["odl_items_per_cpu_s"] = statistics.median(pb["odl_cpu"])
            entry["ratio_cpu"] = entry["odl_items_per_cpu_s"] / entry["ort_items_per_cpu_s"] if entry["ort_items_per_cpu_s"] else None
        result["batches"][str(b)] = entry
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
