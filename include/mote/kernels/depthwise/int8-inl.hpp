// int8 depthwise Conv2D of one ISA (included by kernels/simd_int8-inl.hpp once per ISA).
//
// Multiplier 1 and at most depthwise_int8_float_max_taps taps (every MobileNet layer): the sums
// run in the ISA's f32 depthwise kernel on integer-valued floats, centred codes u - zu times
// centred weights w - zw. Each partial sum is an integer below 2^24, so every multiply-add is
// exact and the sums equal the int32 reference's on every ISA; the f32 kernel does 8 (AVX2) or
// 16 (AVX-512) exact multiply-adds per instruction where int16 products do at best 16 per
// vpmaddwd plus the interleaving and widening around them (W5's depthwise layer on AVX2: 95 ->
// see docs/benchmarks.md). The epilogue then applies the Dense epilogue's float operations.
//
// Otherwise (multipliers above 1, kernels above 49 taps) the input is quantised once into
// centred int16 codes inside a border of zeros, which is exactly what padding contributes; the
// weights are laid out tap-major as centred int16 w - zw, and each output channel sums its taps
// in int32.

template <class Ops>
MOTE_NO_IPA inline void depthwise_int8_centred_row(const float* x, std::size_t n,
                                                   const ::mote::kernels::Int8InputQuant& input,
                                                   typename Ops::Act* codes,
                                                   std::int16_t* row) noexcept {
  Ops::quantize(x, n, input.params, input.low, input.high, codes);
  const auto shift = static_cast<std::int16_t>(Ops::activation_offset - input.params.zero_point);
  for (std::size_t i = 0; i < n; ++i) row[i] = static_cast<std::int16_t>(codes[i] + shift);
}
template <class Ops>
inline void depthwise_int8_centred_row(const std::uint8_t* x, std::size_t n,
                                       const ::mote::kernels::Int8InputQuant& input, typename Ops::Act*,
                                       std::int16_t* row) noexcept {
  const std::int32_t zero_point = input.params.zero_point;
  for (std::size_t i = 0; i < n; ++i) row[i] = static_cast<std::int16_t>(static_cast<std::int32_t>(x[i]) - zero_point);
}
/// sums[o] for every output channel of one pixel, one channel at a time (output channel o
/// filters input channel o / multiplier). Out of line: see depthwise_int8_centred_row.
MOTE_NO_IPA inline void depthwise_int8_channel_sums(const std::int16_t* window,
                                                    const std::int16_t* tap_weights,
                                                    std::size_t multiplier, std::size_t taps_h,
                                                    std::size_t taps_w, std::ptrdiff_t row_step,
                                                    std::ptrdiff_t tap_step, std::size_t out_c,
                                                    std::int32_t* sums) noexcept {
  for (std::size_t o = 0; o < out_c; ++o) {
    const auto c = static_cast<std::ptrdiff_t>(o / multiplier);
    std::int32_t acc = 0;
    for (std::size_t ky = 0; ky < taps_h; ++ky)
      for (std::size_t kx = 0; kx < taps_w; ++kx)
        acc += std::int32_t{tap_weights[(ky * taps_w + kx) * out_c + o]} *
               window[static_cast<std::ptrdiff_t>(ky) * row_step +
                      static_cast<std::ptrdiff_t>(kx) * tap_step + c];
    sums[o] = acc;
  }
}

/// Output rows per band of depthwise_int8_in_floats: about 16 KiB of the input's float codes,
/// at least 2 rows, so that a band's rows with the kernel's extra ones stay in L1 while the f32
/// kernel reads each of them three times. W5's depthwise layer (rows of 7 KiB) on the Emerald
/// Rapids (48 KiB L1): bands of 2 rows 22 us, 3 rows 24, 6 rows (the former 48 KiB) 27, 1 row 24
/// (the rows it shares with the previous band are moved: twice the image).
inline std::size_t depthwise_int8_band_rows(const ::mote::kernels::WindowGeometry& g) noexcept {
  const std::size_t row_bytes = g.in_w * g.in_c * sizeof(float);
  return std::min(g.out_h, std::max<std::size_t>(2, 16 * 1024 / std::max<std::size_t>(row_bytes, 1)));
}

