#!/usr/bin/python3
"""Export the Fashion-MNIST networks to ONNX (opset 13) and save PyTorch reference outputs.

Regenerate (from the repository root; needs Debian's torch 1.13 + onnx 1.12 + numpy,
i.e. /usr/bin/python3, and the dataset-fashion-mnist package):

    /usr/bin/python3 tools/export_onnx.py [--data DIR] [--out tests/data/onnx]

Writes, under --out (default tests/data/onnx):

  mlp.onnx, cnn.onnx
      The MLP and CNN of examples/fashion_mnist/train.py with the trained weights of
      examples/fashion_mnist/weights/{mlp,cnn}.npz (not retrained), exported the way a
      user would: torch.onnx.export(opset_version=13), input "image" [N,1,28,28] float32,
      output "logits" [N,10], dynamic batch axis "N", default constant folding.
  mobilenet.onnx, mobilenet_state_dict.npz
      A small MobileNet-style network (see MobileNet below), trained here (Adam lr 5e-3, batch 128, 4 epochs)
      (seeded, single-threaded, deterministic), exported in eval mode at opset 13 with
      training=TrainingMode.PRESERVE so that the BatchNormalization nodes stay in the
      graph instead of being folded into the Conv weights (the default EVAL mode folds
      them; do_constant_folding=False does not prevent that); ReLU6 exports as
      Clip(x, min, max) with min=0 and max=6 as inputs produced by Constant nodes.
      (nn.Hardswish exports as HardSwish only from opset 14; at opset 13 it becomes
      HardSigmoid + Mul, so this net uses ReLU6 throughout.) The state_dict
      (float32 parameters and running stats, int64 num_batches_tracked) is saved with
      np.savez in state_dict order.
  reference.npz  (np.savez, float32 / int64)
      images              float32 [256,1,28,28]  first 256 test images, pixel / 255
      labels              int64   [10000]        test-set labels
      <m>_logits          float32 [256,10]       PyTorch eval-mode logits of `images`
      <m>_predictions     int64   [10000]        argmax over the full test set
      <m>_correct         int64   scalar         correct count on the 10k test set
    for m in mlp, cnn, mobilenet.

Everything is seeded and torch runs single-threaded with deterministic algorithms, so a
rerun reproduces the same weights, files and numbers.
"""

import argparse
import importlib.util
import os
import random
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
EXAMPLE = os.path.join(REPO, "examples", "fashion_mnist")

OPSET = 13
SUBSET = 256
MOBILENET_SEED = 4321
MOBILENET_EPOCHS = 4
MOBILENET_LR = 5e-3
BATCH = 128


