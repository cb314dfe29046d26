// Direct Conv2D over channels-last input on 16-output-channel weight panels (the same packing
// as Dense: column k = (ky, kx, ci)). A block of `block` output pixels of one row shares every
// weight load; each input value is broadcast into the panel's output channels. Blocks whose
// taps all fall inside the input take the fast path; pixels near the left/right border take a
// per-pixel path that skips padded taps (rows are skipped for both).
// Code only: included per ISA by kernels/simd-inl.hpp.

namespace conv_detail {

constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
// Pixels per block: as many accumulators as the register file allows next to the weight
// vectors and a broadcast (12 of 16 registers; 24 of 32 with AVX-512).
constexpr std::size_t accumulators = Vec::lanes == 16 ? 24 : 12;
constexpr std::size_t block = accumulators / per_panel > 0 ? accumulators / per_panel : 1;

/// out[0..Pixels) for one panel. Interior: every tap of every pixel lies inside the input's
/// columns (interior_columns), so the pixels' inputs are one pointer and a stride, with no bounds
/// checks (W4's first layer, one input channel: the checks cost more than the 16 FMAs per tap).
/// Pixels near the left/right border run one at a time and skip their padded taps.
template <std::size_t Pixels, bool Interior, class Activation>
inline void conv_pixels(const WindowGeometry& g, const float* panel, const float* bias,
                        std::size_t oy, std::size_t ox, const float* in, float* out,
                        std::size_t channels_here, Activation activation) noexcept {
  Vec acc[Pixels][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] =
          Vec::load(bias + j * Vec::lanes);
  for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
    const long iy =
        static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
    if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
    // Interior pixels start at ox * stride >= pad_left: no negative offset.
    const float* row_in =
        Interior
            ? in + (static_cast<std::size_t>(iy) * g.in_w + ox * g.stride_w - g.pad_left) * g.in_c
            : nullptr;
    if constexpr (Interior) {
      // Undilated rows: a kernel row's kernel_w * in_c inputs are contiguous in the input and
      // its columns contiguous in the panel, so one loop runs them (W4's first layer, one input
      // channel, had three taps of one multiply-add each, and their pointer arithmetic cost
      // more than the multiply-adds).
      if (g.dilation_w == 1) {
        const std::size_t span = g.kernel_w * g.in_c;
        const float* taps = panel + ky * span * DenseF32::panel_rows;
        for (std::size_t k = 0; k < span; ++k) {
          Vec w[per_panel];
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] =
              Vec::load(taps + k * DenseF32::panel_rows + j * Vec::lanes);
          MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
            const Vec x = Vec::broadcast(row_in[i * g.stride_w * g.in_c + k]);
            MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] =
                Vec::fma(x, w[j], acc[i][j]);
          }
        }
        continue;
      }
    }
    for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
      const float* pixel_in[Pixels];
      if constexpr (Interior) {
        MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) pixel_in[i] =
            row_in + (i * g.stride_w + kx * g.dilation_w) * g.in_c;
      } else {
        static_assert(Pixels == 1, "conv_pixels: only interior pixels run in blocks");
        const long ix =
            static_cast<long>(ox * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
        if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
        pixel_in[0] =
            in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
      }
      const float* taps = panel + (ky * g.kernel_w + kx) * g.in_c * DenseF32::panel_rows;
      for (std::size_t ic = 0; ic < g.in_c; ++ic) {
        Vec w[per_panel];
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] =
            Vec::load(taps + ic * DenseF32::panel_rows + j * Vec::lanes);
        MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
          const Vec x = Vec::broadcast(pixel_in[i][ic]);
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] =
              Vec::fma(x, w[j], acc[i][j]);
        }
      }
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
    float* out_pixel = out + ((oy * g.out_w) + ox + i) * g.out_c;
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      const std::size_t c = j * Vec::lanes;
      const Vec result = apply(activation, acc[i][j]);
      if (c + Vec::lanes <= channels_here)
        result.store(out_pixel + c);
      else if (c < channels_here)
        result.store_partial(out_pixel + c, channels_here - c);
    }
  }
}

}  // namespace conv_detail

/// `Weights`: DenseF32, or any 16-row panel view (the int8 kernel's integer-valued panels in
/// scratch, kernels/conv2d/int8-inl.hpp).
template <class Weights, class Activation>
inline void conv2d(const WindowGeometry& g, const Weights& weights, const float* bias,
                   const float* in, float* out, Activation activation) noexcept {
  using namespace conv_detail;
  // A 1x1 convolution with stride 1 and no padding is a GEMM with the pixels as rows: no tap
  // geometry per pixel block (W5's pointwise layer: 205 -> 170 us). Chunks of pixels whose
  // inputs fit in L1 (16 KiB) go through every panel before the next chunk.
  if constexpr (std::is_same_v<Weights, DenseF32>) {
    if (g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
        g.pad_top == 0 && g.pad_left == 0 && g.out_h == g.in_h && g.out_w == g.in_w) {
      const std::size_t pixels = g.out_h * g.out_w;
      const std::size_t tile = dense_detail::tile_rows;
      const std::size_t chunk =
          std::max(tile, (16 * 1024 / (g.in_c * sizeof(float))) / tile * tile);
      for (std::size_t first = 0; first < pixels; first += chunk)
        dense_batch(weights, bias, in + first * g.in_c, out + first * g.out_c,
                    std::min(chunk, pixels - first), activation);
      return;
    }
  }
  // Plain names, not a structured binding: the lambda below captures them (clang < 16 cannot).
  const ::mote::kernels::ColumnRange interior = ::mote::kernels::interior_columns(g);
  const std::size_t x_begin = interior.begin, x_end = interior.end;
  const auto row = [&](std::size_t oy, std::size_t p) {
    const float* panel = weights.panel(p);
    const float* panel_bias = bias + p * DenseF32::panel_rows;
    const std::size_t first = p * DenseF32::panel_rows;
    const std::size_t channels_here = std::min(DenseF32::panel_rows, g.out_c - first);
    float* panel_out = out + first;
    std::size_t ox = 0;
    for (; ox < x_begin; ++ox)
      conv_pixels<1, false>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    in_halving_blocks<block>(ox, x_end, [&](auto pixels, std::size_t x) {
      conv_pixels<decltype(pixels)::value, true>(g, panel, panel_bias, oy, x, in, panel_out,
                                                 channels_here, activation);
    });
    for (ox = x_end; ox < g.out_w; ++ox)
      conv_pixels<1, false>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
  };
  // Small weights (they stay in L1/L2 anyway): all panels on one output row before the next,
  // so the row's input is read from L1 once per panel rather than the whole input once per
  // panel from L2 or beyond. Large weights: one panel over the whole image, so that each panel
  // is read from memory once.
  if (weights.bytes() <= 64 * 1024) {
    for (std::size_t oy = 0; oy < g.out_h; ++oy)
      for (std::size_t p = 0; p < weights.panel_count(); ++p) row(oy, p);
  } else {
    for (std::size_t p = 0; p < weights.panel_count(); ++p)
      for (std::size_t oy = 0; oy < g.out_h; ++oy) row(oy, p);
  }
}
