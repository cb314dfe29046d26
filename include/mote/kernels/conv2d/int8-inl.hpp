// int8 Conv2D, written once against Int8Ops like the int8 Dense kernels (included by
// kernels/simd_int8-inl.hpp once per ISA). Each input value is quantised once, into an image
// bordered with the padding's code, so that gathering a receptive field is a few contiguous
// copies of codes without bounds checks (instead of gathering floats and quantising every value
// once per tap that reads it: 9 times for a 3x3 kernel). Output pixels then run in chunks as
// one integer GEMM over their gathered codes, and the Dense epilogue. Bit-exact with the
// reference (kernels/conv2d/int8_reference.hpp): the same codes, the same exact sums.

/// Copies n codes with one fixed-size copy where they fit in 16, 32 or 64 bytes (a tap row of a
/// small kernel is a handful of codes; a libc call per row cost more than the GEMM). It may read
/// and write up to 31 bytes past the n codes: the reads stay inside the scratch (the image is
/// followed by the patches), and the writes land on codes gathered or padded after it or on
/// scratch that is written before it is read.
template <class Code>
inline __attribute__((always_inline)) Code* int8_copy_codes(const Code* from, std::size_t n,
                                                            Code* to) noexcept {
  const std::size_t bytes = n * sizeof(Code);
  if (bytes <= 16)
    std::memcpy(to, from, 16);
  else if (bytes <= 32)
    std::memcpy(to, from, 32);
  else if (bytes <= 64)  // W4's 3 x 16 channels: 48 bytes per kernel row
    std::memcpy(to, from, 64);
  else
    std::memcpy(to, from, bytes);
  return to + n;
}

/// The gathered receptive fields of output pixels [first, first + count): rows of padded_cols
/// codes in (ky, kx, c) order, the padded columns holding `padding`.
template <class Code>
inline void int8_gather_patches(const ::mote::kernels::WindowGeometry& g, const Code* image,
                                std::size_t first, std::size_t count, std::size_t padded_cols,
                                Code padding, Code* patches) noexcept {
  const std::size_t c = g.in_c, image_w = ::mote::kernels::conv_int8_bordered_w(g);
  const std::size_t field = g.kernel_h * g.kernel_w * c;
  const Code padding4[4] = {padding, padding, padding, padding};
  const std::size_t row_step = g.dilation_h * image_w * c, tap_step = g.dilation_w * c;
  std::size_t oy = first / g.out_w, ox = first % g.out_w;  // then stepped: no division per pixel
  for (std::size_t i = 0; i < count; ++i) {
    Code* row = patches + i * padded_cols;
    const Code* source = image + (oy * g.stride_h * image_w + ox * g.stride_w) * c;
    for (std::size_t ky = 0; ky < g.kernel_h; ++ky, source += row_step) {
      if (g.dilation_w == 1) {
        row = int8_copy_codes(source, g.kernel_w * c, row);
      } else {
        for (std::size_t kx = 0; kx < g.kernel_w; ++kx)
          row = int8_copy_codes(source + kx * tap_step, c, row);
      }
    }
    // At most 3 padded columns (a group is 4 codes): one fixed-size store.
    std::memcpy(patches + i * padded_cols + field, padding4, sizeof(padding4));
    if (++ox == g.out_w) {
      ox = 0;
      ++oy;
    }
  }
}

/// Fills what lies outside the input in a bordered image (conv_int8_bordered_h x _w x c) with
/// `value`: the input rows are about to be written, so only the border is filled.
template <class Code>
inline void int8_fill_border(const ::mote::kernels::WindowGeometry& g, Code* image,
                             Code value) noexcept {
  const std::size_t image_h = ::mote::kernels::conv_int8_bordered_h(g);
  const std::size_t row = ::mote::kernels::conv_int8_bordered_w(g) * g.in_c;
  std::fill(image, image + g.pad_top * row, value);
  for (std::size_t y = g.pad_top; y < g.pad_top + g.in_h; ++y) {
    std::fill(image + y * row, image + y * row + g.pad_left * g.in_c, value);
    std::fill(image + y * row + (g.pad_left + g.in_w) * g.in_c, image + (y + 1) * row, value);
  }
  std::fill(image + (g.pad_top + g.in_h) * row, image + image_h * row, value);
}

