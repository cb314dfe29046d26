#!/usr/bin/python3
"""Gradual magnitude pruning + fine-tuning of the two Fashion-MNIST example networks.

Usage (from the repository root; needs torch + numpy, no torchvision; Debian's
torch lives in /usr/bin/python3):

    /usr/bin/python3 examples/fashion_mnist/prune_finetune.py [--data DIR]
        [--threads 1] [--nets mlp,cnn] [--patterns u50,u75,u90,b75,nm24]
        [--mlp-prune-epochs 6] [--mlp-finetune-epochs 3]
        [--cnn-prune-epochs 3] [--cnn-finetune-epochs 2] [--lr 5e-4] [--out DIR]

The defaults take about 18 minutes single-threaded on a 2-core AMD EPYC VM
(MLP ~6 s/epoch, CNN ~25 s/epoch).

The networks, the data loading and the export format are those of train.py
(imported from this folder, not copied). Starting weights are the trained dense
ones, examples/fashion_mnist/weights/{mlp,cnn}.npz.

For every net (mlp, cnn) and sparsity pattern (u50, u75, u90, b75, nm24):
  * one-shot: the dense weights are pruned once by magnitude to the final
    pattern and the test accuracy (10,000 images) is measured. These weights are
    NOT saved (the C++ side prunes the dense weights itself for that column).
  * fine-tuned: gradual magnitude pruning (Zhu & Gupta 2017 cubic schedule
    s_t = s_f (1 - (1 - t/T)^3) over the pruning epochs, the mask re-selected
    every --mask-every (100) steps), the mask applied to the gradients before and
    to the weights after every optimizer step, then fine-tuning with the final
    fixed mask. Adam, batch 128, lr --lr constant while pruning, cosine-decayed
    to lr/50 during fine-tuning. nm24 has no gradual schedule: the 2:4 mask is
    selected one-shot from the dense weights and kept for all
    (prune + fine-tune) epochs.
  Seeds are fixed and torch runs single-threaded by default (deterministic).

Pattern conventions (must match the C++ library, mote). A layer's weights are
viewed as the C++ matrix: rows = output channels, columns = inputs, in this
column order:
  * Linear [out, in]: columns in PyTorch order, EXCEPT the CNN's fc (after the
    Flatten of the 32x7x7 map): C++ column j = (h*7 + w)*32 + c is PyTorch input
    index c*49 + h*7 + w (mote flattens HWC).
  * Conv2d [O, I, kh, kw]: rows = O, C++ column j = (ky*kw + kx)*I + ci.
  Masks are selected in that view (to_cpp / from_cpp below) and mapped back.
  * u50, u75, u90: unstructured, per layer exactly k = round(s * numel) of the
    smallest |w| set to zero (s = 0.5, 0.75, 0.9; ties broken by a stable sort
    on the C++ row-major index).
  * b75: blocks of 8 consecutive rows x 1 column (rows 8b..8b+7 of one column;
    the last block row of a layer whose row count is not a multiple of 8 is
    shorter); round(0.75 * number_of_blocks) blocks with the smallest L2 norm
    are zeroed per layer.
  * nm24: 2:4 -- in every group of 4 consecutive C++ columns (4g..4g+3) of every
    row the 2 entries of largest |w| are kept, the other 2 zeroed. A layer whose
    column count is not a multiple of 4 stays dense.
  * The CNN's conv1 (16x9 = 144 weights; 9 columns) is kept dense in ALL
    patterns; conv2 and fc are pruned. The MLP's fc1, fc2, fc3 are all pruned.
    Biases are never pruned.

Before saving, every weight is re-loaded from the written file and checked
against its pattern (exact zeros, zero count per layer, <= 2 non-zeros per
group of 4 for nm24, whole zero blocks for b75).

Outputs (under --out, default examples/fashion_mnist/weights/sparse/):
  {mlp,cnn}_{u50,u75,u90,b75,nm24}.npz
      fine-tuned weights, float32, np.savez_compressed, same keys, PyTorch
      shapes and state_dict order as weights/mlp.npz and weights/cnn.npz.
  accuracy.txt, accuracy.json
      per net and pattern: per-layer sparsity achieved, one-shot and fine-tuned
      test accuracy, dense accuracy, epochs, wall time; torch version, command.
  accuracy.npz
      the accuracies alone, float32 scalars named <net>_<pattern>_oneshot and
      <net>_<pattern>_finetuned (fractions), for sparse_accuracy.cpp, which reads
      them with mote's npz reader.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train  # noqa: E402  (train.py of this folder: MLP, CNN, load_split, ...)

WEIGHTS_DIR = os.path.join(HERE, "weights")
DEFAULT_OUT = os.path.join(WEIGHTS_DIR, "sparse")

PATTERNS = ("u50", "u75", "u90", "b75", "nm24")
BLOCK_ROWS = 8

# Per net: (state_dict weight key, layout kind, pruned?). Kinds: "linear" (PyTorch column
# order), "linear_chw" (CNN fc after Flatten of [32,7,7]), "conv".
LAYERS = {
    "mlp": [("fc1.weight", "linear", True), ("fc2.weight", "linear", True),
            ("fc3.weight", "linear", True)],
    "cnn": [("conv1.weight", "conv", False), ("conv2.weight", "conv", True),
            ("fc.weight", "linear_chw", True)],
}
CNN_FLAT = (32, 7, 7)  # (C, H, W) of the map the CNN's fc reads
SEED_BASE = {"mlp": 4321, "cnn": 8765}


# ----------------------------------------------------------------------------------------
# PyTorch weight <-> C++ matrix view


def to_cpp(w, kind):
    """PyTorch weight tensor -> C++ matrix [rows = outputs, columns = inputs] (a copy)."""
    if kind == "linear":
        return w.reshape(w.shape[0], -1).clone()
    if kind == "linear_chw":
        c, h, ww = CNN_FLAT
        # PyTorch index c*49 + h*7 + w -> C++ column (h*7 + w)*32 + c
        return w.reshape(w.shape[0], c, h, ww).permute(0, 2, 3, 1).reshape(w.shape[0], -1).clone()
    if kind == "conv":
        o, i, kh, kw = w.shape
        # [O, I, kh, kw] -> [O, kh, kw, I]: column (ky*kw + kx)*I + ci
        return w.permute(0, 2, 3, 1).reshape(o, kh * kw * i).clone()
    raise ValueError(kind)


def from_cpp(m, kind, shape):
    """C++ matrix view -> PyTorch tensor of `shape` (inverse of to_cpp)."""
    if kind == "linear":
        return m.reshape(shape).clone()
    if kind == "linear_chw":
        c, h, ww = CNN_FLAT
        return m.reshape(shape[0], h, ww, c).permute(0, 3, 1, 2).reshape(shape).clone()
    if kind == "conv":
        o, i, kh, kw = shape
        return m.reshape(o, kh, kw, i).permute(0, 3, 1, 2).reshape(shape).clone()
    raise ValueError(kind)


def self_test_views():
    """to_cpp/from_cpp agree with the index formulas of the docstring."""
    o, i, kh, kw = 5, 3, 3, 3
    w = torch.arange(o * i * kh * kw, dtype=torch.float32).reshape(o, i, kh, kw)
    m = to_cpp(w, "conv")
    for r in range(o):
        for ci in range(i):
            for ky in range(kh):
                for kx in range(kw):
                    assert m[r, (ky * kw + kx) * i + ci] == w[r, ci, ky, kx]
    assert torch.equal(from_cpp(m, "conv", w.shape), w)
    c, h, ww = CNN_FLAT
    w = torch.arange(2 * c * h * ww, dtype=torch.float32).reshape(2, c * h * ww)
    m = to_cpp(w, "linear_chw")
    for r in range(2):
        for cc in range(c):
            for y in range(h):
                for x in range(ww):
                    assert m[r, (y * ww + x) * c + cc] == w[r, cc * h * ww + y * ww + x]
    assert torch.equal(from_cpp(m, "linear_chw", w.shape), w)


# ----------------------------------------------------------------------------------------
# Masks on the C++ matrix (1 = keep, 0 = pruned), float32, same shape as the matrix


def parse_pattern(pattern):
    kind = pattern[0] if pattern[0] in "ub" else "nm"
    sparsity = 0.5 if kind == "nm" else int(pattern[1:]) / 100.0
    return kind, sparsity


def unstructured_mask(m, sparsity):
    flat = m.abs().reshape(-1)
    k = int(round(sparsity * flat.numel()))
    mask = torch.ones_like(flat)
    if k > 0:
        order = torch.sort(flat, stable=True).indices
        mask[order[:k]] = 0.0
    return mask.reshape(m.shape)


def block_norms(m):
    rows, cols = m.shape
    nb = (rows + BLOCK_ROWS - 1) // BLOCK_ROWS
    padded = torch.zeros(nb * BLOCK_ROWS, cols, dtype=m.dtype)
    padded[:rows] = m
    return padded.reshape(nb, BLOCK_ROWS, cols).pow(2).sum(1).sqrt()  # [nb, cols]


def block_mask(m, sparsity):
    rows, cols = m.shape
    norms = block_norms(m)
    nb = norms.shape[0]
    k = int(round(sparsity * norms.numel()))
    bmask = torch.ones(norms.numel(), dtype=m.dtype)
    if k > 0:
        order = torch.sort(norms.reshape(-1), stable=True).indices
        bmask[order[:k]] = 0.0
    bmask = bmask.reshape(nb, 1, cols).expand(nb, BLOCK_ROWS, cols).reshape(nb * BLOCK_ROWS, cols)
    return bmask[:rows].clone()


def nm24_mask(m):
    rows, cols = m.shape
    assert cols % 4 == 0
    groups = m.abs().reshape(rows, cols // 4, 4)
    keep = groups.topk(2, dim=2).indices
    mask = torch.zeros_like(groups)
    mask.scatter_(2, keep, 1.0)
    return mask.reshape(rows, cols)


def layer_prunable(pattern, cols, pruned):
    """Whether this layer is pruned in `pattern` (None if yes, else the reason it is dense)."""
    if not pruned:
        return "kept dense in all patterns (conv1, 144 weights)"
    if pattern == "nm24" and cols % 4 != 0:
        return f"kept dense: {cols} columns is not a multiple of 4"
    return None


def make_masks(model, net, pattern, sparsity_now):
    """Masks (PyTorch shapes) for the pruned layers of `model` at sparsity `sparsity_now`
    (the final sparsity for nm24). Returns {key: mask}."""
    kind, _ = parse_pattern(pattern)
    sd = dict(model.named_parameters())
    masks = {}
    for key, layout, pruned in LAYERS[net]:
        w = sd[key].detach()
        m = to_cpp(w, layout)
        if layer_prunable(pattern, m.shape[1], pruned) is not None:
            continue
        if kind == "u":
            cm = unstructured_mask(m, sparsity_now)
        elif kind == "b":
            cm = block_mask(m, sparsity_now)
        else:
            cm = nm24_mask(m)
        masks[key] = from_cpp(cm, layout, w.shape)
    return masks


@torch.no_grad()
def apply_masks(model, masks):
    params = dict(model.named_parameters())
    for key, mask in masks.items():
        params[key].mul_(mask)


# ----------------------------------------------------------------------------------------
# Verification of a saved state dict against its pattern


def verify(net, pattern, arrays):
    """Checks every weight of `arrays` (numpy, PyTorch shapes) against `pattern`; returns
    the per-layer report. Raises AssertionError on any violation."""
    kind, sparsity = parse_pattern(pattern)
    report = {}
    for key, layout, pruned in LAYERS[net]:
        w = torch.from_numpy(np.ascontiguousarray(arrays[key]))
        assert w.dtype == torch.float32
        m = to_cpp(w, layout)
        rows, cols = m.shape
        zeros = int((m == 0).sum())
        info = dict(rows=rows, cols=cols, weights=m.numel(), zeros=zeros,
                    sparsity=zeros / m.numel())
        reason = layer_prunable(pattern, cols, pruned)
        if reason is not None:
            info["pruned"] = False
            info["note"] = reason
        elif kind == "u":
            k = int(round(sparsity * m.numel()))
            assert zeros >= k, f"{net} {pattern} {key}: {zeros} zeros < {k}"
            info.update(pruned=True, required_zeros=k)
        elif kind == "b":
            norms = block_norms(m)
            zero_blocks = int((norms == 0).sum())
            k = int(round(sparsity * norms.numel()))
            assert zero_blocks >= k, f"{net} {pattern} {key}: {zero_blocks} zero blocks < {k}"
            info.update(pruned=True, blocks=norms.numel(), zero_blocks=zero_blocks,
                        required_zero_blocks=k, block_sparsity=zero_blocks / norms.numel())
        else:
            nnz = (m.reshape(rows, cols // 4, 4) != 0).sum(2)
            assert int(nnz.max()) <= 2, f"{net} {pattern} {key}: a group of 4 has >2 non-zeros"
            k = rows * cols // 2
            assert zeros >= k
            info.update(pruned=True, groups=rows * cols // 4, max_nonzeros_per_group=int(nnz.max()),
                        required_zeros=k)
        report[key] = info
    for key in arrays:
        if key.endswith(".bias"):
            report[key] = dict(weights=int(arrays[key].size),
                               zeros=int((arrays[key] == 0).sum()), pruned=False,
                               note="bias, never pruned")
    return report


# ----------------------------------------------------------------------------------------
# Training


def set_fast_linear(model, on):
    """Debian's torch does nn.Linear with the reference (netlib) BLAS, ~5x slower than the
    oneDNN convolution; while training, each Linear of `model` is computed as the same
    1x1 convolution (same parameters, same result up to float rounding). on=False restores
    the module's own forward (used for every reported accuracy)."""
    for mod in model.modules():
        if isinstance(mod, nn.Linear):
            if on:
                mod.forward = (lambda m: lambda x: F.conv2d(
                    x[:, :, None, None], m.weight[:, :, None, None], m.bias)[:, :, 0, 0])(mod)
            elif "forward" in mod.__dict__:
                del mod.forward


