#!/usr/bin/python3
"""Train the two Fashion-MNIST example networks for mote and export their weights.

Usage (from the repository root; needs torch + numpy, no torchvision):

    /usr/bin/python3 examples/fashion_mnist/train.py [--data DIR]

DIR defaults to /usr/share/datasets/fashion-mnist and must hold the four
gzipped idx files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).

Preprocessing: input = pixel / 255.0 as float32, shape [28, 28] (one channel).
No mean/std normalisation is applied, so the C++ side only has to divide by 255.

Networks (PyTorch module names are the npz keys):
  MLP: Flatten -> fc1 Linear(784,256) -> ReLU -> fc2 Linear(256,128) -> ReLU
       -> fc3 Linear(128,10)
  CNN: conv1 Conv2d(1,16,3,padding=1) -> ReLU -> MaxPool2d(2)
       -> conv2 Conv2d(16,32,3,padding=1) -> ReLU -> MaxPool2d(2)
       -> Flatten (PyTorch NCHW order: c*49 + h*7 + w) -> fc Linear(32*7*7,10)

Training: Adam, batch 128, MLP 10 epochs at lr 1e-3, CNN 8 epochs at lr 2e-3,
fixed seeds,
single-threaded CPU torch so the run is deterministic.

Outputs:
  examples/fashion_mnist/weights/mlp.npz, cnn.npz
      state_dict tensors as float32, in state_dict order, PyTorch key names and
      PyTorch shapes (conv weight [O, I, kh, kw], linear weight [out, in]).
      Saved with np.savez (uncompressed).
  examples/fashion_mnist/weights/pytorch_reference.npz
      mlp_pred, cnn_pred (uint8 [10000], argmax on the full test set, float32
      eval mode), mlp_accuracy, cnn_accuracy (float64 scalars, fraction).
  examples/fashion_mnist/weights/pytorch_reference.txt
      human-readable summary of the above.
  tests/data/fashion_subset.npz
      images float32 [256,28,28] (first 256 test images, already /255),
      labels uint8 [256], mlp_logits / cnn_logits float32 [256,10]
      (PyTorch eval outputs, pre-softmax).
"""

import argparse
import gzip
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
WEIGHTS_DIR = os.path.join(HERE, "weights")
TEST_DATA_DIR = os.path.join(REPO, "tests", "data")

SEED = 1234
BATCH = 128
MLP_LR = 1e-3
CNN_LR = 2e-3
MLP_EPOCHS = 10
CNN_EPOCHS = 8
SUBSET = 256


def read_idx(path):
    """Read a gzipped idx file (big-endian header) into a numpy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    dtype_code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    assert dtype_code == 0x08, "expected unsigned byte idx data"
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    arr = np.frombuffer(data, dtype=np.uint8, count=int(np.prod(dims)), offset=offset)
    return arr.reshape(dims)


def load_split(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = images.astype(np.float32) / np.float32(255.0)
    return x, labels.astype(np.uint8)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)  # NCHW order
        return self.fc(x)


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(model, x_train, y_train, epochs, lr, seed, name):
    """x_train: torch float32 [N,1,28,28]; y_train: torch int64 [N]."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = x_train.shape[0]
    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n, generator=gen)
        total_loss = 0.0
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            xb, yb = x_train[idx], y_train[idx]
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total_loss += loss.item() * xb.shape[0]
        print(f"  {name} epoch {epoch + 1}/{epochs}: loss {total_loss / n:.4f} "
              f"({time.time() - t0:.1f}s)", flush=True)


@torch.no_grad()
def logits_of(model, x, chunk=1000):
    model.eval()
    return torch.cat([model(x[i:i + chunk]) for i in range(0, x.shape[0], chunk)])


def export_state_dict(model, path):
    arrays = {k: v.detach().cpu().numpy().astype(np.float32)
              for k, v in model.state_dict().items()}
    np.savez(path, **arrays)  # dict keeps state_dict order
    return arrays


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    t_start = time.time()

    x_train_np, y_train_np = load_split(args.data, "train")
    x_test_np, y_test_np = load_split(args.data, "t10k")
    print(f"train {x_train_np.shape}, test {x_test_np.shape}")

    x_train = torch.from_numpy(x_train_np).unsqueeze(1)  # [N,1,28,28]
    y_train = torch.from_numpy(y_train_np.astype(np.int64))
    x_test = torch.from_numpy(x_test_np).unsqueeze(1)
    y_test = torch.from_numpy(y_test_np.astype(np.int64))

    os.makedirs(WEIGHTS_DIR, exist_ok=True)
    os.makedirs(TEST_DATA_DIR, exist_ok=True)

    results = {}
    for name, cls, epochs, lr, seed in (("mlp", MLP, MLP_EPOCHS, MLP_LR, SEED),
                                        ("cnn", CNN, CNN_EPOCHS, CNN_LR, SEED + 1)):
        seed_all(seed)
        model = cls()
        t0 = time.time()
        train(model, x_train, y_train, epochs, lr, seed, name)
        train_s = time.time() - t0
        logits = logits_of(model, x_test)
        pred = logits.argmax(1)
        acc = float((pred == y_test).double().mean().item())
        print(f"{name}: test accuracy {100 * acc:.2f}% (trained in {train_s:.1f}s)",
              flush=True)
        export_state_dict(model, os.path.join(WEIGHTS_DIR, f"{name}.npz"))
        results[name] = dict(pred=pred.numpy().astype(np.uint8), acc=acc,
                             logits=logits[:SUBSET].numpy().astype(np.float32),
                             train_s=train_s)

    np.savez(os.path.join(WEIGHTS_DIR, "pytorch_reference.npz"),
             mlp_pred=results["mlp"]["pred"],
             cnn_pred=results["cnn"]["pred"],
             mlp_accuracy=np.float64(results["mlp"]["acc"]),
             cnn_accuracy=np.float64(results["cnn"]["acc"]))
    with open(os.path.join(WEIGHTS_DIR, "pytorch_reference.txt"), "w") as f:
        f.write("Fashion-MNIST test set (10000 images), PyTorch float32 eval mode\n")
        f.write(f"torch {torch.__version__}, numpy {np.__version__}\n")
        f.write("preprocessing: pixel / 255.0, no normalisation\n")
        f.write(f"mlp accuracy: {100 * results['mlp']['acc']:.2f}%"
                f" ({MLP_EPOCHS} epochs, Adam lr {MLP_LR}, batch {BATCH})\n")
        f.write(f"cnn accuracy: {100 * results['cnn']['acc']:.2f}%"
                f" ({CNN_EPOCHS} epochs, Adam lr {CNN_LR}, batch {BATCH})\n")

    np.savez(os.path.join(TEST_DATA_DIR, "fashion_subset.npz"),
             images=np.ascontiguousarray(x_test_np[:SUBSET], dtype=np.float32),
             labels=y_test_np[:SUBSET].astype(np.uint8),
             mlp_logits=results["mlp"]["logits"],
             cnn_logits=results["cnn"]["logits"])

    print(f"total wall time {time.time() - t_start:.1f}s")


if __name__ == "__main__":
    main()
