#!/usr/bin/python3
"""Generate per-op golden test cases for mote into tests/data/ops/<case>.npz.

Regenerate (from the repository root; needs torch + numpy):

    /usr/bin/python3 tools/gen_op_golden.py [--out tests/data/ops]

Every case is seeded (seed = crc32 of the case name), computed with torch in
float32 on the CPU, and saved with np.savez (uncompressed); every array is
float32.

Layout conventions (the C++ tests rely on them):
  * "input" / "output" are in mote's layout, without a batch dimension:
      2-D feature maps  -> [H, W, C]   (torch computes NCHW with N=1, then permutes)
      1-D signals       -> [L, C]      (Conv1d)
      vectors           -> [N]
    Element-wise activation cases use an arbitrary [4, 5, 6] tensor.
  * Parameters keep PyTorch names and PyTorch shapes:
      conv   "weight" [O, I/groups, kh, kw] (Conv1d: [O, I, k]), "bias" [O]
      linear "weight" [out, in], "bias" [out]
      batchnorm "weight", "bias", "running_mean", "running_var"
        (eps = 1e-5, eval mode, randomised running stats)
    Cases with several modules prefix them: "conv.weight", "bn.running_var",
    "fc.weight", "conv1.weight", "conv2.weight", ...
  * conv_explicit_pad stores its padding as "pad_tlbr" = [top, left, bottom, right].
"""

import argparse
import os
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BN_EPS = 1e-5

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------- helpers

def hwc_input(h, w, c):
    """Random input; returns (torch NCHW [1,C,H,W], numpy HWC)."""
    x = torch.randn(1, c, h, w)
    return x, to_hwc(x)


def to_hwc(t):
    """torch [1,C,H,W] -> numpy [H,W,C] float32."""
    assert t.dim() == 4 and t.shape[0] == 1
    return t[0].permute(1, 2, 0).contiguous().detach().numpy().astype(np.float32)


def params(module, prefix=""):
    """state_dict of a module as float32 numpy, optionally prefixed, without
    BatchNorm's num_batches_tracked."""
    out = {}
    for k, v in module.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        out[prefix + k] = v.detach().numpy().astype(np.float32)
    return out


def randomise_bn(bn):
    with torch.no_grad():
        n = bn.num_features
        bn.weight.copy_(torch.empty(n).uniform_(0.5, 1.5) * torch.where(
            torch.rand(n) < 0.2, -1.0, 1.0))
        bn.bias.copy_(torch.randn(n) * 0.5)
        bn.running_mean.copy_(torch.randn(n) * 0.5)
        bn.running_var.copy_(torch.empty(n).uniform_(0.5, 2.0))
    bn.eval()
    return bn


def activation_input():
    x = torch.empty(4, 5, 6).uniform_(-8.0, 8.0)
    flat = x.view(-1)
    special = torch.tensor([0.0, 0.0, -0.0, 3.0, -3.0, 6.0, -6.0, 0.0])
    pos = torch.randperm(flat.numel())[:special.numel()]
    flat[pos] = special
    return x


def simple_conv_case(h, w, c, conv):
    x, x_hwc = hwc_input(h, w, c)
    y = conv(x)
    return dict(input=x_hwc, output=to_hwc(y), **params(conv))


# ---------------------------------------------------------------- cases

@case
def dense():
    fc = nn.Linear(7, 5)
    x = torch.randn(7)
    return dict(input=x.numpy(), output=fc(x).detach().numpy(), **params(fc))


@case
def conv_same():
    return simple_conv_case(8, 8, 3, nn.Conv2d(3, 4, 3, padding=1))


@case
def conv_valid_stride2():
    return simple_conv_case(9, 7, 2, nn.Conv2d(2, 5, 3, stride=2, padding=0))


@case
def conv_dilation2():
    return simple_conv_case(10, 10, 3, nn.Conv2d(3, 4, 3, padding=2, dilation=2))


@case
def conv_rect_stride21():
    return simple_conv_case(9, 8, 2, nn.Conv2d(2, 3, kernel_size=(3, 2),
                                               stride=(2, 1), padding=0))


@case
def conv_explicit_pad():
    conv = nn.Conv2d(2, 3, 3, padding=0)
    x, x_hwc = hwc_input(7, 6, 2)
    top, left, bottom, right = 1, 0, 2, 1
    y = conv(F.pad(x, (left, right, top, bottom)))
    return dict(input=x_hwc, output=to_hwc(y),
                pad_tlbr=np.array([top, left, bottom, right], dtype=np.float32),
                **params(conv))