/// The sums in f32 (see the top of this file): multiplier 1, at most
/// depthwise_int8_float_max_taps taps. Band by band of output rows: the input rows a band needs
/// are converted to float codes (the rows it shares with the previous band are moved, not
/// converted again), summed by the f32 kernel and finished while they are in cache. The whole
/// image's codes at once went through memory (W5: 400 KB written and read back, and the sums
/// once more for the epilogue).
template <class G, class S, class In, class Out, class Activation>
inline void depthwise_int8_in_floats(
    const ::mote::kernels::WindowGeometry& g,
    const ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>& weights,
    const float* bias, const In* in, Out out, const ::mote::kernels::Int8InputQuant& input,
    Activation, std::byte* scratch) noexcept {
  static_assert(::mote::kernels::depthwise_int8_float_max_taps <=
                float_kernels::depthwise_detail::max_listed_taps);
  const Int8FloatOperands operands = int8_float_operands(g, weights, in, input, scratch, false);
  // The image area holds the band's input rows [held_begin, held_end), from its start.
  auto* codes = const_cast<float*>(operands.image);
  const std::size_t row_values = g.in_w * g.in_c, band = depthwise_int8_band_rows(g);
  const auto in_h = static_cast<long>(g.in_h);
  std::size_t held_begin = 0, held_end = 0;
  for (std::size_t first = 0; first < g.out_h; first += band) {
    const std::size_t last = std::min(g.out_h, first + band);
    const long top = static_cast<long>(first * g.stride_h) - static_cast<long>(g.pad_top);
    const long bottom = static_cast<long>((last - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h) -
                        static_cast<long>(g.pad_top) + 1;
    const auto begin = static_cast<std::size_t>(std::clamp(top, 0L, in_h));
    const auto end = static_cast<std::size_t>(std::clamp(bottom, 0L, in_h));
    if (begin >= held_end)
      held_end = begin;  // nothing shared
    else if (begin > held_begin)
      std::memmove(codes, codes + (begin - held_begin) * row_values, (held_end - begin) * row_values * sizeof(float));
    held_begin = begin;
    for (std::size_t y = held_end; y < end; ++y)
      int8_float_codes_row<Int8Ops>(in + y * row_values, row_values, input, operands.row_codes,
                                    codes + (y - begin) * row_values);
    held_end = std::max(held_end, end);
    // The band as a geometry of its own: its input rows from `begin`, its top padding what is
    // left of the layer's above them.
    ::mote::kernels::WindowGeometry rows = g;
    rows.in_h = end - begin;
    rows.out_h = last - first;
    rows.pad_top = static_cast<std::size_t>(std::max(0L, static_cast<long>(begin) - top));
    if constexpr (!::mote::kernels::is_codes_out_v<Out> && float_kernels::Vec::fused_fma) {
      // MobileNet's 3x3: the epilogue in registers as the sums are made (W5's depthwise layer on
      // Zen 3: a pass over its 400 KB of sums less); the same fma and activation.
      if (float_kernels::depthwise_detail::is_3x3_same(rows)) {
        float_kernels::depthwise_detail::depthwise_3x3_same<true>(rows, operands.weights, bias, operands.multipliers,
                                                                  codes, out + first * g.out_w * g.out_c,
                                                                  Activation{});
        continue;
      }
    }
    float_kernels::depthwise_detail::depthwise_listed_taps(rows, operands.weights, operands.zeros, codes,
                                                           int8_float_sums_area(out) + first * g.out_w * g.out_c,
                                                           ::mote::activation::Identity{});
    int8_finish_float_sums<Activation>(out, first * g.out_w, (last - first) * g.out_w, g.out_c,
                                       operands.multipliers, bias);
  }
}

/// In: float (quantised here) or std::uint8_t (codes handed over); Out: float* or Int8CodesOut.
template <class G, class S, class In, class Out, class Activation>
inline void depthwise_int8(
    const ::mote::kernels::WindowGeometry& g,
    const ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>& weights,
    const float* bias, const In* in, Out out, const ::mote::kernels::Int8InputQuant& input,
    Activation activation, std::byte* scratch) noexcept {
  const std::size_t channels = g.in_c, out_c = g.out_c, multiplier = out_c / channels;
  const std::size_t taps = g.kernel_h * g.kernel_w;
  if (multiplier == 1 && taps <= ::mote::kernels::depthwise_int8_float_max_taps)
    return depthwise_int8_in_floats(g, weights, bias, in, out, input, activation, scratch);
  // Multipliers above 1 and kernels above 49 taps (f32 depthwise layers run those in the scalar
  // reference too): int32 sums, one channel at a time.
  const std::size_t image_h = ::mote::kernels::conv_int8_bordered_h(g);
  const std::size_t image_w = ::mote::kernels::conv_int8_bordered_w(g);
  auto* image = reinterpret_cast<std::int16_t*>(scratch);
  std::byte* next = scratch + align_up(image_h * image_w * channels * sizeof(std::int16_t));
  auto* tap_weights = reinterpret_cast<std::int16_t*>(next);
  next += align_up(taps * out_c * sizeof(std::int16_t));
  auto* row_codes = reinterpret_cast<typename Int8Ops::Act*>(next);
  auto* sums = reinterpret_cast<std::int32_t*>(row_codes);  // then one pixel's accumulators

  // The weights are rearranged on every call (taps x channels values: little against the
  // pixels' work) so that int8 depthwise layers keep the one int8 WeightMatrix every other int8
  // kernel, the loaders and calibration share.
  for (std::size_t o = 0; o < out_c; ++o) {
    const std::int32_t zw = weights.params(o).zero_point;
    for (std::size_t t = 0; t < taps; ++t)
      tap_weights[t * out_c + o] = static_cast<std::int16_t>(weights.at(o, t) - zw);
  }
  // Act codes are u - activation_offset; centred codes u - zu.
  int8_fill_border(g, image, std::int16_t{0});
  const std::size_t row_values = g.in_w * channels;
  for (std::size_t y = 0; y < g.in_h; ++y)
    depthwise_int8_centred_row<Int8Ops>(
        in + y * row_values, row_values, input, row_codes,
        image + ((y + g.pad_top) * image_w + g.pad_left) * channels);

  const auto row_step = static_cast<std::ptrdiff_t>(g.dilation_h * image_w * channels);
  const auto tap_step = static_cast<std::ptrdiff_t>(g.dilation_w * channels);
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      const std::int16_t* window = image + (oy * g.stride_h * image_w + ox * g.stride_w) * channels;
      depthwise_int8_channel_sums(window, tap_weights, multiplier, g.kernel_h, g.kernel_w, row_step,
                                  tap_step, out_c, sums);
      if constexpr (::mote::kernels::is_codes_out_v<Out>) {
        int8_requantize(sums, out.rows, out_c, out.codes + (oy * g.out_w + ox) * out_c);
      } else {
        float* out_pixel = out + (oy * g.out_w + ox) * out_c;
        // The Dense epilogue's operations (vectorised where the ISA has them): no zero-point
        // correction, the sums are already centred.
        std::size_t o = int8_vector_epilogue<Int8Ops>(sums, sums, 0, input.params.scale,
                                                      weights.scales(), bias, out_pixel, out_c);
        for (; o < out_c; ++o)
          out_pixel[o] = std::fma(static_cast<float>(sums[o]),
                                  input.params.scale * weights.scales()[o], bias[o]);
        if constexpr (!std::is_same_v<Activation, ::mote::activation::Identity>)
          for (o = 0; o < out_c; ++o) out_pixel[o] = Activation::apply(out_pixel[o]);
      }
    }
  }
}
