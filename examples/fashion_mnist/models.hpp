#pragma once
// The two Fashion-MNIST networks of examples/fashion_mnist/train.py, as mote types, and the
// maps from their layers to PyTorch's state_dict names.

#include <mote/mote.hpp>

namespace fashion {

using namespace mote;

/// 784-256-128-10 MLP; the image is flattened in mote (H, W, C=1), identical to PyTorch's.
using Mlp = Sequential<Input<28, 28, 1>, Flatten, Dense<256>, ReLU, Dense<128>, ReLU, Dense<10>>;

/// conv3x3 16 + ReLU, maxpool 2, conv3x3 32 + ReLU, maxpool 2, dense 10.
using Cnn = Sequential<Input<28, 28, 1>, Conv2D<16, Kernel<3>, Pad::same>, ReLU, MaxPool2D<2>,
                       Conv2D<32, Kernel<3>, Pad::same>, ReLU, MaxPool2D<2>, Flatten, Dense<10>>;

/// The MLP with every layer's weights in `WeightFormat` (one edit of a type parameter), and its
/// further layer options (Activations<...>, WeightScales<...>) on each Dense.
template <class WeightFormat, class... Option>
using MlpAs = Sequential<Input<28, 28, 1>, Flatten, Dense<256, Weights<WeightFormat>, Option...>, ReLU,
                         Dense<128, Weights<WeightFormat>, Option...>, ReLU,
                         Dense<10, Weights<WeightFormat>, Option...>>;
using MlpInt8 = MlpAs<Int8<PerChannel, Symmetric>>;
using MlpInt8PerTensor = MlpAs<Int8<PerTensor, Symmetric>>;
using MlpInt7 = MlpAs<Int7<PerChannel>>;
using MlpInt8UInt8Activations = MlpAs<Int8<PerChannel, Symmetric>, Activations<UInt8>>;
using MlpCodebook4 = MlpAs<Codebook<4>>;
using MlpCodebook2 = MlpAs<Codebook<2>>;
using MlpInt4Group32 = MlpAs<Int4<32>>;
using MlpInt4PerChannel = MlpAs<Int4<0>>;
/// The same formats with each scale group's range fitted for the least squared error (clipping a
/// few outliers) instead of spanning max |w|: a conversion option, same bytes and kernels.
using MlpInt4Group32Mse = MlpAs<Int4<32>, WeightScales<ScaleFit::mse>>;
using MlpInt4PerChannelMse = MlpAs<Int4<0>, WeightScales<ScaleFit::mse>>;
using MlpBinary = MlpAs<Binary>;
using MlpTernary = MlpAs<Ternary>;

/// The CNN with int8 (or int4) convolutions and classifier: one type parameter per layer.
template <class WeightFormat, class... Option>
using CnnAs = Sequential<Input<28, 28, 1>, Conv2D<16, Kernel<3>, Pad::same, Weights<WeightFormat>, Option...>, ReLU,
                         MaxPool2D<2>, Conv2D<32, Kernel<3>, Pad::same, Weights<WeightFormat>, Option...>, ReLU,
                         MaxPool2D<2>, Flatten, Dense<10, Weights<WeightFormat>, Option...>>;
using CnnInt8 = CnnAs<Int8<>>;
using CnnInt7 = CnnAs<Int7<>>;
using CnnInt4 = CnnAs<Int4<32>>;
using CnnInt4Mse = CnnAs<Int4<32>, WeightScales<ScaleFit::mse>>;
/// The CNN with only its classifier in int8.
using CnnInt8Head = Sequential<Input<28, 28, 1>, Conv2D<16, Kernel<3>, Pad::same>, ReLU, MaxPool2D<2>,
                               Conv2D<32, Kernel<3>, Pad::same>, ReLU, MaxPool2D<2>, Flatten, Dense<10, Weights<Int8<>>>>;

inline WeightNames mlp_names() { return WeightNames::prefixes({{"1", "fc1"}, {"3", "fc2"}, {"5", "fc3"}}); }
inline WeightNames cnn_names() { return WeightNames::prefixes({{"0", "conv1"}, {"3", "conv2"}, {"7", "fc"}}); }

/// Pixel bytes to network input: pixel / 255, as in train.py.
inline void to_input(const std::uint8_t* pixels, float* input) {
  for (std::size_t i = 0; i < 28 * 28; ++i) input[i] = static_cast<float>(pixels[i]) / 255.0f;
}

}  // namespace fashion
