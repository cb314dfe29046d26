#!/usr/bin/env python3
"""Quantise tests/data/onnx/{mlp,cnn}.onnx to QDQ int8 with onnxruntime's static quantiser.

A reference tool, never a dependency of mote or of its tests: run it with a Python that has
`pip install onnxruntime onnx numpy` (onnxruntime.quantization imports onnx), e.g. the
pyenv python3 first on PATH, from the repository root, after tools/export_onnx.py:

    python3 tools/quantize_onnx.py [--data DIR] [--dir tests/data/onnx]

What it does, the way a user typically gets a QDQ model:

  onnxruntime.quantization.quantize_static(
      model_input=<m>.onnx, model_output=<m>_qdq.onnx, calibration_data_reader=<below>,
      quant_format=QuantFormat.QDQ, per_channel=True,
      weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8,
      calibrate_method=CalibrationMethod.MinMax,
      extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})

  (no quant_pre_process step; the two extra_options are ORT's defaults, spelled out.)
  Calibration: the first 1000 Fashion-MNIST TRAINING images, pixel / 255 as float32
  [N,1,28,28], fed in 10 batches of 100 (MinMax: the batching does not change the ranges).

Writes, in --dir:
  mlp_qdq.onnx, cnn_qdq.onnx       QDQ models (QuantizeLinear/DequantizeLinear, ONNX domain)
  cnn_qoperator.onnx               the same CNN quantised with QuantFormat.QOperator
                                   (QLinearConv / QLinearMatMul ...), same settings
  reference_qdq.npz  (np.savez, float32 / int64), for m in mlp, cnn:
      <m>_qdq_logits       float32 [256,10]  ORT CPU outputs for reference.npz's `images`
      <m>_qdq_predictions  int64   [10000]   argmax over the full test set
      <m>_qdq_correct      int64   scalar    correct count on the 10k test set
      <m>_qdq_unfused_logits, <m>_qdq_unfused_correct   the same with graph optimisations
                                         off (its 10k predictions equal <m>_qdq_predictions)
    plus cnn_qoperator_logits / cnn_qoperator_correct for cnn_qoperator.onnx (its 10k
    predictions equal cnn_qdq_predictions).

ORT runs with one intra-op thread, sequential execution and the CPU provider, and with the
session option "session.x64quantprecision" = "1". Without it, ORT's fused u8s8 int8 kernels
on x86 CPUs without VNNI (AVX2, AVX-512 without VNNI, SSE4.1) use VPMADDUBSW, whose int16 sum
of two uint8*int8 products saturates; the results then depend on the CPU. With it (and on
VNNI or ARM CPUs) the int8 kernels compute the exact int32 sums, and the outputs are the
QDQ graph's arithmetic (requantised in float32). The "unfused" run (ORT_DISABLE_ALL) executes
the QuantizeLinear/DequantizeLinear nodes literally and Conv/Gemm in float32: the same
arithmetic up to float rounding. The script prints all three (default, exact, unfused).
"""

import argparse
import gzip
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CALIB_IMAGES = 1000
CALIB_BATCH = 100
EXTRA_OPTIONS = {"ActivationSymmetric": False, "WeightSymmetric": True}


def read_idx(path):
    """A gzipped idx file (big-endian header) as a numpy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    assert (magic >> 8) & 0xFF == 0x08, "expected unsigned byte idx data"
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, count=int(np.prod(dims)), offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load_images(data_dir, prefix):
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    return (x.astype(np.float32) / np.float32(255.0))[:, None]  # [N,1,28,28], as train.py


class Reader(CalibrationDataReader):
    def __init__(self, images):
        self.batches = [{"image": images[i:i + CALIB_BATCH]}
                        for i in range(0, images.shape[0], CALIB_BATCH)]
        self.pos = 0

    def get_next(self):
        if self.pos >= len(self.batches):
            return None
        self.pos += 1
        return self.batches[self.pos - 1]

    def rewind(self):
        self.pos = 0


def session(path, mode="exact"):
    """mode "exact": ORT's fused int8 kernels with session.x64quantprecision=1 (no u8s8
    saturation); "default": ORT's defaults (on x86 without VNNI its u8s8 kernels saturate
    int16 pair sums, so the results depend on the CPU); "unfused": graph optimisations off,
    the QuantizeLinear/DequantizeLinear nodes run literally and Conv/Gemm in float."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if mode == "exact":
        so.add_session_config_entry("session.x64quantprecision", "1")
    elif mode == "unfused":
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def run(path, images, mode="exact", chunk=1000):
    sess = session(path, mode)
    return np.concatenate([sess.run(["logits"], {"image": images[i:i + chunk]})[0]
                           for i in range(0, images.shape[0], chunk)])