def load_dense(net):
    model = train.MLP() if net == "mlp" else train.CNN()
    data = np.load(os.path.join(WEIGHTS_DIR, f"{net}.npz"))
    sd = {k: torch.from_numpy(data[k]) for k in data.files}
    model.load_state_dict(sd)
    return model


def accuracy(model, x, y):
    return float((train.logits_of(model, x).argmax(1) == y).double().mean().item())


def cubic(t, total, s_final):
    if t >= total:
        return s_final
    return s_final * (1.0 - (1.0 - t / total) ** 3)


def prune_finetune(model, net, pattern, x_train, y_train, x_test, y_test,
                   prune_epochs, ft_epochs, lr, mask_every, seed, log):
    kind, s_final = parse_pattern(pattern)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    set_fast_linear(model, True)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = x_train.shape[0]
    steps_per_epoch = (n + train.BATCH - 1) // train.BATCH
    gradual = kind != "nm"
    prune_steps = prune_epochs * steps_per_epoch if gradual else 0
    total_epochs = prune_epochs + ft_epochs
    ft_steps = total_epochs * steps_per_epoch - prune_steps
    masks = {} if gradual else make_masks(model, net, pattern, s_final)
    apply_masks(model, masks)
    params = dict(model.named_parameters())
    step = 0
    final_mask_set = not gradual
    for epoch in range(total_epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n, generator=gen)
        total_loss = 0.0
        for i in range(0, n, train.BATCH):
            if gradual and step < prune_steps and step % mask_every == 0 and step > 0:
                masks = make_masks(model, net, pattern, cubic(step, prune_steps, s_final))
                apply_masks(model, masks)
            if not final_mask_set and step >= prune_steps:
                masks = make_masks(model, net, pattern, s_final)
                apply_masks(model, masks)
                final_mask_set = True
            if step >= prune_steps:  # cosine decay to lr/50 while fine-tuning
                frac = (step - prune_steps) / max(1, ft_steps)
                cur_lr = lr * (0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * frac)))
            else:
                cur_lr = lr
            for g in opt.param_groups:
                g["lr"] = cur_lr
            idx = perm[i:i + train.BATCH]
            xb, yb = x_train[idx], y_train[idx]
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            for key, mask in masks.items():
                params[key].grad.mul_(mask)
            opt.step()
            apply_masks(model, masks)
            total_loss += loss.item() * xb.shape[0]
            step += 1
        phase = "prune" if step <= prune_steps else "finetune"
        s_now = cubic(step, prune_steps, s_final) if gradual else s_final
        log(f"    {net} {pattern} epoch {epoch + 1}/{total_epochs} ({phase}, target sparsity "
            f"{s_now:.3f}, lr {cur_lr:.2e}): loss {total_loss / n:.4f}, "
            f"test {100 * accuracy(model, x_test, y_test):.2f}% ({time.time() - t0:.1f}s)")
    if not final_mask_set:  # ft_epochs == 0
        masks = make_masks(model, net, pattern, s_final)
        apply_masks(model, masks)
    set_fast_linear(model, False)
    return model


