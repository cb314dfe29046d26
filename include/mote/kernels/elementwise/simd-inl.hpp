#include "mote/kernels/elementwise/math-inl.hpp"
// Element-wise kernels for one ISA: activations, per-channel affine map, addition, softmax.
// Code only: included per ISA by kernels/simd-inl.hpp (namespace and `Vec` given there); the
// include above is code only too (vector exp/sigmoid/tanh/erf in namespace `math`).
//
// Semantics are those of the scalar functors (elementwise/activations.hpp) lane by lane:
// comparisons are written as selects on `x < 0` / `x > 6` so that NaN propagates (a NaN lane
// fails both comparisons and keeps x) and -0 stays -0, exactly as `x < 0 ? 0 : x` does.
// Identity, ReLU, ReLU6, LeakyReLU, Clip, HardSigmoid, HardSwish and add are bit-exact with the
// reference; the transcendental ones are within the bounds documented in math-inl.hpp.

inline Vec apply(::mote::activation::Identity, Vec x) noexcept { return x; }
// clamp_below/clamp_above are x < low ? low : x and x > high ? high : x exactly; on x86 they are
// one MAX/MIN each instead of compare + blend (measured: the ReLU6 epilogue of a 1x1
// convolution took 35 us of 205 with compare + blend).
inline Vec apply(::mote::activation::Relu, Vec x) noexcept { return Vec::clamp_below(x, Vec::zero()); }
inline Vec apply(::mote::activation::Relu6, Vec x) noexcept {
  return Vec::clamp_above(Vec::clamp_below(x, Vec::zero()), Vec::broadcast(6.0f));
}
template <int Numerator, int Denominator>
inline Vec apply(::mote::activation::LeakyRelu<Numerator, Denominator>, Vec x) noexcept {
  constexpr float slope = ::mote::activation::LeakyRelu<Numerator, Denominator>::slope;
  return Vec::select(Vec::less(x, Vec::zero()), x * Vec::broadcast(slope), x);
}
template <auto Lo, auto Hi>
inline Vec apply(::mote::activation::Clip<Lo, Hi>, Vec x) noexcept {
  using F = ::mote::activation::Clip<Lo, Hi>;
  return Vec::clamp_above(Vec::clamp_below(x, Vec::broadcast(F::lo)), Vec::broadcast(F::hi));
}
template <auto Alpha>
inline Vec apply(::mote::activation::LeakyReluAlpha<Alpha>, Vec x) noexcept {
  constexpr float slope = ::mote::activation::LeakyReluAlpha<Alpha>::slope;
  return Vec::select(Vec::less(x, Vec::zero()), x * Vec::broadcast(slope), x);
}
/// alpha * x + beta as a multiply then an add (the reference's two roundings: MOTE_NO_CONTRACT
/// keeps GCC from fusing them into an FMA here), then clamped.
template <class Parameters>
inline Vec apply(::mote::activation::HardSigmoid<Parameters>, Vec x) noexcept {
  using F = ::mote::activation::HardSigmoid<Parameters>;
  const Vec product{MOTE_NO_CONTRACT((x * Vec::broadcast(F::alpha)).v)};
  const Vec y = product + Vec::broadcast(F::beta);
  return Vec::clamp_above(Vec::clamp_below(y, Vec::zero()), Vec::broadcast(1.0f));
}
inline Vec apply(::mote::activation::Sigmoid, Vec x) noexcept { return math::sigmoid(x); }
inline Vec apply(::mote::activation::Tanh, Vec x) noexcept { return math::tanh(x); }
/// x * ReLU6(x + 3) * (1/6), in the reference's order of operations (bit-exact).
inline Vec apply(::mote::activation::HardSwish, Vec x) noexcept {
  return x * apply(::mote::activation::Relu6{}, x + Vec::broadcast(3.0f)) *
         Vec::broadcast(1.0f / 6.0f);
}
/// 0.5 x (1 + erf(x / sqrt 2)), the reference's formula. Below x = -5.57 erf is exactly -1 and
/// 1 + erf exactly 0; x is clamped to -8 in the first factor so that GELU(-inf) is -0, the
/// limit, instead of -inf * 0 = NaN (finite x < -8 give -0 either way).
inline Vec apply(::mote::activation::Gelu, Vec x) noexcept {
  const Vec lo = Vec::broadcast(-8.0f);
  const Vec xm = Vec::select(Vec::less(x, lo), lo, x);
  const Vec phi2 = Vec::broadcast(1.0f) + math::erf(x * Vec::broadcast(0.70710678118654752440f));
  return Vec::broadcast(0.5f) * xm * phi2;
}

/// Any other functor (one without a vector form above): its scalar definition, lane by lane.
/// The overloads above are preferred by overload resolution (they are more specialised).
template <class Activation>
inline Vec apply(Activation, Vec x) noexcept {
  alignas(64) float lanes[Vec::lanes];
  x.store(lanes);
  for (float& v : lanes) v = Activation::apply(v);
  return Vec::load(lanes);
}

