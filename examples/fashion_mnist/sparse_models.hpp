#pragma once
// Sparse versions of the two Fashion-MNIST networks of models.hpp: the same layers, with f32
// weights in a sparse layout (`Sparse<Unstructured>`, `Sparse<NM<2, 4>>`, `Sparse<Block<8, 1>>`,
// layout/sparse.hpp). The weights are either dense weights pruned by mote when loaded
// (net.set_pruning(rule) before load_npz) or weights already pruned and fine-tuned by
// prune_finetune.py (weights/sparse/*.npz, loaded with the default Pruning::none()).
//
// "Sparse + int8" reuses the dense int8 networks of models.hpp (fashion::MlpInt8,
// fashion::CnnInt8): int8 weights quantised from the sparse f32 weights keep their zeros exactly
// (symmetric quantisation maps 0 to 0), so their accuracy is that of a sparse int8 network.
// mote has no int8 kernel for unstructured or N:M weights, so those networks store and multiply
// the zeros. Its only sparse int8 layout, Weights<Int8<...>, Sparse<Block<R, C>>> (R dividing 16,
// C dividing 4: Block<8, 1> qualifies), skips a 16 x 4 group of codes only when all 64 are zero;
// MlpInt8Block8x1 / CnnInt8Block8x1 measure what that gives the b75 weights.

#include "models.hpp"

namespace fashion {

/// The MLP (784-256-128-10) with all three Dense layers' weights in `Layout`.
template <class Layout>
using MlpSparse = mote::Sequential<mote::Input<28, 28, 1>, mote::Flatten,
                                   mote::Dense<256, mote::Weights<mote::F32, Layout>>, mote::ReLU,
                                   mote::Dense<128, mote::Weights<mote::F32, Layout>>, mote::ReLU,
                                   mote::Dense<10, mote::Weights<mote::F32, Layout>>>;

/// The CNN with conv2 and the classifier in `Layout`; conv1 (16 x 9 weights) stays dense f32,
/// as prune_finetune.py leaves it in every pattern.
template <class Layout>
using CnnSparse =
    mote::Sequential<mote::Input<28, 28, 1>, mote::Conv2D<16, mote::Kernel<3>, mote::Pad::same>, mote::ReLU,
                     mote::MaxPool2D<2>,
                     mote::Conv2D<32, mote::Kernel<3>, mote::Pad::same, mote::Weights<mote::F32, Layout>>, mote::ReLU,
                     mote::MaxPool2D<2>, mote::Flatten, mote::Dense<10, mote::Weights<mote::F32, Layout>>>;

/// The sparse weights combined with int8: dense int8 storage of the (sparse) weights.
using MlpSparseInt8 = MlpInt8;
using CnnSparseInt8 = CnnInt8;

/// Int8 weights in mote's sparse int8 block layout (same integer results as the dense int8
/// networks; fewer bytes only where whole 16 x 4 groups are zero). conv1 stays dense int8.
using Int8Block8x1 = mote::Weights<mote::Int8<mote::PerChannel, mote::Symmetric>, mote::Sparse<mote::Block<8, 1>>>;
using MlpInt8Block8x1 = mote::Sequential<mote::Input<28, 28, 1>, mote::Flatten, mote::Dense<256, Int8Block8x1>,
                                         mote::ReLU, mote::Dense<128, Int8Block8x1>, mote::ReLU,
                                         mote::Dense<10, Int8Block8x1>>;
using CnnInt8Block8x1 =
    mote::Sequential<mote::Input<28, 28, 1>, mote::Conv2D<16, mote::Kernel<3>, mote::Pad::same, mote::Weights<mote::Int8<>>>,
                     mote::ReLU, mote::MaxPool2D<2>, mote::Conv2D<32, mote::Kernel<3>, mote::Pad::same, Int8Block8x1>,
                     mote::ReLU, mote::MaxPool2D<2>, mote::Flatten, mote::Dense<10, Int8Block8x1>>;

using SparseUnstructured = mote::Sparse<mote::Unstructured>;
using Sparse2of4 = mote::Sparse<mote::NM<2, 4>>;
/// Blocks of 8 output channels by 1 input, prune_finetune.py's "b75" pattern.
using SparseBlock8x1 = mote::Sparse<mote::Block<8, 1>>;

}  // namespace fashion