# ----------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--nets", default="mlp,cnn")
    ap.add_argument("--patterns", default=",".join(PATTERNS))
    ap.add_argument("--mlp-prune-epochs", type=int, default=6)
    ap.add_argument("--mlp-finetune-epochs", type=int, default=3)
    ap.add_argument("--cnn-prune-epochs", type=int, default=3)
    ap.add_argument("--cnn-finetune-epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--mask-every", type=int, default=100)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()

    nets = [s for s in args.nets.split(",") if s]
    patterns = [s for s in args.patterns.split(",") if s]
    for s in nets:
        assert s in LAYERS, s
    for s in patterns:
        assert s in PATTERNS, s

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    self_test_views()
    t_start = time.time()
    command = " ".join(["/usr/bin/python3"] + [os.path.relpath(sys.argv[0], train.REPO)
                                               if os.path.isabs(sys.argv[0]) else sys.argv[0]]
                       + sys.argv[1:])
    os.makedirs(args.out, exist_ok=True)

    def log(s):
        print(s, flush=True)

    x_train_np, y_train_np = train.load_split(args.data, "train")
    x_test_np, y_test_np = train.load_split(args.data, "t10k")
    x_train = torch.from_numpy(x_train_np).unsqueeze(1)
    y_train = torch.from_numpy(y_train_np.astype(np.int64))
    x_test = torch.from_numpy(x_test_np).unsqueeze(1)
    y_test = torch.from_numpy(y_test_np.astype(np.int64))
    log(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}, torch {torch.__version__}, "
        f"threads {args.threads}")

    results = dict(torch=torch.__version__, numpy=np.__version__, command=command,
                   threads=args.threads, lr=args.lr, batch=train.BATCH, mask_every=args.mask_every,
                   test_images=int(x_test.shape[0]), dense={}, nets={})
    for net in nets:
        dense = load_dense(net)
        dense_acc = accuracy(dense, x_test, y_test)
        results["dense"][net] = dense_acc
        log(f"{net}: dense test accuracy {100 * dense_acc:.2f}%")
        prune_epochs = getattr(args, f"{net}_prune_epochs")
        ft_epochs = getattr(args, f"{net}_finetune_epochs")
        results["nets"][net] = {}
        for pi, pattern in enumerate(patterns):
            t0 = time.time()
            kind, s_final = parse_pattern(pattern)
            # one-shot
            oneshot = load_dense(net)
            apply_masks(oneshot, make_masks(oneshot, net, pattern, s_final))
            oneshot_arrays = {k: v.detach().numpy().astype(np.float32)
                              for k, v in oneshot.state_dict().items()}
            verify(net, pattern, oneshot_arrays)
            oneshot_acc = accuracy(oneshot, x_test, y_test)
            log(f"  {net} {pattern}: one-shot (no fine-tuning) {100 * oneshot_acc:.2f}%")
            # gradual pruning + fine-tuning
            model = prune_finetune(load_dense(net), net, pattern, x_train, y_train, x_test, y_test,
                                   prune_epochs, ft_epochs, args.lr, args.mask_every,
                                   SEED_BASE[net] + pi, log)
            ft_acc = accuracy(model, x_test, y_test)
            arrays = {k: v.detach().cpu().numpy().astype(np.float32)
                      for k, v in model.state_dict().items()}
            verify(net, pattern, arrays)
            path = os.path.join(args.out, f"{net}_{pattern}.npz")
            np.savez_compressed(path, **arrays)
            # re-load what was written and check it again (keys, order, shapes, dtype, pattern)
            back = np.load(path)
            assert list(back.files) == list(arrays.keys())
            for k in arrays:
                assert back[k].dtype == np.float32 and np.array_equal(back[k], arrays[k])
            report = verify(net, pattern, {k: back[k] for k in back.files})
            reloaded = train.MLP() if net == "mlp" else train.CNN()
            reloaded.load_state_dict({k: torch.from_numpy(back[k]) for k in back.files})
            assert accuracy(reloaded, x_test, y_test) == ft_acc
            wall = time.time() - t0
            pruned_keys = [k for k, v in report.items() if v.get("pruned")]
            tot_w = sum(report[k]["weights"] for k, _, _ in LAYERS[net])
            tot_z = sum(report[k]["zeros"] for k, _, _ in LAYERS[net])
            entry = dict(oneshot_acc=oneshot_acc, finetuned_acc=ft_acc, dense_acc=dense_acc,
                         prune_epochs=prune_epochs if kind != "nm" else 0,
                         finetune_epochs=ft_epochs if kind != "nm" else prune_epochs + ft_epochs,
                         gradual=kind != "nm", wall_s=wall, file=os.path.relpath(path, train.REPO),
                         file_bytes=os.path.getsize(path), seed=SEED_BASE[net] + pi,
                         weight_sparsity_all_layers=tot_z / tot_w, pruned_layers=pruned_keys,
                         layers=report)
            results["nets"][net][pattern] = entry
            log(f"  {net} {pattern}: fine-tuned {100 * ft_acc:.2f}% (one-shot "
                f"{100 * oneshot_acc:.2f}%, dense {100 * dense_acc:.2f}%), {wall:.1f}s, "
                f"{entry['file_bytes']} bytes")
            for k, _, _ in LAYERS[net]:
                r = report[k]
                extra = f", {r['zero_blocks']}/{r['blocks']} blocks zero" if "blocks" in r else ""
                extra += f" [{r['note']}]" if "note" in r else ""
                log(f"      {k:13s} {r['rows']:4d}x{r['cols']:<5d} zeros {r['zeros']:7d}/"
                    f"{r['weights']:<7d} sparsity {100 * r['sparsity']:6.2f}%{extra}")
            # write the summaries after every configuration (a partial run leaves partial files)
            results["total_wall_s"] = time.time() - t_start
            write_summaries(args.out, results)
    log(f"total wall time {time.time() - t_start:.1f}s")