def describe(path):
    m = onnx.load(path)
    inits = {i.name: i for i in m.graph.initializer}
    lines = [f"{os.path.basename(path)}: opset {[(o.domain, o.version) for o in m.opset_import]}, "
             f"ir {m.ir_version}, {os.path.getsize(path)} bytes"]
    for n in m.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        ins = []
        for i in n.input:
            if i in inits:
                t = inits[i]
                ins.append(f"{i}:{onnx.TensorProto.DataType.Name(t.data_type)}{list(t.dims)}")
            else:
                ins.append(i)
        lines.append(f"  {n.op_type}({', '.join(ins)}) -> {', '.join(n.output)} {attrs}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--dir", default=os.path.join(REPO, "tests", "data", "onnx"))
    args = ap.parse_args()
    print(f"onnxruntime {ort.__version__}, onnx {onnx.__version__}, numpy {np.__version__}")

    calib = np.ascontiguousarray(load_images(args.data, "train")[:CALIB_IMAGES])
    x_test = np.ascontiguousarray(load_images(args.data, "t10k"))
    y_test = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    ref = np.load(os.path.join(args.dir, "reference.npz"))
    assert np.array_equal(ref["images"], x_test[:ref["images"].shape[0]])

    out = {}
    jobs = (("mlp", "mlp_qdq", QuantFormat.QDQ), ("cnn", "cnn_qdq", QuantFormat.QDQ),
            ("cnn", "cnn_qoperator", QuantFormat.QOperator))
    for src, dst, fmt in jobs:
        src_path = os.path.join(args.dir, f"{src}.onnx")
        dst_path = os.path.join(args.dir, f"{dst}.onnx")
        quantize_static(src_path, dst_path, Reader(calib), quant_format=fmt, per_channel=True,
                        weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8,
                        calibrate_method=CalibrationMethod.MinMax, extra_options=EXTRA_OPTIONS)
        onnx.checker.check_model(onnx.load(dst_path))
        n = ref["images"].shape[0]
        float_pred = ref[f"{src}_predictions"]
        key = dst if fmt == QuantFormat.QOperator else f"{src}_qdq"
        modes = ("exact", "unfused", "default") if fmt == QuantFormat.QDQ else ("exact", "default")
        results = {}
        for mode in modes:
            logits = run(dst_path, x_test, mode)
            pred = logits.argmax(1).astype(np.int64)
            results[mode] = (logits, pred)
            correct = int((pred == y_test).sum())
            suffix = {"exact": "", "unfused": "_unfused", "default": None}[mode]
            if suffix is not None:  # the CPU-dependent default run is reported, not stored
                out[f"{key}{suffix}_logits"] = logits[:n].astype(np.float32)
                out[f"{key}{suffix}_correct"] = np.int64(correct)
                if mode == "exact" and fmt == QuantFormat.QDQ:  # the others' are the same
                    out[f"{key}{suffix}_predictions"] = pred
            d = np.abs(logits[:n] - ref[f"{src}_logits"]).max()
            ex_logits, ex_pred = results["exact"]
            print(f"{dst} [{mode}]: test accuracy {correct}/10000 = {correct / 100:.2f}% "
                  f"(float {int(ref[f'{src}_correct'])}); predictions differ from float on "
                  f"{int((pred != float_pred).sum())}, from [exact] on "
                  f"{int((pred != ex_pred).sum())} images; max |logit - float logit| {d:.4f}, "
                  f"max |logit - [exact] logit| {np.abs(logits - ex_logits).max():.4f} "
                  f"({int((logits != ex_logits).sum())} of {logits.size} logits differ)")
        print(describe(dst_path))

    np.savez(os.path.join(args.dir, "reference_qdq.npz"), **out)
    print(f"wrote {os.path.join(args.dir, 'reference_qdq.npz')}")


if __name__ == "__main__":
    main()