/// One input row into codes (centred int8, or the ISA's activation codes), out of line
/// (MOTE_NO_IPA, arch/targets.hpp): constant-propagating a layer's geometry into the quantiser's
/// tail loop made GCC 12 at -O3 report -Waggressive-loop-optimizations on a loop that cannot run.
template <bool Centred, class Ops, class Code>
MOTE_NO_IPA inline void int8_quantize_row(const float* x, std::size_t n,
                                          const ::mote::kernels::Int8InputQuant& input,
                                          Code* out) noexcept {
  if constexpr (Centred)
    int8_quantize_centred<Ops>(x, n, input.params, input.low, input.high, out);
  else
    Ops::quantize(x, n, input.params, input.low, input.high, out);
}

/// The same row handed over as codes (u domain): converted, not quantised.
template <bool Centred, class Ops, class Code>
inline void int8_quantize_row(const std::uint8_t* x, std::size_t n, const ::mote::kernels::Int8InputQuant&,
                              Code* out) noexcept {
  if constexpr (Centred)
    int8_codes_centred(x, n, out);
  else
    int8_codes_encoded(x, n, out);
}

/// One input row as centred codes u - zu in floats (exact: |u - zu| <= 255).
template <class Ops>
MOTE_NO_IPA inline void int8_float_codes_row(const float* x, std::size_t n,
                                             const ::mote::kernels::Int8InputQuant& input,
                                             typename Ops::Act* codes, float* row) noexcept {
  if constexpr (requires {
                  Ops::quantize_centred_floats(x, n, input.params, input.low, input.high, row);
                }) {
    Ops::quantize_centred_floats(x, n, input.params, input.low, input.high, row);  // one pass
  } else {
    Ops::quantize(x, n, input.params, input.low, input.high, codes);
    const std::int32_t shift = Ops::activation_offset - input.params.zero_point;
    for (std::size_t i = 0; i < n; ++i)
      row[i] = static_cast<float>(static_cast<std::int32_t>(codes[i]) + shift);
  }
}

template <class Ops>
inline void int8_float_codes_row(const std::uint8_t* x, std::size_t n, const ::mote::kernels::Int8InputQuant& input,
                                 typename Ops::Act*, float* row) noexcept {
  const std::int32_t zero_point = input.params.zero_point;
  if constexpr (requires { Ops::centred_floats_of_codes(x, n, zero_point, row); }) {
    Ops::centred_floats_of_codes(x, n, zero_point, row);
  } else {
    for (std::size_t i = 0; i < n; ++i) row[i] = static_cast<float>(static_cast<std::int32_t>(x[i]) - zero_point);
  }
}

