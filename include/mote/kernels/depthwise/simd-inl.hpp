// Depthwise Conv2D (channel multiplier 1) over channels-last input. The 16-row weight panels
// hold, for 16 consecutive channels, tap t at panel[t * 16 ...]: exactly one vector of weights
// per tap and channel group, multiplied with the matching vector of input channels.
// Code only: included per ISA by kernels/simd-inl.hpp.

template <class Activation>
inline void depthwise_conv2d(const WindowGeometry& g, const DenseF32& weights, const float* bias, const float* in,
                             float* out, Activation activation) noexcept {
  constexpr std::size_t rows = DenseF32::panel_rows;
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      float* out_pixel = out + (oy * g.out_w + ox) * g.out_c;
      for (std::size_t c = 0; c < g.out_c; c += Vec::lanes) {
        const std::size_t lanes = std::min(Vec::lanes, g.out_c - c);
        const float* panel = weights.panel(c / rows) + c % rows;
        Vec acc = Vec::load(bias + c);
        for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
          const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
          if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
          for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
            const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
            if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
            const float* x = in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c + c;
            const Vec w = Vec::load(panel + (ky * g.kernel_w + kx) * rows);
            acc = Vec::fma(lanes == Vec::lanes ? Vec::load(x) : Vec::load_partial(x, lanes), w, acc);
          }
        }
        acc = apply(activation, acc);
        if (lanes == Vec::lanes) acc.store(out_pixel + c);
        else acc.store_partial(out_pixel + c, lanes);
      }
    }
  }
}
