// Depthwise Conv2D (channel multiplier 1) over channels-last input. The 16-row weight panels
// hold, for 16 consecutive channels, tap t at panel[t * 16 ...]: one vector of weights per tap
// and channel group, multiplied with the matching vector of input channels. For each output
// pixel the taps inside the input are listed once, then every channel group runs over them
// without bounds checks.
// Code only: included per ISA by kernels/simd-inl.hpp.

namespace depthwise_detail {

/// Kernels up to 7x7 list their taps on the stack; larger ones use the scalar reference.
constexpr std::size_t max_listed_taps = 49;

template <class Weights, class Activation>
inline void channels_over_taps(std::size_t channels, const float* const* tap_in,
                               const std::size_t* tap_offset, std::size_t taps,
                               const Weights& weights, const float* bias, float* out,
                               Activation activation) noexcept {
  constexpr std::size_t rows = Weights::panel_rows;
  std::size_t c = 0;
  // Two channel vectors at a time: two independent FMA chains.
  for (; c + 2 * Vec::lanes <= channels; c += 2 * Vec::lanes) {
    const float* panel0 = weights.panel(c / rows) + c % rows;
    const float* panel1 = weights.panel((c + Vec::lanes) / rows) + (c + Vec::lanes) % rows;
    Vec acc0 = Vec::load(bias + c), acc1 = Vec::load(bias + c + Vec::lanes);
    for (std::size_t t = 0; t < taps; ++t) {
      acc0 = Vec::fma(Vec::load(tap_in[t] + c), Vec::load(panel0 + tap_offset[t]), acc0);
      acc1 =
          Vec::fma(Vec::load(tap_in[t] + c + Vec::lanes), Vec::load(panel1 + tap_offset[t]), acc1);
    }
    apply(activation, acc0).store(out + c);
    apply(activation, acc1).store(out + c + Vec::lanes);
  }
  for (; c < channels; c += Vec::lanes) {
    const std::size_t lanes = std::min(Vec::lanes, channels - c);
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec x =
          lanes == Vec::lanes ? Vec::load(tap_in[t] + c) : Vec::load_partial(tap_in[t] + c, lanes);
      acc = Vec::fma(x, Vec::load(panel + tap_offset[t]), acc);
    }
    acc = apply(activation, acc);
    if (lanes == Vec::lanes)
      acc.store(out + c);
    else
      acc.store_partial(out + c, lanes);
  }
}

/// Pixels consecutive interior output pixels of one row at once: each weight vector is loaded
/// once per tap for all of them (`pixel_step` = stride * channels between their inputs).
template <std::size_t Pixels, class Weights, class Activation>
inline void pixels_over_taps(std::size_t channels, const float* const* tap_in,
                             const std::size_t* tap_offset, std::size_t taps,
                             std::size_t pixel_step, const Weights& weights, const float* bias,
                             float* out, Activation activation) noexcept {
  constexpr std::size_t rows = Weights::panel_rows;
  std::size_t c = 0;
  for (; c + Vec::lanes <= channels; c += Vec::lanes) {
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc[Pixels];
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec w = Vec::load(panel + tap_offset[t]);
      const float* x = tap_in[t] + c;
      MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] =
          Vec::fma(Vec::load(x + q * pixel_step), w, acc[q]);
    }
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) apply(activation, acc[q])
        .store(out + q * channels + c);
  }
  if (c < channels) {
    const std::size_t lanes = channels - c;
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc[Pixels];
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec w = Vec::load(panel + tap_offset[t]);
      const float* x = tap_in[t] + c;
      MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] =
          Vec::fma(Vec::load_partial(x + q * pixel_step, lanes), w, acc[q]);
    }
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) apply(activation, acc[q])
        .store_partial(out + q * channels + c, lanes);
  }
}

/// Interior pixels per block: 8 accumulators (16 with AVX-512's 32 registers).
constexpr std::size_t pixel_block = Vec::lanes == 16 ? 16 : 8;