/// What the f32 kernels multiply when an int8 convolution sums in floats (small receptive fields
/// here, depthwise in kernels/depthwise/int8-inl.hpp), in scratch
/// (conv_int8_float_scratch_bytes): the input as centred codes, the weights as centred
/// integer-valued floats in 16-row panels, a zero bias and the epilogue's multipliers
/// (input scale x weight scale). The padding's code is the zero point (what 0.0 quantises to),
/// so the f32 kernels' zero padding is exact. The weights are rearranged per call (rows x
/// receptive field values: little against the pixels' work) so that the layer keeps the one
/// int8 WeightMatrix the loaders and calibration share.
struct Int8FloatOperands {
  ::mote::kernels::F32PanelView weights;
  const float* image;
  const float* zeros;
  const float* multipliers;
  const float*
      corrections;  ///< int4: (zu - 128) x the row's weight sum, what centring on zu leaves out
  typename Int8Ops::Act* row_codes;  ///< one row's codes, for ISAs that quantise to codes first
};
/// `whole_image` false leaves the image area unwritten, for a caller that converts it band by band.
template <class Matrix, class In>
inline Int8FloatOperands int8_float_operands(const ::mote::kernels::WindowGeometry& g,
                                             const Matrix& weights, const In* in,
                                             const ::mote::kernels::Int8InputQuant& input,
                                             std::byte* scratch, bool whole_image = true) noexcept {
  const std::size_t rows = weights.rows(), cols = weights.cols(),
                    padded_rows = weights.padded_rows();
  auto* image = reinterpret_cast<float*>(scratch);
  std::byte* next = scratch + align_up(g.in_h * g.in_w * g.in_c * sizeof(float));
  auto* panels = reinterpret_cast<float*>(next);
  next += align_up(padded_rows * cols * sizeof(float));
  auto* zeros = reinterpret_cast<float*>(next);
  next += align_up(padded_rows * sizeof(float));
  auto* multipliers = reinterpret_cast<float*>(next);
  next += align_up(padded_rows * sizeof(float));
  auto* corrections = reinterpret_cast<float*>(next);
  next += align_up(padded_rows * sizeof(float));
  auto* row_codes = reinterpret_cast<typename Int8Ops::Act*>(next);
  constexpr bool int4 = ::mote::is_int4_format_v<typename Matrix::format>;
  for (std::size_t o = 0; o < padded_rows; ++o) {
    const bool real = o < rows;
    std::int32_t zw = 0, weight_sum = 0;
    if constexpr (!int4) zw = real ? weights.params(o).zero_point : 0;
    for (std::size_t k = 0; k < cols; ++k) {
      const std::int32_t w = real ? weights.at(o, k) - zw : 0;
      panels[(o / 16 * cols + k) * 16 + o % 16] = static_cast<float>(w);
      weight_sum += w;
    }
    zeros[o] = 0.0f;
    if constexpr (int4) {
      // One scale group covers the receptive field (at most 16 values; groups are 32 or more).
      multipliers[o] = real ? weights.scale(o, 0) : 0.0f;
      corrections[o] = static_cast<float>((input.params.zero_point - 128) * weight_sum);
    } else {
      multipliers[o] = real ? input.params.scale * weights.scales()[o] : 0.0f;
      corrections[o] = 0.0f;
    }
  }
  const std::size_t row_values = g.in_w * g.in_c;
  for (std::size_t y = 0; whole_image && y < g.in_h; ++y)
    int8_float_codes_row<Int8Ops>(in + y * row_values, row_values, input, row_codes,
                                  image + y * row_values);
  // The f32 kernels run every panel of the view and write its 16 channels' outputs: only the
  // panels with rows, whatever a format pads its rows to.
  return {{panels, cols, (rows + 15) / 16}, image, zeros, multipliers, corrections, row_codes};
}

/// The Dense epilogue's operations on exact sums held in floats, in place: std::fma (one
/// rounding), then the activation. In the ISA's vectors where its fma rounds once as std::fma does
/// and its activations are the scalar ones lane by lane (kernels/elementwise/simd-inl.hpp): GCC
/// left this loop scalar, at about a third of the time of W5's int8 depthwise layer.
/// Out of line (MOTE_NO_IPA), as int8_quantize_row: a layer's channel count propagated into the
/// tail loop made GCC 12 at -O3 report -Waggressive-loop-optimizations on a loop that cannot run.
template <class Activation>
MOTE_NO_IPA inline void int8_float_epilogue(float* out, std::size_t pixels, std::size_t channels,
                                            const float* multipliers, const float* bias) noexcept {
  using Vec = float_kernels::Vec;
  for (std::size_t p = 0; p < pixels; ++p) {
    float* y = out + p * channels;
    std::size_t o = 0;
    if constexpr (Vec::fused_fma)
      for (; o + Vec::lanes <= channels; o += Vec::lanes)
        float_kernels::apply(Activation{}, Vec::fma(Vec::load(y + o), Vec::load(multipliers + o), Vec::load(bias + o)))
            .store(y + o);
    for (; o < channels; ++o) y[o] = Activation::apply(std::fma(y[o], multipliers[o], bias[o]));
  }
}