/// Full vectors, then one partial vector for the tail; in == out works (each vector is loaded
/// before it is stored).
template <class Activation>
inline void activate(Activation activation, const float* in, float* out,
                     std::size_t count) noexcept {
  std::size_t i = 0;
  for (; i + Vec::lanes <= count; i += Vec::lanes)
    apply(activation, Vec::load(in + i)).store(out + i);
  if (i < count)
    apply(activation, Vec::load_partial(in + i, count - i)).store_partial(out + i, count - i);
}

/// out[p][c] = in[p][c] * scale[c] + shift[c], a multiply then an add as in the reference. (A
/// compiler may contract them into an FMA where the ISA has one, here or in the reference:
/// then the two differ by at most half an ulp of the product.)
inline void channel_affine(const float* scale, const float* shift, const float* in, float* out,
                           std::size_t pixels, std::size_t channels) noexcept {
  if (channels <= Vec::lanes) {
    // One (partial) vector per pixel: scale and shift stay in registers.
    const Vec s = Vec::load_partial(scale, channels), b = Vec::load_partial(shift, channels);
    if (channels == Vec::lanes) {
      for (std::size_t p = 0; p < pixels; ++p)
        (Vec::load(in + p * channels) * s + b).store(out + p * channels);
    } else {
      for (std::size_t p = 0; p < pixels; ++p)
        (Vec::load_partial(in + p * channels, channels) * s + b)
            .store_partial(out + p * channels, channels);
    }
    return;
  }
  const std::size_t full = channels - channels % Vec::lanes, tail = channels - full;
  for (std::size_t p = 0; p < pixels; ++p) {
    const float* x = in + p * channels;
    float* y = out + p * channels;
    for (std::size_t c = 0; c < full; c += Vec::lanes)
      (Vec::load(x + c) * Vec::load(scale + c) + Vec::load(shift + c)).store(y + c);
    if (tail != 0)
      (Vec::load_partial(x + full, tail) * Vec::load_partial(scale + full, tail) +
       Vec::load_partial(shift + full, tail))
          .store_partial(y + full, tail);
  }
}

/// out = a + b element-wise (bit-exact); out may alias a or b.
inline void add(const float* a, const float* b, float* out, std::size_t count) noexcept {
  std::size_t i = 0;
  for (; i + Vec::lanes <= count; i += Vec::lanes)
    (Vec::load(a + i) + Vec::load(b + i)).store(out + i);
  if (i < count) {
    const std::size_t n = count - i;
    (Vec::load_partial(a + i, n) + Vec::load_partial(b + i, n)).store_partial(out + i, n);
  }
}

/// Softmax over the last axis, as the reference: y = exp(x - max) / sum; a row holding NaN
/// gives NaN everywhere (and so does a row holding +inf, or only -inf: inf - inf is NaN).
/// The sum is accumulated in Vec::lanes partial sums (the only reordering).
inline void softmax(const float* in, float* out, std::size_t rows, std::size_t channels) noexcept {
  if (channels == 0) return;
  const std::size_t full = channels - channels % Vec::lanes, tail = channels - full;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* x = in + r * channels;
    float* y = out + r * channels;
    // Maximum ignoring NaN (std::fmax's semantics: the accumulator is never NaN because the
    // select only takes x where x > max), and whether any NaN is present.
    Vec maximum = Vec::broadcast(-__builtin_inff());
    Vec::Mask nan_mask = Vec::is_nan(Vec::zero());  // all false
    for (std::size_t c = 0; c < full; c += Vec::lanes) {
      const Vec v = Vec::load(x + c);
      maximum = Vec::select(Vec::greater(v, maximum), v, maximum);
      nan_mask = Vec::mask_or(nan_mask, Vec::is_nan(v));
    }
    alignas(64) float folded[Vec::lanes];
    maximum.store(folded);
    float max_scalar = folded[0];
    for (std::size_t i = 1; i < Vec::lanes; ++i)
      max_scalar = folded[i] > max_scalar ? folded[i] : max_scalar;
    bool has_nan = Vec::any(nan_mask);
    for (std::size_t c = full; c < channels; ++c) {
      max_scalar = x[c] > max_scalar ? x[c] : max_scalar;
      has_nan = has_nan || std::isnan(x[c]);
    }
    const Vec m = Vec::broadcast(max_scalar);
    Vec sum = Vec::zero();
    for (std::size_t c = 0; c < full; c += Vec::lanes) {
      const Vec e = math::exp(Vec::load(x + c) - m);
      e.store(y + c);
      sum = sum + e;
    }
    if (tail != 0) {
      math::exp(Vec::load_partial(x + full, tail) - m).store_partial(y + full, tail);
      sum = sum + Vec::load_partial(y + full, tail);  // lanes past the row are zero
    }
    const float inverse = has_nan ? __builtin_nanf("") : 1.0f / sum.reduce_add();
    const Vec scale = Vec::broadcast(inverse);
    for (std::size_t c = 0; c < full; c += Vec::lanes) (Vec::load(y + c) * scale).store(y + c);
    if (tail != 0) (Vec::load_partial(y + full, tail) * scale).store_partial(y + full, tail);
  }
}