def load_train_module():
    """examples/fashion_mnist/train.py as a module (its MLP/CNN classes and data reader)."""
    spec = importlib.util.spec_from_file_location("fashion_train", os.path.join(EXAMPLE, "train.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class MobileNet(nn.Module):
    """MobileNet-style net for 28x28x1:

    stem  : Conv2d(1,8,3,stride 2,pad 1,no bias) + BatchNorm2d(8) + ReLU6          -> 8x14x14
    block1: depthwise Conv2d(8,8,3,stride 1,pad 1,groups 8,no bias) + BN + ReLU6  -> 8x14x14
            pointwise Conv2d(8,16,1,no bias) + BN + ReLU6                          -> 16x14x14
    block2: depthwise Conv2d(16,16,3,stride 2,pad 1,groups 16,no bias) + BN + ReLU6 -> 16x7x7
            pointwise Conv2d(16,32,1,no bias) + BN + ReLU6                          -> 32x7x7
    head  : AdaptiveAvgPool2d(1) -> Flatten -> Linear(32,10)
    BatchNorm eps 1e-5, momentum 0.1 (PyTorch defaults).
    """

    def __init__(self):
        super().__init__()

        def cbr(cin, cout, k, stride, groups):
            return nn.Sequential(
                nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU6())

        self.stem = cbr(1, 8, 3, 2, 1)
        self.dw1 = cbr(8, 8, 3, 1, 8)
        self.pw1 = cbr(8, 16, 1, 1, 1)
        self.dw2 = cbr(16, 16, 3, 2, 16)
        self.pw2 = cbr(16, 32, 1, 1, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pw2(self.dw2(self.pw1(self.dw1(self.stem(x)))))
        return self.fc(torch.flatten(self.pool(x), 1))


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(model, x_train, y_train, epochs, lr, seed):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = x_train.shape[0]
    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * idx.shape[0]
        print(f"  mobilenet epoch {epoch + 1}/{epochs}: loss {total / n:.4f} "
              f"({time.time() - t0:.1f}s)", flush=True)
    model.eval()


@torch.no_grad()
def logits_of(model, x, chunk=1000):
    model.eval()
    return torch.cat([model(x[i:i + chunk]) for i in range(0, x.shape[0], chunk)])


def export(model, path, **kwargs):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(model, dummy, path, opset_version=OPSET,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}}, **kwargs)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def describe(m):
    """One line per node: op type, inputs -> outputs, attributes."""
    inits = {i.name: i for i in m.graph.initializer}
    lines = []
    for n in m.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()
                 if not isinstance(v, onnx.TensorProto)}
        ins = []
        for i in n.input:
            if i in inits:
                ins.append(f"{i}{list(inits[i].dims)}")
            else:
                ins.append(i)
        lines.append(f"  {n.op_type}({', '.join(ins)}) -> {', '.join(n.output)} {attrs}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "onnx"))
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    tr = load_train_module()

    x_train_np, y_train_np = tr.load_split(args.data, "train")
    x_test_np, y_test_np = tr.load_split(args.data, "t10k")
    x_train = torch.from_numpy(x_train_np).unsqueeze(1)
    y_train = torch.from_numpy(y_train_np.astype(np.int64))
    x_test = torch.from_numpy(x_test_np).unsqueeze(1)
    y_test = torch.from_numpy(y_test_np.astype(np.int64))

    models = {}
    for name, cls in (("mlp", tr.MLP), ("cnn", tr.CNN)):
        model = cls()
        weights = np.load(os.path.join(EXAMPLE, "weights", f"{name}.npz"))
        model.load_state_dict({k: torch.from_numpy(weights[k]) for k in weights.files}, strict=True)
        models[name] = model.eval()

    seed_all(MOBILENET_SEED)
    mobilenet = MobileNet()
    t0 = time.time()
    train(mobilenet, x_train, y_train, MOBILENET_EPOCHS, MOBILENET_LR, MOBILENET_SEED)
    print(f"  mobilenet trained in {time.time() - t0:.1f}s")
    models["mobilenet"] = mobilenet.eval()
    np.savez(os.path.join(args.out, "mobilenet_state_dict.npz"),
             **{k: v.detach().numpy() for k, v in mobilenet.state_dict().items()})

    ref = {"images": np.ascontiguousarray(x_test_np[:SUBSET, None], dtype=np.float32),
           "labels": y_test_np.astype(np.int64)}
    for name, model in models.items():
        path = os.path.join(args.out, f"{name}.onnx")
        if name == "mobilenet":
            # The default (training=TrainingMode.EVAL) export folds BatchNorm into the Conv
            # weights; PRESERVE exports the module in its own (eval) mode without that
            # fusion pass, so the BatchNormalization nodes (inference form, one output)
            # stay. do_constant_folding=False alone does not keep them; it is set as
            # torch recommends for PRESERVE (the graph is the same either way).
            m = export(model, path, training=torch.onnx.TrainingMode.PRESERVE,
                       do_constant_folding=False)
            ops = [n.op_type for n in m.graph.node]
            assert ops == ["Conv", "BatchNormalization", "Constant", "Constant", "Clip"] * 5 + [
                "GlobalAveragePool", "Flatten", "Gemm"], ops
        else:
            m = export(model, path)
        logits = logits_of(model, x_test)
        pred = logits.argmax(1)
        correct = int((pred == y_test).sum())
        ref[f"{name}_logits"] = logits[:SUBSET].numpy().astype(np.float32)
        ref[f"{name}_predictions"] = pred.numpy().astype(np.int64)
        ref[f"{name}_correct"] = np.int64(correct)
        print(f"{name}: {path} ({os.path.getsize(path)} bytes), test accuracy "
              f"{correct}/10000 = {correct / 100:.2f}%")
        print(describe(m))

    # Cross-check against the example's own references (same weights, same preprocessing).
    old = np.load(os.path.join(EXAMPLE, "weights", "pytorch_reference.npz"))
    subset = np.load(os.path.join(REPO, "tests", "data", "fashion_subset.npz"))
    for name in ("mlp", "cnn"):
        assert np.array_equal(old[f"{name}_pred"].astype(np.int64), ref[f"{name}_predictions"]), name
        d = np.abs(subset[f"{name}_logits"] - ref[f"{name}_logits"]).max()
        print(f"{name}: predictions match pytorch_reference.npz; "
              f"max |logits - fashion_subset.npz| = {d:.3g}")
    assert np.array_equal(subset["images"], ref["images"][:, 0])

    np.savez(os.path.join(args.out, "reference.npz"), **ref)
    print(f"wrote {os.path.join(args.out, 'reference.npz')}")


if __name__ == "__main__":
    main()