/// Where the f32 kernels put the exact sums: the outputs themselves, or the area the codes will
/// be written over (Int8CodesOut).
inline float* int8_float_sums_area(float* out) noexcept { return out; }
inline float* int8_float_sums_area(const ::mote::kernels::Int8CodesOut& out) noexcept {
  return reinterpret_cast<float*>(out.codes);
}
/// The float epilogue of the exact sums of pixels [first, first + pixels) in place, or their
/// requantisation into codes written over the sums area: pixel p's codes (p x channels bytes on)
/// end before any later pixel's sums (4 p x channels bytes on), and within a vector the sums are
/// loaded before the codes are stored.
template <class Activation>
inline void int8_finish_float_sums(float* out, std::size_t first, std::size_t pixels, std::size_t channels,
                                   const float* multipliers, const float* bias) noexcept {
  int8_float_epilogue<Activation>(out + first * channels, pixels, channels, multipliers, bias);
}
template <class Activation>
inline void int8_finish_float_sums(const ::mote::kernels::Int8CodesOut& out, std::size_t first, std::size_t pixels,
                                   std::size_t channels, const float*, const float*) noexcept {
  const float* sums = reinterpret_cast<const float*>(out.codes) + first * channels;
  for (std::size_t p = 0; p < pixels; ++p)
    int8_requantize(sums + p * channels, out.rows, channels, out.codes + (first + p) * channels);
}

/// Receptive fields of at most conv_int8_float_max_field values: the sums in the ISA's f32
/// convolution kernel on integer-valued floats (exact, see conv_int8_float_max_field).
template <class Matrix, class In, class Out, class Activation>
inline void conv2d_int8_in_floats(const ::mote::kernels::WindowGeometry& g, const Matrix& weights,
                                  const float* bias, const In* in, Out out,
                                  const ::mote::kernels::Int8InputQuant& input, Activation,
                                  std::byte* scratch) noexcept {
  const Int8FloatOperands operands = int8_float_operands(g, weights, in, input, scratch);
  float_kernels::conv2d(g, operands.weights, operands.zeros, operands.image, int8_float_sums_area(out),
                        ::mote::activation::Identity{});
  int8_finish_float_sums<Activation>(out, 0, g.out_h * g.out_w, g.out_c, operands.multipliers, bias);
}

/// In: float (quantised here) or std::uint8_t (codes handed over); Out: float* or Int8CodesOut.
template <class G, class S, class In, class Out, class Activation>
inline void conv2d_int8(
    const ::mote::kernels::WindowGeometry& g,
    const ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>& weights,
    const float* bias, const In* in, Out out, const ::mote::kernels::Int8InputQuant& input,
    Activation activation, std::byte* scratch) noexcept {
  using Matrix = ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>;
  using Code = int8_code_t<Matrix>;
  if (weights.cols() <= ::mote::kernels::conv_int8_float_max_field)
    return conv2d_int8_in_floats(g, weights, bias, in, out, input, activation, scratch);
  constexpr std::size_t chunk = ::mote::kernels::conv_int8_pixel_chunk;
  const std::size_t padded_cols = weights.padded_cols();
  const std::size_t image_h = ::mote::kernels::conv_int8_bordered_h(g);
  const std::size_t image_w = ::mote::kernels::conv_int8_bordered_w(g);
  auto* image = reinterpret_cast<Code*>(scratch);
  std::byte* after_image = scratch + align_up(image_h * image_w * g.in_c * 2);
  auto* patches = reinterpret_cast<Code*>(after_image);
  std::byte* spare =
      after_image + chunk * padded_cols * sizeof(Code);  // within the 2 bytes per code
  auto* dots = reinterpret_cast<std::int32_t*>(after_image + align_up(chunk * padded_cols * 2));

  // Padding is what a float zero quantises to.
  const std::int32_t zero_code = ::mote::quantize(0.0f, input.params, input.low, input.high);
  Code padding;
  if constexpr (int8_centred_codes<Matrix>)
    padding = static_cast<Code>(zero_code - 128);
  else
    padding = Int8Ops::encode(zero_code);
  int8_fill_border(g, image, padding);
  for (std::size_t y = 0; y < g.in_h; ++y)
    int8_quantize_row<int8_centred_codes<Matrix>, Int8Ops>(
        in + y * g.in_w * g.in_c, g.in_w * g.in_c, input,
        image + ((y + g.pad_top) * image_w + g.pad_left) * g.in_c);
  const std::size_t pixels = g.out_h * g.out_w;
  for (std::size_t first = 0; first < pixels; first += chunk) {
    const std::size_t count = std::min(chunk, pixels - first);
    int8_gather_patches(g, image, first, count, padded_cols, padding, patches);
    int8_dense_from_codes(weights, bias, patches, count, input, activation,
                          ::mote::kernels::conv_output_at(out, first * weights.rows()), dots, spare);
  }
}