@case
def conv_same_stride2():
    # TensorFlow "SAME": out = ceil(in / stride); total pad split with the
    # smaller half on top/left.
    k, s, hw = 3, 2, 9
    out = -(-hw // s)
    total = max((out - 1) * s + k - hw, 0)
    before, after = total // 2, total - total // 2
    conv = nn.Conv2d(2, 3, k, stride=s, padding=0)
    x, x_hwc = hwc_input(hw, hw, 2)
    y = conv(F.pad(x, (before, after, before, after)))
    assert y.shape[2:] == (out, out)
    return dict(input=x_hwc, output=to_hwc(y), **params(conv))


@case
def depthwise():
    return simple_conv_case(8, 8, 4, nn.Conv2d(4, 4, 3, padding=1, groups=4))


@case
def depthwise_mult2_stride2():
    return simple_conv_case(7, 7, 3, nn.Conv2d(3, 6, 3, stride=2, padding=1, groups=3))


@case
def maxpool2():
    x, x_hwc = hwc_input(8, 8, 3)
    return dict(input=x_hwc, output=to_hwc(nn.MaxPool2d(2)(x)))


@case
def maxpool3_stride2():
    x, x_hwc = hwc_input(9, 9, 2)
    return dict(input=x_hwc, output=to_hwc(nn.MaxPool2d(3, stride=2)(x)))


@case
def avgpool2():
    x, x_hwc = hwc_input(8, 6, 3)
    return dict(input=x_hwc, output=to_hwc(nn.AvgPool2d(2)(x)))


@case
def avgpool3_stride2_pad1():
    x, x_hwc = hwc_input(9, 9, 2)
    pool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
    return dict(input=x_hwc, output=to_hwc(pool(x)))


@case
def global_avgpool():
    x, x_hwc = hwc_input(5, 4, 6)
    return dict(input=x_hwc, output=x.mean(dim=(2, 3))[0].numpy())


@case
def conv_bn():
    conv = nn.Conv2d(3, 4, 3, padding=1)
    bn = randomise_bn(nn.BatchNorm2d(4, eps=BN_EPS))
    x, x_hwc = hwc_input(6, 6, 3)
    y = bn(conv(x))
    return dict(input=x_hwc, output=to_hwc(y), **params(conv, "conv."), **params(bn, "bn."))


@case
def dense_bn():
    fc = nn.Linear(6, 4)
    bn = randomise_bn(nn.BatchNorm1d(4, eps=BN_EPS))
    x = torch.randn(6)
    y = bn(fc(x.unsqueeze(0)))[0]
    return dict(input=x.numpy(), output=y.detach().numpy(),
                **params(fc, "fc."), **params(bn, "bn."))


def activation_case(fn):
    x = activation_input()
    return dict(input=x.numpy(), output=fn(x).numpy())


@case
def relu():
    return activation_case(F.relu)


@case
def relu6():
    return activation_case(F.relu6)


@case
def leaky_relu():
    return activation_case(lambda t: F.leaky_relu(t, negative_slope=0.01))


@case
def sigmoid():
    return activation_case(torch.sigmoid)


@case
def tanh():
    return activation_case(torch.tanh)


@case
def hardswish():
    return activation_case(F.hardswish)


@case
def gelu():
    return activation_case(lambda t: F.gelu(t, approximate="none"))


@case
def softmax():
    x = torch.empty(10).uniform_(-10.0, 10.0)
    return dict(input=x.numpy(), output=torch.softmax(x, dim=0).numpy())


@case
def conv_flatten_dense():
    conv = nn.Conv2d(2, 4, 3, padding=1)
    fc = nn.Linear(4 * 6 * 6, 5)
    x, x_hwc = hwc_input(6, 6, 2)
    y = fc(torch.flatten(F.relu(conv(x)), 1))[0]  # NCHW flatten order
    return dict(input=x_hwc, output=y.detach().numpy(),
                **params(conv, "conv."), **params(fc, "fc."))


@case
def residual():
    conv1 = nn.Conv2d(4, 4, 3, padding=1)
    conv2 = nn.Conv2d(4, 4, 3, padding=1)
    x, x_hwc = hwc_input(6, 6, 4)
    y = x + conv2(F.relu(conv1(x)))
    return dict(input=x_hwc, output=to_hwc(y),
                **params(conv1, "conv1."), **params(conv2, "conv2."))


@case
def conv1d():
    conv = nn.Conv1d(3, 4, 3, padding=1)
    x = torch.randn(1, 3, 12)  # N, C, L
    y = conv(x)
    return dict(input=x[0].t().contiguous().numpy(),
                output=y[0].t().contiguous().detach().numpy(), **params(conv))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "ops"))
    ap.add_argument("cases", nargs="*", help="subset of cases (default: all)")
    args = ap.parse_args()

    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    names = args.cases or list(CASES)
    for name in names:
        torch.manual_seed(zlib.crc32(name.encode()))
        with torch.no_grad():
            arrays = CASES[name]()
        arrays = {k: np.ascontiguousarray(np.asarray(v, dtype=np.float32))
                  for k, v in arrays.items()}
        path = os.path.join(args.out, f"{name}.npz")
        np.savez(path, **arrays)
        shapes = ", ".join(f"{k}{list(v.shape)}" for k, v in arrays.items())
        print(f"{name:24s} {shapes}")


if __name__ == "__main__":
    main()
