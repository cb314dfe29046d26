// int4 Conv2D of one ISA (included by kernels/simd_int8-inl.hpp for ISAs with int4 primitives).
// Receptive fields of at most conv_int8_float_max_field values sum in floats (below). Otherwise
// the input is quantised once into centred codes s = u - 128 inside an image bordered with the
// padding's code (what a float zero quantises to), receptive fields are gathered as codes
// (kernels/conv2d/int8-inl.hpp's gather), and chunks of conv_int8_pixel_chunk pixels run the
// int4 Dense kernel on them. The same codes and the same exact sums as the reference
// (kernels/conv2d/int4_reference.hpp), which gathers floats and quantises each once per tap.

// One input row quantised and centred, out of line (MOTE_NO_IPA, arch/targets.hpp: see
// int8_quantize_row).
MOTE_NO_IPA inline void int4_centre_row(const float* x, std::size_t n,
                                        const ::mote::kernels::Int8InputQuant& input,
                                        std::int8_t* out) noexcept {
  Int4Ops::centre(x, n, input.params, input.low, input.high, out);
}

/// Receptive fields of at most conv_int8_float_max_field values sum in floats, as int8 does
/// (kernels/conv2d/int8-inl.hpp), centred on the input zero point so that the f32 kernel's zero
/// padding is exact; adding (zu - 128) x the row's weight sum gives the int4 kernels' sum on
/// codes centred on 128, exactly (integers far below 2^24), and int4_dense_epilogue's operations
/// follow.
template <class Activation, class Matrix>
inline void int4_float_epilogue(const Matrix& weights, const Int8FloatOperands& operands,
                                const float* bias, const ::mote::kernels::Int8InputQuant& input,
                                float* out, std::size_t pixels) noexcept {
  const std::size_t channels = weights.rows();
  const float centre = static_cast<float>(128 - input.params.zero_point);
  for (std::size_t p = 0; p < pixels; ++p) {
    float* y = out + p * channels;
    for (std::size_t o = 0; o < channels; ++o) {
      const float group_sum =
          std::fma(y[o] + operands.corrections[o], operands.multipliers[o], 0.0f);
      y[o] = Activation::apply(std::fma(
          input.params.scale, std::fma(centre, weights.scaled_row_sums()[o], group_sum), bias[o]));
    }
  }
}

template <std::size_t G, class Activation>
inline void conv2d_int4(const ::mote::kernels::WindowGeometry& g,
                        const ::mote::WeightMatrix<::mote::Int4<G>, ::mote::DenseStorage>& weights,
                        const float* bias, const float* in, float* out,
                        const ::mote::kernels::Int8InputQuant& input, Activation activation,
                        std::byte* scratch) noexcept {
  if (weights.cols() <= ::mote::kernels::conv_int8_float_max_field) {
    const Int8FloatOperands operands = int8_float_operands(g, weights, in, input, scratch);
    float_kernels::conv2d(g, operands.weights, operands.zeros, operands.image, out,
                          ::mote::activation::Identity{});
    return int4_float_epilogue<Activation>(weights, operands, bias, input, out, g.out_h * g.out_w);
  }
  constexpr std::size_t chunk = ::mote::kernels::conv_int8_pixel_chunk;
  const std::size_t padded_cols = weights.padded_cols();
  const std::size_t image_w = ::mote::kernels::conv_int8_bordered_w(g);
  auto* image = reinterpret_cast<std::int8_t*>(scratch);
  std::byte* next = scratch + align_up(::mote::kernels::conv_int8_bordered_h(g) * image_w * g.in_c);
  auto* patches = reinterpret_cast<std::int8_t*>(next);
  std::byte* dense_scratch = next + align_up(chunk * padded_cols + 4);

  const auto padding =
      static_cast<std::int8_t>(::mote::quantize(0.0f, input.params, input.low, input.high) - 128);
  int8_fill_border(g, image, padding);
  for (std::size_t y = 0; y < g.in_h; ++y)
    int4_centre_row(in + y * g.in_w * g.in_c, g.in_w * g.in_c, input,
                    image + ((y + g.pad_top) * image_w + g.pad_left) * g.in_c);
  // The gather writes each row's receptive field and 4 padding codes; the rest of a row's padded
  // columns keep this fill (any code: their weights are 0).
  std::fill(patches, patches + chunk * padded_cols, padding);
  const std::size_t pixels = g.out_h * g.out_w;
  for (std::size_t first = 0; first < pixels; first += chunk) {
    const std::size_t count = std::min(chunk, pixels - first);
    int8_gather_patches(g, image, first, count, padded_cols, padding, patches);
    dense_int4_from_codes(weights, bias, patches, count, input, activation,
                          out + first * weights.rows(), dense_scratch);
  }
}