/// MobileNet's depthwise layer: 3x3, stride 1, no dilation, one pixel of padding on the left and
/// right, whole channel vectors; any rows (a band of a larger image, kernels/depthwise/int8-inl.hpp,
/// has its own top padding and output height). The general path above rebuilds a tap list per
/// pixel and reloads the weights per block; here one channel vector's nine weight vectors stay in
/// registers for a whole output row (W5's depthwise layer: 70 -> 30 us). The sum is in the same
/// order (bias, then taps row by row), so both paths give the same bits.
inline bool is_3x3_same(const WindowGeometry& g) noexcept {
  return g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == 1 && g.stride_w == 1 &&
         g.dilation_h == 1 && g.dilation_w == 1 && g.pad_left == 1 && g.out_w == g.in_w &&
         g.in_w >= 2 && g.in_c % Vec::lanes == 0;
}

/// Pixels of one 3x3 row block: 4 accumulators with AVX2's 16 registers (9 hold the weights),
/// 8 with AVX-512's 32.
constexpr std::size_t row_block_3x3 = Vec::lanes == 16 ? 8 : 4;

/// Output pixels [x, x + Pixels) of one channel vector; `rows` are the input rows above, at and
/// below the output row (null where padding), already offset to the channel vector. Left/Right
/// drop the taps of the padded column at the row's ends. Scaled: the sums start from 0 and end
/// as fma(sum, m, b) (the int8 layer's epilogue on its exact sums, kernels/depthwise/int8-inl.hpp).
template <std::size_t Pixels, bool Left, bool Right, bool Scaled, class Activation>
inline void pixels_3x3(const float* const (&rows)[3], std::size_t x, std::size_t channels,
                       const Vec (&w)[9], Vec b, Vec m, float* out, Activation activation) noexcept {
  Vec acc[Pixels];
  MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Scaled ? Vec::zero() : b;
  MOTE_UNROLL for (std::size_t ky = 0; ky < 3; ++ky) {
    if (rows[ky] == nullptr) continue;
    MOTE_UNROLL for (std::size_t kx = 0; kx < 3; ++kx) {
      MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) {
        if ((Left && q == 0 && kx == 0) || (Right && q + 1 == Pixels && kx == 2)) continue;
        acc[q] =
            Vec::fma(Vec::load(rows[ky] + (x + q + kx - 1) * channels), w[ky * 3 + kx], acc[q]);
      }
    }
  }
  MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) apply(activation, Scaled ? Vec::fma(acc[q], m, b) : acc[q])
      .store(out + (x + q) * channels);
}

/// Scaled: out = activation(fma(sum, multipliers[c], bias[c])), the sums from 0 (the int8
/// layer's exact sums, finished in registers instead of in a pass of their own); otherwise the
/// sums start from the bias and `multipliers` is not read.
template <bool Scaled, class Weights, class Activation>
inline void depthwise_3x3_same(const WindowGeometry& g, const Weights& weights, const float* bias,
                               const float* multipliers, const float* in, float* out,
                               Activation activation) noexcept {
  constexpr std::size_t rows = Weights::panel_rows, block = row_block_3x3;
  const std::size_t width = g.in_w, channels = g.in_c, row_size = width * channels;
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    for (std::size_t c = 0; c < channels; c += Vec::lanes) {
      const float* panel = weights.panel(c / rows) + c % rows;
      Vec w[9];
      MOTE_UNROLL for (std::size_t t = 0; t < 9; ++t) w[t] = Vec::load(panel + t * rows);
      const Vec b = Vec::load(bias + c);
      const Vec m = Scaled ? Vec::load(multipliers + c) : Vec::zero();
      // Input row oy + ky - pad_top, or null where that is padding.
      const auto input_row = [&](std::size_t ky) -> const float* {
        const std::size_t shifted = oy + ky;
        return shifted >= g.pad_top && shifted - g.pad_top < g.in_h ? in + (shifted - g.pad_top) * row_size + c
                                                                     : nullptr;
      };
      const float* const row_in[3] = {input_row(0), input_row(1), input_row(2)};
      float* row_out = out + oy * row_size + c;
      pixels_3x3<1, true, false, Scaled>(row_in, 0, channels, w, b, m, row_out, activation);
      std::size_t x = 1;
      for (; x + block < width; x += block)
        pixels_3x3<block, false, false, Scaled>(row_in, x, channels, w, b, m, row_out, activation);
      for (; x + 1 < width; ++x)
        pixels_3x3<1, false, false, Scaled>(row_in, x, channels, w, b, m, row_out, activation);
      pixels_3x3<1, false, true, Scaled>(row_in, width - 1, channels, w, b, m, row_out, activation);
    }
  }
}

