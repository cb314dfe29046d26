#!/usr/bin/env python3
"""Check tests/data/onnx/*.onnx against the reference outputs with onnxruntime.

A reference tool, never a dependency of mote or of its tests: run it with a Python that has
`pip install onnxruntime numpy` (the pyenv python3 first on PATH), from the repository root:

    python3 tools/check_onnx_reference.py [--data DIR] [--dir tests/data/onnx]

Float models (mlp, cnn, mobilenet): ORT's logits for reference.npz's 256 `images` must match
PyTorch's (`<m>_logits`) within 1e-5 relative, per element |ort - torch| <= 1e-5 * max(1,
|torch|), and ORT's argmax over the full 10k test set must equal `<m>_predictions` (so the
correct count equals `<m>_correct`).

QDQ models (mlp_qdq, cnn_qdq, and cnn_qoperator if present): rerunning them the way
tools/quantize_onnx.py did must reproduce reference_qdq.npz exactly (logits, correct count,
and 10k predictions equal to <m>_qdq_predictions): with the session option
"session.x64quantprecision" = "1" (`<m>_*`: ORT's int8 kernels without the u8s8 saturation
of x86 CPUs lacking VNNI) and with graph optimisations off (`<m>_unfused_*`: the
QuantizeLinear/DequantizeLinear nodes run literally, Conv/Gemm in float). For information it
also prints how the two differ, and what ORT's default settings give on this CPU.

ORT runs with one intra-op thread, sequential execution and the CPU provider. Exit status 1
on any mismatch.
"""

import argparse
import gzip
import os
import sys

import numpy as np
import onnxruntime as ort

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
RTOL = 1e-5


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, count=int(np.prod(dims)), offset=4 + 4 * ndim)
    return arr.reshape(dims)


def run(path, images, mode="exact", chunk=1000):
    """mode: "exact" (session.x64quantprecision=1), "unfused" (ORT_DISABLE_ALL) or "default"."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if mode == "exact":
        so.add_session_config_entry("session.x64quantprecision", "1")
    elif mode == "unfused":
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["image"]
    assert [o.name for o in sess.get_outputs()] == ["logits"]
    return np.concatenate([sess.run(["logits"], {"image": images[i:i + chunk]})[0]
                           for i in range(0, images.shape[0], chunk)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--dir", default=os.path.join(REPO, "tests", "data", "onnx"))
    args = ap.parse_args()
    print(f"onnxruntime {ort.__version__}, numpy {np.__version__}")

    x = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
    x_test = np.ascontiguousarray((x.astype(np.float32) / np.float32(255.0))[:, None])
    y_test = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    ref = np.load(os.path.join(args.dir, "reference.npz"))
    images = ref["images"]
    ok = np.array_equal(images, x_test[:images.shape[0]]) and np.array_equal(ref["labels"], y_test)
    print(f"reference images/labels equal the idx files: {ok}")

    for m in ("mlp", "cnn", "mobilenet"):
        path = os.path.join(args.dir, f"{m}.onnx")
        small = run(path, images)  # the 256 reference images as one batch
        full = run(path, x_test)
        want = ref[f"{m}_logits"]
        diff = np.abs(small - want)
        rel = float((diff / np.maximum(1.0, np.abs(want))).max())
        pred = full.argmax(1)
        same = bool(np.array_equal(pred, ref[f"{m}_predictions"]))
        correct = int((pred == y_test).sum())
        good = rel <= RTOL and same and correct == int(ref[f"{m}_correct"])
        # How close the nearest decision is (top-1 minus top-2 logit) over the test set.
        top2 = np.sort(full, axis=1)[:, -2:]
        margin = float((top2[:, 1] - top2[:, 0]).min())
        print(f"{m}: max |ort - torch| {diff.max():.3g}, max rel (to max(1,|torch|)) {rel:.3g}, "
              f"max |d|/max|torch| {diff.max() / np.abs(want).max():.3g}; 10k predictions "
              f"identical: {same}; correct {correct} (torch {int(ref[f'{m}_correct'])}); "
              f"smallest top-1/top-2 gap {margin:.3g}  {'OK' if good else 'MISMATCH'}")
        ok &= good

    qpath = os.path.join(args.dir, "reference_qdq.npz")
    if os.path.exists(qpath):
        qref = np.load(qpath)
        n = images.shape[0]
        for m, modes in (("mlp_qdq", ("exact", "unfused")), ("cnn_qdq", ("exact", "unfused")),
                         ("cnn_qoperator", ("exact",))):
            path = os.path.join(args.dir, f"{m}.onnx")
            if not os.path.exists(path):
                continue
            for mode in modes:
                key = m if mode == "exact" else f"{m}_unfused"
                small = run(path, images, mode)
                full = run(path, x_test, mode)
                pred = full.argmax(1)
                correct = int((pred == y_test).sum())
                # Only cnn_qdq / mlp_qdq store predictions; the unfused and QOperator runs'
                # predictions are checked against those.
                want_pred = qref[f"{m.replace('_qoperator', '_qdq')}_predictions"]
                same = (np.array_equal(small, qref[f"{key}_logits"])
                        and np.array_equal(pred, want_pred)
                        and correct == int(qref[f"{key}_correct"]))
                print(f"{m} [{mode}]: reproduces reference_qdq.npz {key}_* exactly: {same}; "
                      f"correct {correct}")
                ok &= same
            # For information: the stored unfused vs exact runs, and ORT's default settings
            # (CPU-dependent: u8s8 saturation on x86 without VNNI).
            if "unfused" in modes:
                d = qref[f"{m}_unfused_logits"] != qref[f"{m}_logits"]
                step = _logit_step(qref[f"{m}_logits"])
                diff = np.abs(qref[f"{m}_unfused_logits"] - qref[f"{m}_logits"]).max() / step
                print(f"  {m}: unfused vs exact on the 256 images: {int(d.sum())} logits differ, "
                      f"by at most {diff:.3g} uint8 steps")
            full = run(path, x_test, "default")
            pred = full.argmax(1)
            exact_pred = qref[f"{m.replace('_qoperator', '_qdq')}_predictions"]
            print(f"  {m} [ORT defaults, this CPU]: correct {int((pred == y_test).sum())}, "
                  f"predictions differ from exact on {int((pred != exact_pred).sum())} "
                  f"images, max |logit diff| on the 256 images "
                  f"{np.abs(full[:n] - qref[f'{m}_logits']).max():.4g}")

    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def _logit_step(logits):
    """The QDQ models quantise their logits to uint8: the smallest non-zero gap between values."""
    v = np.unique(logits)
    return float(np.diff(v).min())


if __name__ == "__main__":
    sys.exit(main())
