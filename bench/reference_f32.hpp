#pragma once
// Float references of the workloads' layers, computed in double and rounded once: what the
// int8 peer cases (onednn_int8.cpp, xnnpack_int8.cpp) derive their quantisation ranges from.

#include <algorithm>
#include <cstddef>
#include <vector>

#include "workloads.hpp"

namespace mote_bench {

/// f32 reference of a Linear layer (before its activation), the whole batch: batch x outputs.
inline std::vector<float> linear_f32(const std::vector<float>& x, std::size_t batch,
                                     const WeightedLayer& layer) {
  const std::size_t rows = layer.weight.shape[0], cols = layer.weight.shape[1];
  std::vector<float> y(batch * rows);
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t o = 0; o < rows; ++o) {
      double sum = layer.bias.values[o];
      for (std::size_t i = 0; i < cols; ++i)
        sum += static_cast<double>(layer.weight.values[o * cols + i]) * x[n * cols + i];
      y[n * rows + o] = static_cast<float>(sum);
    }
  return y;
}

/// f32 reference of a 'same'-padded, stride-1 Conv2d (before its activation) on an h x w NHWC
/// map, batch 1; grouped when `groups` > 1. PyTorch weights [out, in / groups, k, k].
inline std::vector<float> conv_f32(const std::vector<float>& x, std::size_t h, std::size_t w,
                                   const WeightedLayer& layer, std::size_t groups) {
  const std::size_t out_c = layer.weight.shape[0], per_group = layer.weight.shape[1];
  const std::size_t k = layer.weight.shape[2], in_c = per_group * groups;
  const std::size_t outs_per_group = out_c / groups;
  const auto pad = static_cast<std::ptrdiff_t>(k / 2);
  std::vector<float> y(h * w * out_c);
  for (std::size_t r = 0; r < h; ++r)
    for (std::size_t c = 0; c < w; ++c)
      for (std::size_t o = 0; o < out_c; ++o) {
        double sum = layer.bias.values[o];
        const std::size_t first_in = o / outs_per_group * per_group;
        for (std::size_t i = 0; i < per_group; ++i)
          for (std::size_t kr = 0; kr < k; ++kr)
            for (std::size_t kc = 0; kc < k; ++kc) {
              const std::ptrdiff_t sr = static_cast<std::ptrdiff_t>(r + kr) - pad;
              const std::ptrdiff_t sc = static_cast<std::ptrdiff_t>(c + kc) - pad;
              if (sr < 0 || sc < 0 || sr >= static_cast<std::ptrdiff_t>(h) ||
                  sc >= static_cast<std::ptrdiff_t>(w))
                continue;
              sum += static_cast<double>(
                         layer.weight.values[((o * per_group + i) * k + kr) * k + kc]) *
                     x[(static_cast<std::size_t>(sr) * w + static_cast<std::size_t>(sc)) * in_c +
                       first_in + i];
            }
        y[(r * w + c) * out_c + o] = static_cast<float>(sum);
      }
  return y;
}

/// 2x2 stride-2 max pooling of an h x w NHWC map with `channels` channels (f32 reference).
inline std::vector<float> max_pool2_f32(const std::vector<float>& x, std::size_t h, std::size_t w,
                                        std::size_t channels) {
  std::vector<float> y((h / 2) * (w / 2) * channels);
  for (std::size_t r = 0; r < h / 2; ++r)
    for (std::size_t c = 0; c < w / 2; ++c)
      for (std::size_t ch = 0; ch < channels; ++ch) {
        float m = x[((2 * r) * w + 2 * c) * channels + ch];
        for (std::size_t dr = 0; dr < 2; ++dr)
          for (std::size_t dc = 0; dc < 2; ++dc)
            m = std::max(m, x[((2 * r + dr) * w + 2 * c + dc) * channels + ch]);
        y[(r * (w / 2) + c) * channels + ch] = m;
      }
  return y;
}

}  // namespace mote_bench