/// Any `Weights` with 16-row panels (panel(p), panel_rows): DenseF32, or the int8 kernel's
/// integer-valued panels in scratch (kernels/depthwise/int8-inl.hpp). At most max_listed_taps taps.
template <class Weights, class Activation>
inline void depthwise_listed_taps(const WindowGeometry& g, const Weights& weights,
                                  const float* bias, const float* in, float* out,
                                  Activation activation) noexcept {
  constexpr std::size_t rows = Weights::panel_rows;
  if (is_3x3_same(g)) return depthwise_3x3_same<false>(g, weights, bias, nullptr, in, out, activation);
  // Output columns whose every tap lies inside the input: their tap list is the row's list
  // shifted by the stride, so it is built once per row.
  const ::mote::kernels::ColumnRange interior = ::mote::kernels::interior_columns(g);
  const std::size_t x_begin = interior.begin, x_end = interior.end;
  const float* tap_in[max_listed_taps];
  std::size_t tap_offset[max_listed_taps];
  long row_tap_index[max_listed_taps];  // input element index of each tap for output column 0
  std::size_t row_tap_offset[max_listed_taps];
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    std::size_t row_taps = 0;
    for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
      const long iy =
          static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
      if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
      for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
        const long ix0 = static_cast<long>(kx * g.dilation_w) - static_cast<long>(g.pad_left);
        row_tap_index[row_taps] =
            (iy * static_cast<long>(g.in_w) + ix0) * static_cast<long>(g.in_c);
        row_tap_offset[row_taps] = (ky * g.kernel_w + kx) * rows;
        ++row_taps;
      }
    }
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      float* out_pixel = out + (oy * g.out_w + ox) * g.out_c;
      if (ox >= x_begin && ox < x_end) {
        const long shift = static_cast<long>(ox * g.stride_w * g.in_c);
        for (std::size_t t = 0; t < row_taps; ++t) tap_in[t] = in + (row_tap_index[t] + shift);
        if (ox + pixel_block <= x_end) {
          pixels_over_taps<pixel_block>(g.out_c, tap_in, row_tap_offset, row_taps,
                                        g.stride_w * g.in_c, weights, bias, out_pixel, activation);
          ox += pixel_block - 1;
        } else {
          channels_over_taps(g.out_c, tap_in, row_tap_offset, row_taps, weights, bias, out_pixel,
                             activation);
        }
        continue;
      }
      std::size_t taps = 0;
      for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
        const long iy =
            static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
        if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
        for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
          const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) -
                          static_cast<long>(g.pad_left);
          if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
          tap_in[taps] =
              in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
          tap_offset[taps] = (ky * g.kernel_w + kx) * rows;
          ++taps;
        }
      }
      channels_over_taps(g.out_c, tap_in, tap_offset, taps, weights, bias, out_pixel, activation);
    }
  }
}

}  // namespace depthwise_detail

template <class Activation>
inline void depthwise_conv2d(const WindowGeometry& g, const DenseF32& weights, const float* bias,
                             const float* in, float* out, Activation activation) noexcept {
  if (g.kernel_h * g.kernel_w > depthwise_detail::max_listed_taps)
    return ::mote::kernels::depthwise_conv2d(isa::Scalar{}, g, weights, bias, in, out, activation);
  depthwise_detail::depthwise_listed_taps(g, weights, bias, in, out, activation);
}