def write_accuracy_npz(out, results):
    arrays = {}
    for net, patterns in results["nets"].items():
        for pattern, r in patterns.items():
            arrays[f"{net}_{pattern}_oneshot"] = np.float32(r["oneshot_acc"])
            arrays[f"{net}_{pattern}_finetuned"] = np.float32(r["finetuned_acc"])
    np.savez(os.path.join(out, "accuracy.npz"), **arrays)


def write_summaries(out, results):
    with open(os.path.join(out, "accuracy.json"), "w") as f:
        json.dump(results, f, indent=1)
    write_accuracy_npz(out, results)
    L = []
    L.append("Fashion-MNIST sparse weights: gradual magnitude pruning + fine-tuning (PyTorch)")
    L.append(f"torch {results['torch']}, numpy {results['numpy']}, {results['threads']} thread(s)")
    L.append(f"command: {results['command']}")
    L.append(f"Adam lr {results['lr']} (constant while pruning, cosine to lr/50 while "
             f"fine-tuning), batch {results['batch']}, mask re-selected every "
             f"{results['mask_every']} steps (Zhu & Gupta cubic schedule); nm24: one-shot 2:4 mask, "
             f"fine-tuned with it")
    L.append("Patterns on the C++ matrix view (rows = outputs; columns: linear in PyTorch order, "
             "CNN fc (h,w,c), conv (ky,kx,ci)):")
    L.append("  u50/u75/u90 unstructured per layer; b75 = 75% of 8x1 (8 rows x 1 column) blocks "
             "zero per layer; nm24 = 2 of every 4 consecutive columns per row")
    L.append("  CNN conv1 (144 weights) kept dense in all patterns; biases never pruned; "
             "nm24 leaves layers whose column count is not a multiple of 4 dense")
    L.append(f"test accuracy on {results['test_images']} test images; one-shot = dense weights "
             "pruned once, no fine-tuning (not saved)")
    L.append("")
    L.append(f"{'net':4s} {'pattern':7s} {'one-shot %':>10s} {'fine-tuned %':>12s} "
             f"{'dense %':>8s} {'epochs (prune+ft)':>17s} {'wall s':>7s}  file")
    for net, pats in results["nets"].items():
        for pattern, e in pats.items():
            ep = f"{e['prune_epochs']}+{e['finetune_epochs']}"
            L.append(f"{net:4s} {pattern:7s} {100 * e['oneshot_acc']:10.2f} "
                     f"{100 * e['finetuned_acc']:12.2f} {100 * e['dense_acc']:8.2f} {ep:>17s} "
                     f"{e['wall_s']:7.1f}  {os.path.basename(e['file'])} ({e['file_bytes']} B)")
    L.append("")
    L.append("Per-layer sparsity achieved (fine-tuned weights, zeros / weights):")
    for net, pats in results["nets"].items():
        for pattern, e in pats.items():
            parts = []
            for k, r in e["layers"].items():
                if k.endswith(".bias"):
                    continue
                s = f"{k} {r['zeros']}/{r['weights']} = {100 * r['sparsity']:.2f}%"
                if "blocks" in r:
                    s += f" ({r['zero_blocks']}/{r['blocks']} blocks)"
                if not r.get("pruned"):
                    s += " (dense)"
                parts.append(s)
            L.append(f"  {net} {pattern}: " + "; ".join(parts)
                     + f"; all weights {100 * e['weight_sparsity_all_layers']:.2f}%")
    L.append("")
    L.append(f"total wall time {results['total_wall_s']:.1f}s")
    with open(os.path.join(out, "accuracy.txt"), "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
