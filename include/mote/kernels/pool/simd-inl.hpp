// Pooling kernels for one ISA, vectorised over channels (channels-last: the channels of one
// pixel are contiguous). Code only: included per ISA by kernels/simd-inl.hpp.
//
// Bit-exact with the scalar reference (kernels/pool/reference.hpp): each lane visits the same
// taps in the same order (rows, then columns, padded taps skipped) with the same operation:
//   max: a tap replaces the maximum when it is greater or NaN (a NaN tap wins and stays);
//   avg: taps summed from +0 in order, then multiplied by 1.0f / taps (taps inside the input);
//   global average: pixels summed from +0 in order, then multiplied by 1.0f / pixels.
// Up to 4 vectors of channels are reduced together, so each tap's address arithmetic is shared;
// their loops are unrolled (MOTE_UNROLL, kernels/simd-inl.hpp) to keep the sums in registers.

struct PoolMaxOp {
  static constexpr bool averages = false;
  static Vec init() noexcept { return Vec::broadcast(-__builtin_inff()); }
  static Vec combine(Vec maximum, Vec tap) noexcept {
    return Vec::select(Vec::mask_or(Vec::greater(tap, maximum), Vec::is_nan(tap)), tap, maximum);
  }
};
struct PoolSumOp {
  static constexpr bool averages = true;
  static Vec init() noexcept { return Vec::zero(); }
  static Vec combine(Vec sum, Vec tap) noexcept { return sum + tap; }
};

/// Reduces rows x cols taps (the first at `first`, steps row_step and col_step floats) for N
/// vectors of channels, or for one partial vector of `partial` channels (Partial = true), and
/// writes them to `out` (scaled by `inverse` for the averages).
template <class Op, std::size_t N, bool Partial = false>
inline void pool_reduce(const float* first, std::size_t rows, std::size_t row_step,
                        std::size_t cols, std::size_t col_step, float inverse, float* out,
                        std::size_t partial = 0) noexcept {
  Vec acc[N];
  MOTE_UNROLL for (std::size_t j = 0; j < N; ++j) acc[j] = Op::init();
  for (std::size_t r = 0; r < rows; ++r) {
    const float* tap = first + r * row_step;
    for (std::size_t k = 0; k < cols; ++k, tap += col_step) {
      if constexpr (Partial) {
        acc[0] = Op::combine(acc[0], Vec::load_partial(tap, partial));
      } else {
        MOTE_UNROLL for (std::size_t j = 0; j < N; ++j) acc[j] =
            Op::combine(acc[j], Vec::load(tap + j * Vec::lanes));
      }
    }
  }
  if constexpr (Op::averages) {
    const Vec scale = Vec::broadcast(inverse);
    MOTE_UNROLL for (std::size_t j = 0; j < N; ++j) acc[j] = acc[j] * scale;
  }
  if constexpr (Partial) {
    acc[0].store_partial(out, partial);
  } else {
    MOTE_UNROLL for (std::size_t j = 0; j < N; ++j) acc[j].store(out + j * Vec::lanes);
  }
}

/// All channels of one output: 4 vectors at a time, then 2, 1 and a partial one as needed.
template <class Op>
inline void pool_channels(const float* first, std::size_t rows, std::size_t row_step,
                          std::size_t cols, std::size_t col_step, float inverse, float* out,
                          std::size_t channels) noexcept {
  std::size_t c = 0;
  for (; c + 4 * Vec::lanes <= channels; c += 4 * Vec::lanes)
    pool_reduce<Op, 4>(first + c, rows, row_step, cols, col_step, inverse, out + c);
  if (c + 2 * Vec::lanes <= channels) {
    pool_reduce<Op, 2>(first + c, rows, row_step, cols, col_step, inverse, out + c);
    c += 2 * Vec::lanes;
  }
  if (c + Vec::lanes <= channels) {
    pool_reduce<Op, 1>(first + c, rows, row_step, cols, col_step, inverse, out + c);
    c += Vec::lanes;
  }
  if (c < channels)
    pool_reduce<Op, 1, true>(first + c, rows, row_step, cols, col_step, inverse, out + c,
                             channels - c);
}

/// The taps k in [0, kernel) of one axis with start + k * dilation inside [0, extent): [lo, hi).
inline void pool_tap_range(long start, std::size_t dilation, std::size_t kernel, std::size_t extent,
                           std::size_t& lo, std::size_t& hi) noexcept {
  const long d = static_cast<long>(dilation);
  const long first = start < 0 ? (-start + d - 1) / d : 0;
  const long end = static_cast<long>(extent) - start;  // taps with k * d < end are inside
  long last = end <= 0 ? 0 : (end + d - 1) / d;
  if (last > static_cast<long>(kernel)) last = static_cast<long>(kernel);
  hi = static_cast<std::size_t>(last);
  lo = first < last ? static_cast<std::size_t>(first) : hi;
}

template <class Op>
inline void pool_windows(const WindowGeometry& g, const float* in, float* out) noexcept {
  const std::size_t channels = g.in_c;
  const std::size_t row_step = g.dilation_h * g.in_w * channels, col_step = g.dilation_w * channels;
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    const long y0 = static_cast<long>(oy * g.stride_h) - static_cast<long>(g.pad_top);
    std::size_t ky0 = 0, ky1 = 0;
    pool_tap_range(y0, g.dilation_h, g.kernel_h, g.in_h, ky0, ky1);
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      const long x0 = static_cast<long>(ox * g.stride_w) - static_cast<long>(g.pad_left);
      std::size_t kx0 = 0, kx1 = 0;
      pool_tap_range(x0, g.dilation_w, g.kernel_w, g.in_w, kx0, kx1);
      const std::size_t rows = ky1 - ky0, cols = kx1 - kx0;
      float* out_pixel = out + (oy * g.out_w + ox) * g.out_c;
      if (rows == 0 || cols == 0) {  // rejected by the layers; what the reference computes
        for (std::size_t c = 0; c < channels; ++c)
          out_pixel[c] = Op::averages ? __builtin_nanf("") : -__builtin_inff();
        continue;
      }
      const std::size_t iy = static_cast<std::size_t>(y0 + static_cast<long>(ky0 * g.dilation_h));
      const std::size_t ix = static_cast<std::size_t>(x0 + static_cast<long>(kx0 * g.dilation_w));
      const float inverse = 1.0f / static_cast<float>(rows * cols);
      pool_channels<Op>(in + (iy * g.in_w + ix) * channels, rows, row_step, cols, col_step, inverse,
                        out_pixel, channels);
    }
  }
}

inline void max_pool2d(const WindowGeometry& g, const float* in, float* out) noexcept {
  pool_windows<PoolMaxOp>(g, in, out);
}
inline void avg_pool2d(const WindowGeometry& g, const float* in, float* out) noexcept {
  pool_windows<PoolSumOp>(g, in, out);
}
/// Mean over all pixels of a pixels x channels input.
inline void global_avg_pool(std::size_t pixels, std::size_t channels, const float* in,
                            float* out) noexcept {
  pool_channels<PoolSumOp>(in, 1, 0, pixels, channels, 1.0f / static_cast<float>(pixels), out,
                           channels);
}
