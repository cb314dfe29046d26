// mote 0.1.0: the whole library in one header (include/mote/mote.hpp and every
// header it includes from include/mote/, in dependency order).
//
// GENERATED FILE, DO NOT EDIT. Change the headers under include/ and run
//   python3 tools/amalgamate.py
// CTest's single_include.fresh fails while this file is out of date.
#pragma once

// ----- begin mote/mote.hpp -----
// mote: tiny neural networks on CPUs, as C++ types. Include this header for everything.

// ----- begin mote/core/aligned.hpp -----
// Heap storage aligned for the widest vector register mote targets (AVX-512: 64 bytes).
// Allocation happens only when a buffer is created or resized, never during forward().

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <type_traits>

namespace mote {

/// Alignment of every buffer mote allocates, and the granularity of workspace offsets.
inline constexpr std::size_t buffer_alignment = 64;

/// Rounds `bytes` up to a multiple of buffer_alignment.
constexpr std::size_t align_up(std::size_t bytes) noexcept {
  return (bytes + buffer_alignment - 1) / buffer_alignment * buffer_alignment;
}

/// A fixed-size, zero-initialised, 64-byte aligned heap array of trivially copyable T.
/// Copyable (deep copy) and movable; the size is chosen at construction.
template <class T>
class AlignedBuffer {
  static_assert(std::is_trivially_copyable_v<T>,
                "AlignedBuffer holds raw numbers: its element type must be trivially copyable.");

 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t count) : data_(allocate(count)), size_(count) {}
  AlignedBuffer(const AlignedBuffer& other) : AlignedBuffer(other.size_) {
    if (size_ != 0) std::memcpy(data_.get(), other.data_.get(), size_ * sizeof(T));
  }
  AlignedBuffer& operator=(const AlignedBuffer& other) {
    if (this != &other) *this = AlignedBuffer(other);
    return *this;
  }
  AlignedBuffer(AlignedBuffer&&) noexcept = default;
  AlignedBuffer& operator=(AlignedBuffer&&) noexcept = default;

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::span<T> span() noexcept { return {data(), size_}; }
  std::span<const T> span() const noexcept { return {data(), size_}; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }

 private:
  struct Deleter {
    void operator()(T* p) const noexcept {
      ::operator delete[](static_cast<void*>(p), std::align_val_t{buffer_alignment});
    }
  };
  static std::unique_ptr<T[], Deleter> allocate(std::size_t count) {
    if (count == 0) return nullptr;
    void* raw = ::operator new[](align_up(count * sizeof(T)), std::align_val_t{buffer_alignment});
    std::memset(raw, 0, align_up(count * sizeof(T)));
    return std::unique_ptr<T[], Deleter>(static_cast<T*>(raw));
  }

  std::unique_ptr<T[], Deleter> data_;
  std::size_t size_ = 0;
};

}  // namespace mote
// ----- end mote/core/aligned.hpp -----
// ----- begin mote/core/error.hpp -----
// Errors that depend on run-time data (files, user buffers) surface in two forms:
//  * every fallible operation has a `try_...` form returning `mote::Status` or
//    `mote::Expected<T>`; it never throws and works with -fno-exceptions;
//  * the plain form (e.g. `load_npz`) throws `mote::Error` and exists only when exceptions are
//    enabled.
// Configuration errors in network types are compile-time errors, never run-time ones.

#include <string>
#include <utility>
#include <variant>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define MOTE_HAS_EXCEPTIONS 1
#include <stdexcept>
#else
#define MOTE_HAS_EXCEPTIONS 0
#endif

namespace mote {

/// What kind of failure happened; the message says where and why.
enum class ErrorCode {
  io,              ///< a file could not be opened or read
  truncated,       ///< a file ended before a structure it announced
  corrupt,         ///< a file's bytes contradict its own format (bad magic, CRC, header)
  unsupported,     ///< valid input that mote does not handle (a dtype, a compression method)
  missing_tensor,  ///< a layer needs a tensor the source does not have
  extra_tensor,    ///< the source has a tensor no layer consumed
  shape_mismatch,  ///< a tensor or buffer has the wrong shape or size
  invalid_value,   ///< a value is outside what the operation accepts
};

/// Human-readable name of an ErrorCode, used as the message prefix.
inline const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::io: return "I/O error";
    case ErrorCode::truncated: return "truncated input";
    case ErrorCode::corrupt: return "corrupt input";
    case ErrorCode::unsupported: return "unsupported input";
    case ErrorCode::missing_tensor: return "missing tensor";
    case ErrorCode::extra_tensor: return "unexpected tensor";
    case ErrorCode::shape_mismatch: return "shape mismatch";
    case ErrorCode::invalid_value: return "invalid value";
  }
  return "error";
}

/// A failure description: a code and a message naming what, where and why.
struct ErrorInfo {
  ErrorCode code{};
  std::string message;

  /// "<code name>: <message>", the text shown to users.
  std::string describe() const { return std::string(to_string(code)) + ": " + message; }
};

/// Success, or an ErrorInfo. Cheap to return when successful (no allocation).
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorInfo error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit by design
  static Status ok() { return {}; }

  bool is_ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }
  const ErrorInfo& error() const noexcept { return error_; }
  /// Empty when successful.
  std::string message() const { return failed_ ? error_.describe() : std::string(); }

 private:
  ErrorInfo error_{};
  bool failed_ = false;
};

/// A value of type T, or an ErrorInfo.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}       // NOLINT
  Expected(ErrorInfo error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const ErrorInfo& error() const { return std::get<1>(state_); }
  Status status() const { return has_value() ? Status{} : Status{error()}; }

 private:
  std::variant<T, ErrorInfo> state_;
};

/// Builds an ErrorInfo; a shorthand used by every loader.
inline ErrorInfo make_error(ErrorCode code, std::string message) {
  return ErrorInfo{code, std::move(message)};
}

#if MOTE_HAS_EXCEPTIONS
/// Thrown by the non-`try_` forms of fallible operations.
class Error : public std::runtime_error {
 public:
  explicit Error(ErrorInfo info) : std::runtime_error(info.describe()), info_(std::move(info)) {}
  ErrorCode code() const noexcept { return info_.code; }
  const ErrorInfo& info() const noexcept { return info_; }

 private:
  ErrorInfo info_;
};

/// Throws mote::Error if `status` failed.
inline void throw_if_failed(const Status& status) {
  if (!status.is_ok()) throw Error(status.error());
}

/// Returns the value or throws mote::Error.
template <class T>
T value_or_throw(Expected<T>&& result) {
  if (!result.has_value()) throw Error(result.error());
  return std::move(result).value();
}
#endif

}  // namespace mote
// ----- end mote/core/error.hpp -----
// ----- begin mote/core/shape.hpp -----
// Compile-time tensor shapes. Activations are stored channels-last (NHWC without the batch
// dimension): a feature map is Shape<H, W, C>, a 1-D signal Shape<L, C>, a vector Shape<N>.
// Channels-last keeps the innermost loop of convolution, depthwise, pooling and per-channel
// epilogues contiguous, which is what SIMD kernels want (the layout of XNNPACK and TFLite).

#include <array>
#include <concepts>

namespace mote {

/// A compile-time shape. `Shape<28, 28, 1>` is a 28x28 single-channel image (H, W, C).
template <std::size_t... Dims>
struct Shape {
  static constexpr std::size_t rank = sizeof...(Dims);
  static constexpr std::array<std::size_t, rank> dims{Dims...};
  /// Number of elements.
  static constexpr std::size_t size = (std::size_t{1} * ... * Dims);
  /// Size of the innermost dimension (channels for feature maps).
  static constexpr std::size_t channels = rank == 0 ? 1 : dims[rank == 0 ? 0 : rank - 1];
  static constexpr bool has_zero_dim = ((Dims == 0) || ...);
  /// "[28, 28, 1]" for messages.
  static std::string to_string() {
    std::string text = "[";
    bool first = true;
    for (std::size_t dim : dims) {
      if (!first) text += ", ";
      text += std::to_string(dim);
      first = false;
    }
    return text + "]";
  }
};

/// The 1-D shape produced by Flatten from `Origin`; it remembers the origin so that a Dense
/// layer loading PyTorch weights (flattened in NCHW order) can reorder its columns to NHWC.
template <class Origin>
struct FlatShape : Shape<Origin::size> {
  using origin = Origin;
};

/// Anything with the static members of Shape.
template <class S>
concept ShapeType = requires {
  { S::rank } -> std::convertible_to<std::size_t>;
  { S::size } -> std::convertible_to<std::size_t>;
  S::dims;
};

namespace detail {
template <class S>
struct FlatOrigin {
  using type = void;
};
template <class Origin>
struct FlatOrigin<FlatShape<Origin>> {
  using type = Origin;
};
}  // namespace detail

/// The shape a 1-D shape was flattened from, or void.
template <class S>
using flat_origin_t = typename detail::FlatOrigin<S>::type;

/// Shapes compare by dimensions only (a FlatShape equals the plain Shape of the same size).
template <class A, class B>
inline constexpr bool same_dims_v = A::rank == B::rank && [] {
  for (std::size_t i = 0; i < A::rank; ++i)
    if (A::dims[i] != B::dims[i]) return false;
  return true;
}();

}  // namespace mote
// ----- end mote/core/shape.hpp -----
// ----- begin mote/core/tensor.hpp -----
// Tensors with compile-time shapes, channels-last (see shape.hpp).
//  * Tensor<S, T>      owns its elements inline (no heap), 64-byte aligned; for inputs, outputs
//                      and small activations. Large tensors belong on the heap (make_unique).
//  * TensorView<S, T>  a non-owning pointer plus the shape; T may be const.

#include <cassert>


namespace mote {

namespace detail {
template <class S, class... Index>
constexpr std::size_t linear_index(Index... index) noexcept {
  static_assert(sizeof...(Index) == S::rank,
                "A tensor element is addressed with one index per dimension of its shape.");
  const std::array<std::size_t, sizeof...(Index)> at{static_cast<std::size_t>(index)...};
  std::size_t offset = 0;
  for (std::size_t d = 0; d < S::rank; ++d) {
    assert(at[d] < S::dims[d]);
    offset = offset * S::dims[d] + at[d];
  }
  return offset;
}
}  // namespace detail

/// A non-owning view of `S::size` elements of T laid out row-major (last index fastest).
template <ShapeType S, class T = float>
class TensorView {
 public:
  using shape = S;
  using element_type = T;
  static constexpr std::size_t size = S::size;

  constexpr TensorView() = default;
  constexpr explicit TensorView(T* data) noexcept : data_(data) {}
  constexpr TensorView(std::span<T, S::size> elements) noexcept  // NOLINT: implicit by design
      : data_(elements.data()) {}
  /// A view of mutable elements converts to a view of const elements.
  template <class U>
    requires std::is_same_v<const U, T> && (!std::is_same_v<U, T>)
  constexpr TensorView(TensorView<S, U> other) noexcept : data_(other.data()) {}  // NOLINT

  constexpr T* data() const noexcept { return data_; }
  constexpr std::span<T, S::size> span() const noexcept { return std::span<T, S::size>(data_, S::size); }
  constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }
  template <class... Index>
  constexpr T& operator()(Index... index) const noexcept {
    return data_[detail::linear_index<S>(index...)];
  }

 private:
  T* data_ = nullptr;
};

/// An owning tensor with inline, 64-byte aligned storage; zero-initialised.
template <ShapeType S, class T = float>
class Tensor {
 public:
  using shape = S;
  using element_type = T;
  static constexpr std::size_t size = S::size;

  constexpr T* data() noexcept { return values_.data(); }
  constexpr const T* data() const noexcept { return values_.data(); }
  constexpr std::span<T, S::size> span() noexcept { return values_; }
  constexpr std::span<const T, S::size> span() const noexcept { return values_; }
  constexpr T& operator[](std::size_t i) noexcept { return values_[i]; }
  constexpr const T& operator[](std::size_t i) const noexcept { return values_[i]; }
  template <class... Index>
  constexpr T& operator()(Index... index) noexcept {
    return values_[detail::linear_index<S>(index...)];
  }
  template <class... Index>
  constexpr const T& operator()(Index... index) const noexcept {
    return values_[detail::linear_index<S>(index...)];
  }
  constexpr TensorView<S, T> view() noexcept { return TensorView<S, T>(data()); }
  constexpr TensorView<S, const T> view() const noexcept { return TensorView<S, const T>(data()); }
  constexpr operator TensorView<S, T>() noexcept { return view(); }              // NOLINT
  constexpr operator TensorView<S, const T>() const noexcept { return view(); }  // NOLINT
  constexpr auto begin() noexcept { return values_.begin(); }
  constexpr auto end() noexcept { return values_.end(); }
  constexpr auto begin() const noexcept { return values_.begin(); }
  constexpr auto end() const noexcept { return values_.end(); }

 private:
  alignas(buffer_alignment) std::array<T, S::size> values_{};
};

}  // namespace mote
// ----- end mote/core/tensor.hpp -----
// ----- begin mote/numeric/format.hpp -----
// What a number format is. A format is an empty tag type with traits; the storage that holds
// weights in that format lives with the weight layouts (layout/), the arithmetic in kernels/.
// Adding a format: docs/design.md, "Adding a number format".


// ----- begin mote/numeric/f32.hpp -----
// IEEE binary32 weights: the reference number format, and the default of every layer.


namespace mote {

/// 32-bit float weights, computed and accumulated in f32. 4 bytes per weight.
struct F32 {
  using storage_type = float;
  using accumulator_type = float;
  static constexpr const char* name = "f32";
  static constexpr std::size_t bits_per_weight = 32;
};

}  // namespace mote
// ----- end mote/numeric/f32.hpp -----
// ----- begin mote/numeric/half.hpp -----
// 16-bit float weights, computed and accumulated in f32: bfloat16 (BF16) and IEEE binary16
// (F16). Half the bytes of f32, which is what a memory-bound GEMV (batch 1) pays for.
// The conversions are exact scalar code (constexpr); kernels widen 16 weights at a time with
// the ISA's instructions (VecF32::load_bf16 / load_f16 in arch/), which agree with them.

#include <bit>
#include <cstdint>

namespace mote {

/// float -> bfloat16 (the top 16 bits of a float), rounded to nearest, ties to even. Overflow
/// gives infinity; NaN stays NaN, made quiet, with its sign and the top of its payload.
constexpr std::uint16_t float_to_bf16(float value) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);
  const std::uint32_t round_to_even = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + round_to_even) >> 16);
}

/// bfloat16 -> float: exact (a shift).
constexpr float bf16_to_float(std::uint16_t value) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(value) << 16);
}

/// float -> IEEE binary16, rounded to nearest, ties to even: |x| >= 65520 gives infinity,
/// values below 2^-14 give subnormals (or zero below 2^-25). NaN stays NaN, made quiet, with its
/// sign and the top of its payload.
constexpr std::uint16_t float_to_f16(float value) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return static_cast<std::uint16_t>(sign | 0x7E00u | ((magnitude >> 13) & 0x3FFu));
  if (magnitude >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // 65520 and up, inf
  // Normal f16 (>= 2^-14): rebias the exponent (127 -> 15) and round away 13 mantissa bits.
  // Subnormal: the 24-bit significand shifted to units of 2^-24, rounded the same way.
  std::uint32_t kept = 0, dropped = 0, half = 0;
  if (magnitude >= 0x38800000u) {
    const std::uint32_t rebiased = magnitude - 0x38000000u;
    kept = rebiased >> 13, dropped = rebiased & 0x1FFFu, half = 0x1000u;
  } else {
    const std::uint32_t exponent = magnitude >> 23;
    if (exponent < 102) return sign;  // below 2^-25: rounds to zero
    const std::uint32_t significand = (magnitude & 0x7FFFFFu) | 0x800000u;
    const std::uint32_t shift = 126 - exponent;  // 14..24
    kept = significand >> shift, dropped = significand & ((1u << shift) - 1u), half = 1u << (shift - 1);
  }
  if (dropped > half || (dropped == half && (kept & 1u) != 0)) ++kept;  // may carry into the exponent
  return static_cast<std::uint16_t>(sign | kept);
}

/// IEEE binary16 -> float: exact; a signalling NaN comes back quiet (as F16C and NEON do).
constexpr float f16_to_float(std::uint16_t value) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(value & 0x8000u) << 16;
  const std::uint32_t exponent = (value >> 10) & 0x1Fu;
  const std::uint32_t mantissa = value & 0x3FFu;
  if (exponent == 0x1F)
    return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13) | (mantissa != 0 ? 0x400000u : 0u));
  if (exponent == 0) {  // zero or subnormal: mantissa x 2^-24, exact in f32
    const float subnormal = static_cast<float>(mantissa) * 0x1p-24f;
    return std::bit_cast<float>(sign | std::bit_cast<std::uint32_t>(subnormal));
  }
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

/// bfloat16 weights (8-bit exponent like f32, 8-bit significand), computed in f32. 2 bytes per
/// weight; relative rounding error up to 2^-9, and f32's whole range.
struct BF16 {
  using storage_type = std::uint16_t;
  using accumulator_type = float;
  static constexpr const char* name = "bf16";
  static constexpr std::size_t bits_per_weight = 16;
  static constexpr storage_type encode(float value) noexcept { return float_to_bf16(value); }
  static constexpr float decode(storage_type value) noexcept { return bf16_to_float(value); }
};

/// IEEE binary16 weights (5-bit exponent, 11-bit significand), computed in f32. 2 bytes per
/// weight; relative rounding error up to 2^-11 for |w| in [2^-14, 65504], larger beyond.
struct F16 {
  using storage_type = std::uint16_t;
  using accumulator_type = float;
  static constexpr const char* name = "f16";
  static constexpr std::size_t bits_per_weight = 16;
  static constexpr storage_type encode(float value) noexcept { return float_to_f16(value); }
  static constexpr float decode(storage_type value) noexcept { return f16_to_float(value); }
};

/// BF16 or F16: 16-bit float storage widened to f32 by the kernels.
template <class F>
concept HalfFloatFormat = std::same_as<F, BF16> || std::same_as<F, F16>;

}  // namespace mote
// ----- end mote/numeric/half.hpp -----
// ----- begin mote/numeric/int8.hpp -----
// 8-bit integer number formats: weights (Int8) and activations (Int8, UInt8), with the scale
// granularity and symmetry as template parameters. The arithmetic (ONNX QuantizeLinear /
// DequantizeLinear, gemmlowp requantisation) is in numeric/quantization.hpp; docs/quantization.md
// states the exact semantics.


namespace mote {

/// One scale (and zero point) for the whole tensor.
struct PerTensor {
  static constexpr const char* name = "per-tensor";
};
/// One scale (and zero point) per output channel (row of the weight matrix).
struct PerChannel {
  static constexpr const char* name = "per-channel";
};
/// Zero point fixed at 0: the integer range is [-127, 127] for weights, so that negation is exact.
struct Symmetric {
  static constexpr const char* name = "symmetric";
};
/// Zero point chosen from the observed range: all 256 codes are used.
struct Asymmetric {
  static constexpr const char* name = "asymmetric";
};

namespace detail {
template <class G>
inline constexpr bool is_granularity_v = std::is_same_v<G, PerTensor> || std::is_same_v<G, PerChannel>;
template <class S>
inline constexpr bool is_symmetry_v = std::is_same_v<S, Symmetric> || std::is_same_v<S, Asymmetric>;
}  // namespace detail

/// Signed 8-bit integers with a float scale and an integer zero point: real = scale * (q - zero_point).
/// As a weight format (`Weights<Int8<>>`): per-channel symmetric by default, 1 byte per weight plus
/// a float scale per channel; products accumulate in int32. As an activation format
/// (`Activations<Int8<PerTensor, Asymmetric>>`): one scale and zero point per tensor.
template <class Granularity = PerChannel, class Symmetry = Symmetric>
struct Int8 {
  static_assert(detail::is_granularity_v<Granularity>,
                "Int8<Granularity, Symmetry>: Granularity must be mote::PerTensor or mote::PerChannel.");
  static_assert(detail::is_symmetry_v<Symmetry>,
                "Int8<Granularity, Symmetry>: Symmetry must be mote::Symmetric or mote::Asymmetric.");
  using storage_type = std::int8_t;
  using accumulator_type = std::int32_t;
  using granularity = Granularity;
  using symmetry = Symmetry;
  static constexpr const char* name = "int8";
  static constexpr std::size_t bits_per_weight = 8;
  static constexpr bool is_signed = true;
  static constexpr bool per_channel = std::is_same_v<Granularity, PerChannel>;
  static constexpr bool symmetric = std::is_same_v<Symmetry, Symmetric>;
  static constexpr std::int32_t min_code = symmetric ? -127 : -128;
  static constexpr std::int32_t max_code = 127;
};

/// Unsigned 8-bit activations with a zero point in [0, 255] (ONNX/TFLite uint8 tensors).
struct UInt8 {
  using storage_type = std::uint8_t;
  using accumulator_type = std::int32_t;
  using granularity = PerTensor;
  using symmetry = Asymmetric;
  static constexpr const char* name = "uint8";
  static constexpr std::size_t bits_per_weight = 8;
  static constexpr bool is_signed = false;
  static constexpr bool per_channel = false;
  static constexpr bool symmetric = false;
  static constexpr std::int32_t min_code = 0;
  static constexpr std::int32_t max_code = 255;
};

template <class F>
inline constexpr bool is_int8_format_v = false;
template <class G, class S>
inline constexpr bool is_int8_format_v<Int8<G, S>> = true;

}  // namespace mote
// ----- end mote/numeric/int8.hpp -----
// ----- begin mote/numeric/int4.hpp -----
// 4-bit integer weights with one scale per group of input columns: two weights per byte.


namespace mote {

/// Signed 4-bit weights, symmetric (codes [-7, 7], zero point 0), with one float scale per
/// `GroupSize` consecutive input columns of each output channel; `Int4<0>` has one scale per
/// output channel (the whole row is one group). GroupSize must be a multiple of 32, the block
/// the kernels accumulate in 16-bit integers before widening. 0.5 byte per weight plus 4 bytes
/// per group of each row. Activations are int8 or uint8 (as with Int8 weights); products
/// accumulate exactly in integers within a group and in f32 across groups.
template <std::size_t GroupSize = 32>
struct Int4 {
  static_assert(GroupSize % 32 == 0,
                "Int4<GroupSize>: the group size must be a multiple of 32 (or 0 for one scale per "
                "output channel).");
  using storage_type = std::uint8_t;
  using accumulator_type = std::int32_t;
  static constexpr const char* name = "int4";
  static constexpr std::size_t bits_per_weight = 4;
  static constexpr std::size_t group_size = GroupSize;
  static constexpr bool per_channel = GroupSize == 0;
  static constexpr bool symmetric = true;
  static constexpr std::int32_t min_code = -7;
  static constexpr std::int32_t max_code = 7;
};

template <class F>
inline constexpr bool is_int4_format_v = false;
template <std::size_t G>
inline constexpr bool is_int4_format_v<Int4<G>> = true;

}  // namespace mote
// ----- end mote/numeric/int4.hpp -----
// ----- begin mote/numeric/binary.hpp -----
// 1-bit numbers: binary weights (one sign bit each, one f32 scale per output channel) and
// binary activations (the sign of each input). The storage is layout/dense_binary.hpp, the
// kernels kernels/dense/binary*. The exact semantics, shared by every kernel:
//
//   sign(v)  = +1 if v >= 0 (so +0 and -0 give +1), -1 otherwise (so NaN gives -1: NaN >= 0 is
//              false; a binarised value has nowhere to carry a NaN).
//   weights  : w_rk is stored as sign(w_rk), and row r keeps scale_r = mean_k |w_rk| (XNOR-Net's
//              optimal L2 scale for a sign matrix; non-finite weights count 0 in the mean, so
//              one inf/NaN cannot void the row's scale). The weight (r, k) stands for
//              scale_r * sign(w_rk).
//   Activations<F32> (the default): y_r = scale_r * sum_k sign(w_rk) x_k + b_r, summed in f32
//              (the sign only flips x_k: no multiplication until the scale).
//   Activations<Binary>: y_r = scale_r * d_r + b_r with the exact integer
//              d_r = sum_k sign(w_rk) sign(x_k) = K - 2 popcount(w bits XOR x bits), computed as
//              std::fma(float(d_r), scale_r, b_r) by one scalar epilogue on every ISA, so that
//              outputs are bit-identical everywhere. The input's magnitude is not used (XNOR-Net
//              also multiplies by mean |x|; a BatchNorm or the next layer's scale absorbs it).


namespace mote {

/// Binary weights or activations: 1 bit (the sign) per value. As `Weights<Binary>`: one f32 scale
/// per output channel (mean |w| of the row), 1/32 of the bytes of f32 weights, computed with
/// f32 activations by sign flips and adds. With `Activations<Binary>` too, the input is reduced
/// to its signs and dot products are XNOR-popcounts (exact integers). See the top of this file.
struct Binary {
  /// 32 signs per word, bit k % 32 of word k / 32 set when value k is negative (sign -1).
  using storage_type = std::uint32_t;
  using accumulator_type = std::int32_t;
  static constexpr const char* name = "binary";
  static constexpr std::size_t bits_per_weight = 1;
  static constexpr std::size_t values_per_word = 32;

  /// True when `value` binarises to -1 (the stored bit is 1): !(value >= 0), so NaN is -1.
  static constexpr bool negative(float value) noexcept { return !(value >= 0.0f); }
  /// sign(value) as +1 / -1.
  static constexpr std::int32_t sign(float value) noexcept { return negative(value) ? -1 : 1; }
};

}  // namespace mote
// ----- end mote/numeric/binary.hpp -----
// ----- begin mote/numeric/codebook.hpp -----
// Codebook (palettised) weights: each weight is a Bits-bit index into a table of 2^Bits floats,
// one table per output channel (PerChannel) or one for the whole layer (PerTensor). The tables
// are fitted when weights are set, by 1-D k-means (Lloyd's algorithm), deterministically; the
// kernels compute in f32 on the looked-up values (layout/dense_codebook.hpp,
// kernels/dense/codebook-inl.hpp). docs/quantization.md, "Codebook weights".

#include <cmath>
#include <limits>
#include <vector>


namespace mote {

/// Weights as `Bits`-bit indices (2, 3 or 4) into tables of 2^Bits f32 values found by k-means:
/// per output channel (`PerChannel`, the default) or per tensor (`PerTensor`). Computed in f32
/// (activations stay f32). Bytes: Bits / 8 per weight plus 2^Bits floats per table.
template <std::size_t Bits, class Granularity = PerChannel>
struct Codebook {
  static_assert(Bits >= 2 && Bits <= 4,
                "Codebook<Bits, Granularity>: Bits is the number of index bits per weight and must be 2, 3 "
                "or 4 (tables of 4, 8 or 16 values).");
  static_assert(detail::is_granularity_v<Granularity>,
                "Codebook<Bits, Granularity>: Granularity must be mote::PerTensor or mote::PerChannel.");
  using storage_type = std::uint8_t;  ///< packed indices
  using accumulator_type = float;
  using granularity = Granularity;
  static constexpr std::size_t bits = Bits;
  static constexpr std::size_t bits_per_weight = Bits;
  /// Values per table.
  static constexpr std::size_t entries = std::size_t{1} << Bits;
  static constexpr bool per_channel = std::is_same_v<Granularity, PerChannel>;
  static constexpr const char* name = per_channel ? (Bits == 2 ? "codebook2 per-channel"
                                                     : Bits == 3 ? "codebook3 per-channel"
                                                                 : "codebook4 per-channel")
                                                  : (Bits == 2 ? "codebook2 per-tensor"
                                                     : Bits == 3 ? "codebook3 per-tensor"
                                                                 : "codebook4 per-tensor");
};

namespace detail {
/// Where index i (0-15) of a chunk of Bits-bit indices starts (layout/dense_codebook.hpp): its
/// first byte, and its bit offset (0-7) in that byte. The SIMD decoders' constants.
constexpr int codebook_index_byte(std::size_t bits, int i) noexcept { return static_cast<int>(bits) * i / 8; }
constexpr int codebook_index_shift(std::size_t bits, int i) noexcept { return static_cast<int>(bits) * i % 8; }
}  // namespace detail

template <class F>
inline constexpr bool is_codebook_format_v = false;
template <std::size_t Bits, class G>
inline constexpr bool is_codebook_format_v<Codebook<Bits, G>> = true;

/// A Codebook<Bits, Granularity> format.
template <class F>
concept CodebookFormat = is_codebook_format_v<F>;

/// Lloyd iterations at most per start of the fit (fit_codebook); a start usually stops earlier,
/// when no value changes cluster.
inline constexpr std::size_t codebook_max_iterations = 100;
/// k-means++ starts per fit (fit_codebook), each from its own fixed seed.
inline constexpr std::size_t codebook_kmeanspp_starts = 4;

namespace detail {

/// Sorted distinct values with prefix sums of their counts, sums and sums of squares (in
/// double): a cluster of consecutive distinct values [a, b) has its count, mean and squared
/// error in O(1).
struct CodebookSample {
  std::vector<float> distinct;
  std::vector<double> count{0.0}, sum{0.0}, square{0.0};

  explicit CodebookSample(std::vector<float> sorted) {
    for (std::size_t i = 0; i < sorted.size();) {
      std::size_t j = i;
      while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
      const double value = sorted[i] == 0.0f ? 0.0 : sorted[i];  // -0 and +0 are one value
      const double n = static_cast<double>(j - i);
      distinct.push_back(static_cast<float>(value));
      count.push_back(count.back() + n);
      sum.push_back(sum.back() + n * value);
      square.push_back(square.back() + n * value * value);
      i = j;
    }
  }
  std::size_t size() const noexcept { return distinct.size(); }
  double mean(std::size_t from, std::size_t to) const noexcept {
    return (sum[to] - sum[from]) / (count[to] - count[from]);
  }
  /// Sum over values v in [from, to) of count * (v - centre)^2.
  double squared_error(std::size_t from, std::size_t to, double centre) const noexcept {
    const double n = count[to] - count[from], s = sum[to] - sum[from], q = square[to] - square[from];
    return std::max(0.0, q - 2.0 * centre * s + n * centre * centre);
  }
  /// First distinct value above `threshold`.
  std::size_t above(double threshold) const noexcept {
    return static_cast<std::size_t>(
        std::upper_bound(distinct.begin(), distinct.end(), threshold,
                         [](double t, float v) { return t < static_cast<double>(v); }) -
        distinct.begin());
  }
};

/// Lloyd's algorithm from `centre` (k values, any order): assignment to the nearest centre (the
/// lower one on a tie: a cluster is the interval between two midpoints), then each centre to its
/// cluster's mean; an empty cluster's centre moves to the value farthest from its nearest
/// centre. Stops when no value changes cluster, or after `max_iterations`. Returns the squared
/// error of the final centres; `centre` ends sorted.
inline double codebook_lloyd(const CodebookSample& sample, std::vector<double>& centre, std::size_t max_iterations) {
  const std::size_t k = centre.size(), m = sample.size();
  std::vector<std::size_t> bound(k + 1, m + 1), next(k + 1);
  auto assign = [&](std::vector<std::size_t>& b) {
    b[0] = 0, b[k] = m;
    for (std::size_t j = 0; j + 1 < k; ++j) b[j + 1] = std::max(b[j], sample.above(0.5 * (centre[j] + centre[j + 1])));
  };
  std::sort(centre.begin(), centre.end());
  for (std::size_t iteration = 0; iteration < max_iterations; ++iteration) {
    assign(next);
    if (next == bound) break;
    bound = next;
    std::vector<bool> placed(k);
    for (std::size_t j = 0; j < k; ++j) {
      placed[j] = bound[j] < bound[j + 1];
      if (placed[j]) centre[j] = sample.mean(bound[j], bound[j + 1]);
    }
    for (std::size_t j = 0; j < k; ++j) {
      if (placed[j]) continue;
      // The farthest value from its nearest centre is the first or last value of a cluster.
      double worst = -1.0, where = centre[j];
      for (std::size_t c = 0; c < k; ++c) {
        if (bound[c] == bound[c + 1]) continue;
        for (std::size_t index : {bound[c], bound[c + 1] - 1}) {
          const double v = sample.distinct[index];
          double nearest = std::numeric_limits<double>::infinity();
          for (std::size_t e = 0; e < k; ++e)
            if (placed[e]) nearest = std::min(nearest, std::fabs(v - centre[e]));
          if (nearest > worst) worst = nearest, where = v;
        }
      }
      centre[j] = where;
      placed[j] = true;
    }
    std::sort(centre.begin(), centre.end());
  }
  assign(next);
  double error = 0.0;
  for (std::size_t j = 0; j < k; ++j) error += sample.squared_error(next[j], next[j + 1], centre[j]);
  return error;
}

/// Quantile start: centre j at the mean of the j-th run of count / k sorted values (each run at
/// least one distinct value).
inline std::vector<double> codebook_quantile_start(const CodebookSample& sample, std::size_t k) {
  const std::size_t m = sample.size();
  std::vector<std::size_t> bound(k + 1);
  bound[0] = 0, bound[k] = m;
  for (std::size_t j = 1; j < k; ++j) {
    const double target = sample.count.back() * static_cast<double>(j) / static_cast<double>(k);
    const auto b = static_cast<std::size_t>(std::lower_bound(sample.count.begin(), sample.count.end(), target) -
                                            sample.count.begin());
    bound[j] = std::clamp(b, bound[j - 1] + 1, m - (k - j));
  }
  std::vector<double> centre(k);
  for (std::size_t j = 0; j < k; ++j) centre[j] = sample.mean(bound[j], bound[j + 1]);
  return centre;
}

/// k-means++ start (Arthur & Vassilvitskii): the first centre drawn by count, each next one with
/// probability proportional to count * squared distance to the nearest centre so far. The
/// random numbers come from a 64-bit LCG (Knuth's MMIX constants) seeded with `seed`: the same
/// centres on every run and every standard library.
inline std::vector<double> codebook_kmeanspp_start(const CodebookSample& sample, std::size_t k, std::uint64_t seed) {
  std::uint64_t state = seed * 0x9E3779B97F4A7C15u + 1u;
  auto uniform = [&state] {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return static_cast<double>(state >> 11) * 0x1p-53;
  };
  const std::size_t m = sample.size();
  auto draw = [&](const std::vector<double>& cumulative) {
    const double target = uniform() * cumulative.back();
    const auto i = static_cast<std::size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), target) -
                                            cumulative.begin());
    return std::min(i == 0 ? 0 : i - 1, m - 1);
  };
  std::vector<double> centre{static_cast<double>(sample.distinct[draw(sample.count)])};
  std::vector<double> distance(m, std::numeric_limits<double>::infinity()), cumulative(m + 1);
  while (centre.size() < k) {
    cumulative[0] = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
      const double d = sample.distinct[i] - centre.back();
      distance[i] = std::min(distance[i], d * d);
      cumulative[i + 1] = cumulative[i] + (sample.count[i + 1] - sample.count[i]) * distance[i];
    }
    // A value already chosen has weight 0 and cannot be drawn again (m > k values exist).
    centre.push_back(sample.distinct[draw(cumulative)]);
  }
  return centre;
}

}  // namespace detail

/// Fits `entries` table values to `values[0, count)` by 1-D k-means and writes them to `table`
/// in ascending order. Deterministic: the same table for the same values in any order (in one
/// build: other compiler flags may contract the double-precision sums into FMAs differently):
/// * non-finite values are left out of the fit (assign_codebook_index maps them);
/// * at most `entries` distinct values: the table is those values, exactly, the last repeated
///   to fill it;
/// * otherwise Lloyd's algorithm (detail::codebook_lloyd, at most `max_iterations` iterations)
///   from a quantile start and from codebook_kmeanspp_starts k-means++ starts with fixed seeds;
///   the table with the lowest squared error wins (the quantile start on a tie). On Gaussian
///   data the k-means++ starts matter for 16 entries and a few hundred values, where Lloyd from
///   quantiles stops in a poor local minimum (error 1.2-1.7x higher).
/// Cost: a sort, O(count log count), then per start O(entries x distinct values) for k-means++
/// and O(entries log count) per Lloyd iteration; memory: a few arrays of count doubles. Weights
/// are set once, when loaded: Fashion-MNIST's MLP (235,000 weights, 394 tables of 16) fits in
/// about 0.1 s on one Zen 3 core. No effect on the forward pass.
inline void fit_codebook(const float* values, std::size_t count, std::size_t entries, float* table,
                         std::size_t max_iterations = codebook_max_iterations) {
  std::vector<float> sorted;
  sorted.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    if (std::isfinite(values[i])) sorted.push_back(values[i]);
  std::sort(sorted.begin(), sorted.end());
  if (sorted.empty()) {
    std::fill(table, table + entries, 0.0f);
    return;
  }
  const detail::CodebookSample sample(std::move(sorted));
  const std::size_t m = sample.size();
  if (m <= entries) {
    for (std::size_t j = 0; j < entries; ++j) table[j] = sample.distinct[std::min(j, m - 1)];
    return;
  }
  std::vector<double> best = detail::codebook_quantile_start(sample, entries);
  double best_error = detail::codebook_lloyd(sample, best, max_iterations);
  for (std::uint64_t seed = 1; seed <= codebook_kmeanspp_starts; ++seed) {
    std::vector<double> centre = detail::codebook_kmeanspp_start(sample, entries, seed);
    const double error = detail::codebook_lloyd(sample, centre, max_iterations);
    if (error < best_error) best_error = error, best = std::move(centre);
  }
  for (std::size_t j = 0; j < entries; ++j) table[j] = static_cast<float>(best[j]);
  std::sort(table, table + entries);
}

/// The index of the entry of `table` (ascending, `entries` values) nearest to `value`, the lower
/// one on a tie. NaN maps to the entry nearest to 0, +-infinity to the last / first entry.
inline std::uint8_t assign_codebook_index(const float* table, std::size_t entries, float value) noexcept {
  if (std::isnan(value)) value = 0.0f;
  if (value == std::numeric_limits<float>::infinity()) return static_cast<std::uint8_t>(entries - 1);
  if (value == -std::numeric_limits<float>::infinity()) return 0;
  std::size_t best = 0;
  double best_distance = std::fabs(static_cast<double>(value) - table[0]);
  for (std::size_t j = 1; j < entries; ++j) {
    const double distance = std::fabs(static_cast<double>(value) - table[j]);
    if (distance < best_distance) best = j, best_distance = distance;
  }
  return static_cast<std::uint8_t>(best);
}

}  // namespace mote
// ----- end mote/numeric/codebook.hpp -----

namespace mote {

/// A weight or activation number format: names its storage and accumulator types.
template <class F>
concept NumberFormat = requires {
  typename F::storage_type;
  typename F::accumulator_type;
  { F::name } -> std::convertible_to<const char*>;
  { F::bits_per_weight } -> std::convertible_to<std::size_t>;
};

}  // namespace mote
// ----- end mote/numeric/format.hpp -----
// ----- begin mote/numeric/quantization.hpp -----
// The integer arithmetic every quantised path in mote shares, defined once here and documented
// in docs/quantization.md:
//  * quantize:   q = saturate(round_half_to_even(x / scale) + zero_point)   (ONNX QuantizeLinear)
//  * dequantize: x = (q - zero_point) * scale                               (ONNX DequantizeLinear)
//  * requantize: an int32 accumulator times a real multiplier M in (0, 1) (and above, with a left
//    shift) is computed as gemmlowp/TFLite do: M = m * 2^-shift with m a Q31 fixed-point value,
//    SaturatingRoundingDoublingHighMul then RoundingDivideByPOT (round half away from zero).
// Every kernel of every ISA calls these scalar functions or reproduces them bit for bit.



namespace mote {

/// Scale and zero point of a quantised tensor (or of one channel of it).
struct QuantParams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

/// Checks that `params` can quantise to codes in [min_code, max_code]: the scale must be finite
/// and positive, the zero point inside the code range. `what` names the tensor in the message.
inline Status validate_quant_params(const QuantParams& params, std::int32_t min_code, std::int32_t max_code,
                                    const std::string& what) {
  if (!(params.scale > 0.0f) || !std::isfinite(params.scale))
    return make_error(ErrorCode::invalid_value, what + ": quantisation scale " + std::to_string(params.scale) +
                                                    " is not a finite positive number");
  if (params.zero_point < min_code || params.zero_point > max_code)
    return make_error(ErrorCode::invalid_value, what + ": zero point " + std::to_string(params.zero_point) +
                                                    " is outside the code range [" + std::to_string(min_code) +
                                                    ", " + std::to_string(max_code) + "]");
  return Status::ok();
}

/// Round half to even of a float, as ONNX QuantizeLinear (and IEEE roundTiesToEven) does,
/// independent of the current floating-point rounding mode.
inline float round_half_to_even(float x) noexcept {
  const float r = std::round(x);  // half away from zero
  if (std::fabs(x - std::trunc(x)) == 0.5f) return 2.0f * std::round(x * 0.5f);
  return r;
}

/// ONNX QuantizeLinear of one value; NaN maps to the zero point (as ONNX Runtime does).
inline std::int32_t quantize(float x, const QuantParams& params, std::int32_t min_code,
                             std::int32_t max_code) noexcept {
  const float scaled = x / params.scale;
  if (std::isnan(scaled)) return std::clamp(params.zero_point, min_code, max_code);
  const float rounded = round_half_to_even(std::clamp(scaled, -3.0e9f, 3.0e9f));
  const std::int64_t q = static_cast<std::int64_t>(rounded) + params.zero_point;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(q, min_code, max_code));
}

/// ONNX DequantizeLinear of one code.
inline float dequantize(std::int32_t q, const QuantParams& params) noexcept {
  return static_cast<float>(q - params.zero_point) * params.scale;
}

/// Scale and zero point covering [min_value, max_value] (widened to include 0, so that zero is
/// exact, as zero padding and ReLU need) with codes [min_code, max_code]. Symmetric: zero point
/// (min_code + max_code + 1) / 2 rounded toward zero, i.e. 0 for int8 and 128 for uint8, and the
/// range is [-max|x|, max|x|]. The zero point is ONNX DynamicQuantizeLinear's:
/// round_half_to_even(min_code - min / scale), saturated.
inline QuantParams choose_quant_params(float min_value, float max_value, std::int32_t min_code,
                                       std::int32_t max_code, bool symmetric) noexcept {
  min_value = std::min(min_value, 0.0f);
  max_value = std::max(max_value, 0.0f);
  QuantParams params;
  if (symmetric) {
    const float bound = std::max(-min_value, max_value);
    const std::int32_t zero = min_code < 0 ? 0 : (max_code + 1) / 2;
    const std::int32_t half_range = std::min(max_code - zero, zero - min_code);
    params.scale = bound > 0.0f ? bound / static_cast<float>(half_range) : 1.0f;
    params.zero_point = zero;
    return params;
  }
  const float range = max_value - min_value;
  params.scale = range > 0.0f ? range / static_cast<float>(max_code - min_code) : 1.0f;
  const float zero = round_half_to_even(static_cast<float>(min_code) - min_value / params.scale);
  params.zero_point = static_cast<std::int32_t>(std::clamp(zero, static_cast<float>(min_code),
                                                           static_cast<float>(max_code)));
  return params;
}

/// A positive real multiplier as a Q31 mantissa and a power-of-two exponent:
/// real ≈ mantissa * 2^(exponent - 31), mantissa in [2^30, 2^31).
struct FixedPointMultiplier {
  std::int32_t mantissa = 0;
  int exponent = 0;  ///< positive: shift left before the high multiply; negative: round right after
};

/// TFLite's QuantizeMultiplier: frexp, round the mantissa to 31 bits, renormalise on carry.
/// Multipliers too small to represent become 0; a non-finite or negative one is a caller bug
/// rejected earlier by validate_quant_params (scales are positive and finite).
inline FixedPointMultiplier make_fixed_point_multiplier(double real) noexcept {
  FixedPointMultiplier result;
  if (!(real > 0.0) || !std::isfinite(real)) return result;
  int exponent = 0;
  const double fraction = std::frexp(real, &exponent);
  std::int64_t mantissa = static_cast<std::int64_t>(std::llround(fraction * (1LL << 31)));
  if (mantissa == (1LL << 31)) {
    mantissa /= 2;
    ++exponent;
  }
  if (exponent < -31) return FixedPointMultiplier{};
  if (exponent > 30) {
    exponent = 30;
    mantissa = (1LL << 31) - 1;
  }
  result.mantissa = static_cast<std::int32_t>(mantissa);
  result.exponent = exponent;
  return result;
}

/// gemmlowp SaturatingRoundingDoublingHighMul: (a * b * 2 + 2^31 rounding) >> 32, with the one
/// overflowing case (both INT32_MIN) saturated.
inline std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) noexcept {
  if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t product = static_cast<std::int64_t>(a) * static_cast<std::int64_t>(b);
  const std::int64_t nudge = product >= 0 ? (1LL << 30) : (1 - (1LL << 30));
  return static_cast<std::int32_t>((product + nudge) / (1LL << 31));
}

/// gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero.
inline std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) noexcept {
  if (exponent <= 0) return x;
  const std::int32_t mask = static_cast<std::int32_t>((1LL << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/// TFLite MultiplyByQuantizedMultiplier: x * real multiplier, rounded as above. The left shift
/// saturates instead of wrapping.
inline std::int32_t multiply_by_quantized_multiplier(std::int32_t x, FixedPointMultiplier m) noexcept {
  const int left = m.exponent > 0 ? m.exponent : 0;
  const int right = m.exponent > 0 ? 0 : -m.exponent;
  const std::int64_t shifted = static_cast<std::int64_t>(x) * (std::int64_t{1} << left);
  const std::int32_t saturated = static_cast<std::int32_t>(
      std::clamp<std::int64_t>(shifted, std::numeric_limits<std::int32_t>::min(),
                               std::numeric_limits<std::int32_t>::max()));
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(saturated, m.mantissa), right);
}

/// Requantises an int32 accumulator to a code: zero_point + acc * multiplier, clamped to
/// [low, high] (the code range narrowed by a fused ReLU/ReLU6).
inline std::int32_t requantize(std::int32_t acc, FixedPointMultiplier multiplier, std::int32_t zero_point,
                               std::int32_t low, std::int32_t high) noexcept {
  const std::int64_t value = static_cast<std::int64_t>(multiply_by_quantized_multiplier(acc, multiplier)) + zero_point;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(value, low, high));
}

}  // namespace mote
// ----- end mote/numeric/quantization.hpp -----
// ----- begin mote/numeric/calibration.hpp -----
// Activation-range calibration for post-training quantisation: a RangeObserver streams the
// activations of a calibration set through a running min/max and a histogram, then turns them
// into a QuantParams by one of three methods. Calibration runs offline, once per model; nothing
// here is used by inference.

#include <cstdio>


namespace mote {

/// How RangeObserver::compute_params turns the observed values into a clipping range.
enum class CalibrationMethod {
  /// The full observed range [min, max]: nothing is clipped, so one outlier widens the step of
  /// every other value.
  min_max,
  /// The range between the (100 - p)th and pth percentiles of the observed values (symmetric:
  /// the pth percentile of |x|); the rarest values beyond it are clipped.
  percentile,
  /// The range minimising the expected squared error of quantise-dequantise over the observed
  /// distribution: rounding noise inside the range plus clipping error outside, traded off.
  mse,
};

/// Streams calibration values and keeps their count, min, max and a histogram whose range grows
/// as new extremes arrive. observe() never allocates (both bin buffers are allocated by the
/// constructor); compute_params() allocates its working arrays (O(bins)). Not thread-safe while
/// observing.
class RangeObserver {
 public:
  /// `bin_count` histogram bins (at least 2; fewer are taken as 2). More bins resolve
  /// percentiles and the mse search more finely, at 16 bytes per bin.
  explicit RangeObserver(std::size_t bin_count = 2048)
      : counts_(std::max<std::size_t>(bin_count, 2), 0),
        scratch_(std::max<std::size_t>(bin_count, 2), 0) {}

  /// Adds `count` values. A NaN or infinite value rejects the whole batch
  /// (ErrorCode::invalid_value, naming the first bad index) and leaves the observer as it was.
  Status observe(const float* values, std::size_t count) {
    if (count == 0) return Status::ok();
    if (values == nullptr)
      return make_error(ErrorCode::invalid_value, "RangeObserver::observe: null pointer for " +
                                                      std::to_string(count) + " values");
    std::size_t non_finite = 0;
    std::size_t first_bad = count;
    float batch_min = std::numeric_limits<float>::infinity();
    float batch_max = -std::numeric_limits<float>::infinity();
    for (std::size_t i = 0; i < count; ++i) {
      const float x = values[i];
      if (!std::isfinite(x)) {
        if (non_finite++ == 0) first_bad = i;
        continue;
      }
      batch_min = std::min(batch_min, x);
      batch_max = std::max(batch_max, x);
    }
    if (non_finite != 0)
      return make_error(ErrorCode::invalid_value,
                        "RangeObserver::observe: value at index " + std::to_string(first_bad) +
                            " of " + std::to_string(count) + " is " +
                            describe_non_finite(values[first_bad]) + " (" +
                            std::to_string(non_finite) +
                            " non-finite values in the batch); calibration data must be finite, "
                            "the batch was not recorded");

    const bool had_range = count_ != 0 && min_ < max_;
    const float earlier_value = min_;  // while !had_range, every value seen so far equals it
    if (count_ == 0) {
      min_ = batch_min;
      max_ = batch_max;
      hist_lo_ = hist_hi_ = batch_min;
    } else {
      min_ = std::min(min_, batch_min);
      max_ = std::max(max_, batch_max);
    }
    if (!had_range && min_ < max_) {
      // First time two distinct values are seen: the histogram spans exactly [min, max], and the
      // earlier values (all in bin 0 of the zero-width histogram) move to their bin in it.
      const std::uint64_t earlier = counts_[0];
      counts_[0] = 0;
      hist_lo_ = static_cast<double>(min_);
      hist_hi_ = static_cast<double>(max_);
      bin_width_ = (hist_hi_ - hist_lo_) / static_cast<double>(counts_.size());
      counts_[bin_of(static_cast<double>(earlier_value))] += earlier;
    } else if (had_range &&
               (static_cast<double>(min_) < hist_lo_ || static_cast<double>(max_) > hist_hi_)) {
      grow_to(static_cast<double>(min_), static_cast<double>(max_));
    }
    for (std::size_t i = 0; i < count; ++i) {
      ++counts_[bin_width_ > 0.0 ? bin_of(static_cast<double>(values[i])) : 0];
      zero_count_ += values[i] == 0.0f ? 1 : 0;
    }
    count_ += count;
    return Status::ok();
  }

  /// Adds every value of `values` (see the pointer form).
  Status observe(std::span<const float> values) { return observe(values.data(), values.size()); }

  /// Forgets every observed value; keeps the bin buffers.
  void reset() noexcept {
    std::fill(counts_.begin(), counts_.end(), std::uint64_t{0});
    count_ = zero_count_ = 0;
    min_ = max_ = 0.0f;
    hist_lo_ = hist_hi_ = bin_width_ = 0.0;
  }

  /// Number of values observed.
  std::uint64_t count() const noexcept { return count_; }
  /// Smallest and largest observed value (0 before any).
  float min() const noexcept { return min_; }
  float max() const noexcept { return max_; }
  /// Histogram bins: bin i counts the values in [lo + i * w, lo + (i + 1) * w), lo =
  /// histogram_lo(), w = (histogram_hi() - lo) / bin_count(), the last bin closed on the right.
  /// Until two distinct values have been seen the range has zero width and bin 0 holds them all.
  std::span<const std::uint64_t> bins() const noexcept { return counts_; }
  std::size_t bin_count() const noexcept { return counts_.size(); }
  double histogram_lo() const noexcept { return hist_lo_; }
  double histogram_hi() const noexcept { return hist_hi_; }

  /// Scale and zero point for codes [min_code, max_code] (symmetric: zero point as in
  /// choose_quant_params) from the values observed so far, by `method`; `percentile` is used by
  /// CalibrationMethod::percentile and checked whatever the method. Errors (invalid_value): no
  /// value observed, percentile outside (0, 100], min_code >= max_code or a code range that
  /// choose_quant_params cannot use, or a range too narrow for a positive float scale.
  /// Cost: min_max O(1); percentile O(bins); mse O(non-empty bins) for each of 274 candidate
  /// ranges (symmetric or one-signed data) or 1,667 (asymmetric, both signs).
  Expected<QuantParams> compute_params(CalibrationMethod method, std::int32_t min_code,
                                       std::int32_t max_code, bool symmetric,
                                       double percentile = 99.99) const {
    const std::string what = "RangeObserver::compute_params";
    if (count_ == 0)
      return make_error(ErrorCode::invalid_value,
                        what +
                            ": no value observed (the calibration set was empty); observe() "
                            "activations before computing quantisation parameters");
    if (!(percentile > 0.0 && percentile <= 100.0))
      return make_error(ErrorCode::invalid_value,
                        what + ": percentile " + format_value(percentile) + " is outside (0, 100]");
    // Appended piece by piece: GCC 12 reports a false -Wrestrict on "[" + std::to_string(...).
    std::string codes = "[";
    codes += std::to_string(min_code);
    codes += ", ";
    codes += std::to_string(max_code);
    codes += "]";
    if (min_code >= max_code)
      return make_error(ErrorCode::invalid_value, what + ": code range " + codes +
                                                      " is empty; min_code must be below max_code");
    // choose_quant_params computes max_code - min_code and max_code + 1 in int32.
    if (max_code == std::numeric_limits<std::int32_t>::max() ||
        std::int64_t{max_code} - min_code > std::numeric_limits<std::int32_t>::max())
      return make_error(ErrorCode::invalid_value,
                        what + ": code range " + codes + " is too wide for int32 arithmetic");
    if (symmetric &&
        !std::isfinite(choose_quant_params(-1.0f, 1.0f, min_code, max_code, true).scale))
      return make_error(ErrorCode::invalid_value,
                        what +
                            ": symmetric quantisation needs codes on both sides of the zero "
                            "point, and " +
                            codes + " has none on one side");

    QuantParams params;
    if (method == CalibrationMethod::min_max || !(min_ < max_)) {
      // With a single distinct value there is nothing to clip: every method gives min_max.
      params = choose_quant_params(min_, max_, min_code, max_code, symmetric);
    } else {
      const Distribution distribution(*this);
      if (method == CalibrationMethod::percentile)
        params = distribution.percentile_params(percentile / 100.0, min_code, max_code, symmetric);
      else
        params = distribution.mse_params(min_code, max_code, symmetric);
    }
    if (Status status = validate_quant_params(params, min_code, max_code,
                                              what + " (observed range [" +
                                                  format_value(static_cast<double>(min_)) + ", " +
                                                  format_value(static_cast<double>(max_)) + "])");
        !status)
      return status.error();
    return params;
  }

 private:
  static std::string format_value(double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", x);
    return text;
  }

  static std::string describe_non_finite(float x) {
    if (std::isnan(x)) return "NaN";
    return x > 0.0f ? "+inf" : "-inf";
  }

  std::size_t bin_of(double x) const noexcept {
    const double position = std::floor((x - hist_lo_) / bin_width_);
    const double last = static_cast<double>(counts_.size() - 1);
    return static_cast<std::size_t>(std::clamp(position, 0.0, last));
  }

  // Widens the histogram to cover [lo, hi] by multiplying the bin width by the smallest whole
  // factor k >= 2 that fits, and moving the origin down by a whole number of new bins. Each old
  // bin then lies inside exactly one new bin (k neighbours merge), so re-binning moves whole
  // integer counts: nothing is split or interpolated, and every value sits in the bin it would
  // have had if the wider histogram had been used from the start. PyTorch's HistogramObserver
  // instead spreads each old bin over the new ones proportionally, which blurs the counts a
  // little more on every growth. The price here: the observed range may cover only about half
  // of the bins (k = 2 when a batch stretches the range slightly).
  void grow_to(double lo, double hi) {
    lo = std::min(lo, hist_lo_);
    hi = std::max(hi, hist_hi_);
    const std::size_t bins = counts_.size();
    const double bin_count_d = static_cast<double>(bins);
    // With a shift of at most one new bin more than needed, (bins - 1) new bins must span the
    // range: this k fits in exact arithmetic; rounding may ask for the next one.
    double factor = std::max(2.0, std::ceil((hi - lo) / ((bin_count_d - 1.0) * bin_width_)));
    for (;; factor = std::max(factor + 1.0, std::ceil(factor * (1.0 + 1e-9)))) {
      const double new_width = factor * bin_width_;
      const double shift = std::ceil((hist_lo_ - lo) / new_width);  // whole new bins, >= 0
      const double new_lo = hist_lo_ - shift * new_width;
      const double new_hi = new_lo + bin_count_d * new_width;
      if (!(shift < bin_count_d && new_lo <= lo && new_hi >= hi)) continue;
      const std::size_t shift_bins = static_cast<std::size_t>(shift);
      std::fill(scratch_.begin(), scratch_.end(), std::uint64_t{0});
      for (std::size_t i = 0; i < bins; ++i) {
        const std::size_t merged = factor < bin_count_d ? i / static_cast<std::size_t>(factor) : 0;
        scratch_[std::min(shift_bins + merged, bins - 1)] += counts_[i];
      }
      counts_.swap(scratch_);
      hist_lo_ = new_lo;
      hist_hi_ = new_hi;
      bin_width_ = new_width;
      return;
    }
  }

  // The observed distribution as the histogram describes it: each bin's count spread uniformly
  // over the bin clipped to [min, max] (so the extremes are exact). For the mse score the exact
  // zeros are taken out of their bin as a point mass at 0, which every grid represents exactly:
  // after a ReLU they are often half the data, and spreading them over a bin would charge them
  // rounding noise they never get.
  class Distribution {
   public:
    explicit Distribution(const RangeObserver& observer)
        : observer_(observer),
          min_(static_cast<double>(observer.min_)),
          max_(static_cast<double>(observer.max_)),
          mass_below_bin_(observer.counts_.size() + 1, 0.0) {
      const std::size_t bins = observer.counts_.size();
      const std::size_t zero_bin = observer.bin_of(0.0);
      std::size_t non_empty = 0;
      for (std::size_t i = 0; i < bins; ++i) {
        mass_below_bin_[i + 1] = mass_below_bin_[i] + static_cast<double>(observer.counts_[i]);
        non_empty += observer.counts_[i] != 0 ? 1u : 0u;
      }
      pieces_.reserve(non_empty);
      for (std::size_t i = 0; i < bins; ++i) {
        std::uint64_t count = observer.counts_[i];
        if (i == zero_bin) count -= std::min(count, observer.zero_count_);
        if (count != 0) pieces_.push_back({bin_left(i), bin_right(i), static_cast<double>(count)});
      }
    }

    QuantParams percentile_params(double fraction, std::int32_t min_code, std::int32_t max_code,
                                  bool symmetric) const {
      const double total = mass_below_bin_.back();
      if (symmetric) {
        const double extent = std::max(-min_, max_);
        const double bound = fraction >= 1.0
                                 ? extent
                                 : invert([&](double t) { return mass_below(t) - mass_below(-t); },
                                          fraction * total, 0.0, extent);
        const float b = static_cast<float>(bound);
        return choose_quant_params(-b, b, min_code, max_code, true);
      }
      auto cumulative = [&](double t) { return mass_below(t); };
      const double lower =
          fraction >= 1.0 ? min_ : invert(cumulative, (1.0 - fraction) * total, min_, max_);
      const double upper =
          fraction >= 1.0 ? max_ : invert(cumulative, fraction * total, min_, max_);
      return choose_quant_params(static_cast<float>(lower), static_cast<float>(upper), min_code,
                                 max_code, false);
    }

    // Searches clipping ranges [lower, upper] = [a * min, b * max] (symmetric: [-b, b] * max|x|)
    // with a, b in [0, 1]: a coarse grid from 1 (the min_max range, tried first so that ties keep
    // it) down to 0, then zooms into +-1 step around the best with 8 times finer steps, down to
    // steps of 1/2048. 1-D (symmetric, or data of one sign): 257 + 17 candidates; 2-D: 33^2 +
    // 2 * 17^2. Each candidate is scored on its actual grid (choose_quant_params' scale and
    // rounded zero point) in O(non-empty bins).
    QuantParams mse_params(std::int32_t min_code, std::int32_t max_code, bool symmetric) const {
      const double lower_extent = symmetric ? 0.0 : std::min(min_, 0.0);
      const double upper_extent = symmetric ? std::max(-min_, max_) : std::max(max_, 0.0);
      const bool search_lower = lower_extent < 0.0;
      const bool search_upper = upper_extent > 0.0;
      auto params_for = [&](double lower_fraction, double upper_fraction) {
        const float upper = static_cast<float>(upper_extent * upper_fraction);
        if (symmetric) return choose_quant_params(-upper, upper, min_code, max_code, true);
        return choose_quant_params(static_cast<float>(lower_extent * lower_fraction), upper,
                                   min_code, max_code, false);
      };
      double best_lower = 1.0;
      double best_upper = 1.0;
      double best_error = std::numeric_limits<double>::infinity();
      // Fractions from - step * k, k in [0, count), inside [0, 1]; a side without extent has
      // the single candidate 1.
      auto search = [&](double lower_from, double upper_from, double step, int count) {
        for (int j = 0; j < (search_lower ? count : 1); ++j) {
          const double lower_fraction = search_lower ? lower_from - step * j : 1.0;
          if (lower_fraction < 0.0 || lower_fraction > 1.0) continue;
          for (int i = 0; i < (search_upper ? count : 1); ++i) {
            const double upper_fraction = search_upper ? upper_from - step * i : 1.0;
            if (upper_fraction < 0.0 || upper_fraction > 1.0) continue;
            const double error =
                expected_error(params_for(lower_fraction, upper_fraction), min_code, max_code);
            if (error < best_error) {
              best_error = error;
              best_lower = lower_fraction;
              best_upper = upper_fraction;
            }
          }
        }
      };
      constexpr int zoom = 8;
      constexpr double finest_step = 1.0 / 2048.0;
      const int coarse_steps = search_lower && search_upper ? 32 : 256;
      double step = 1.0 / coarse_steps;
      search(1.0, 1.0, step, coarse_steps + 1);
      while (step > finest_step) {
        const double lower_from = best_lower + step;
        const double upper_from = best_upper + step;
        step /= zoom;
        search(lower_from, upper_from, step, 2 * zoom + 1);
      }
      return params_for(best_lower, best_upper);
    }

   private:
    struct Piece {  // `count` values spread uniformly over [lo, hi]
      double lo;
      double hi;
      double count;
    };

    double bin_left(std::size_t i) const {
      const double edge = observer_.hist_lo_ + static_cast<double>(i) * observer_.bin_width_;
      return std::clamp(edge, min_, max_);
    }
    double bin_right(std::size_t i) const {
      const double edge = observer_.hist_lo_ + static_cast<double>(i + 1) * observer_.bin_width_;
      return std::clamp(edge, min_, max_);
    }

    // Number of values below t (piecewise linear in t).
    double mass_below(double t) const {
      if (t <= min_) return 0.0;
      if (t >= max_) return mass_below_bin_.back();
      const std::size_t i = observer_.bin_of(t);
      const double l = bin_left(i);
      const double r = bin_right(i);
      const double share = r > l ? (std::clamp(t, l, r) - l) / (r - l) : (t > l ? 1.0 : 0.0);
      return mass_below_bin_[i] + static_cast<double>(observer_.counts_[i]) * share;
    }

    // The t in [lo, hi] where the non-decreasing `mass` reaches `target`, by bisection down to
    // adjacent doubles (it returns the smallest such t where `mass` is flat over empty bins).
    template <class MassFunction>
    static double invert(MassFunction mass, double target, double lo, double hi) {
      while (lo < hi) {
        const double mid = lo + (hi - lo) / 2.0;
        if (mid <= lo || mid >= hi) break;
        if (mass(mid) < target)
          lo = mid;
        else
          hi = mid;
      }
      return hi;
    }

    // Integral over [0, u] of (w - nearest_integer(w))^2 dw: 1/12 per whole period plus the
    // cube of the distance travelled past the last integer.
    static double rounding_antiderivative(double u) {
      const double k = std::round(u);
      const double v = u - k;
      return k / 12.0 + v * v * v / 3.0;
    }

    // Total squared error of quantise-dequantise with `params` over the pieces: distance to the
    // nearest grid point inside the grid [grid_lo, grid_hi], to the nearest end outside it,
    // integrated exactly over each piece (the s^2 / 12 shortcut is wrong when the data are
    // narrower than a step, e.g. a bulk that all rounds to 0 beside far outliers).
    double expected_error(const QuantParams& params, std::int32_t min_code,
                          std::int32_t max_code) const {
      if (!(params.scale > 0.0f) || !std::isfinite(params.scale))
        return std::numeric_limits<double>::infinity();
      const double step = static_cast<double>(params.scale);
      const double grid_lo = static_cast<double>(std::int64_t{min_code} - params.zero_point) * step;
      const double grid_hi = static_cast<double>(std::int64_t{max_code} - params.zero_point) * step;
      auto cube = [](double x) { return x * x * x; };
      double total = 0.0;
      for (const Piece& piece : pieces_) {
        if (!(piece.lo < piece.hi)) {  // all the values of the piece are equal
          const double x = piece.lo;
          double distance = 0.0;
          if (x < grid_lo)
            distance = grid_lo - x;
          else if (x > grid_hi)
            distance = x - grid_hi;
          else
            distance = step * std::remainder((x - grid_lo) / step, 1.0);
          total += piece.count * distance * distance;
          continue;
        }
        double integral = 0.0;
        if (piece.lo < grid_lo)
          integral +=
              (cube(grid_lo - piece.lo) - cube(grid_lo - std::min(piece.hi, grid_lo))) / 3.0;
        if (piece.hi > grid_hi)
          integral +=
              (cube(piece.hi - grid_hi) - cube(std::max(piece.lo, grid_hi) - grid_hi)) / 3.0;
        const double inside_lo = std::max(piece.lo, grid_lo);
        const double inside_hi = std::min(piece.hi, grid_hi);
        if (inside_lo < inside_hi) {
          // Relative to a whole number of steps, so that the two antiderivatives stay small and
          // their difference keeps its precision.
          const double from = (inside_lo - grid_lo) / step;
          const double whole = std::floor(from);
          const double to = (inside_hi - grid_lo) / step;
          integral += cube(step) *
                      (rounding_antiderivative(to - whole) - rounding_antiderivative(from - whole));
        }
        total += piece.count * integral / (piece.hi - piece.lo);
      }
      return total;
    }

    const RangeObserver& observer_;
    double min_;
    double max_;
    std::vector<double> mass_below_bin_;  // [i]: number of values in bins [0, i)
    std::vector<Piece> pieces_;           // the non-empty bins, exact zeros taken out
  };

  std::vector<std::uint64_t> counts_;
  std::vector<std::uint64_t> scratch_;  // the re-binning target, swapped with counts_
  std::uint64_t count_ = 0;
  std::uint64_t zero_count_ = 0;
  float min_ = 0.0f;
  float max_ = 0.0f;
  double hist_lo_ = 0.0;
  double hist_hi_ = 0.0;
  double bin_width_ = 0.0;  // 0 until two distinct values have been seen
};

}  // namespace mote
// ----- end mote/numeric/calibration.hpp -----
// ----- begin mote/layout/layout.hpp -----
// What a weight layout is. A layout is a tag type; `WeightMatrix<Format, Layout>` is the
// storage specialised for each supported (format, layout) pair and is the only thing kernels
// see. Adding a layout: docs/design.md, "Adding a weight layout".


// ----- begin mote/layout/dense.hpp -----
// Dense weight storage: every weight is stored, packed once when set into panels of
// `panel_rows` output channels: panel p holds rows [p * 16, p * 16 + 16) column by column,
// i.e. value (r, k) sits at panel(p)[k * 16 + r % 16]. A SIMD kernel then reads 16 consecutive
// output channels of one input column with one (AVX-512) or a few (AVX2, SSE, NEON) vector
// loads, and streams each panel front to back. The last panel is padded with zero rows.



namespace mote {

/// The default weight layout: all weights stored (packed in 16-row panels, see above).
struct DenseStorage {
  static constexpr const char* name = "dense";
};

template <class Format, class Layout>
class WeightMatrix;

/// f32 dense weights of `rows` output channels by `cols` inputs, in 16-row panels.
template <>
class WeightMatrix<F32, DenseStorage> {
 public:
  /// Output channels per panel: the widest vector mote uses (16 floats, AVX-512), a multiple
  /// of every narrower one.
  static constexpr std::size_t panel_rows = 16;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : values_(padded(rows) * cols), rows_(rows), cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  /// Rows rounded up to whole panels (biases are stored padded the same way).
  std::size_t padded_rows() const noexcept { return padded(rows_); }
  std::size_t panel_count() const noexcept { return padded(rows_) / panel_rows; }
  const float* panel(std::size_t p) const noexcept { return values_.data() + p * cols_ * panel_rows; }
  /// Bytes the weights occupy in memory (padding included).
  std::size_t bytes() const noexcept { return values_.size() * sizeof(float); }
  /// Weight (r, k): what the reference kernels read.
  float at(std::size_t r, std::size_t k) const noexcept { return values_[offset(r, k)]; }
  /// Sets all weights from a row-major rows x cols float array.
  void assign(const float* row_major) noexcept {
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t k = 0; k < cols_; ++k) values_[offset(r, k)] = row_major[r * cols_ + k];
  }
  /// Multiplies row r by `factor` (BatchNorm folding).
  void scale_row(std::size_t r, float factor) noexcept {
    for (std::size_t k = 0; k < cols_; ++k) values_[offset(r, k)] *= factor;
  }

 private:
  static constexpr std::size_t padded(std::size_t rows) noexcept {
    return (rows + panel_rows - 1) / panel_rows * panel_rows;
  }
  std::size_t offset(std::size_t r, std::size_t k) const noexcept {
    return (r / panel_rows * cols_ + k) * panel_rows + r % panel_rows;
  }

  AlignedBuffer<float> values_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
// ----- end mote/layout/dense.hpp -----
// ----- begin mote/layout/dense_half.hpp -----
// Dense bf16 / f16 weight storage: the f32 layout of layout/dense.hpp (16-row panels, value
// (r, k) at panel(r / 16)[k * 16 + r % 16], last panel padded with zero rows) holding 16-bit
// values, so a kernel widens 16 consecutive output channels of one input column at a time.
// Weights are rounded once, when set (Format::encode: to nearest, ties to even).



namespace mote {

/// bf16 or f16 dense weights of `rows` output channels by `cols` inputs, in 16-row panels.
/// Half the bytes of WeightMatrix<F32, DenseStorage>; kernels compute in f32.
template <HalfFloatFormat Format>
class WeightMatrix<Format, DenseStorage> {
 public:
  /// Output channels per panel, as for f32 (dense.hpp).
  static constexpr std::size_t panel_rows = 16;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : values_(padded(rows) * cols), rows_(rows), cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  /// Rows rounded up to whole panels (biases are stored padded the same way).
  std::size_t padded_rows() const noexcept { return padded(rows_); }
  std::size_t panel_count() const noexcept { return padded(rows_) / panel_rows; }
  /// The encoded values of panel p (Format::decode widens one).
  const std::uint16_t* panel(std::size_t p) const noexcept { return values_.data() + p * cols_ * panel_rows; }
  /// Bytes the weights occupy in memory (padding included).
  std::size_t bytes() const noexcept { return values_.size() * sizeof(std::uint16_t); }
  /// Weight (r, k) as the f32 value the kernels multiply by.
  float at(std::size_t r, std::size_t k) const noexcept { return Format::decode(values_[offset(r, k)]); }
  /// Sets all weights from a row-major rows x cols float array, rounding each to Format.
  void assign(const float* row_major) noexcept {
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t k = 0; k < cols_; ++k) values_[offset(r, k)] = Format::encode(row_major[r * cols_ + k]);
  }
  /// Multiplies row r by `factor` (BatchNorm folding). The weights were rounded when set, so a
  /// folded weight is rounded twice (at most one unit in the last place instead of half).
  void scale_row(std::size_t r, float factor) noexcept {
    for (std::size_t k = 0; k < cols_; ++k) {
      std::uint16_t& value = values_[offset(r, k)];
      value = Format::encode(Format::decode(value) * factor);
    }
  }

 private:
  static constexpr std::size_t padded(std::size_t rows) noexcept {
    return (rows + panel_rows - 1) / panel_rows * panel_rows;
  }
  std::size_t offset(std::size_t r, std::size_t k) const noexcept {
    return (r / panel_rows * cols_ + k) * panel_rows + r % panel_rows;
  }

  AlignedBuffer<std::uint16_t> values_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
// ----- end mote/layout/dense_half.hpp -----
// ----- begin mote/layout/dense_int8.hpp -----
// Dense int8 weight storage, quantised once when set. Packed for the integer dot-product
// instructions: 16-row panels (as the f32 layout), and inside a panel groups of 4 consecutive
// input columns per row, i.e. code (r, k) sits at panel(r / 16)[(k / 4) * 64 + (r % 16) * 4 + k % 4].
// One 64-byte group is then one AVX-512 VNNI vpdpbusd operand (16 rows x 4 columns), four
// NEON sdot operands, or four sign-extending loads for the AVX2/SSE4 pmaddwd kernels.
// Columns are padded with zero codes to a multiple of 4, rows to a multiple of 16.



namespace mote {

/// int8 weights of `rows` output channels by `cols` inputs with per-tensor or per-channel
/// scales and zero points (`Int8<Granularity, Symmetry>`), plus each row's code sum, which the
/// kernels need to correct for the activations' zero point.
template <class Granularity, class Symmetry>
class WeightMatrix<Int8<Granularity, Symmetry>, DenseStorage> {
 public:
  using format = Int8<Granularity, Symmetry>;
  static constexpr std::size_t panel_rows = 16;
  static constexpr std::size_t group_cols = 4;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : codes_(padded_rows_of(rows) * padded_cols_of(cols)),
        params_(padded_rows_of(rows)),
        scales_(padded_rows_of(rows)),
        row_sums_(padded_rows_of(rows)),
        rows_(rows),
        cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t padded_rows() const noexcept { return padded_rows_of(rows_); }
  std::size_t padded_cols() const noexcept { return padded_cols_of(cols_); }
  std::size_t panel_count() const noexcept { return padded_rows() / panel_rows; }
  const std::int8_t* panel(std::size_t p) const noexcept { return codes_.data() + p * padded_cols() * panel_rows; }
  /// Bytes in memory: codes, scales, zero points and row sums (padding included).
  std::size_t bytes() const noexcept {
    return codes_.size() + params_.size() * sizeof(QuantParams) + scales_.size() * sizeof(float) +
           row_sums_.size() * sizeof(std::int32_t);
  }
  /// Code (r, k).
  std::int8_t at(std::size_t r, std::size_t k) const noexcept { return codes_[offset(r, k)]; }
  /// Scale and zero point of row r (the same for every row when per-tensor).
  const QuantParams& params(std::size_t r) const noexcept { return params_[r]; }
  /// The rows' scales, contiguous (zero for padding rows): what vectorised epilogues load.
  const float* scales() const noexcept { return scales_.data(); }
  /// The rows' code sums, contiguous (zero for padding rows).
  const std::int32_t* row_sums() const noexcept { return row_sums_.data(); }
  /// Sum over k of code (r, k); zero for padding rows.
  std::int32_t row_sum(std::size_t r) const noexcept { return row_sums_[r]; }
  /// The real value weight (r, k) stands for.
  float dequantized(std::size_t r, std::size_t k) const noexcept { return dequantize(at(r, k), params_[r]); }

  /// Quantises a row-major rows x cols f32 array: scales from each row's (or the whole
  /// matrix's) min/max, zero point 0 when symmetric. Non-finite weights are clamped to the
  /// largest finite magnitude of their row first so that one bad value cannot void the scale.
  void assign(const float* row_major) noexcept {
    if constexpr (format::per_channel) {
      for (std::size_t r = 0; r < rows_; ++r) {
        params_[r] = range_params(row_major + r * cols_, cols_);
        quantize_row(r, row_major + r * cols_);
      }
    } else {
      const QuantParams tensor = range_params(row_major, rows_ * cols_);
      for (std::size_t r = 0; r < rows_; ++r) {
        params_[r] = tensor;
        quantize_row(r, row_major + r * cols_);
      }
    }
  }

  /// Sets codes and their parameters as given (ONNX QLinear*/MatMulInteger weights, or
  /// weights quantised elsewhere). `params` holds one entry per row, or one for the tensor.
  /// Scales must be finite and positive, zero points and codes inside the format's range.
  Status try_assign_quantized(const std::int8_t* row_major_codes, const QuantParams* params,
                              std::size_t param_count, const std::string& what) {
    if (param_count != 1 && param_count != rows_)
      return make_error(ErrorCode::shape_mismatch, what + ": " + std::to_string(param_count) +
                                                       " scales given for " + std::to_string(rows_) +
                                                       " output channels (expected 1 or " + std::to_string(rows_) + ")");
    if (!format::per_channel && param_count != 1)
      return make_error(ErrorCode::invalid_value,
                        what + ": per-tensor int8 weights take one scale, got " + std::to_string(param_count));
    for (std::size_t i = 0; i < param_count; ++i) {
      Status status = validate_quant_params(params[i], format::min_code, format::max_code,
                                            what + " channel " + std::to_string(i));
      if (!status) return status;
    }
    for (std::size_t i = 0; i < rows_ * cols_; ++i)
      if (row_major_codes[i] < format::min_code)
        return make_error(ErrorCode::invalid_value, what + ": code " + std::to_string(row_major_codes[i]) + " at " +
                                                        std::to_string(i) + " is below the symmetric range [-127, 127]");
    for (std::size_t r = 0; r < rows_; ++r) {
      params_[r] = params[param_count == 1 ? 0 : r];
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < cols_; ++k) {
        codes_[offset(r, k)] = row_major_codes[r * cols_ + k];
        sum += row_major_codes[r * cols_ + k];
      }
      row_sums_[r] = sum;
      scales_[r] = params_[r].scale;
    }
    return Status::ok();
  }

  /// Multiplies row r by `factor` (BatchNorm folding). Per channel this only changes the
  /// row's scale (and negates its codes for a negative factor: exact when symmetric, -128
  /// saturating to 127 otherwise); per tensor the row is requantised with the tensor's scale,
  /// which rounds: fold BatchNorm before quantising (as post-training quantisation does) to
  /// avoid that.
  void scale_row(std::size_t r, float factor) noexcept {
    if constexpr (format::per_channel) {
      if (factor < 0.0f) {
        for (std::size_t k = 0; k < cols_; ++k) codes_[offset(r, k)] = negate(codes_[offset(r, k)]);
        params_[r].zero_point = std::clamp(-params_[r].zero_point, format::min_code, format::max_code);
        factor = -factor;
      }
      if (factor > 0.0f && std::isfinite(params_[r].scale * factor)) params_[r].scale *= factor;
      else if (factor == 0.0f)
        for (std::size_t k = 0; k < cols_; ++k) codes_[offset(r, k)] = static_cast<std::int8_t>(params_[r].zero_point);
    } else {
      for (std::size_t k = 0; k < cols_; ++k) {
        const float value = dequantized(r, k) * factor;
        codes_[offset(r, k)] = static_cast<std::int8_t>(quantize(value, params_[r], format::min_code, format::max_code));
      }
    }
    update_row_sum(r);
  }

 private:
  static constexpr std::size_t padded_rows_of(std::size_t rows) noexcept {
    return (rows + panel_rows - 1) / panel_rows * panel_rows;
  }
  static constexpr std::size_t padded_cols_of(std::size_t cols) noexcept {
    return (cols + group_cols - 1) / group_cols * group_cols;
  }
  std::size_t offset(std::size_t r, std::size_t k) const noexcept {
    return (r / panel_rows) * padded_cols() * panel_rows + (k / group_cols) * panel_rows * group_cols +
           (r % panel_rows) * group_cols + k % group_cols;
  }
  static std::int8_t negate(std::int8_t code) noexcept {
    return static_cast<std::int8_t>(std::min(-static_cast<std::int32_t>(code), 127));
  }
  static QuantParams range_params(const float* values, std::size_t count) noexcept {
    float low = 0.0f, high = 0.0f;
    for (std::size_t i = 0; i < count; ++i) {
      if (!std::isfinite(values[i])) continue;
      low = std::min(low, values[i]);
      high = std::max(high, values[i]);
    }
    return choose_quant_params(low, high, format::min_code, format::max_code, format::symmetric);
  }
  void quantize_row(std::size_t r, const float* values) noexcept {
    for (std::size_t k = 0; k < cols_; ++k) {
      // Infinities saturate to the end codes; NaN becomes the zero point (a zero weight).
      codes_[offset(r, k)] = static_cast<std::int8_t>(quantize(values[k], params_[r], format::min_code, format::max_code));
    }
    update_row_sum(r);
  }
  void update_row_sum(std::size_t r) noexcept {
    std::int32_t sum = 0;
    for (std::size_t k = 0; k < cols_; ++k) sum += at(r, k);
    row_sums_[r] = sum;
    scales_[r] = params_[r].scale;
  }

  AlignedBuffer<std::int8_t> codes_;
  AlignedBuffer<QuantParams> params_;
  AlignedBuffer<float> scales_;
  AlignedBuffer<std::int32_t> row_sums_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
// ----- end mote/layout/dense_int8.hpp -----
// ----- begin mote/layout/dense_int4.hpp -----
// Dense int4 weight storage, quantised once when set. Rows in 16-row panels, columns in blocks
// of 32 (padded with zero weights). Inside a block, 8 quads of 4 columns; a quad is 32 bytes
// holding the 64 codes (16 rows x 4 columns) of the int8 layout (layout/dense_int8.hpp):
// byte i's low nibble is code i (rows 0-7), its high nibble code i + 32 (rows 8-15), so one
// AND and one shift unpack a quad into two vectors of 32 codes. Codes are stored offset-binary
// (w + 8, in [1, 15]): the kernels multiply them as unsigned bytes by signed activations
// (pmaddubsw), and subtract 8 * (sum of the activations) once per block. Scales are stored per
// panel and group, 16 floats (one per row of the panel) at a time, in the order kernels read them.



namespace mote {

template <std::size_t GroupSize>
class WeightMatrix<Int4<GroupSize>, DenseStorage> {
 public:
  using format = Int4<GroupSize>;
  static constexpr std::size_t panel_rows = 16;
  static constexpr std::size_t block_cols = 32;
  static constexpr std::size_t quad_bytes = 32;
  static constexpr std::size_t block_bytes = 8 * quad_bytes;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : rows_(rows),
        cols_(cols),
        packed_(padded_rows_of(rows) * padded_cols_of(cols) / 2),
        scales_(padded_rows_of(rows) * group_count_of(cols)),
        scaled_row_sums_(padded_rows_of(rows)) {
    std::fill(packed_.begin(), packed_.end(), std::uint8_t{0x88});  // code 0 everywhere, padding included
  }

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t padded_rows() const noexcept { return padded_rows_of(rows_); }
  std::size_t padded_cols() const noexcept { return padded_cols_of(cols_); }
  std::size_t panel_count() const noexcept { return padded_rows() / panel_rows; }
  std::size_t block_count() const noexcept { return padded_cols() / block_cols; }
  std::size_t group_count() const noexcept { return group_count_of(cols_); }
  /// Blocks of 32 columns per scale group.
  std::size_t blocks_per_group() const noexcept { return GroupSize == 0 ? block_count() : GroupSize / block_cols; }
  const std::uint8_t* panel(std::size_t p) const noexcept { return packed_.data() + p * padded_cols() * panel_rows / 2; }
  /// The 16 scales of panel p, group g.
  const float* panel_scales(std::size_t p, std::size_t g) const noexcept {
    return scales_.data() + (p * group_count() + g) * panel_rows;
  }
  /// sum over groups g of scale(r, g) * sum of row r's codes in g: the weight term of a
  /// non-zero activation zero point.
  const float* scaled_row_sums() const noexcept { return scaled_row_sums_.data(); }
  std::size_t bytes() const noexcept {
    return packed_.size() + scales_.size() * sizeof(float) + scaled_row_sums_.size() * sizeof(float);
  }
  /// Code (r, k) in [-7, 7].
  std::int32_t at(std::size_t r, std::size_t k) const noexcept {
    const std::size_t byte = byte_offset(r, k);
    const std::uint8_t value = packed_[byte];
    return static_cast<std::int32_t>((r % panel_rows) < 8 ? (value & 0x0F) : (value >> 4)) - 8;
  }
  float scale(std::size_t r, std::size_t k) const noexcept {
    return scales_[(r / panel_rows * group_count() + k / group_cols()) * panel_rows + r % panel_rows];
  }
  float dequantized(std::size_t r, std::size_t k) const noexcept { return scale(r, k) * static_cast<float>(at(r, k)); }

  /// Quantises a row-major rows x cols f32 array: per group, scale = max|w| / 7 and
  /// code = round_half_to_even(w / scale). Non-finite weights are ignored for the scale and
  /// saturate (NaN becomes 0).
  void assign(const float* row_major) noexcept {
    for (std::size_t r = 0; r < rows_; ++r) {
      for (std::size_t g = 0; g < group_count(); ++g) {
        const std::size_t begin = g * group_cols(), end = std::min(cols_, begin + group_cols());
        float bound = 0.0f;
        for (std::size_t k = begin; k < end; ++k)
          if (std::isfinite(row_major[r * cols_ + k])) bound = std::max(bound, std::fabs(row_major[r * cols_ + k]));
        const QuantParams params{bound > 0.0f ? bound / 7.0f : 1.0f, 0};
        set_scale(r, g, params.scale);
        for (std::size_t k = begin; k < end; ++k) set_code(r, k, quantize(row_major[r * cols_ + k], params, -7, 7));
      }
    }
    update_row_sums();
  }
  /// BatchNorm folding: scales the row's scales (a negative factor negates its codes, exactly).
  void scale_row(std::size_t r, float factor) noexcept {
    for (std::size_t g = 0; g < group_count(); ++g) {
      if (factor < 0.0f)
        for (std::size_t k = g * group_cols(); k < std::min(cols_, (g + 1) * group_cols()); ++k) set_code(r, k, -at(r, k));
      const float magnitude = std::fabs(factor);
      const float current = scale(r, g * group_cols());
      set_scale(r, g, magnitude > 0.0f && std::isfinite(current * magnitude) ? current * magnitude : current);
      if (magnitude == 0.0f)
        for (std::size_t k = g * group_cols(); k < std::min(cols_, (g + 1) * group_cols()); ++k) set_code(r, k, 0);
    }
    update_row_sums();
  }

 private:
  static constexpr std::size_t padded_rows_of(std::size_t rows) noexcept { return (rows + 15) / 16 * 16; }
  static constexpr std::size_t padded_cols_of(std::size_t cols) noexcept { return (cols + 31) / 32 * 32; }
  std::size_t group_cols() const noexcept { return GroupSize == 0 ? padded_cols() : GroupSize; }
  static constexpr std::size_t group_count_of(std::size_t cols) noexcept {
    return GroupSize == 0 ? 1 : (padded_cols_of(cols) + GroupSize - 1) / GroupSize;
  }
  std::size_t byte_offset(std::size_t r, std::size_t k) const noexcept {
    const std::size_t position = (r % panel_rows) * 4 + k % 4;  // in the quad's 64 codes
    return (r / panel_rows) * padded_cols() * panel_rows / 2 + (k / block_cols) * block_bytes +
           ((k % block_cols) / 4) * quad_bytes + position % 32;
  }
  void set_code(std::size_t r, std::size_t k, std::int32_t code) noexcept {
    std::uint8_t& byte = packed_[byte_offset(r, k)];
    const auto nibble = static_cast<std::uint8_t>(code + 8);
    byte = (r % panel_rows) < 8 ? static_cast<std::uint8_t>((byte & 0xF0) | nibble)
                                : static_cast<std::uint8_t>((byte & 0x0F) | (nibble << 4));
  }
  void set_scale(std::size_t r, std::size_t g, float value) noexcept {
    scales_[(r / panel_rows * group_count() + g) * panel_rows + r % panel_rows] = value;
  }
  void update_row_sums() noexcept {
    for (std::size_t r = 0; r < rows_; ++r) {
      double sum = 0.0;
      for (std::size_t k = 0; k < cols_; ++k) sum += static_cast<double>(scale(r, k)) * at(r, k);
      scaled_row_sums_[r] = static_cast<float>(sum);
    }
  }

  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  AlignedBuffer<std::uint8_t> packed_;
  AlignedBuffer<float> scales_;
  AlignedBuffer<float> scaled_row_sums_;
};

}  // namespace mote
// ----- end mote/layout/dense_int4.hpp -----
// ----- begin mote/layout/dense_binary.hpp -----
// Dense binary weight storage: one sign bit per weight and one f32 scale per output channel
// (numeric/binary.hpp defines both), packed once when set. Rows are grouped in panels of 16
// output channels (as the f32 layout), and columns in groups of 32: group g of panel p is 16
// consecutive 32-bit words, word i holding the signs of row p * 16 + i for columns
// [32 g, 32 g + 32), column 32 g + t in bit t (set = negative). So sign (r, k) is bit k % 32 of
//   panel(r / 16)[(k / 32) * 16 + r % 16].
// One group is 64 bytes: one AVX-512 vector, two AVX2 or four SSE/NEON vectors whose lanes are
// the panel's rows. Both kernels read it that way: the XNOR-popcount kernel XORs a whole group
// with one 32-bit word of input signs and counts bits per lane (= per row); the f32-activation
// kernel shifts each lane left so that column t's bit becomes the lane's top bit, and flips the
// sign of x_t in the lanes where it is set (no float weights are ever materialised).
// Padding is zero: rows up to a multiple of 16 (scale 0), columns up to a multiple of 32 (bit 0,
// i.e. +1, which the input's zero padding bits match, so XNOR-popcounts need no correction).



namespace mote {

/// Binary weights of `rows` output channels by `cols` inputs: sign bits in 16-row x 32-column
/// groups (see above) plus one f32 scale per row. 1/32 of the bytes of f32 weights, plus the
/// scales.
template <>
class WeightMatrix<Binary, DenseStorage> {
 public:
  using format = Binary;
  /// Output channels per panel, as for f32 (dense.hpp).
  static constexpr std::size_t panel_rows = 16;
  /// Columns per 32-bit word.
  static constexpr std::size_t group_cols = 32;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : words_(padded_rows_of(rows) * groups_of(cols)), scales_(padded_rows_of(rows)), rows_(rows), cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  /// Rows rounded up to whole panels (biases and scales are stored padded the same way).
  std::size_t padded_rows() const noexcept { return padded_rows_of(rows_); }
  std::size_t panel_count() const noexcept { return padded_rows() / panel_rows; }
  /// 32-column groups per row: cols rounded up to a multiple of 32, divided by 32.
  std::size_t group_count() const noexcept { return groups_of(cols_); }
  /// The words of panel p: group g at panel(p) + g * panel_rows.
  const std::uint32_t* panel(std::size_t p) const noexcept { return words_.data() + p * group_count() * panel_rows; }
  /// The row scales, padded with zeros to padded_rows().
  const float* scales() const noexcept { return scales_.data(); }
  float scale(std::size_t r) const noexcept { return scales_[r]; }
  /// Bytes in memory: sign words and scales (padding included).
  std::size_t bytes() const noexcept {
    return words_.size() * sizeof(std::uint32_t) + scales_.size() * sizeof(float);
  }
  /// The word holding the signs of row r, columns [32 g, 32 g + 32).
  std::uint32_t word(std::size_t r, std::size_t g) const noexcept { return words_[offset(r, g)]; }
  /// True when weight (r, k) is -1.
  bool negative(std::size_t r, std::size_t k) const noexcept {
    return ((word(r, k / group_cols) >> (k % group_cols)) & 1u) != 0;
  }
  /// Weight (r, k)'s sign, +1 or -1.
  float sign(std::size_t r, std::size_t k) const noexcept { return negative(r, k) ? -1.0f : 1.0f; }
  /// The real value weight (r, k) stands for: scale(r) * sign(r, k).
  float at(std::size_t r, std::size_t k) const noexcept { return negative(r, k) ? -scales_[r] : scales_[r]; }

  /// Sets all weights from a row-major rows x cols f32 array: the signs (Binary::negative: NaN
  /// is -1) and each row's scale, the mean of |w| over the row (non-finite values count 0),
  /// summed in double and rounded once.
  void assign(const float* row_major) noexcept {
    for (std::size_t r = 0; r < rows_; ++r) {
      const float* row = row_major + r * cols_;
      double magnitude = 0.0;
      for (std::size_t g = 0; g < group_count(); ++g) {
        std::uint32_t bits = 0;
        for (std::size_t t = 0; t < group_cols && g * group_cols + t < cols_; ++t) {
          const float value = row[g * group_cols + t];
          if (Binary::negative(value)) bits |= std::uint32_t{1} << t;
          if (std::isfinite(value)) magnitude += std::fabs(static_cast<double>(value));
        }
        words_[offset(r, g)] = bits;
      }
      scales_[r] = cols_ == 0 ? 0.0f : static_cast<float>(magnitude / static_cast<double>(cols_));
    }
  }
  /// Multiplies row r by `factor` (BatchNorm folding): the scale by |factor|, and a negative
  /// factor flips the row's signs (padding columns stay +1). Exact but for the scale's rounding.
  void scale_row(std::size_t r, float factor) noexcept {
    if (factor < 0.0f) {
      for (std::size_t g = 0; g < group_count(); ++g) {
        const std::size_t valid = cols_ - g * group_cols;
        const std::uint32_t columns = valid >= group_cols ? ~std::uint32_t{0} : (std::uint32_t{1} << valid) - 1u;
        words_[offset(r, g)] ^= columns;
      }
    }
    scales_[r] *= std::fabs(factor);
  }

 private:
  static constexpr std::size_t padded_rows_of(std::size_t rows) noexcept {
    return (rows + panel_rows - 1) / panel_rows * panel_rows;
  }
  static constexpr std::size_t groups_of(std::size_t cols) noexcept { return (cols + group_cols - 1) / group_cols; }
  std::size_t offset(std::size_t r, std::size_t g) const noexcept {
    return ((r / panel_rows) * group_count() + g) * panel_rows + r % panel_rows;
  }

  AlignedBuffer<std::uint32_t> words_;
  AlignedBuffer<float> scales_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
// ----- end mote/layout/dense_binary.hpp -----
// ----- begin mote/layout/dense_codebook.hpp -----
// Dense codebook weight storage: each weight is a Bits-bit index into a table of 2^Bits floats
// (one table per row, or one for the matrix), fitted by k-means when the weights are set
// (numeric/codebook.hpp). The kernels look the values up in registers (kernels/dense/
// codebook-inl.hpp); no float copy of the matrix exists.
//
// Index layout. Rows are grouped in 16-row panels (as layout/dense.hpp), columns in groups of 16.
// The 16 indices of one row in one column group form a chunk of 2 * Bits bytes: index k % 16 at
// bits [Bits * (k % 16), Bits * (k % 16) + Bits) of the chunk read as a little-endian integer.
// A panel stores its chunks group by group, and within a group row by row:
//   chunk (r, g) at panel(r / 16) + (g * 16 + r % 16) * 2 * Bits, panel p at p * groups * 16 * 2 * Bits.
// A kernel thus reads, for a tile of consecutive rows, consecutive chunks; one chunk decodes into
// one AVX-512 vector, two AVX2 halves of Bits bytes, or four SSE4/NEON vectors. Padding rows and
// columns hold index 0 (the kernels give padding columns a weight of exactly 0). 8 bytes of slack
// follow the last chunk, because decoders load 4 or 8 bytes from inside a chunk.
// Tables: `entries` floats each, ascending; PerChannel: one per padded row (zero for padding
// rows), PerTensor: one.



namespace mote {

/// Codebook weights of `rows` output channels by `cols` inputs (layout above). Bytes: indices
/// (Bits / 8 per weight, padded to whole panels and column groups) plus the tables.
template <std::size_t Bits, class Granularity>
class WeightMatrix<Codebook<Bits, Granularity>, DenseStorage> {
 public:
  using format = Codebook<Bits, Granularity>;
  static constexpr std::size_t panel_rows = 16;
  static constexpr std::size_t group_cols = 16;
  /// Bytes of one chunk: the 16 indices of one row in one column group.
  static constexpr std::size_t chunk_bytes = 2 * Bits;
  static constexpr std::size_t entries = format::entries;
  static constexpr std::size_t slack_bytes = 8;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : indices_(padded(rows, panel_rows) * padded(cols, group_cols) / group_cols * chunk_bytes + slack_bytes),
        tables_((format::per_channel ? padded(rows, panel_rows) : 1) * entries),
        rows_(rows),
        cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  /// Rows rounded up to whole panels (biases are stored padded the same way).
  std::size_t padded_rows() const noexcept { return padded(rows_, panel_rows); }
  std::size_t panel_count() const noexcept { return padded_rows() / panel_rows; }
  /// Column groups of 16 per row (the last one padded).
  std::size_t group_count() const noexcept { return padded(cols_, group_cols) / group_cols; }
  const std::uint8_t* panel(std::size_t p) const noexcept {
    return indices_.data() + p * group_count() * panel_rows * chunk_bytes;
  }
  /// The chunk of row r, column group g.
  const std::uint8_t* chunk(std::size_t r, std::size_t g) const noexcept {
    return indices_.data() + chunk_offset(r, g);
  }
  /// The table of row r (the same for every row when per-tensor): `entries` floats, ascending.
  const float* table(std::size_t r) const noexcept { return tables_.data() + (format::per_channel ? r : 0) * entries; }
  /// Bytes in memory: indices (padding and slack included) and tables.
  std::size_t bytes() const noexcept { return indices_.size() + tables_.size() * sizeof(float); }
  /// Index of weight (r, k).
  std::uint8_t index(std::size_t r, std::size_t k) const noexcept {
    return static_cast<std::uint8_t>((read_chunk(r, k / group_cols) >> (Bits * (k % group_cols))) & (entries - 1));
  }
  /// Weight (r, k): the table value its index selects, what the kernels multiply by.
  float at(std::size_t r, std::size_t k) const noexcept { return table(r)[index(r, k)]; }

  /// Sets all weights from a row-major rows x cols float array: fits the table(s) by k-means
  /// (fit_codebook: per row, or over the whole matrix) and stores each weight's nearest entry.
  /// Cost (fit_codebook): per table a sort of its values and 5 Lloyd runs (a quantile and 4
  /// k-means++ starts), then one nearest-entry search per weight. Measured on one Zen 3 core:
  /// Fashion-MNIST's MLP (235,000 weights) 0.11 s with 16 entries, 0.05 s with 4; a 1024 x 1024
  /// layer 0.5 s (16 entries, per channel or per tensor), 0.17 s (4 entries).
  void assign(const float* row_major) {
    if constexpr (format::per_channel) {
      for (std::size_t r = 0; r < rows_; ++r) fit_codebook(row_major + r * cols_, cols_, entries, table_data(r));
    } else {
      fit_codebook(row_major, rows_ * cols_, entries, table_data(0));
    }
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t k = 0; k < cols_; ++k)
        set_index(r, k, assign_codebook_index(table(r), entries, row_major[r * cols_ + k]));
  }

  /// Multiplies row r by `factor` (BatchNorm folding). Per channel: exact, the row's table is
  /// scaled (and, for a negative factor, reversed with the row's indices complemented, so that
  /// it stays ascending). Per tensor the table is shared: each weight of the row is replaced by
  /// the entry nearest to weight * factor, which rounds (fold BatchNorm before setting the
  /// weights to avoid that).
  void scale_row(std::size_t r, float factor) noexcept {
    if constexpr (format::per_channel) {
      float* values = table_data(r);
      for (std::size_t j = 0; j < entries; ++j) values[j] *= factor;
      if (factor < 0.0f) {
        std::reverse(values, values + entries);
        for (std::size_t g = 0; g < group_count(); ++g) {
          std::uint8_t* bytes = indices_.data() + chunk_offset(r, g);
          for (std::size_t b = 0; b < chunk_bytes; ++b) bytes[b] = static_cast<std::uint8_t>(~bytes[b]);
        }
      }
    } else {
      for (std::size_t k = 0; k < cols_; ++k)
        set_index(r, k, assign_codebook_index(table(r), entries, at(r, k) * factor));
    }
  }

 private:
  static constexpr std::size_t padded(std::size_t n, std::size_t multiple) noexcept {
    return (n + multiple - 1) / multiple * multiple;
  }
  std::size_t chunk_offset(std::size_t r, std::size_t g) const noexcept {
    return ((r / panel_rows * group_count() + g) * panel_rows + r % panel_rows) * chunk_bytes;
  }
  float* table_data(std::size_t r) noexcept { return tables_.data() + (format::per_channel ? r : 0) * entries; }
  std::uint64_t read_chunk(std::size_t r, std::size_t g) const noexcept {
    std::uint64_t bits = 0;
    std::memcpy(&bits, indices_.data() + chunk_offset(r, g), chunk_bytes);  // little-endian targets
    return bits;
  }
  void set_index(std::size_t r, std::size_t k, std::uint8_t value) noexcept {
    const std::size_t g = k / group_cols, shift = Bits * (k % group_cols);
    std::uint64_t bits = read_chunk(r, g);
    bits = (bits & ~(std::uint64_t{entries - 1} << shift)) | (std::uint64_t{value} << shift);
    std::memcpy(indices_.data() + chunk_offset(r, g), &bits, chunk_bytes);
  }

  AlignedBuffer<std::uint8_t> indices_;
  AlignedBuffer<float> tables_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
// ----- end mote/layout/dense_codebook.hpp -----

namespace mote {

/// A weight storage layout tag.
template <class L>
concept WeightLayout = requires {
  { L::name } -> std::convertible_to<const char*>;
};

namespace detail {
template <class Format, class Layout>
concept HasWeightMatrix = requires { sizeof(WeightMatrix<Format, Layout>); };
}  // namespace detail

/// True when mote can store weights of `Format` in `Layout`.
template <class Format, class Layout>
inline constexpr bool has_weight_storage_v = detail::HasWeightMatrix<Format, Layout>;

}  // namespace mote
// ----- end mote/layout/layout.hpp -----
// ----- begin mote/arch/isa.hpp -----
// ISA tags. An ISA is an empty type that inherits from the ISA it extends, so a kernel
// overload taking the parent tag serves every descendant that has no overload of its own
// (`kernels::dense(isa::Avx512{}, ...)` resolves to the AVX2 kernel until an AVX-512 one
// exists, and to the scalar reference at the root). Adding an ISA: docs/design.md.


namespace mote::isa {

/// Portable C++: the reference every other kernel is tested against.
struct Scalar {
  static constexpr const char* name = "scalar";
};
/// x86 SSE4.1 + SSE4.2.
struct Sse4 : Scalar {
  static constexpr const char* name = "sse4";
};
/// x86 AVX2 + FMA3.
struct Avx2 : Sse4 {
  static constexpr const char* name = "avx2";
};
/// x86 AVX-512 F/BW/DQ/VL.
struct Avx512 : Avx2 {
  static constexpr const char* name = "avx512";
};
/// AVX-512 with VNNI (vpdpbusd).
struct Avx512Vnni : Avx512 {
  static constexpr const char* name = "avx512_vnni";
};
/// AVX-512 with VNNI and BF16 (vdpbf16ps).
struct Avx512Bf16 : Avx512Vnni {
  static constexpr const char* name = "avx512_bf16";
};
/// Arm NEON (AArch64 Advanced SIMD).
struct Neon : Scalar {
  static constexpr const char* name = "neon";
};
/// NEON with the dot-product extension (sdot/udot).
struct NeonDotprod : Neon {
  static constexpr const char* name = "neon_dotprod";
};

/// Chooses at run time, once per process, the best ISA the CPU supports among those mote has
/// kernels for (arch/cpu.hpp; capped by the environment variable MOTE_FORCE_ISA). A binary
/// built for baseline x86-64 thus runs AVX2 or AVX-512 kernels where the CPU has them.
struct Dynamic {
  static constexpr const char* name = "dynamic";
};

/// The best ISA the compiler flags of this translation unit enable.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__) && defined(__AVX512VNNI__) && defined(__AVX512BF16__)
using Native = Avx512Bf16;
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__) && defined(__AVX512VNNI__)
using Native = Avx512Vnni;
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__)
using Native = Avx512;
#elif defined(__AVX2__) && defined(__FMA__)
using Native = Avx2;
#elif defined(__SSE4_2__)
using Native = Sse4;
#elif defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD)
using Native = NeonDotprod;
#elif defined(__ARM_NEON)
using Native = Neon;
#else
using Native = Scalar;
#endif

}  // namespace mote::isa

namespace mote {

/// An ISA tag: a type derived from isa::Scalar, or isa::Dynamic.
template <class T>
concept IsaTag = requires { T::name; } && (std::is_base_of_v<isa::Scalar, T> || std::is_same_v<T, isa::Dynamic>);

namespace isa {
/// The ISA of layers that name none: run-time dispatch where mote has SIMD kernels for the
/// architecture (x86-64, AArch64), else the compiler flags' best. Define
/// MOTE_DEFAULT_ISA_NATIVE to use the compiler flags' best everywhere (no dispatch).
#if !defined(MOTE_DEFAULT_ISA_NATIVE) && !defined(MOTE_NO_SIMD) && \
    (defined(__x86_64__) || defined(__aarch64__)) && (defined(__GNUC__) || defined(__clang__))
using Default = Dynamic;
#else
using Default = Native;
#endif
}  // namespace isa

}  // namespace mote
// ----- end mote/arch/isa.hpp -----
// ----- begin mote/layers/options.hpp -----
// Layer options: small tag templates passed after a layer's required parameters, in any order,
// e.g. `Conv2D<16, Kernel<3>, Stride<2>, Pad::same, Weights<F32>, isa::Scalar>`.
// Each option names its kind; a layer looks options up by kind and rejects kinds it does not
// understand or that are given twice, with a sentence.



namespace mote {

namespace option_kind {
struct kernel {};
struct stride {};
struct dilation {};
struct padding {};
struct weights {};
struct bias {};
struct multiplier {};
struct isa {};
struct fused_activation {};
struct activations {};
}  // namespace option_kind

/// Kernel (window) size: `Kernel<3>` is 3x3, `Kernel<3, 1>` is 3 high and 1 wide.
template <std::size_t H, std::size_t W = H>
struct Kernel {
  using kind = option_kind::kernel;
  static constexpr std::size_t h = H, w = W;
};

/// Stride: `Stride<2>` in both directions, `Stride<2, 1>` as (vertical, horizontal).
template <std::size_t H, std::size_t W = H>
struct Stride {
  using kind = option_kind::stride;
  static constexpr std::size_t h = H, w = W;
};

/// Dilation of the kernel taps, like Stride.
template <std::size_t H, std::size_t W = H>
struct Dilation {
  using kind = option_kind::dilation;
  static constexpr std::size_t h = H, w = W;
};

/// Padding modes: `Pad::valid` (none, the default) and `Pad::same` (output = ceil(input /
/// stride), the extra row/column going to the bottom/right, as in TensorFlow and ONNX SAME_UPPER).
struct Pad {
  struct valid {
    using kind = option_kind::padding;
  };
  struct same {
    using kind = option_kind::padding;
  };
};

/// Explicit zero padding: `Padding<P>` on every side, `Padding<PH, PW>` (top/bottom, left/right),
/// `Padding<Top, Left, Bottom, Right>`. For Conv1D: `Padding<P>` or `Padding<Left, Right>`.
template <std::size_t... P>
struct Padding {
  static_assert(sizeof...(P) == 1 || sizeof...(P) == 2 || sizeof...(P) == 4,
                "Padding takes 1 value (all sides), 2 (vertical, horizontal) or 4 (top, left, "
                "bottom, right).");
  using kind = option_kind::padding;
  static constexpr std::size_t values[] = {P...};
};

/// The number format and storage layout of a layer's weights.
/// `Weights<>` is f32 dense; later formats and layouts plug in here.
template <class Format = F32, class Layout = DenseStorage>
struct Weights {
  static_assert(NumberFormat<Format>,
                "Weights<Format, Layout>: Format must be a mote number format such as mote::F32.");
  static_assert(WeightLayout<Layout>,
                "Weights<Format, Layout>: Layout must be a mote weight layout such as "
                "mote::DenseStorage.");
  using kind = option_kind::weights;
  using format = Format;
  using layout = Layout;
};

/// The number format a layer multiplies its input activations in. `Activations<F32>` (the default
/// for float weights) computes in float; `Activations<Int8<PerTensor, Asymmetric>>` (the default
/// for int8 weights) or `Activations<UInt8>` quantise the layer's input (scale and zero point from
/// calibration, or from each input's own range until calibrated) and multiply in integers.
template <class Format>
struct Activations {
  static_assert(NumberFormat<Format>,
                "Activations<Format>: Format must be a mote number format such as mote::F32, "
                "mote::Int8<mote::PerTensor, mote::Asymmetric> or mote::UInt8.");
  using kind = option_kind::activations;
  using format = Format;
};

/// Whether a Dense/Conv layer has a bias (PyTorch `bias=False` is `Bias<false>`).
template <bool Enabled>
struct Bias {
  using kind = option_kind::bias;
  static constexpr bool enabled = Enabled;
};
using NoBias = Bias<false>;

/// Depthwise channel multiplier: each input channel yields M output channels.
template <std::size_t M>
struct Multiplier {
  using kind = option_kind::multiplier;
  static constexpr std::size_t value = M;
};

/// Applies `Function` (a functor from mote::activation) to every output in the layer's own
/// epilogue, saving a pass over memory. A network adds it by itself when an activation layer
/// directly follows a Dense/Conv/Depthwise layer; writing it by hand is equivalent.
template <class Function>
struct FusedActivation {
  using kind = option_kind::fused_activation;
  using function = Function;
};

namespace detail {

template <class Option>
struct OptionKind {
  using type = void;
};
template <class Option>
  requires requires { typename Option::kind; }
struct OptionKind<Option> {
  using type = typename Option::kind;
};
template <IsaTag Option>
struct OptionKind<Option> {
  using type = option_kind::isa;
};

template <class Option>
using option_kind_t = typename OptionKind<Option>::type;

template <class Kind, class Default, class... Options>
struct FindOption {
  using type = Default;
};
template <class Kind, class Default, class First, class... Rest>
struct FindOption<Kind, Default, First, Rest...> {
  using type = std::conditional_t<std::is_same_v<option_kind_t<First>, Kind>, First,
                                  typename FindOption<Kind, Default, Rest...>::type>;
};

template <class Kind, class... Options>
inline constexpr std::size_t count_kind_v = (std::size_t{0} + ... + std::is_same_v<option_kind_t<Options>, Kind>);

}  // namespace detail

/// The option of kind `Kind` among `Options`, or `Default`.
template <class Kind, class Default, class... Options>
using find_option_t = typename detail::FindOption<Kind, Default, Options...>::type;

namespace detail {
template <class AcceptedList>
struct AcceptsKinds;
template <class... Accepted>
struct AcceptsKinds<void(Accepted...)> {
  template <class Option>
  static constexpr bool one = (std::is_same_v<option_kind_t<Option>, Accepted> || ...);
  template <class... Options>
  static constexpr bool all = (one<Options> && ...);
};
}  // namespace detail

/// True when every option's kind is one of the kinds listed as `void(Kinds...)`.
template <class AcceptedList, class... Options>
inline constexpr bool options_accepted_v =
    detail::AcceptsKinds<AcceptedList>::template all<Options...>;

/// True when no kind appears twice among `Options`.
template <class... Options>
inline constexpr bool options_unique_v =
    ((detail::count_kind_v<detail::option_kind_t<Options>, Options...> == 1) && ...);

}  // namespace mote
// ----- end mote/layers/options.hpp -----
// ----- begin mote/layers/dense.hpp -----
// Dense (fully connected): y = W x + b on a 1-D input.

#include <optional>

// ----- begin mote/kernels/dispatch.hpp -----
// Kernel entry points for isa::Dynamic: each forwards to the overload of the ISA selected at run
// time (arch::selected_isa()). One switch per layer call; the kernels themselves are compiled
// for every ISA in arch/targets.hpp.


// ----- begin mote/arch/targets.hpp -----
// Compiles mote's SIMD kernels once per ISA into one translation unit, whatever its compiler
// flags: each ISA's vector type (arch/<family>/<isa>.hpp) and the generic kernels
// (kernels/simd-inl.hpp, written once against that vector type) are included inside a region
// where every function gets that ISA's target attribute, and inside a namespace of its own.
// This is how a binary built for baseline x86-64 carries AVX2 and AVX-512 kernels and picks one
// at run time (isa::Dynamic, arch/cpu.hpp), without per-ISA translation units or a library.
//
// Define MOTE_NO_SIMD to keep only the scalar reference kernels.


// ----- begin mote/arch/cpu.hpp -----
// Run-time CPU detection and the ISA chosen for isa::Dynamic kernels.
// The choice is made once per process: the best ISA that both the CPU supports and mote has
// kernels for, capped by the environment variable MOTE_FORCE_ISA (scalar, sse4, avx2, avx512,
// avx512_vnni, avx512_bf16, neon, neon_dotprod) for testing. Forcing an ISA the CPU lacks is an
// error: try_select_isa() reports it, selected_isa() prints it and aborts, because running on
// would either ignore the request or execute an illegal instruction.

#include <cstdlib>
#include <string_view>


#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define MOTE_ARCH_X86 1
#include <cpuid.h>
#else
#define MOTE_ARCH_X86 0
#endif
#if defined(__aarch64__) && defined(__linux__)
#define MOTE_ARCH_ARM64_LINUX 1
#include <sys/auxv.h>
#else
#define MOTE_ARCH_ARM64_LINUX 0
#endif

namespace mote::arch {

/// ISA levels in the order mote prefers them within one architecture family.
enum class IsaLevel { scalar, sse4, avx2, avx512, avx512_vnni, avx512_bf16, neon, neon_dotprod };

inline const char* to_string(IsaLevel level) noexcept {
  switch (level) {
    case IsaLevel::scalar: return "scalar";
    case IsaLevel::sse4: return "sse4";
    case IsaLevel::avx2: return "avx2";
    case IsaLevel::avx512: return "avx512";
    case IsaLevel::avx512_vnni: return "avx512_vnni";
    case IsaLevel::avx512_bf16: return "avx512_bf16";
    case IsaLevel::neon: return "neon";
    case IsaLevel::neon_dotprod: return "neon_dotprod";
  }
  return "unknown";
}

/// What the CPU and the operating system support (register state enabled via XCR0 included).
struct CpuFeatures {
  bool sse4_2 = false, avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512_vnni = false, avx512_bf16 = false;
  bool avx512_vpopcntdq = false;  // not an IsaLevel: the AVX-512 binary kernels check it themselves
  bool neon = false, dotprod = false;

  bool supports(IsaLevel level) const noexcept {
    switch (level) {
      case IsaLevel::scalar: return true;
      case IsaLevel::sse4: return sse4_2;
      case IsaLevel::avx2: return avx2 && fma;
      case IsaLevel::avx512: return supports(IsaLevel::avx2) && avx512f && avx512bw && avx512dq && avx512vl;
      case IsaLevel::avx512_vnni: return supports(IsaLevel::avx512) && avx512_vnni;
      case IsaLevel::avx512_bf16: return supports(IsaLevel::avx512_vnni) && avx512_bf16;
      case IsaLevel::neon: return neon;
      case IsaLevel::neon_dotprod: return neon && dotprod;
    }
    return false;
  }
};

inline CpuFeatures detect_cpu() noexcept {
  CpuFeatures f;
#if MOTE_ARCH_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.sse4_2 = (c >> 20) & 1;
  const bool fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  unsigned long long xcr0 = 0;
  if (osxsave) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  // The OS must save the vector state: XMM|YMM for AVX, plus opmask|ZMM_Hi256|Hi16_ZMM for AVX-512.
  const bool ymm_state = (xcr0 & 0x6) == 0x6;
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = avx && ymm_state && ((b >> 5) & 1);
  f.fma = fma && ymm_state;
  f.avx512f = zmm_state && ((b >> 16) & 1);
  f.avx512dq = zmm_state && ((b >> 17) & 1);
  f.avx512bw = zmm_state && ((b >> 30) & 1);
  f.avx512vl = zmm_state && ((b >> 31) & 1);
  f.avx512_vnni = zmm_state && ((c >> 11) & 1);
  f.avx512_vpopcntdq = zmm_state && ((c >> 14) & 1);
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512_bf16 = zmm_state && ((a >> 5) & 1);
#elif defined(__aarch64__)
  f.neon = true;  // Advanced SIMD is mandatory on AArch64
#if MOTE_ARCH_ARM64_LINUX && defined(HWCAP_ASIMDDP)
  f.dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
#endif
  return f;
}

/// The ISA levels mote has kernels for on this architecture, best first.
inline constexpr IsaLevel dispatch_order[] = {
#if MOTE_ARCH_X86
    IsaLevel::avx512_bf16, IsaLevel::avx512_vnni, IsaLevel::avx512, IsaLevel::avx2, IsaLevel::sse4,
#elif defined(__aarch64__)
    IsaLevel::neon_dotprod, IsaLevel::neon,
#endif
    IsaLevel::scalar};

/// Parses an ISA name as accepted by MOTE_FORCE_ISA.
inline Expected<IsaLevel> parse_isa(std::string_view name) {
  for (IsaLevel level : {IsaLevel::scalar, IsaLevel::sse4, IsaLevel::avx2, IsaLevel::avx512,
                         IsaLevel::avx512_vnni, IsaLevel::avx512_bf16, IsaLevel::neon, IsaLevel::neon_dotprod})
    if (name == to_string(level)) return level;
  return make_error(ErrorCode::invalid_value,
                    "MOTE_FORCE_ISA='" + std::string(name) +
                        "' is not an ISA name (scalar, sse4, avx2, avx512, avx512_vnni, avx512_bf16, "
                        "neon, neon_dotprod)");
}

/// The best level in dispatch_order that `cpu` supports and is not above `cap` (when given).
inline Expected<IsaLevel> try_select_isa(const CpuFeatures& cpu, const char* forced) {
  if (forced != nullptr && *forced != '\0') {
    auto level = parse_isa(forced);
    if (!level) return level.error();
    if (!cpu.supports(*level))
      return make_error(ErrorCode::unsupported, std::string("MOTE_FORCE_ISA=") + forced +
                                                    ": this CPU does not support " + forced);
    bool known = false;
    for (IsaLevel candidate : dispatch_order) known = known || candidate == *level;
    if (!known)
      return make_error(ErrorCode::unsupported, std::string("MOTE_FORCE_ISA=") + forced +
                                                    ": mote has no kernels for that ISA on this architecture");
    return *level;
  }
  for (IsaLevel level : dispatch_order)
    if (cpu.supports(level)) return level;
  return IsaLevel::scalar;
}

/// The selection for this process (CPU + MOTE_FORCE_ISA), or why it failed.
inline Expected<IsaLevel> try_select_isa() { return try_select_isa(detect_cpu(), std::getenv("MOTE_FORCE_ISA")); }

/// The ISA isa::Dynamic kernels run with; decided once. An invalid MOTE_FORCE_ISA aborts with
/// a message (see the top of this file).
inline IsaLevel selected_isa() noexcept {
  static const IsaLevel level = [] {
    auto selection = try_select_isa();
    if (!selection) {
      std::fprintf(stderr, "mote: %s\n", selection.error().describe().c_str());
      std::abort();
    }
    return *selection;
  }();
  return level;
}

}  // namespace mote::arch
// ----- end mote/arch/cpu.hpp -----
// ----- begin mote/kernels/dense/reference.hpp -----
// Scalar reference for Dense: out[o] = bias[o] + sum_i W[o][i] * in[i].
// Accumulates in input order in f32, the order every SIMD kernel is compared against.


// ----- begin mote/kernels/elementwise/activations.hpp -----
// Activation functions as stateless functors: `apply(x)` is the scalar definition that every
// vectorised form is tested against. NaN inputs propagate (as in PyTorch), which is why the
// comparisons below are written `x < 0 ? ... : x` and not `x > 0 ? x : ...`.


namespace mote::activation {

struct Identity {
  static constexpr const char* name = "Identity";
  static float apply(float x) noexcept { return x; }
};
struct Relu {
  static constexpr const char* name = "ReLU";
  static float apply(float x) noexcept { return x < 0.0f ? 0.0f : x; }
};
struct Relu6 {
  static constexpr const char* name = "ReLU6";
  static float apply(float x) noexcept { return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x); }
};
/// max(x, 0) + Numerator/Denominator * min(x, 0).
template <int Numerator, int Denominator>
struct LeakyRelu {
  static_assert(Denominator > 0, "LeakyReLU's slope is Numerator/Denominator: the denominator must be positive.");
  static constexpr const char* name = "LeakyReLU";
  static constexpr float slope = static_cast<float>(Numerator) / static_cast<float>(Denominator);
  static float apply(float x) noexcept { return x < 0.0f ? x * slope : x; }
};
struct Sigmoid {
  static constexpr const char* name = "Sigmoid";
  static float apply(float x) noexcept { return 1.0f / (1.0f + std::exp(-x)); }
};
struct Tanh {
  static constexpr const char* name = "Tanh";
  static float apply(float x) noexcept { return std::tanh(x); }
};
/// x * ReLU6(x + 3) / 6 (MobileNetV3).
struct HardSwish {
  static constexpr const char* name = "HardSwish";
  static float apply(float x) noexcept { return x * Relu6::apply(x + 3.0f) * (1.0f / 6.0f); }
};
/// The exact (erf) GELU, PyTorch's default: x * Phi(x).
struct Gelu {
  static constexpr const char* name = "GELU";
  /// Below -8, 1 + erf(x / sqrt 2) is exactly 0 in float; clamping x in the first factor there
  /// makes GELU(-inf) = -0 instead of -inf * 0 = NaN.
  static float apply(float x) noexcept {
    const float clamped = x < -8.0f ? -8.0f : x;
    return 0.5f * clamped * (1.0f + std::erf(x * 0.70710678118654752440f));
  }
};

/// Activations made of comparisons and multiplications by constants: exact in every
/// vectorised form, so epilogues may apply them lane by lane without changing a bit.
template <class F>
inline constexpr bool is_piecewise_linear_v = false;
template <>
inline constexpr bool is_piecewise_linear_v<Identity> = true;
template <>
inline constexpr bool is_piecewise_linear_v<Relu> = true;
template <>
inline constexpr bool is_piecewise_linear_v<Relu6> = true;
template <int N, int D>
inline constexpr bool is_piecewise_linear_v<LeakyRelu<N, D>> = true;

}  // namespace mote::activation
// ----- end mote/kernels/elementwise/activations.hpp -----

namespace mote::kernels {

/// `Activation` is applied to each output (fused epilogue; Identity by default).
template <class Activation = activation::Identity>
inline void dense(isa::Scalar, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation = {}) noexcept {
  for (std::size_t o = 0; o < weights.rows(); ++o) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < weights.cols(); ++i) sum += weights.at(o, i) * in[i];
    out[o] = Activation::apply(sum + bias[o]);
  }
}

/// `batch` rows of inputs (each weights.cols() long) to `batch` rows of outputs.
template <class Activation = activation::Identity>
inline void dense_batch(isa::Scalar, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  for (std::size_t b = 0; b < batch; ++b)
    dense(isa::Scalar{}, weights, bias, in + b * weights.cols(), out + b * weights.rows(), activation);
}

}  // namespace mote::kernels
// ----- end mote/kernels/dense/reference.hpp -----
// ----- begin mote/kernels/dense/half_reference.hpp -----
// Scalar reference for Dense with bf16 / f16 weights: each weight widened to f32 (exactly),
// then the f32 reference's arithmetic: out[o] = bias[o] + sum_i W[o][i] * in[i], accumulated
// in input order in f32. The SIMD kernels (half-inl.hpp) are compared against it.



namespace mote::kernels {

/// `Activation` is applied to each output (fused epilogue; Identity by default).
template <HalfFloatFormat Format, class Activation = activation::Identity>
inline void dense(isa::Scalar, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation = {}) noexcept {
  for (std::size_t o = 0; o < weights.rows(); ++o) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < weights.cols(); ++i) sum += weights.at(o, i) * in[i];
    out[o] = Activation::apply(sum + bias[o]);
  }
}

/// `batch` rows of inputs (each weights.cols() long) to `batch` rows of outputs.
template <HalfFloatFormat Format, class Activation = activation::Identity>
inline void dense_batch(isa::Scalar, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  for (std::size_t b = 0; b < batch; ++b)
    dense(isa::Scalar{}, weights, bias, in + b * weights.cols(), out + b * weights.rows(), activation);
}

}  // namespace mote::kernels
// ----- end mote/kernels/dense/half_reference.hpp -----
// ----- begin mote/kernels/dense/binary_reference.hpp -----
// Scalar reference for Dense with binary weights (numeric/binary.hpp states the semantics), and
// what every binary kernel shares: the XNOR kernels' scratch size and their epilogue.
//  * f32 activations (`dense`, `dense_batch`): sum_k of +-x_k in input order in f32, then
//    fma(sum, scale_r, b_r). SIMD kernels reorder the sum (bound: dot_bound in the tests).
//  * binary activations (`dense_xnor`): the exact integer sum_k sign(w_rk) sign(x_k) by XNOR-
//    popcount of 32-bit words (std::popcount), then binary_xnor_epilogue, which every ISA runs
//    as is: outputs are bit-identical.



namespace mote::kernels {

using BinaryMatrix = WeightMatrix<Binary, DenseStorage>;

/// Scratch bytes per sample of the XNOR kernels: the input's signs, one 32-bit word per 32
/// values (zero padded), as for the weights.
constexpr std::size_t binary_xnor_scratch_bytes(std::size_t cols) noexcept {
  return align_up((cols + Binary::values_per_word - 1) / Binary::values_per_word * sizeof(std::uint32_t));
}

/// out[r] = Activation(fma(float(d_r), scale_r, bias[r])) for rows [first, first + count), with
/// dots[i] = d_(first + i), the exact integer dot product of signs (|d| <= cols: exact in f32
/// for cols < 2^24).
template <class Activation>
inline void binary_xnor_epilogue(const BinaryMatrix& weights, const float* bias, const std::int32_t* dots,
                                 std::size_t first, std::size_t count, float* out, Activation) noexcept {
  for (std::size_t i = 0; i < count; ++i)
    out[first + i] = Activation::apply(std::fma(static_cast<float>(dots[i]), weights.scale(first + i), bias[first + i]));
}

/// f32 activations. `Activation` is applied to each output (fused epilogue; Identity by default).
template <class Activation = activation::Identity>
inline void dense(isa::Scalar, const BinaryMatrix& weights, const float* bias, const float* in, float* out,
                  Activation = {}) noexcept {
  for (std::size_t o = 0; o < weights.rows(); ++o) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < weights.cols(); ++i) sum += weights.negative(o, i) ? -in[i] : in[i];
    out[o] = Activation::apply(std::fma(sum, weights.scale(o), bias[o]));
  }
}

/// `batch` rows of inputs (each weights.cols() long) to `batch` rows of outputs.
template <class Activation = activation::Identity>
inline void dense_batch(isa::Scalar, const BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation = {}) noexcept {
  for (std::size_t b = 0; b < batch; ++b)
    dense(isa::Scalar{}, weights, bias, in + b * weights.cols(), out + b * weights.rows(), activation);
}

/// Binary activations: `batch` inputs binarised by sign (Binary::negative), packed to 32-bit
/// words in `scratch` (binary_xnor_scratch_bytes(cols) per sample, as the SIMD kernels), and
/// dot products d_r = cols - 2 sum_g popcount(w_rg XOR x_g) with std::popcount (the column
/// padding is 0 in both, so it never counts). Tests check it against sums of sign products.
template <class Activation = activation::Identity>
inline void dense_xnor(isa::Scalar, const BinaryMatrix& weights, const float* bias, const float* in, float* out,
                       std::size_t batch, Activation activation, std::byte* scratch) noexcept {
  const std::size_t cols = weights.cols(), rows = weights.rows(), groups = weights.group_count();
  auto* words = reinterpret_cast<std::uint32_t*>(scratch);
  for (std::size_t b = 0; b < batch; ++b) {
    const float* x = in + b * cols;
    for (std::size_t g = 0; g < groups; ++g) {
      std::uint32_t bits = 0;
      for (std::size_t t = 0; t < Binary::values_per_word && g * Binary::values_per_word + t < cols; ++t)
        if (Binary::negative(x[g * Binary::values_per_word + t])) bits |= std::uint32_t{1} << t;
      words[g] = bits;
    }
    for (std::size_t r = 0; r < rows; ++r) {
      std::int32_t differing = 0;
      for (std::size_t g = 0; g < groups; ++g) differing += std::popcount(weights.word(r, g) ^ words[g]);
      const std::int32_t dot = static_cast<std::int32_t>(cols) - 2 * differing;
      binary_xnor_epilogue(weights, bias, &dot, r, 1, out + b * rows, activation);
    }
  }
}

}  // namespace mote::kernels
// ----- end mote/kernels/dense/binary_reference.hpp -----
// ----- begin mote/kernels/dense/codebook_reference.hpp -----
// Scalar reference for Dense with codebook weights: each weight is its table value (at(r, k)),
// then the f32 reference's arithmetic: out[o] = bias[o] + sum_i W[o][i] * in[i], accumulated in
// input order in f32. The SIMD kernels (codebook-inl.hpp) are compared against it.



namespace mote::kernels {

/// `Activation` is applied to each output (fused epilogue; Identity by default).
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense(isa::Scalar, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation = {}) noexcept {
  for (std::size_t o = 0; o < weights.rows(); ++o) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < weights.cols(); ++i) sum += weights.at(o, i) * in[i];
    out[o] = Activation::apply(sum + bias[o]);
  }
}

/// `batch` rows of inputs (each weights.cols() long) to `batch` rows of outputs.
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense_batch(isa::Scalar, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation = {}) noexcept {
  for (std::size_t b = 0; b < batch; ++b)
    dense(isa::Scalar{}, weights, bias, in + b * weights.cols(), out + b * weights.rows(), activation);
}

}  // namespace mote::kernels
// ----- end mote/kernels/dense/codebook_reference.hpp -----
// ----- begin mote/kernels/conv2d/reference.hpp -----
// Scalar reference for Conv2D over channels-last input. Weights are one row per output channel
// holding the receptive field in (ky, kx, ci) order, the order the input patch has in memory.
// Taps that fall into the padding contribute zero.


// ----- begin mote/kernels/geometry.hpp -----
// Run-time descriptions of sliding-window geometry shared by the conv, depthwise and pool
// kernels. Layers build them as constexpr values, so after inlining the kernels see constants.


namespace mote::kernels {

/// A 2-D window sliding over an H x W x C channels-last input.
struct WindowGeometry {
  std::size_t in_h = 1, in_w = 1, in_c = 1;
  std::size_t out_h = 1, out_w = 1, out_c = 1;
  std::size_t kernel_h = 1, kernel_w = 1;
  std::size_t stride_h = 1, stride_w = 1;
  std::size_t dilation_h = 1, dilation_w = 1;
  std::size_t pad_top = 0, pad_left = 0;
};

/// Output columns [begin, end) whose every horizontal tap lies inside the input: SIMD kernels
/// run them without bounds checks.
struct ColumnRange {
  std::size_t begin = 0, end = 0;
};

inline ColumnRange interior_columns(const WindowGeometry& g) noexcept {
  const std::size_t reach = (g.kernel_w - 1) * g.dilation_w;
  ColumnRange range;
  range.begin = std::min(g.out_w, (g.pad_left + g.stride_w - 1) / g.stride_w);
  if (g.in_w + g.pad_left > reach) range.end = std::min(g.out_w, (g.in_w + g.pad_left - reach - 1) / g.stride_w + 1);
  range.end = std::max(range.end, range.begin);
  return range;
}

}  // namespace mote::kernels
// ----- end mote/kernels/geometry.hpp -----

namespace mote::kernels {

template <class Activation = activation::Identity>
inline void conv2d(isa::Scalar, const WindowGeometry& g,
                   const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                   const float* in, float* out, Activation = {}) noexcept {
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      float* out_pixel = out + (oy * g.out_w + ox) * g.out_c;
      for (std::size_t oc = 0; oc < g.out_c; ++oc) {
        float sum = 0.0f;
        for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
          // Signed arithmetic: padding makes the top/left taps negative.
          const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) -
                          static_cast<long>(g.pad_top);
          if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
          for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
            const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) -
                            static_cast<long>(g.pad_left);
            if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
            const float* in_pixel =
                in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
            const std::size_t tap = (ky * g.kernel_w + kx) * g.in_c;
            for (std::size_t ic = 0; ic < g.in_c; ++ic) sum += weights.at(oc, tap + ic) * in_pixel[ic];
          }
        }
        out_pixel[oc] = Activation::apply(sum + bias[oc]);
      }
    }
  }
}

}  // namespace mote::kernels
// ----- end mote/kernels/conv2d/reference.hpp -----
// ----- begin mote/kernels/depthwise/reference.hpp -----
// Scalar reference for depthwise Conv2D with a channel multiplier M: output channel
// o = c * M + m filters input channel c alone (PyTorch groups = in_channels ordering).
// Weights: one row per output channel holding its kernel_h x kernel_w taps.



namespace mote::kernels {

template <class Activation = activation::Identity>
inline void depthwise_conv2d(isa::Scalar, const WindowGeometry& g,
                             const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                             const float* in, float* out, Activation = {}) noexcept {
  const std::size_t multiplier = g.out_c / g.in_c;
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      float* out_pixel = out + (oy * g.out_w + ox) * g.out_c;
      for (std::size_t oc = 0; oc < g.out_c; ++oc) {
        const std::size_t ic = oc / multiplier;
        float sum = 0.0f;
        for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
          const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) -
                          static_cast<long>(g.pad_top);
          if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
          for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
            const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) -
                            static_cast<long>(g.pad_left);
            if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
            sum += weights.at(oc, ky * g.kernel_w + kx) *
                   in[(static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c + ic];
          }
        }
        out_pixel[oc] = Activation::apply(sum + bias[oc]);
      }
    }
  }
}

}  // namespace mote::kernels
// ----- end mote/kernels/depthwise/reference.hpp -----
// ----- begin mote/kernels/elementwise/reference.hpp -----
// Scalar references for element-wise and per-channel ops. `in` and `out` may alias exactly
// (in-place), never partially.



namespace mote::kernels {

template <class Activation>
inline void activate(isa::Scalar, Activation, const float* in, float* out, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) out[i] = Activation::apply(in[i]);
}

/// out[p][c] = in[p][c] * scale[c] + shift[c] (inference BatchNorm that could not be folded).
inline void channel_affine(isa::Scalar, const float* scale, const float* shift, const float* in,
                           float* out, std::size_t pixels, std::size_t channels) noexcept {
  for (std::size_t p = 0; p < pixels; ++p)
    for (std::size_t c = 0; c < channels; ++c)
      out[p * channels + c] = in[p * channels + c] * scale[c] + shift[c];
}

/// out = a + b, element-wise; out may alias a or b.
inline void add(isa::Scalar, const float* a, const float* b, float* out, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) out[i] = a[i] + b[i];
}

/// Softmax over the last axis of a rows x channels input. Subtracting the row maximum keeps
/// exp() finite; a row containing NaN yields NaN.
inline void softmax(isa::Scalar, const float* in, float* out, std::size_t rows,
                    std::size_t channels) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* x = in + r * channels;
    float* y = out + r * channels;
    float maximum = x[0];
    for (std::size_t c = 1; c < channels; ++c) maximum = std::fmax(maximum, x[c]);
    bool has_nan = false;
    for (std::size_t c = 0; c < channels; ++c) has_nan = has_nan || std::isnan(x[c]);
    float sum = 0.0f;
    for (std::size_t c = 0; c < channels; ++c) {
      y[c] = std::exp(x[c] - maximum);
      sum += y[c];
    }
    const float inverse = has_nan ? std::nanf("") : 1.0f / sum;
    for (std::size_t c = 0; c < channels; ++c) y[c] *= inverse;
  }
}

}  // namespace mote::kernels
// ----- end mote/kernels/elementwise/reference.hpp -----
// ----- begin mote/kernels/pool/reference.hpp -----
// Scalar references for pooling over channels-last input.
// Max pooling ignores padded taps (as if padded with -inf); average pooling divides by the
// number of taps inside the input (PyTorch count_include_pad=False, TFLite, ONNX default).
// A window entirely in the padding cannot occur: layers reject such geometry at compile time.



namespace mote::kernels {

namespace detail {
template <class Visit>
inline void for_each_window(const WindowGeometry& g, Visit&& visit) {
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      const long y0 = static_cast<long>(oy * g.stride_h) - static_cast<long>(g.pad_top);
      const long x0 = static_cast<long>(ox * g.stride_w) - static_cast<long>(g.pad_left);
      visit(oy, ox, y0, x0);
    }
  }
}
}  // namespace detail

inline void max_pool2d(isa::Scalar, const WindowGeometry& g, const float* in, float* out) noexcept {
  detail::for_each_window(g, [&](std::size_t oy, std::size_t ox, long y0, long x0) {
    float* out_pixel = out + (oy * g.out_w + ox) * g.out_c;
    for (std::size_t c = 0; c < g.in_c; ++c) out_pixel[c] = -std::numeric_limits<float>::infinity();
    for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
      const long iy = y0 + static_cast<long>(ky * g.dilation_h);
      if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
      for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
        const long ix = x0 + static_cast<long>(kx * g.dilation_w);
        if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
        const float* in_pixel = in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
        // A NaN tap wins and then stays (no later comparison with NaN is true), as in PyTorch.
        for (std::size_t c = 0; c < g.in_c; ++c)
          if (in_pixel[c] > out_pixel[c] || std::isnan(in_pixel[c])) out_pixel[c] = in_pixel[c];
      }
    }
  });
}

inline void avg_pool2d(isa::Scalar, const WindowGeometry& g, const float* in, float* out) noexcept {
  detail::for_each_window(g, [&](std::size_t oy, std::size_t ox, long y0, long x0) {
    float* out_pixel = out + (oy * g.out_w + ox) * g.out_c;
    for (std::size_t c = 0; c < g.in_c; ++c) out_pixel[c] = 0.0f;
    std::size_t taps = 0;
    for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
      const long iy = y0 + static_cast<long>(ky * g.dilation_h);
      if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
      for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
        const long ix = x0 + static_cast<long>(kx * g.dilation_w);
        if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
        const float* in_pixel = in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
        for (std::size_t c = 0; c < g.in_c; ++c) out_pixel[c] += in_pixel[c];
        ++taps;
      }
    }
    const float inverse = 1.0f / static_cast<float>(taps);
    for (std::size_t c = 0; c < g.in_c; ++c) out_pixel[c] *= inverse;
  });
}

/// Mean over all pixels of an pixels x channels input.
inline void global_avg_pool(isa::Scalar, std::size_t pixels, std::size_t channels, const float* in,
                            float* out) noexcept {
  for (std::size_t c = 0; c < channels; ++c) out[c] = 0.0f;
  for (std::size_t p = 0; p < pixels; ++p)
    for (std::size_t c = 0; c < channels; ++c) out[c] += in[p * channels + c];
  const float inverse = 1.0f / static_cast<float>(pixels);
  for (std::size_t c = 0; c < channels; ++c) out[c] *= inverse;
}

}  // namespace mote::kernels
// ----- end mote/kernels/pool/reference.hpp -----
// ----- begin mote/kernels/dense/int8_reference.hpp -----
// Scalar reference for int8 Dense, and what every int8 dense kernel shares: the description of
// the input quantisation, the scratch size, and the epilogue that turns exact int32
// accumulators into outputs. The epilogue is scalar and identical on every ISA, so float outputs
// are bit-exact across ISAs too (std::fma, never a compiler's choice of contraction).



namespace mote::kernels {

/// How a layer's float input is quantised, in the unsigned code domain u = code + offset
/// (offset 128 for int8 activations, 0 for uint8), so that every kernel sees codes in [0, 255].
struct Int8InputQuant {
  QuantParams params;      ///< scale and zero point (the zero point in the u domain)
  std::int32_t low = 0;    ///< smallest code (u domain)
  std::int32_t high = 255; ///< largest code (u domain)
};

/// Scratch bytes an int8 dense kernel needs per sample (activation codes of at most 2 bytes, then
/// int32 accumulators), for every ISA.
constexpr std::size_t int8_dense_scratch_bytes(std::size_t padded_rows, std::size_t padded_cols) noexcept {
  return align_up(padded_cols * sizeof(std::int16_t)) + align_up(padded_rows * sizeof(std::int32_t));
}

/// Largest input length for which every int8 accumulator fits in int32:
/// |sum (w - zw)(u - zu)| <= K * 255 * 255 < 2^31.
inline constexpr std::size_t int8_max_cols = 33025;

/// out[r] = Activation(acc_r * (input scale * weight scale_r) + bias[r]) where acc_r is the exact
/// sum over k of (w_rk - zw_r)(u_k - zu), given dot_r = sum_k w_rk * (u_k - activation_offset).
/// `sum_u` (sum of the input's u codes) is only read for asymmetric weights.
template <class Matrix, class Activation>
inline void int8_dense_epilogue(const Matrix& weights, const float* bias, const std::int32_t* dots,
                                const Int8InputQuant& input, std::int32_t activation_offset, std::int64_t sum_u,
                                float* out, Activation) noexcept {
  const std::int64_t zu = input.params.zero_point;
  const std::int64_t k = static_cast<std::int64_t>(weights.cols());
  for (std::size_t r = 0; r < weights.rows(); ++r) {
    const QuantParams& w = weights.params(r);
    std::int64_t acc = dots[r] + (activation_offset - zu) * weights.row_sum(r);
    if constexpr (!Matrix::format::symmetric) acc += w.zero_point * (zu * k - sum_u);
    const float multiplier = input.params.scale * w.scale;
    out[r] = Activation::apply(std::fma(static_cast<float>(acc), multiplier, bias[r]));
  }
}

/// The reference: quantise the input exactly as mote::quantize, multiply in int64, same epilogue.
template <class G, class S, class Activation = activation::Identity>
inline void dense_int8(isa::Scalar, const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  auto* dots = reinterpret_cast<std::int32_t*>(scratch);
  auto* codes = reinterpret_cast<std::int32_t*>(scratch + align_up(weights.padded_rows() * sizeof(std::int32_t)));
  for (std::size_t b = 0; b < batch; ++b) {
    const float* x = in + b * weights.cols();
    std::int64_t sum_u = 0;
    for (std::size_t i = 0; i < weights.cols(); ++i) {
      codes[i] = quantize(x[i], input.params, input.low, input.high);
      sum_u += codes[i];
    }
    for (std::size_t r = 0; r < weights.rows(); ++r) {
      std::int64_t dot = 0;
      for (std::size_t i = 0; i < weights.cols(); ++i) dot += std::int64_t{weights.at(r, i)} * codes[i];
      dots[r] = static_cast<std::int32_t>(dot);
    }
    int8_dense_epilogue(weights, bias, dots, input, 0, sum_u, out + b * weights.rows(), activation);
  }
}

/// Scratch the reference needs per sample (int32 accumulators and int32 codes).
constexpr std::size_t int8_dense_reference_scratch_bytes(std::size_t padded_rows, std::size_t padded_cols) noexcept {
  return align_up(padded_rows * sizeof(std::int32_t)) + align_up(padded_cols * sizeof(std::int32_t));
}

}  // namespace mote::kernels
// ----- end mote/kernels/dense/int8_reference.hpp -----
// ----- begin mote/kernels/dense/int4_reference.hpp -----
// Scalar reference for int4 Dense, and the epilogue every int4 kernel shares. Per block of 32
// columns the kernels compute dot_rb = sum_k w_rk * s_k exactly in integers, with
// s_k = u_k - 128 the input codes centred on 128; per group they convert the integer sum to f32
// and accumulate F_r = fma(float(sum_g), scale_rg, F_r) in group order. Then
//     y_r = Activation(fma(s_in, fma(128 - zu, scaled_row_sum_r, F_r), bias_r)),
// the same operations in the same order on every ISA, so outputs are bit-identical across ISAs.



namespace mote::kernels {

/// Scratch bytes per sample of every int4 dense kernel: centred codes, block sums, group sums.
constexpr std::size_t int4_dense_scratch_bytes(std::size_t padded_rows, std::size_t padded_cols) noexcept {
  return align_up(padded_cols) + align_up(padded_cols / 32 * sizeof(std::int32_t)) +
         align_up(padded_rows * sizeof(float));
}

/// The shared epilogue: `f` holds F_r (see above) for the rows of one sample.
template <class Matrix, class Activation>
inline void int4_dense_epilogue(const Matrix& weights, const float* bias, const float* f, const Int8InputQuant& input,
                                float* out, Activation) noexcept {
  const float centre = static_cast<float>(128 - input.params.zero_point);
  for (std::size_t r = 0; r < weights.rows(); ++r)
    out[r] = Activation::apply(
        std::fma(input.params.scale, std::fma(centre, weights.scaled_row_sums()[r], f[r]), bias[r]));
}

template <std::size_t G, class Activation = activation::Identity>
inline void dense_int4(isa::Scalar, const WeightMatrix<Int4<G>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols();
  auto* centred = reinterpret_cast<std::int8_t*>(scratch);
  auto* f = reinterpret_cast<float*>(scratch + align_up(padded_cols) + align_up(padded_cols / 32 * sizeof(std::int32_t)));
  for (std::size_t b = 0; b < batch; ++b) {
    for (std::size_t k = 0; k < padded_cols; ++k)
      centred[k] = static_cast<std::int8_t>(k < cols ? quantize(in[b * cols + k], input.params, input.low, input.high) - 128 : 0);
    const std::size_t group_cols = weights.blocks_per_group() * 32;
    for (std::size_t r = 0; r < weights.rows(); ++r) {
      float sum = 0.0f;
      for (std::size_t g = 0; g < weights.group_count(); ++g) {
        std::int32_t dot = 0;
        for (std::size_t k = g * group_cols; k < std::min(padded_cols, (g + 1) * group_cols); ++k)
          dot += (k < cols ? weights.at(r, k) : 0) * centred[k];
        sum = std::fma(static_cast<float>(dot), weights.scale(r, g * group_cols), sum);
      }
      f[r] = sum;
    }
    int4_dense_epilogue(weights, bias, f, input, out + b * weights.rows(), activation);
  }
}

}  // namespace mote::kernels
// ----- end mote/kernels/dense/int4_reference.hpp -----

#if !defined(MOTE_NO_SIMD) && MOTE_ARCH_X86 && defined(__x86_64__)
#define MOTE_SIMD_X86 1
#include <immintrin.h>
#else
#define MOTE_SIMD_X86 0
#endif
#if !defined(MOTE_NO_SIMD) && defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define MOTE_SIMD_NEON 1
#include <arm_neon.h>
#else
#define MOTE_SIMD_NEON 0
#endif

#if defined(__clang__)
#define MOTE_TARGET_REGION_BEGIN(features) \
  _Pragma(MOTE_STRINGIFY(clang attribute push(__attribute__((target(features))), apply_to = function)))
#define MOTE_TARGET_REGION_END _Pragma("clang attribute pop")
#else
#define MOTE_TARGET_REGION_BEGIN(features) \
  _Pragma("GCC push_options") _Pragma(MOTE_STRINGIFY(GCC target(features)))
#define MOTE_TARGET_REGION_END _Pragma("GCC pop_options")
#endif
#define MOTE_STRINGIFY_(x) #x
#define MOTE_STRINGIFY(x) MOTE_STRINGIFY_(x)

#if MOTE_SIMD_X86
MOTE_TARGET_REGION_BEGIN("sse4.2")
// ----- begin mote/arch/x86/sse4.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_HPP_
// SSE4.1/4.2 vector of 4 floats (no FMA: fma() is a multiply then an add, two roundings).
// Included by arch/targets.hpp inside its target region.
#if !defined(MOTE_ARCH_X86_SSE4_VEC)
#define MOTE_ARCH_X86_SSE4_VEC
namespace mote::simd::sse4 {

#define MOTE_VEC_INLINE inline __attribute__((always_inline))

struct VecF32 {
  static constexpr std::size_t lanes = 4;
  using Mask = __m128;
  __m128 v;

  static MOTE_VEC_INLINE VecF32 zero() { return {_mm_setzero_ps()}; }
  static MOTE_VEC_INLINE VecF32 broadcast(float x) { return {_mm_set1_ps(x)}; }
  static MOTE_VEC_INLINE VecF32 load(const float* p) { return {_mm_loadu_ps(p)}; }
  /// 4 bfloat16 values widened exactly to f32: interleaving zeros below puts each one in the
  /// top half of its 32-bit lane.
  static MOTE_VEC_INLINE VecF32 load_bf16(const std::uint16_t* p) {
    const __m128i halves = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return {_mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), halves))};
  }
  /// 4 IEEE binary16 values widened exactly to f32. SSE4 has no F16C (it came with AVX), so the
  /// bits are moved in integer registers: exponent rebiased by 112 (twice for inf/NaN, whose
  /// payload is kept as is); zero and subnormals built as 2^-14 + m 2^-24, minus 2^-14 (exact).
  static MOTE_VEC_INLINE VecF32 load_f16(const std::uint16_t* p) {
    const __m128i h = _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    const __m128i sign = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16);
    const __m128i magnitude = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x7FFF)), 13);
    const __m128i exponent = _mm_and_si128(magnitude, _mm_set1_epi32(0x0F800000));
    const __m128i rebias = _mm_set1_epi32(112 << 23);
    const __m128i special = _mm_cmpeq_epi32(exponent, _mm_set1_epi32(0x0F800000));
    const __m128i bits = _mm_add_epi32(_mm_add_epi32(magnitude, rebias), _mm_and_si128(special, rebias));
    const __m128 tiny = _mm_sub_ps(_mm_castsi128_ps(_mm_add_epi32(bits, _mm_set1_epi32(1 << 23))),
                                   _mm_castsi128_ps(_mm_set1_epi32(113 << 23)));
    const __m128 is_tiny = _mm_castsi128_ps(_mm_cmpeq_epi32(exponent, _mm_setzero_si128()));
    return {_mm_or_ps(_mm_blendv_ps(_mm_castsi128_ps(bits), tiny, is_tiny), _mm_castsi128_ps(sign))};
  }
  /// 8 bfloat16 values as two vectors of f32, de-interleaved: `even` gets values 0, 2, 4, 6,
  /// `odd` 1, 3, 5, 7 (one load instead of two); interleave_even_odd restores the order.
  static MOTE_VEC_INLINE void load_bf16_even_odd(const std::uint16_t* p, VecF32& even, VecF32& odd) {
    const __m128i pairs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    even = {_mm_castsi128_ps(_mm_slli_epi32(pairs, 16))};
    odd = {_mm_castsi128_ps(_mm_and_si128(pairs, _mm_set1_epi32(static_cast<int>(0xFFFF0000u))))};
  }
  /// Inverse of load_bf16_even_odd's order: even[0], odd[0], even[1], ... split into `first`
  /// (values 0..3) and `second` (4..7).
  static MOTE_VEC_INLINE void interleave_even_odd(VecF32 even, VecF32 odd, VecF32& first, VecF32& second) {
    first = {_mm_unpacklo_ps(even.v, odd.v)};
    second = {_mm_unpackhi_ps(even.v, odd.v)};
  }
  static MOTE_VEC_INLINE VecF32 load_partial(const float* p, std::size_t n) {
    alignas(16) float lanes_[4] = {0, 0, 0, 0};
    for (std::size_t i = 0; i < n; ++i) lanes_[i] = p[i];
    return {_mm_load_ps(lanes_)};
  }
  MOTE_VEC_INLINE void store(float* p) const { _mm_storeu_ps(p, v); }
  MOTE_VEC_INLINE void store_partial(float* p, std::size_t n) const {
    alignas(16) float lanes_[4];
    _mm_store_ps(lanes_, v);
    for (std::size_t i = 0; i < n; ++i) p[i] = lanes_[i];
  }

  friend MOTE_VEC_INLINE VecF32 operator+(VecF32 a, VecF32 b) { return {_mm_add_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator-(VecF32 a, VecF32 b) { return {_mm_sub_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator*(VecF32 a, VecF32 b) { return {_mm_mul_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator/(VecF32 a, VecF32 b) { return {_mm_div_ps(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 fma(VecF32 a, VecF32 b, VecF32 c) { return {_mm_add_ps(_mm_mul_ps(a.v, b.v), c.v)}; }
  static MOTE_VEC_INLINE VecF32 min(VecF32 a, VecF32 b) { return {_mm_min_ps(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 max(VecF32 a, VecF32 b) { return {_mm_max_ps(a.v, b.v)}; }
  /// x < low ? low : x, lane-wise, exactly (NaN and -0 in x pass through): x86 MAX returns
  /// its second operand when the operands are equal or either is NaN.
  static MOTE_VEC_INLINE VecF32 clamp_below(VecF32 x, VecF32 low) { return {_mm_max_ps(low.v, x.v)}; }
  /// x > high ? high : x, lane-wise, exactly (NaN and -0 in x pass through).
  static MOTE_VEC_INLINE VecF32 clamp_above(VecF32 x, VecF32 high) { return {_mm_min_ps(high.v, x.v)}; }
  static MOTE_VEC_INLINE VecF32 abs(VecF32 a) { return {_mm_andnot_ps(_mm_set1_ps(-0.0f), a.v)}; }
  static MOTE_VEC_INLINE VecF32 copysign(VecF32 magnitude, VecF32 sign) {
    const __m128 bit = _mm_set1_ps(-0.0f);
    return {_mm_or_ps(_mm_andnot_ps(bit, magnitude.v), _mm_and_ps(bit, sign.v))};
  }
  static MOTE_VEC_INLINE VecF32 round_nearest(VecF32 a) {
    return {_mm_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  static MOTE_VEC_INLINE VecF32 pow2(VecF32 n) {
    const __m128i biased = _mm_add_epi32(_mm_cvtps_epi32(n.v), _mm_set1_epi32(127));
    return {_mm_castsi128_ps(_mm_slli_epi32(biased, 23))};
  }
  static MOTE_VEC_INLINE Mask less(VecF32 a, VecF32 b) { return _mm_cmplt_ps(a.v, b.v); }
  static MOTE_VEC_INLINE Mask greater(VecF32 a, VecF32 b) { return _mm_cmpgt_ps(a.v, b.v); }
  static MOTE_VEC_INLINE Mask is_nan(VecF32 a) { return _mm_cmpunord_ps(a.v, a.v); }
  static MOTE_VEC_INLINE Mask mask_or(Mask a, Mask b) { return _mm_or_ps(a, b); }
  static MOTE_VEC_INLINE bool any(Mask m) { return _mm_movemask_ps(m) != 0; }
  static MOTE_VEC_INLINE VecF32 select(Mask m, VecF32 if_true, VecF32 if_false) {
    return {_mm_blendv_ps(if_false.v, if_true.v, m)};
  }
  MOTE_VEC_INLINE float reduce_add() const {
    __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

#undef MOTE_VEC_INLINE
}  // namespace mote::simd::sse4
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_HPP_
// ----- end mote/arch/x86/sse4.hpp -----
// ----- begin mote/arch/x86/sse4_int8.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_INT8_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_INT8_HPP_
// SSE4.1 int8 dot-product primitives (see kernels/dense/int8-inl.hpp for the contract). No
// include guard on purpose: included by arch/targets.hpp inside the sse4.2 target region.
// Weights are sign-extended to int16 and activations kept as int16, so pmaddwd sums two
// products of at most 128 * 255 each: exact, never the int16 saturation of pmaddubsw.
#if !defined(MOTE_ARCH_X86_SSE4_INT8)
#define MOTE_ARCH_X86_SSE4_INT8
namespace mote::simd::sse4 {

/// The 4 codes of x[0..4) as mote::quantize computes them, as int32 (see avx2_int8.hpp): shared
/// by the int8 and int4 primitives.
struct QuantizeCodes {
  __m128 scale, zero, lo, hi, nan_code;
  QuantizeCodes(const QuantParams& p, std::int32_t low, std::int32_t high)
      : scale(_mm_set1_ps(p.scale)),
        zero(_mm_set1_ps(static_cast<float>(p.zero_point))),
        lo(_mm_set1_ps(static_cast<float>(low))),
        hi(_mm_set1_ps(static_cast<float>(high))),
        nan_code(_mm_set1_ps(static_cast<float>(std::clamp(p.zero_point, low, high)))) {}
  inline __attribute__((always_inline)) __m128i operator()(const float* x) const {
    const __m128 scaled = _mm_div_ps(_mm_loadu_ps(x), scale);
    __m128 q = _mm_add_ps(_mm_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero);
    q = _mm_min_ps(_mm_max_ps(q, lo), hi);
    q = _mm_blendv_ps(q, nan_code, _mm_cmpunord_ps(scaled, scaled));
    return _mm_cvttps_epi32(q);
  }
};

struct Int8Ops {
  using Act = std::int16_t;
  static constexpr std::int32_t activation_offset = 0;
  static constexpr std::size_t gemm_cols = 1;
  /// rows 2j, 2j+1: lanes (r, k01), (r, k23), (r+1, k01), (r+1, k23)
  struct Acc {
    __m128i v[8];
  };
  struct Panel {
    __m128i v[8];
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u); }
  static inline __attribute__((always_inline)) Acc zero() {
    Acc acc;
    for (auto& v : acc.v) v = _mm_setzero_si128();
    return acc;
  }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    Panel panel;
    for (int j = 0; j < 8; ++j)
      panel.v[j] = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(group + 8 * j)));
    return panel;
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    std::int64_t pattern;
    std::memcpy(&pattern, act, sizeof(pattern));
    const __m128i a = _mm_set1_epi64x(pattern);
    for (int j = 0; j < 8; ++j) acc.v[j] = _mm_add_epi32(acc.v[j], _mm_madd_epi16(w.v[j], a));
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    for (int j = 0; j < 4; ++j)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 * j), _mm_hadd_epi32(acc.v[2 * j], acc.v[2 * j + 1]));
  }
  /// Quantises n floats to codes exactly as mote::quantize does (IEEE division, ties to even).
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const QuantizeCodes codes_of(p, low, high);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_packs_epi32(codes_of(x + i), codes_of(x + i + 4)));
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::sse4
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_INT8_HPP_
// ----- end mote/arch/x86/sse4_int8.hpp -----
// ----- begin mote/arch/x86/sse4_int4.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_INT4_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_INT4_HPP_
// SSE4 int4 primitives (contract: kernels/dense/int4-inl.hpp): the AVX2 method (avx2_int4.hpp)
// on 128-bit registers. SSE4 has no FMA: the per-group f32 accumulation uses std::fma lane by
// lane, so that results stay bit-identical to the other ISAs.
#if !defined(MOTE_ARCH_X86_SSE4_INT4)
#define MOTE_ARCH_X86_SSE4_INT4
namespace mote::simd::sse4 {

struct Int4Ops {
  static inline void centre(const float* x, std::size_t n, const QuantParams& p, std::int32_t low, std::int32_t high,
                            std::int8_t* out) {
    const QuantizeCodes codes_of(QuantParams{p.scale, p.zero_point - 128}, low - 128, high - 128);
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const __m128i codes = codes_of(x + i);
      const __m128i words = _mm_packs_epi32(codes, codes);
      const std::int32_t packed = _mm_cvtsi128_si32(_mm_packs_epi16(words, words));
      std::memcpy(out + i, &packed, sizeof(packed));
    }
    for (; i < n; ++i) out[i] = static_cast<std::int8_t>(::mote::quantize(x[i], p, low, high) - 128);
  }

  static inline void panel(const std::uint8_t* packed, const float* scales, std::size_t blocks,
                           std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
                           float* f) {
    const __m128i nibble = _mm_set1_epi8(0x0F);
    const __m128i ones = _mm_set1_epi16(1);
    float sums_f[16] = {};
    for (std::size_t first = 0; first < blocks; first += blocks_per_group, scales += 16) {
      const std::size_t last = std::min(blocks, first + blocks_per_group);
      __m128i sum[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
      for (std::size_t b = first; b < last; ++b) {
        const std::uint8_t* block = packed + b * 256;
        __m128i acc[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
        for (std::size_t q = 0; q < 8; ++q) {
          const __m128i first_half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + q * 32));
          const __m128i second_half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + q * 32 + 16));
          std::int32_t pattern;
          std::memcpy(&pattern, act + b * 32 + q * 4, sizeof(pattern));
          const __m128i x = _mm_set1_epi32(pattern);
          // rows 0-3, 4-7 (low nibbles), 8-11, 12-15 (high nibbles)
          acc[0] = _mm_add_epi16(acc[0], _mm_maddubs_epi16(_mm_and_si128(first_half, nibble), x));
          acc[1] = _mm_add_epi16(acc[1], _mm_maddubs_epi16(_mm_and_si128(second_half, nibble), x));
          acc[2] = _mm_add_epi16(acc[2], _mm_maddubs_epi16(_mm_and_si128(_mm_srli_epi16(first_half, 4), nibble), x));
          acc[3] = _mm_add_epi16(acc[3], _mm_maddubs_epi16(_mm_and_si128(_mm_srli_epi16(second_half, 4), nibble), x));
        }
        const __m128i offset = _mm_set1_epi32(8 * block_sums[b]);
        for (int j = 0; j < 4; ++j)
          sum[j] = _mm_add_epi32(sum[j], _mm_sub_epi32(_mm_madd_epi16(acc[j], ones), offset));
      }
      alignas(16) std::int32_t lanes[16];
      for (int j = 0; j < 4; ++j) _mm_store_si128(reinterpret_cast<__m128i*>(lanes + 4 * j), sum[j]);
      for (int r = 0; r < 16; ++r) sums_f[r] = std::fma(static_cast<float>(lanes[r]), scales[r], sums_f[r]);
    }
    std::memcpy(f, sums_f, sizeof(sums_f));
  }
};

}  // namespace mote::simd::sse4
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_INT4_HPP_
// ----- end mote/arch/x86/sse4_int4.hpp -----
// ----- begin mote/arch/x86/sse4_binary.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_BINARY_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_BINARY_HPP_
// SSE4 primitives of the binary kernels (contract: kernels/dense/binary-inl.hpp). Included by
// arch/targets.hpp inside the sse4 target region, after sse4.hpp. One weight group (16 rows x
// 32 columns, layout/dense_binary.hpp) is four vectors of 4 row words. Popcount as in
// avx2_binary.hpp (Mula's pshufb nibble lookup, bytes widened per row by pmaddubsw + pmaddwd):
// the sse4.2 target does not include the POPCNT instruction, and it works on one word anyway.
#if !defined(MOTE_ARCH_X86_SSE4_BINARY)
#define MOTE_ARCH_X86_SSE4_BINARY
namespace mote::simd::sse4 {

struct BinaryOps {
  // ---- XNOR-popcount (binary activations)
  static constexpr std::size_t xnor_tile = 2;     ///< samples sharing each group load
  static constexpr std::size_t flush_every = 31;  ///< groups a Partial absorbs without overflow
  struct Group {
    __m128i v[4];
  };
  struct Partial {  ///< per-byte counts
    __m128i v[4];
  };
  struct Counts {  ///< per-row counts (int32 lanes)
    __m128i v[4];
  };
  static inline __attribute__((always_inline)) Group load_group(const std::uint32_t* p) {
    Group g;
    for (int j = 0; j < 4; ++j) g.v[j] = _mm_load_si128(reinterpret_cast<const __m128i*>(p + 4 * j));
    return g;
  }
  static inline __attribute__((always_inline)) Partial partial_zero() {
    return {{_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()}};
  }
  static inline __attribute__((always_inline)) Counts counts_zero() {
    return {{_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()}};
  }
  static inline __attribute__((always_inline)) __m128i popcount_bytes(__m128i v) {
    const __m128i table = _mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m128i low_nibbles = _mm_set1_epi8(0x0F);
    const __m128i low = _mm_and_si128(v, low_nibbles);
    const __m128i high = _mm_and_si128(_mm_srli_epi16(v, 4), low_nibbles);
    return _mm_add_epi8(_mm_shuffle_epi8(table, low), _mm_shuffle_epi8(table, high));
  }
  /// acc += popcount(w_r XOR x) for each of the group's 16 rows.
  static inline __attribute__((always_inline)) void add(Partial& acc, const Group& w, std::uint32_t x) {
    const __m128i xs = _mm_set1_epi32(static_cast<int>(x));
    for (int j = 0; j < 4; ++j) acc.v[j] = _mm_add_epi8(acc.v[j], popcount_bytes(_mm_xor_si128(w.v[j], xs)));
  }
  /// counts += partial, widened per row.
  static inline __attribute__((always_inline)) void flush(const Partial& partial, Counts& counts) {
    for (int j = 0; j < 4; ++j) {
      const __m128i pairs = _mm_maddubs_epi16(partial.v[j], _mm_set1_epi8(1));
      counts.v[j] = _mm_add_epi32(counts.v[j], _mm_madd_epi16(pairs, _mm_set1_epi16(1)));
    }
  }
  static inline __attribute__((always_inline)) void store(const Counts& counts, std::int32_t* out) {
    for (int j = 0; j < 4; ++j) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 * j), counts.v[j]);
  }
  /// words[i]: bit t set when !(x[32 i + t] >= 0), for ceil(n / 32) words (zero padded).
  static inline void pack_signs(const float* x, std::size_t n, std::uint32_t* words) {
    const __m128 zero = _mm_setzero_ps();
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      std::uint32_t bits = 0;
      for (int q = 0; q < 8; ++q)
        bits |= static_cast<std::uint32_t>(_mm_movemask_ps(_mm_cmpnge_ps(_mm_loadu_ps(x + i + 4 * q), zero))) << (4 * q);
      words[i / 32] = bits;
    }
    if (i < n) {
      std::uint32_t bits = 0;
      for (std::size_t t = 0; i + t < n; ++t) bits |= static_cast<std::uint32_t>(::mote::Binary::negative(x[i + t])) << t;
      words[i / 32] = bits;
    }
  }

  // ---- f32 activations: lanes are rows, as in VecF32
  using Words = __m128i;
  static inline __attribute__((always_inline)) Words load_words(const std::uint32_t* p) {
    return _mm_load_si128(reinterpret_cast<const __m128i*>(p));
  }
  static inline __attribute__((always_inline)) Words shift_left(Words w, unsigned n) {
    return _mm_sll_epi32(w, _mm_cvtsi32_si128(static_cast<int>(n)));
  }
  static inline __attribute__((always_inline)) Words twice(Words w) { return _mm_add_epi32(w, w); }
  /// Lane-wise: neg_x where w's top bit is set (weight -1), else x. blendvps reads that bit.
  static inline __attribute__((always_inline)) VecF32 flip(VecF32 x, VecF32 neg_x, Words w) {
    return {_mm_blendv_ps(x.v, neg_x.v, _mm_castsi128_ps(w))};
  }
};

}  // namespace mote::simd::sse4
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_BINARY_HPP_
// ----- end mote/arch/x86/sse4_binary.hpp -----
// ----- begin mote/arch/x86/sse4_codebook.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_CODEBOOK_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_CODEBOOK_HPP_
// SSE4 codebook lookup primitives (contract: kernels/dense/codebook-inl.hpp). No include guard
// on purpose: included by arch/targets.hpp inside the sse4.2 target region.
// SSE4 has no variable float permute, so the lookup is pshufb on the table's bytes: the table
// (zero-padded to 16 entries) is stored as 4 byte planes (plane b = byte b of every entry), a
// chunk's 16 indices become 16 bytes, one pshufb per plane gives byte b of the 16 weights, and
// two rounds of unpacks put the bytes back together as 4 vectors of 4 floats. Index bytes: each
// index's 16-bit window is gathered by pshufb and shifted into place by a pmullw by a power of
// two and one psrlw (SSE4 has no per-lane variable shift).
#if !defined(MOTE_ARCH_X86_SSE4_CODEBOOK)
#define MOTE_ARCH_X86_SSE4_CODEBOOK
namespace mote::simd::sse4 {

template <std::size_t Bits>
struct CodebookOps {
  static constexpr std::size_t gemv_rows = 2;
  static constexpr std::size_t gemm_rows = 2;
  static constexpr std::size_t gemm_samples = 2;
  struct Table {
    __m128i plane[4];
  };
  static inline __attribute__((always_inline)) Table prepare(const float* entries) {
    alignas(16) float padded[16] = {};
    std::memcpy(padded, entries, (std::size_t{1} << Bits) * sizeof(float));
    // Per group of 4 entries: dword b = byte b of the 4 entries; then a 4 x 4 dword transpose.
    const __m128i gather = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m128i g[4];
    for (int q = 0; q < 4; ++q)
      g[q] = _mm_shuffle_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(padded + 4 * q)), gather);
    const __m128i t0 = _mm_unpacklo_epi32(g[0], g[1]), t1 = _mm_unpacklo_epi32(g[2], g[3]);
    const __m128i t2 = _mm_unpackhi_epi32(g[0], g[1]), t3 = _mm_unpackhi_epi32(g[2], g[3]);
    return {{_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1), _mm_unpacklo_epi64(t2, t3),
             _mm_unpackhi_epi64(t2, t3)}};
  }
  /// The 16 weights of a chunk, in column order: w[j] columns 4j..4j+3.
  static inline __attribute__((always_inline)) void lookup(const Table& table, const std::uint8_t* chunk,
                                                           VecF32 (&w)[4]) {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(chunk));
    const __m128i low = _mm_srli_epi16(
        _mm_mullo_epi16(_mm_shuffle_epi8(bytes, window(0)), multiplier(0)), 16 - static_cast<int>(Bits));
    const __m128i high = _mm_srli_epi16(
        _mm_mullo_epi16(_mm_shuffle_epi8(bytes, window(8)), multiplier(8)), 16 - static_cast<int>(Bits));
    const __m128i index = _mm_packus_epi16(low, high);
    const __m128i b0 = _mm_shuffle_epi8(table.plane[0], index), b1 = _mm_shuffle_epi8(table.plane[1], index);
    const __m128i b2 = _mm_shuffle_epi8(table.plane[2], index), b3 = _mm_shuffle_epi8(table.plane[3], index);
    const __m128i low01 = _mm_unpacklo_epi8(b0, b1), high01 = _mm_unpackhi_epi8(b0, b1);
    const __m128i low23 = _mm_unpacklo_epi8(b2, b3), high23 = _mm_unpackhi_epi8(b2, b3);
    w[0] = {_mm_castsi128_ps(_mm_unpacklo_epi16(low01, low23))};
    w[1] = {_mm_castsi128_ps(_mm_unpackhi_epi16(low01, low23))};
    w[2] = {_mm_castsi128_ps(_mm_unpacklo_epi16(high01, high23))};
    w[3] = {_mm_castsi128_ps(_mm_unpackhi_epi16(high01, high23))};
  }

 private:
  /// pshufb control: 16-bit lane j holds the two chunk bytes from the one holding index first + j.
  static inline __attribute__((always_inline)) __m128i window(int first) {
    return _mm_setr_epi16(pair(first + 0), pair(first + 1), pair(first + 2), pair(first + 3), pair(first + 4),
                          pair(first + 5), pair(first + 6), pair(first + 7));
  }
  static constexpr short pair(int i) noexcept {
    const int byte = ::mote::detail::codebook_index_byte(Bits, i);
    return static_cast<short>(byte | (byte + 1) << 8);
  }
  /// Multiplying by 2^(16 - Bits - shift) puts the index in the top Bits bits of its lane.
  static inline __attribute__((always_inline)) __m128i multiplier(int first) {
    return _mm_setr_epi16(scale(first + 0), scale(first + 1), scale(first + 2), scale(first + 3), scale(first + 4),
                          scale(first + 5), scale(first + 6), scale(first + 7));
  }
  static constexpr short scale(int i) noexcept {
    return static_cast<short>(1 << (16 - static_cast<int>(Bits) - ::mote::detail::codebook_index_shift(Bits, i)));
  }
};

}  // namespace mote::simd::sse4
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_SSE4_CODEBOOK_HPP_
// ----- end mote/arch/x86/sse4_codebook.hpp -----
#define MOTE_SIMD_NS sse4
#define MOTE_SIMD_TAG Sse4
#define MOTE_SIMD_HAS_INT4
// ----- begin mote/kernels/simd-inl.hpp -----
// The SIMD kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA, inside that ISA's target region, with MOTE_SIMD_NS (namespace and vector type
// name, e.g. avx2) and MOTE_SIMD_TAG (ISA tag, e.g. Avx2) defined. The op files included here
// hold code only (no #include): they are written once against `Vec`, the ISA's vector of floats.

// Register tiles are arrays indexed by loops of compile-time length; they must be unrolled for
// the arrays to live in registers, which GCC does at -O3 but not at -O2 (measured: pointwise
// conv 3.4x slower at -O2 without this).
#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Vec = ::mote::simd::MOTE_SIMD_NS::VecF32;
using ::mote::kernels::WindowGeometry;
using DenseF32 = ::mote::WeightMatrix<::mote::F32, ::mote::DenseStorage>;

// ----- begin mote/kernels/elementwise/simd-inl.hpp -----
// ----- begin mote/kernels/elementwise/math-inl.hpp -----
// Vector math for the element-wise kernels: exp, sigmoid, tanh, erf, written once against `Vec`.
// Code only (no #include, no #pragma once): elementwise/simd-inl.hpp includes it, so it is
// expanded once per ISA inside that ISA's namespace and target region (see arch/targets.hpp).
// The functions live in a nested namespace `math` so that they never hide std::exp and friends
// from the other kernel files compiled into the same per-ISA namespace.
//
// Accuracy. "Measured" is the maximum over every 11th float of the range (about 2e8 inputs
// per function), on AVX2 (with FMA) and SSE4 (Vec::fma is a multiply then an add there),
// against glibc's expf/erff/tanhf (which the scalar reference kernels call) and against the
// true value (double precision); the tests (tests/unit/kernels/test_elementwise_simd.cpp)
// hold every ISA to the bounds in brackets and print their own maxima.
//
//   exp      measured 1 ulp from glibc (AVX2 and SSE4) on [-110, 90], denormal results
//            included (counted in denormal ulps); 1.005 ulp (AVX2), 0.98 ulp (SSE4) from the
//            true value on normal results. [2 ulp]
//            x > 88.7228 gives +inf, x < -103.97 and -inf give +0, NaN gives NaN.
//            Why: Cephes' expf (S. L. Moshier): n = round(x log2 e), r = x - n ln 2 with ln 2 in
//            two parts (n * 0.693359375 is exact: 9-bit constant, |n| <= 152), |r| <= ln(2)/2;
//            e^r = 1 + r + r^2 P(r), degree-5 P whose float coefficients are within 2.7e-9
//            relative of e^r on that range, so the result's error is the last few roundings
//            (about 1 ulp). Then y * 2^n with the power split in two factors 2^h 2^(n-h), each a
//            normal float for n in [-152, 129] (the clamped input range): the first product is
//            exact, the second exact or rounded once into the denormals (or to +inf).
//   sigmoid  1 / (1 + exp(-x)), the reference's formula: measured 4 ulp from the reference,
//            2.47 ulp from the true value (the reference is 2.47 ulp off too: where e^-x is
//            near 2^24, 1 + e rounds by up to 1/2 ulp of e, on top of exp's and the division's
//            errors; the two err in either direction). [6 ulp]
//   tanh     measured 2 ulp from glibc, 1.32 ulp from the true value (glibc's tanhf: 2.17).
//            Cephes' tanhf: |x| < 0.625: x + x^3 P(x^2), degree-4 P (8.6e-9 relative error
//            of the result); else 1 - 2 / (exp(2|x|) + 1) with the sign of x: exp's error is
//            damped by 2/(e+1) <= 0.45 and the result is >= 0.555 (no cancellation).
//            tanh(+-inf) = +-1 (exp overflows, 2/inf = 0), tanh(-0) = -0, NaN gives NaN. [4 ulp]
//   erf      measured 1 ulp from glibc, 1.08 ulp (AVX2) / 1.27 ulp (SSE4) from the true value.
//            Fitted for mote (mpmath, Chebyshev nodes, coefficients rounded to float):
//            |x| < 1: x + x P(x^2), degree-6 P (approximation error 1.3e-9 absolute on
//            (erf(x) - x)/x); 1 <= |x| < 3.9375: 1 - exp(-x^2 + G(x - 2.46875)), degree-8 G
//            fitting log(erfc(x)) + x^2 to 1.3e-8 absolute, i.e. relative on erfc <= 0.157:
//            at most 2e-9 absolute on erf; |x| >= 3.9375 gives exactly +-1 (erfc(3.9375) =
//            2.6e-8 < 2^-25: erf rounds to 1 there). erf(+-inf) = +-1, NaN gives NaN. [2 ulp]
//   GELU     (elementwise/simd-inl.hpp) 0.5 x (1 + erf(x / sqrt 2)), the reference's formula:
//            measured |d| <= 1.0 (ulp(reference) + |x| 2^-24): for x < 0, 1 + erf cancels, so
//            erf's 1-ulp error near -1 (2^-24) is 0.5 |x| 2^-24 absolute in the result.
//            [2 (ulp(reference) + |x| 2^-24)]

namespace math {

/// e^x. See the table above for its accuracy and special values.
inline Vec exp(Vec x) noexcept {
  // Clamping keeps n in [-152, 129]: 89 still overflows to +inf, -105 still underflows to +0.
  // Compare-and-select (not min/max) so that NaN passes through on every ISA.
  const Vec hi = Vec::broadcast(89.0f), lo = Vec::broadcast(-105.0f);
  x = Vec::select(Vec::greater(x, hi), hi, x);
  x = Vec::select(Vec::less(x, lo), lo, x);
  const Vec n = Vec::round_nearest(x * Vec::broadcast(1.44269504088896341f));
  Vec r = Vec::fma(n, Vec::broadcast(-0.693359375f), x);  // exact: 9-bit constant, |n| <= 152
  r = Vec::fma(n, Vec::broadcast(2.12194440e-4f), r);     // ln 2 = 0.693359375 - 2.12194440e-4
  Vec p = Vec::broadcast(1.9875691500e-4f);
  p = Vec::fma(p, r, Vec::broadcast(1.3981999507e-3f));
  p = Vec::fma(p, r, Vec::broadcast(8.3334519073e-3f));
  p = Vec::fma(p, r, Vec::broadcast(4.1665795894e-2f));
  p = Vec::fma(p, r, Vec::broadcast(1.6666665459e-1f));
  p = Vec::fma(p, r, Vec::broadcast(5.0000001201e-1f));
  const Vec y = Vec::fma(p, r * r, r) + Vec::broadcast(1.0f);
  // 2^n = 2^h * 2^(n-h) with h = round(n/2): both factors within pow2's [-126, 127]. A NaN input
  // gives a NaN y, and NaN times whatever pow2 makes of NaN is NaN.
  const Vec h = Vec::round_nearest(n * Vec::broadcast(0.5f));
  return (y * Vec::pow2(h)) * Vec::pow2(n - h);
}

/// 1 / (1 + e^-x), the scalar reference's formula: sigmoid(-inf) = 0, sigmoid(+inf) = 1.
inline Vec sigmoid(Vec x) noexcept {
  const Vec one = Vec::broadcast(1.0f);
  return one / (one + exp(Vec::broadcast(-0.0f) - x));
}

/// tanh(x): odd, +-1 at +-inf, -0 at -0.
inline Vec tanh(Vec x) noexcept {
  const Vec a = Vec::abs(x);
  const Vec s = a * a;
  Vec p = Vec::broadcast(-5.70498872745e-3f);
  p = Vec::fma(p, s, Vec::broadcast(2.06390887954e-2f));
  p = Vec::fma(p, s, Vec::broadcast(-5.37397155531e-2f));
  p = Vec::fma(p, s, Vec::broadcast(1.33314422036e-1f));
  p = Vec::fma(p, s, Vec::broadcast(-3.33332819422e-1f));
  const Vec small = Vec::fma(p * s, a, a);
  // exp(2a) = +inf for a > 44.4 (and a = +inf): 2 / inf = 0, the result 1. NaN stays NaN.
  const Vec one = Vec::broadcast(1.0f);
  const Vec large = one - Vec::broadcast(2.0f) / (exp(a + a) + one);
  return Vec::copysign(Vec::select(Vec::less(a, Vec::broadcast(0.625f)), small, large), x);
}

/// erf(x): odd, +-1 for |x| >= 3.9375 and at +-inf.
inline Vec erf(Vec x) noexcept {
  const Vec a = Vec::abs(x);
  // |x| < 1: a + a P(a^2).
  const Vec s = a * a;
  Vec p = Vec::broadcast(7.875874871e-05f);
  p = Vec::fma(p, s, Vec::broadcast(-8.016864303e-04f));
  p = Vec::fma(p, s, Vec::broadcast(5.189087242e-03f));
  p = Vec::fma(p, s, Vec::broadcast(-2.685421146e-02f));
  p = Vec::fma(p, s, Vec::broadcast(1.128359437e-01f));
  p = Vec::fma(p, s, Vec::broadcast(-3.761262596e-01f));
  p = Vec::fma(p, s, Vec::broadcast(1.283791661e-01f));
  const Vec small = Vec::fma(a, p, a);
  // 1 <= |x|: 1 - erfc, erfc = exp(-b^2 + G(b - 2.46875)), b = min(a, 3.9375) (NaN stays).
  const Vec limit = Vec::broadcast(3.9375f);
  const Vec b = Vec::select(Vec::greater(a, limit), limit, a);
  const Vec v = b - Vec::broadcast(2.46875f);  // exact (Sterbenz-like: same binade spacing)
  Vec g = Vec::broadcast(1.663424086e-06f);
  g = Vec::fma(g, v, Vec::broadcast(-1.370350310e-05f));
  g = Vec::fma(g, v, Vec::broadcast(8.014721243e-05f));
  g = Vec::fma(g, v, Vec::broadcast(-4.349613737e-04f));
  g = Vec::fma(g, v, Vec::broadcast(2.232213970e-03f));
  g = Vec::fma(g, v, Vec::broadcast(-1.113328803e-02f));
  g = Vec::fma(g, v, Vec::broadcast(5.713705719e-02f));
  g = Vec::fma(g, v, Vec::broadcast(-3.562194109e-01f));
  g = Vec::fma(g, v, Vec::broadcast(-1.545738816e+00f));
  const Vec large = Vec::broadcast(1.0f) - exp(Vec::fma(Vec::broadcast(-0.0f) - b, b, g));
  return Vec::copysign(Vec::select(Vec::less(a, Vec::broadcast(1.0f)), small, large), x);
}

}  // namespace math
// ----- end mote/kernels/elementwise/math-inl.hpp -----
// Element-wise kernels for one ISA: activations, per-channel affine map, addition, softmax.
// Code only: included per ISA by kernels/simd-inl.hpp (namespace and `Vec` given there); the
// include above is code only too (vector exp/sigmoid/tanh/erf in namespace `math`).
//
// Semantics are those of the scalar functors (elementwise/activations.hpp) lane by lane:
// comparisons are written as selects on `x < 0` / `x > 6` so that NaN propagates (a NaN lane
// fails both comparisons and keeps x) and -0 stays -0, exactly as `x < 0 ? 0 : x` does.
// Identity, ReLU, ReLU6, LeakyReLU, HardSwish and add are bit-exact with the reference; the
// transcendental ones are within the bounds documented in math-inl.hpp.

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
// ----- end mote/kernels/elementwise/simd-inl.hpp -----
// ----- begin mote/kernels/dense/simd-inl.hpp -----
// Dense (GEMV) on 16-row weight panels: each input value is broadcast and multiplied into the
// 16 output channels of the panel. Several input columns are accumulated in separate registers
// (`streams`) so that 8 FMAs are in flight, enough to cover FMA latency on 2 pipes; they are
// summed at the end, which is the only reordering compared with the scalar reference.
// Code only: included per ISA by kernels/simd-inl.hpp (namespace and `Vec` given there).

namespace dense_detail {

constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
// Accumulator registers for a GEMM tile: 24 of 32 (AVX-512), 12 of 16 (AVX2, SSE4, NEON).
constexpr std::size_t accumulators = Vec::lanes == 16 ? 24 : 12;
constexpr std::size_t tile_rows = accumulators / per_panel > 0 ? accumulators / per_panel : 1;

/// Rows [0, Rows) of `in` times one panel: each weight vector is loaded once per k and reused
/// by every row of the tile.
template <std::size_t Rows, class Activation>
inline void gemm_tile(const DenseF32& weights, std::size_t p, const float* bias, const float* in, float* out,
                      Activation activation) noexcept {
  const std::size_t cols = weights.cols();
  const float* panel = weights.panel(p);
  Vec acc[Rows][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t k = 0; k < cols; ++k) {
    Vec w[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load(panel + k * DenseF32::panel_rows + j * Vec::lanes);
    MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
      const Vec x = Vec::broadcast(in[i * cols + k]);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
    }
  }
  const std::size_t first_row = p * DenseF32::panel_rows;
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      const std::size_t row = first_row + j * Vec::lanes;
      const Vec sum = apply(activation, acc[i][j] + Vec::load(bias + row));
      float* destination = out + i * weights.rows() + row;
      if (row + Vec::lanes <= weights.rows()) sum.store(destination);
      else if (row < weights.rows()) sum.store_partial(destination, weights.rows() - row);
    }
  }
}

}  // namespace dense_detail

/// GEMM: `batch` input rows times the panels, tile_rows rows at a time. The panel (16 x cols)
/// stays in L1/L2 while every tile of rows streams past it.
template <class Activation>
inline void dense_batch(const DenseF32& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation) noexcept {
  using namespace dense_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile_rows <= batch; b += tile_rows) gemm_tile<tile_rows>(weights, p, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
  }
}

/// Activations costing a few instructions are applied to each accumulator before it is stored;
/// transcendental ones (tanh, sigmoid, GELU) run as a separate pass over the finished outputs,
/// where consecutive vectors are independent and overlap (W2's tanh layers: 70 -> 30 ns).
template <class Activation>
constexpr bool cheap_epilogue_v = std::is_same_v<Activation, ::mote::activation::Identity> ||
                                  std::is_same_v<Activation, ::mote::activation::Relu> ||
                                  std::is_same_v<Activation, ::mote::activation::Relu6>;

template <class Activation>
inline void dense(const DenseF32& weights, const float* bias, const float* in, float* out,
                  Activation activation) noexcept {
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
    return;
  }
  constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
  constexpr std::size_t streams = per_panel >= 8 ? 1 : 8 / per_panel;
  const std::size_t cols = weights.cols();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const float* panel = weights.panel(p);
    Vec acc[streams][per_panel];
    MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::zero();
    std::size_t k = 0;
    for (; k + streams <= cols; k += streams) {
      MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s) {
        const Vec x = Vec::broadcast(in[k + s]);
        const float* column = panel + (k + s) * DenseF32::panel_rows;
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j)
          acc[s][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[s][j]);
      }
    }
    for (; k < cols; ++k) {
      const Vec x = Vec::broadcast(in[k]);
      const float* column = panel + k * DenseF32::panel_rows;
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[0][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[0][j]);
    }
    const std::size_t first_row = p * DenseF32::panel_rows;
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      Vec sum = acc[0][j];
      MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sum = sum + acc[s][j];
      sum = apply(activation, sum + Vec::load(bias + first_row + j * Vec::lanes));
      const std::size_t row = first_row + j * Vec::lanes;
      if (row + Vec::lanes <= weights.rows()) sum.store(out + row);
      else if (row < weights.rows()) sum.store_partial(out + row, weights.rows() - row);
    }
  }
}
// ----- end mote/kernels/dense/simd-inl.hpp -----
// ----- begin mote/kernels/dense/half-inl.hpp -----
// Dense (GEMV, GEMM) with bf16 / f16 weights, computed in f32: the f32 kernels' structure
// (dense/simd-inl.hpp: k-streams for the GEMV, register tiles for the GEMM) with each panel
// column widened from 16 bits as it is loaded, so a memory-bound GEMV streams half the bytes.
// Widening is exact (Vec::load_bf16 / load_f16): the only reordering compared with the scalar
// reference (half_reference.hpp) is the f32 kernels' one.
// Where Vec has load_bf16_even_odd (AVX2, SSE4), bf16 columns are loaded two vectors at a time
// with rows de-interleaved (even rows in one register, odd in the next): half the instructions
// of two load_bf16. The accumulators then hold rows in that order, restored once per panel.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp, whose
// cheap_epilogue_v and activate it reuses.

namespace dense_half_detail {

constexpr std::size_t panel_rows = DenseF32::panel_rows;
constexpr std::size_t per_panel = panel_rows / Vec::lanes;
constexpr std::size_t tile_rows = dense_detail::tile_rows;

template <class V>
concept LoadsBf16EvenOdd = requires(const std::uint16_t* p, V& v) {
  V::load_bf16_even_odd(p, v, v);
  V::interleave_even_odd(v, v, v, v);
};
template <class Format>
constexpr bool even_odd_v = std::is_same_v<Format, ::mote::BF16> && per_panel % 2 == 0 && LoadsBf16EvenOdd<Vec>;

/// The 16 weights of one panel column as per_panel vectors of f32 (rows de-interleaved in
/// pairs of vectors when even_odd_v). V is Vec, a template parameter so that the branches an
/// ISA lacks are discarded.
template <class Format, class V>
inline void load_column(const std::uint16_t* column, V (&w)[per_panel]) noexcept {
  if constexpr (even_odd_v<Format>) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; j += 2)
      V::load_bf16_even_odd(column + j * Vec::lanes, w[j], w[j + 1]);
  } else if constexpr (std::is_same_v<Format, ::mote::BF16>) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load_bf16(column + j * Vec::lanes);
  } else {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load_f16(column + j * Vec::lanes);
  }
}

/// Puts sums accumulated from load_column's vectors back in row order.
template <class Format, class V>
inline void restore_rows(V (&sums)[per_panel]) noexcept {
  if constexpr (even_odd_v<Format>)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; j += 2)
      V::interleave_even_odd(sums[j], sums[j + 1], sums[j], sums[j + 1]);
}

/// bias + sums (in row order), activated, stored to rows [first_row, first_row + 16) of `out`
/// that exist.
template <class Activation>
inline void store_panel(const Vec (&sums)[per_panel], std::size_t first_row, std::size_t rows, const float* bias,
                        float* out, Activation activation) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    const std::size_t row = first_row + j * Vec::lanes;
    const Vec sum = apply(activation, sums[j] + Vec::load(bias + row));
    if (row + Vec::lanes <= rows) sum.store(out + row);
    else if (row < rows) sum.store_partial(out + row, rows - row);
  }
}

/// Rows [0, Rows) of `in` times one panel: each column is widened once and reused by every row
/// of the tile.
template <std::size_t Rows, class Format, class Activation>
inline void gemm_tile(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, std::size_t p,
                      const float* bias, const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols();
  const std::uint16_t* panel = weights.panel(p);
  Vec acc[Rows][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t k = 0; k < cols; ++k) {
    Vec w[per_panel];
    load_column<Format>(panel + k * panel_rows, w);
    MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
      const Vec x = Vec::broadcast(in[i * cols + k]);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
    restore_rows<Format>(acc[i]);
    store_panel(acc[i], p * panel_rows, weights.rows(), bias, out + i * weights.rows(), activation);
  }
}

}  // namespace dense_half_detail

/// GEMM: `batch` input rows times the panels, tile_rows rows at a time (as for f32).
template <::mote::HalfFloatFormat Format, class Activation>
inline void dense_batch(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation) noexcept {
  using namespace dense_half_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile_rows <= batch; b += tile_rows)
      gemm_tile<tile_rows>(weights, p, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
  }
}

/// GEMV: per panel, `streams` input columns accumulate in separate registers (8 FMAs in
/// flight), summed at the end; transcendental activations run as a second pass (as for f32).
template <::mote::HalfFloatFormat Format, class Activation>
inline void dense(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation) noexcept {
  using namespace dense_half_detail;
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
    return;
  }
  constexpr std::size_t streams = per_panel >= 8 ? 1 : 8 / per_panel;
  const std::size_t cols = weights.cols();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const std::uint16_t* panel = weights.panel(p);
    Vec acc[streams][per_panel];
    MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::zero();
    std::size_t k = 0;
    for (; k + streams <= cols; k += streams) {
      MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s) {
        const Vec x = Vec::broadcast(in[k + s]);
        Vec w[per_panel];
        load_column<Format>(panel + (k + s) * panel_rows, w);
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::fma(x, w[j], acc[s][j]);
      }
    }
    for (; k < cols; ++k) {
      const Vec x = Vec::broadcast(in[k]);
      Vec w[per_panel];
      load_column<Format>(panel + k * panel_rows, w);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[0][j] = Vec::fma(x, w[j], acc[0][j]);
    }
    Vec sums[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      sums[j] = acc[0][j];
      MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sums[j] = sums[j] + acc[s][j];
    }
    restore_rows<Format>(sums);
    store_panel(sums, p * panel_rows, weights.rows(), bias, out, activation);
  }
}
// ----- end mote/kernels/dense/half-inl.hpp -----
// ----- begin mote/kernels/dense/binary-inl.hpp -----
// Dense with binary weights (layout/dense_binary.hpp; semantics: numeric/binary.hpp), written
// once against the ISA's BinaryOps (arch/<family>/<isa>_binary.hpp) and, for f32 activations,
// its Vec. Per 16-row panel, each 32-column group of sign words is loaded once:
//  * binary activations (dense_xnor): the input's signs are packed to words (BinaryOps::
//    pack_signs) in scratch; each group is XORed with one input word and its bits counted per
//    row (BinaryOps::add; byte counts flushed to int32 every flush_every groups). Exact
//    integers, then the scalar epilogue every ISA shares (binary_reference.hpp): bit-exact.
//    Batches: xnor_tile samples share each group load.
//  * f32 activations (dense, dense_batch): no float weight is materialised, and nothing is
//    multiplied until the scale (applied once, with the bias). Two ways, chosen per ISA:
//    - sign flips (SSE4, NEON): the group's words (one lane per row, like Vec) are shifted so
//      that column t's bit is each lane's top bit, and BinaryOps::flip turns the broadcast x_t
//      into -x_t in the lanes where it is set (a blend on the sign bit, or an XOR into x's
//      sign bit), then adds: 3 vector ops per column and Vec.
//    - table lookups (AVX2, AVX-512: BinaryOps::lookup, a lane-wise variable permute): for
//      each run of log2(lanes) columns the input's table holds the signed sums of all sign
//      patterns, and each lane picks its row's entry: 3 ops per 3 (AVX2) or 4 (AVX-512)
//      columns; on Zen 3 (AVX2), 1024x1024: 2.1x (GEMV) and 2.4x (GEMM) faster than flips.
//    Column streams (or the samples of a GEMM tile) accumulate in separate registers; both
//    only reorder the reference's sum of the terms +-x_k.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp (whose
// cheap_epilogue_v and activate it reuses), and a second time, XNOR part only
// (MOTE_BINARY_XNOR_ONLY, no Vec there), by arch/targets.hpp for AVX-512 VPOPCNTDQ.

using BinaryOps = ::mote::simd::MOTE_SIMD_NS::BinaryOps;

namespace dense_binary_detail {

constexpr std::size_t panel_rows = ::mote::kernels::BinaryMatrix::panel_rows;
constexpr std::size_t group_cols = ::mote::kernels::BinaryMatrix::group_cols;

/// Samples [0, Tile) (their sign words `stride` words apart) times panel p.
template <std::size_t Tile, class Activation>
inline void xnor_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const std::uint32_t* x_words,
                      std::size_t stride, const float* bias, float* out, Activation activation) noexcept {
  const std::size_t groups = weights.group_count(), rows = weights.rows();
  const std::uint32_t* panel = weights.panel(p);
  BinaryOps::Counts counts[Tile];
  MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) counts[i] = BinaryOps::counts_zero();
  for (std::size_t g = 0; g < groups;) {
    const std::size_t end = groups - g > BinaryOps::flush_every ? g + BinaryOps::flush_every : groups;
    BinaryOps::Partial partial[Tile];
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) partial[i] = BinaryOps::partial_zero();
    for (; g < end; ++g) {
      const BinaryOps::Group w = BinaryOps::load_group(panel + g * panel_rows);
      MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::add(partial[i], w, x_words[i * stride + g]);
    }
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::flush(partial[i], counts[i]);
  }
  const std::size_t first = p * panel_rows;
  const std::size_t count = rows - first < panel_rows ? rows - first : panel_rows;
  const auto cols = static_cast<std::int32_t>(weights.cols());
  for (std::size_t i = 0; i < Tile; ++i) {
    alignas(64) std::int32_t dots[panel_rows];
    BinaryOps::store(counts[i], dots);
    for (std::size_t r = 0; r < count; ++r) dots[r] = cols - 2 * dots[r];
    ::mote::kernels::binary_xnor_epilogue(weights, bias, dots, first, count, out + i * rows, activation);
  }
}

}  // namespace dense_binary_detail

/// Binary activations: `batch` samples binarised into `scratch` (binary_xnor_scratch_bytes per
/// sample), XNOR-popcount per panel, the shared scalar epilogue. Where BinaryOps names a
/// better build of this kernel for the running CPU (AVX-512 VPOPCNTDQ), that one runs instead.
template <class Activation, class Ops = BinaryOps>
inline void dense_xnor(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                       std::size_t batch, Activation activation, std::byte* scratch) noexcept {
  if constexpr (requires { Ops::use_vpopcntdq(); }) {
    if (Ops::use_vpopcntdq()) return Ops::dense_xnor_vpopcntdq(weights, bias, in, out, batch, activation, scratch);
  }
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::size_t stride = ::mote::kernels::binary_xnor_scratch_bytes(cols) / sizeof(std::uint32_t);
  auto* words = reinterpret_cast<std::uint32_t*>(scratch);
  for (std::size_t b = 0; b < batch; ++b) BinaryOps::pack_signs(in + b * cols, cols, words + b * stride);
  constexpr std::size_t tile = BinaryOps::xnor_tile;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile <= batch; b += tile)
      xnor_tile<tile>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
    for (; b < batch; ++b) xnor_tile<1>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
  }
}

#if !defined(MOTE_BINARY_XNOR_ONLY)

namespace dense_binary_detail {

constexpr std::size_t per_panel = panel_rows / Vec::lanes;
/// Independent accumulators per panel: 8 vector adds in flight (4 cycles of latency on 2
/// pipes), from column streams of one sample or from the samples of a GEMM tile.
constexpr std::size_t chains = per_panel >= 8 ? 1 : 8 / per_panel;

/// The group's words (one BinaryOps::Words per Vec of rows), shifted left by `shift`.
inline void load_words(const std::uint32_t* group, unsigned shift, BinaryOps::Words (&w)[per_panel]) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    w[j] = BinaryOps::load_words(group + j * Vec::lanes);
    if (shift != 0) w[j] = BinaryOps::shift_left(w[j], shift);
  }
}

/// scale * sums + bias, activated, stored to the rows of panel p that exist.
template <class Activation>
inline void store_panel(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const Vec (&sums)[per_panel],
                        const float* bias, float* out, Activation activation) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    const std::size_t row = p * panel_rows + j * Vec::lanes;
    const Vec y = apply(activation, Vec::fma(sums[j], Vec::load(weights.scales() + row), Vec::load(bias + row)));
    if (row + Vec::lanes <= weights.rows()) y.store(out + row);
    else if (row < weights.rows()) y.store_partial(out + row, weights.rows() - row);
  }
}

// ---- sign flips: each column's bit moved to the top of each lane (BinaryOps::flip) ------------

/// acc[j] += +-x (per row, by the top bits of w[j]); then, if `advance`, moves the next
/// column's bits up.
inline void accumulate_column(float x, BinaryOps::Words (&w)[per_panel], Vec (&acc)[per_panel],
                              bool advance = true) noexcept {
  const Vec pos = Vec::broadcast(x), neg = Vec::broadcast(-x);
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    acc[j] = acc[j] + BinaryOps::flip(pos, neg, w[j]);
    if (advance) w[j] = BinaryOps::twice(w[j]);
  }
}

/// GEMV: the 32 columns of a group go round-robin to `chains` accumulators, summed at the end.
template <class Activation>
inline void flip_gemv(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                      Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const std::uint32_t* panel = weights.panel(p);
    Vec acc[chains][per_panel];
    MOTE_UNROLL for (std::size_t c = 0; c < chains; ++c)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[c][j] = Vec::zero();
    for (std::size_t g = 0; g < full; ++g) {
      BinaryOps::Words w[per_panel];
      load_words(panel + g * panel_rows, 0, w);
      const float* x = in + g * group_cols;
      MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) accumulate_column(x[group_cols - 1 - t], w, acc[t % chains]);
    }
    if (tail != 0) {
      BinaryOps::Words w[per_panel];
      load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
      const float* x = in + full * group_cols;
      for (std::size_t t = 0; t < tail; ++t) accumulate_column(x[tail - 1 - t], w, acc[0]);
    }
    Vec sums[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      sums[j] = acc[0][j];
      MOTE_UNROLL for (std::size_t c = 1; c < chains; ++c) sums[j] = sums[j] + acc[c][j];
    }
    store_panel(weights, p, sums, bias, out, activation);
  }
}

/// GEMM tile: samples [0, Samples) of `in` times panel p; each group's words are loaded and
/// shifted once for all of them.
template <std::size_t Samples, class Activation>
inline void flip_gemm_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const float* bias,
                           const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  const std::uint32_t* panel = weights.panel(p);
  Vec acc[Samples][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t g = 0; g < full; ++g) {
    BinaryOps::Words w[per_panel];
    load_words(panel + g * panel_rows, 0, w);
    MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + g * group_cols + group_cols - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  if (tail != 0) {
    BinaryOps::Words w[per_panel];
    load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
    for (std::size_t t = 0; t < tail; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + full * group_cols + tail - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    store_panel(weights, p, acc[i], bias, out + i * weights.rows(), activation);
}

// ---- table lookups: per input, the 2^bits signed sums of each `bits` consecutive columns -------

/// Where BinaryOps::lookup exists (a lane-wise variable permute of one Vec: AVX2 vpermps, 8
/// entries, AVX-512 vpermps, 16), `bits` = log2(lanes) columns take one lookup per Vec of rows
/// instead of `bits` sign flips: the table of the input holds, for each pattern e of the
/// columns' sign bits, sum_i (bit i of e ? -x_i : x_i), and each lane indexes it with its row's
/// bits (the low bits of the word, shifted down `bits` after each lookup). Each table entry is
/// a sum of terms +-x_k: still a reordering of the reference's sum. Tables are built per chunk
/// of columns on the stack (8 KiB), partial sums kept in `out` between chunks.
template <class Ops>
concept LooksUp = requires(const float* table, typename Ops::Words w) {
  { Ops::lookup(table, w) } -> std::same_as<Vec>;
  { Ops::next_lookup(w) } -> std::same_as<typename Ops::Words>;
};
constexpr std::size_t lookup_bits = std::bit_width(Vec::lanes) - 1;
constexpr std::size_t lookups_per_group = (group_cols + lookup_bits - 1) / lookup_bits;
constexpr std::size_t table_floats_per_group = lookups_per_group * Vec::lanes;
template <std::size_t Samples>
constexpr std::size_t chunk_groups =
    2048 / (Samples * table_floats_per_group) > 0 ? 2048 / (Samples * table_floats_per_group) : 1;

/// The tables of groups [first, first + count) of input x (columns past `cols` count as 0).
inline void build_tables(const float* x, std::size_t cols, std::size_t first, std::size_t count,
                         float* tables) noexcept {
  // signs[i] lane e: -1 where bit i of e is set.
  alignas(64) static constexpr auto signs = [] {
    std::array<float, lookup_bits * Vec::lanes> s{};
    for (std::size_t i = 0; i < lookup_bits; ++i)
      for (std::size_t e = 0; e < Vec::lanes; ++e) s[i * Vec::lanes + e] = ((e >> i) & 1u) != 0 ? -1.0f : 1.0f;
    return s;
  }();
  for (std::size_t g = 0; g < count; ++g) {
    const std::size_t group_start = (first + g) * group_cols;
    MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
      const std::size_t start = group_start + l * lookup_bits;
      Vec table = Vec::zero();
      MOTE_UNROLL for (std::size_t i = 0; i < lookup_bits; ++i) {
        if (l * lookup_bits + i >= group_cols) continue;  // the last lookup of a group may be shorter
        const float x_k = start + i < cols ? x[start + i] : 0.0f;
        table = Vec::fma(Vec::broadcast(x_k), Vec::load(signs.data() + i * Vec::lanes), table);  // exact product
      }
      table.store(tables + (g * lookups_per_group + l) * Vec::lanes);
    }
  }
}

/// Samples [0, Samples) of `in` times every panel, by table lookups, chunk by chunk of columns.
template <std::size_t Samples, class Activation, class Ops = BinaryOps>
inline void lookup_tile(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        Activation activation) noexcept {
  constexpr std::size_t streams = chains / Samples > 0 ? chains / Samples : 1;
  constexpr std::size_t chunk = chunk_groups<Samples>;
  alignas(64) float tables[Samples][chunk * table_floats_per_group];
  const std::size_t cols = weights.cols(), rows = weights.rows(), groups = weights.group_count();
  for (std::size_t g0 = 0; g0 < groups; g0 += chunk) {
    const std::size_t count = groups - g0 < chunk ? groups - g0 : chunk;
    const bool first_chunk = g0 == 0, last_chunk = g0 + count == groups;
    MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) build_tables(in + i * cols, cols, g0, count, tables[i]);
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      const std::uint32_t* panel = weights.panel(p) + g0 * panel_rows;
      Vec acc[Samples][streams][per_panel];
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            acc[i][s][j] = Vec::zero();
            if (s == 0 && !first_chunk) {  // the partial sums of the previous chunks
              if (row + Vec::lanes <= rows) acc[i][s][j] = Vec::load(out + i * rows + row);
              else if (row < rows) acc[i][s][j] = Vec::load_partial(out + i * rows + row, rows - row);
            }
          }
      for (std::size_t g = 0; g < count; ++g) {
        BinaryOps::Words w[per_panel];
        load_words(panel + g * panel_rows, 0, w);
        const std::size_t table_offset = g * table_floats_per_group;
        MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
          MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
            const float* table = tables[i] + table_offset + l * Vec::lanes;
            MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j)
              acc[i][l % streams][j] = acc[i][l % streams][j] + Ops::lookup(table, w[j]);
          }
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Ops::next_lookup(w[j]);
        }
      }
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
        Vec sums[per_panel];
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
          sums[j] = acc[i][0][j];
          MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sums[j] = sums[j] + acc[i][s][j];
        }
        if (last_chunk) {
          store_panel(weights, p, sums, bias, out + i * rows, activation);
        } else {
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            if (row + Vec::lanes <= rows) sums[j].store(out + i * rows + row);
            else if (row < rows) sums[j].store_partial(out + i * rows + row, rows - row);
          }
        }
      }
    }
  }
}

}  // namespace dense_binary_detail

/// GEMM: `batch` samples, `chains` at a time.
template <class Activation>
inline void dense_batch(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation) noexcept {
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  if constexpr (LooksUp<BinaryOps>) {
    std::size_t b = 0;
    for (; b + chains <= batch; b += chains) lookup_tile<chains>(weights, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) lookup_tile<1>(weights, bias, in + b * cols, out + b * rows, activation);
  } else {
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      std::size_t b = 0;
      for (; b + chains <= batch; b += chains)
        flip_gemm_tile<chains>(weights, p, bias, in + b * cols, out + b * rows, activation);
      for (; b < batch; ++b) flip_gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
    }
  }
}

/// GEMV; transcendental activations run as a second pass (as for f32).
template <class Activation>
inline void dense(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                  Activation activation) noexcept {
  using namespace dense_binary_detail;
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
  } else if constexpr (LooksUp<BinaryOps>) {
    lookup_tile<1>(weights, bias, in, out, activation);
  } else {
    flip_gemv(weights, bias, in, out, activation);
  }
}

#endif  // !MOTE_BINARY_XNOR_ONLY
// ----- end mote/kernels/dense/binary-inl.hpp -----
// ----- begin mote/kernels/dense/codebook-inl.hpp -----
// Dense (GEMV, GEMM) with codebook weights, computed in f32, without ever building the float
// weight matrix: for a tile of rows, each row's table is prepared once in registers
// (CodebookOps::prepare), and for every chunk (16 columns of one row, layout/dense_codebook.hpp)
// the 16 weights are decoded and looked up in registers (CodebookOps::lookup) and multiplied
// into per-row accumulators with the activations (dot-product form: a register permute picks
// from one table, so the lanes of a vector are columns of one row, never rows with different
// tables). Each row's lanes are summed at the end: the only reordering compared with the scalar
// reference (codebook_reference.hpp), within the f32 dot-product bound.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp and
// elementwise/simd-inl.hpp (activate).
//
// Contract of the per-ISA primitives (arch/<family>/<isa>_codebook.hpp), CodebookOps<Bits>:
//   Table / prepare(entries)   a table of 2^Bits ascending floats, ready for lookups
//   lookup(table, chunk, w)    w[j], j < 16 / Vec::lanes: the chunk's weights, in column order
//   gemv_rows                  rows per tile of the GEMV (a divisor of 16)
//   gemm_rows, gemm_samples    rows x samples per register tile of the GEMM

namespace dense_codebook_detail {

constexpr std::size_t group_cols = 16;
constexpr std::size_t per_group = group_cols / Vec::lanes;

template <class Matrix>
using Ops = ::mote::simd::MOTE_SIMD_NS::CodebookOps<Matrix::format::bits>;

/// Lanes of the padding columns (column >= valid of the last group) set to exactly 0, whatever
/// the table holds; the activations there are loaded as 0 too.
inline void clear_padding(Vec (&w)[per_group], std::size_t valid) noexcept {
  alignas(64) static constexpr float column[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const Vec limit = Vec::broadcast(static_cast<float>(valid));
  MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j)
    w[j] = Vec::select(Vec::less(Vec::load(column + j * Vec::lanes), limit), w[j], Vec::zero());
}

/// Activations of columns [g * 16, g * 16 + 16) of one sample; lanes past `valid` are 0.
inline void load_group(const float* x, std::size_t valid, Vec (&v)[per_group]) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j) {
    const std::size_t first = j * Vec::lanes;
    if (first + Vec::lanes <= valid) v[j] = Vec::load(x + first);
    else if (first < valid) v[j] = Vec::load_partial(x + first, valid - first);
    else v[j] = Vec::zero();
  }
}

/// Rows [row, row + Rows) (inside the padded rows) times `Samples` inputs (sample s at
/// in + s * cols): writes bias + dot product, with `Activation` when it is piecewise linear
/// (exact per output), to out[s * rows + r] for the rows that exist.
template <std::size_t Rows, std::size_t Samples, class Matrix, class Activation>
inline void tile(const Matrix& weights, std::size_t row, const float* bias, const float* in, float* out,
                 Activation) noexcept {
  using O = Ops<Matrix>;
  constexpr bool per_channel = Matrix::format::per_channel;
  constexpr std::size_t tables = per_channel ? Rows : 1;
  constexpr std::size_t chunk_bytes = Matrix::chunk_bytes, group_stride = Matrix::panel_rows * chunk_bytes;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::size_t full_groups = cols / group_cols;
  typename O::Table table[tables];
  MOTE_UNROLL for (std::size_t t = 0; t < tables; ++t) table[t] = O::prepare(weights.table(row + t));
  Vec acc[Rows][Samples];
  MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r)
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) acc[r][s] = Vec::zero();
  const std::uint8_t* chunks = weights.chunk(row, 0);
  for (std::size_t g = 0; g < full_groups; ++g, chunks += group_stride) {
    MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
      Vec w[per_group];
      O::lookup(table[per_channel ? r : 0], chunks + r * chunk_bytes, w);
      MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) {
        const float* x = in + s * cols + g * group_cols;
        MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j)
          acc[r][s] = Vec::fma(w[j], Vec::load(x + j * Vec::lanes), acc[r][s]);
      }
    }
  }
  if (full_groups < weights.group_count()) {
    const std::size_t valid = cols - full_groups * group_cols;
    Vec x[Samples][per_group];
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s)
      load_group(in + s * cols + full_groups * group_cols, valid, x[s]);
    MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
      Vec w[per_group];
      O::lookup(table[per_channel ? r : 0], chunks + r * chunk_bytes, w);
      clear_padding(w, valid);
      MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s)
        MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j) acc[r][s] = Vec::fma(w[j], x[s][j], acc[r][s]);
    }
  }
  MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
    if (row + r >= rows) break;
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) {
      const float sum = acc[r][s].reduce_add() + bias[row + r];
      if constexpr (::mote::activation::is_piecewise_linear_v<Activation>)
        out[s * rows + row + r] = Activation::apply(sum);
      else
        out[s * rows + row + r] = sum;
    }
  }
}

/// Rows [row, row + Rows) times samples [0, count), count < Samples.
template <std::size_t Rows, std::size_t Samples, class Matrix, class Activation>
inline void tile_remainder(const Matrix& weights, std::size_t row, const float* bias, const float* in, float* out,
                           std::size_t count, Activation activation) noexcept {
  if constexpr (Samples > 1) {
    if (count == Samples - 1) return tile<Rows, Samples - 1>(weights, row, bias, in, out, activation);
    tile_remainder<Rows, Samples - 1>(weights, row, bias, in, out, count, activation);
  }
}

/// Transcendental activations run as a vectorised pass over the finished outputs.
template <class Activation>
inline void finish(Activation activation, float* out, std::size_t count) noexcept {
  if constexpr (!::mote::activation::is_piecewise_linear_v<Activation>) activate(activation, out, out, count);
}

}  // namespace dense_codebook_detail

/// GEMV: tiles of gemv_rows rows, every column group of each, one sample.
template <std::size_t Bits, class Granularity, class Activation>
inline void dense(const ::mote::WeightMatrix<::mote::Codebook<Bits, Granularity>, ::mote::DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation activation) noexcept {
  using namespace dense_codebook_detail;
  using Matrix = std::remove_cvref_t<decltype(weights)>;
  constexpr std::size_t rows_per_tile = Ops<Matrix>::gemv_rows;
  static_assert(Matrix::panel_rows % rows_per_tile == 0, "a row tile must not straddle two panels");
  for (std::size_t row = 0; row < weights.rows(); row += rows_per_tile)
    tile<rows_per_tile, 1>(weights, row, bias, in, out, activation);
  finish(activation, out, weights.rows());
}

/// GEMM: tiles of gemm_rows rows x gemm_samples samples; a row tile's chunks stay in L1 while
/// the samples stream past them.
template <std::size_t Bits, class Granularity, class Activation>
inline void dense_batch(const ::mote::WeightMatrix<::mote::Codebook<Bits, Granularity>, ::mote::DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation) noexcept {
  using namespace dense_codebook_detail;
  using Matrix = std::remove_cvref_t<decltype(weights)>;
  constexpr std::size_t rows_per_tile = Ops<Matrix>::gemm_rows, samples = Ops<Matrix>::gemm_samples;
  static_assert(Matrix::panel_rows % rows_per_tile == 0, "a row tile must not straddle two panels");
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t row = 0; row < rows; row += rows_per_tile) {
    std::size_t b = 0;
    for (; b + samples <= batch; b += samples)
      tile<rows_per_tile, samples>(weights, row, bias, in + b * cols, out + b * rows, activation);
    if (b < batch)
      tile_remainder<rows_per_tile, samples>(weights, row, bias, in + b * cols, out + b * rows, batch - b, activation);
  }
  finish(activation, out, batch * rows);
}
// ----- end mote/kernels/dense/codebook-inl.hpp -----
// ----- begin mote/kernels/conv2d/simd-inl.hpp -----
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

/// out[0..Pixels) for one panel, pixel i reading its input at in_pixel[i]; taps with a null
/// pointer are padding.
template <std::size_t Pixels, class Activation>
inline void conv_pixels(const WindowGeometry& g, const float* panel, const float* bias, std::size_t oy,
                        std::size_t ox, const float* in, float* out, std::size_t channels_here,
                        Activation activation) noexcept {
  Vec acc[Pixels][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::load(bias + j * Vec::lanes);
  for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
    const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
    if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
    for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
      const float* pixel_in[Pixels];
      bool any = false;
      MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
        const long ix = static_cast<long>((ox + i) * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
        pixel_in[i] = ix < 0 || ix >= static_cast<long>(g.in_w)
                          ? nullptr
                          : in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
        any = any || pixel_in[i] != nullptr;
      }
      if (!any) continue;
      const float* taps = panel + (ky * g.kernel_w + kx) * g.in_c * DenseF32::panel_rows;
      for (std::size_t ic = 0; ic < g.in_c; ++ic) {
        Vec w[per_panel];
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load(taps + ic * DenseF32::panel_rows + j * Vec::lanes);
        MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
          if (Pixels > 1 || pixel_in[i] != nullptr) {
            const Vec x = Vec::broadcast(pixel_in[i][ic]);
            MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
          }
        }
      }
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
    float* out_pixel = out + ((oy * g.out_w) + ox + i) * g.out_c;
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      const std::size_t c = j * Vec::lanes;
      const Vec result = apply(activation, acc[i][j]);
      if (c + Vec::lanes <= channels_here) result.store(out_pixel + c);
      else if (c < channels_here) result.store_partial(out_pixel + c, channels_here - c);
    }
  }
}

}  // namespace conv_detail

template <class Activation>
inline void conv2d(const WindowGeometry& g, const DenseF32& weights, const float* bias, const float* in,
                   float* out, Activation activation) noexcept {
  using namespace conv_detail;
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
    for (; ox < x_begin; ++ox) conv_pixels<1>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    for (; ox + block <= x_end; ox += block)
      conv_pixels<block>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    // The interior's remainder in halving blocks: a lone pixel has too few accumulators to
    // hide FMA latency.
    if constexpr (block >= 4)
      for (; ox + block / 2 <= x_end; ox += block / 2)
        conv_pixels<block / 2>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    if constexpr (block >= 8)
      for (; ox + block / 4 <= x_end; ox += block / 4)
        conv_pixels<block / 4>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    if constexpr (block >= 2)
      for (; ox + 2 <= x_end; ox += 2) conv_pixels<2>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    for (; ox < g.out_w; ++ox) conv_pixels<1>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
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
// ----- end mote/kernels/conv2d/simd-inl.hpp -----
// ----- begin mote/kernels/depthwise/simd-inl.hpp -----
// Depthwise Conv2D (channel multiplier 1) over channels-last input. The 16-row weight panels
// hold, for 16 consecutive channels, tap t at panel[t * 16 ...]: one vector of weights per tap
// and channel group, multiplied with the matching vector of input channels. For each output
// pixel the taps inside the input are listed once, then every channel group runs over them
// without bounds checks.
// Code only: included per ISA by kernels/simd-inl.hpp.

namespace depthwise_detail {

/// Kernels up to 7x7 list their taps on the stack; larger ones use the scalar reference.
constexpr std::size_t max_listed_taps = 49;

template <class Activation>
inline void channels_over_taps(std::size_t channels, const float* const* tap_in, const std::size_t* tap_offset,
                               std::size_t taps, const DenseF32& weights, const float* bias, float* out,
                               Activation activation) noexcept {
  constexpr std::size_t rows = DenseF32::panel_rows;
  std::size_t c = 0;
  // Two channel vectors at a time: two independent FMA chains.
  for (; c + 2 * Vec::lanes <= channels; c += 2 * Vec::lanes) {
    const float* panel0 = weights.panel(c / rows) + c % rows;
    const float* panel1 = weights.panel((c + Vec::lanes) / rows) + (c + Vec::lanes) % rows;
    Vec acc0 = Vec::load(bias + c), acc1 = Vec::load(bias + c + Vec::lanes);
    for (std::size_t t = 0; t < taps; ++t) {
      acc0 = Vec::fma(Vec::load(tap_in[t] + c), Vec::load(panel0 + tap_offset[t]), acc0);
      acc1 = Vec::fma(Vec::load(tap_in[t] + c + Vec::lanes), Vec::load(panel1 + tap_offset[t]), acc1);
    }
    apply(activation, acc0).store(out + c);
    apply(activation, acc1).store(out + c + Vec::lanes);
  }
  for (; c < channels; c += Vec::lanes) {
    const std::size_t lanes = std::min(Vec::lanes, channels - c);
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec x = lanes == Vec::lanes ? Vec::load(tap_in[t] + c) : Vec::load_partial(tap_in[t] + c, lanes);
      acc = Vec::fma(x, Vec::load(panel + tap_offset[t]), acc);
    }
    acc = apply(activation, acc);
    if (lanes == Vec::lanes) acc.store(out + c);
    else acc.store_partial(out + c, lanes);
  }
}

/// Pixels consecutive interior output pixels of one row at once: each weight vector is loaded
/// once per tap for all of them (`pixel_step` = stride * channels between their inputs).
template <std::size_t Pixels, class Activation>
inline void pixels_over_taps(std::size_t channels, const float* const* tap_in, const std::size_t* tap_offset,
                             std::size_t taps, std::size_t pixel_step, const DenseF32& weights, const float* bias,
                             float* out, Activation activation) noexcept {
  constexpr std::size_t rows = DenseF32::panel_rows;
  std::size_t c = 0;
  for (; c + Vec::lanes <= channels; c += Vec::lanes) {
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc[Pixels];
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec w = Vec::load(panel + tap_offset[t]);
      const float* x = tap_in[t] + c;
      MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::fma(Vec::load(x + q * pixel_step), w, acc[q]);
    }
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) apply(activation, acc[q]).store(out + q * channels + c);
  }
  if (c < channels) {
    const std::size_t lanes = channels - c;
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc[Pixels];
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec w = Vec::load(panel + tap_offset[t]);
      const float* x = tap_in[t] + c;
      MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q)
        acc[q] = Vec::fma(Vec::load_partial(x + q * pixel_step, lanes), w, acc[q]);
    }
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) apply(activation, acc[q]).store_partial(out + q * channels + c, lanes);
  }
}

/// Interior pixels per block: 8 accumulators (16 with AVX-512's 32 registers).
constexpr std::size_t pixel_block = Vec::lanes == 16 ? 16 : 8;

}  // namespace depthwise_detail

template <class Activation>
inline void depthwise_conv2d(const WindowGeometry& g, const DenseF32& weights, const float* bias, const float* in,
                             float* out, Activation activation) noexcept {
  using namespace depthwise_detail;
  constexpr std::size_t rows = DenseF32::panel_rows;
  if (g.kernel_h * g.kernel_w > max_listed_taps)
    return ::mote::kernels::depthwise_conv2d(isa::Scalar{}, g, weights, bias, in, out, activation);
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
      const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
      if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
      for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
        const long ix0 = static_cast<long>(kx * g.dilation_w) - static_cast<long>(g.pad_left);
        row_tap_index[row_taps] = (iy * static_cast<long>(g.in_w) + ix0) * static_cast<long>(g.in_c);
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
          pixels_over_taps<pixel_block>(g.out_c, tap_in, row_tap_offset, row_taps, g.stride_w * g.in_c, weights,
                                        bias, out_pixel, activation);
          ox += pixel_block - 1;
        } else {
          channels_over_taps(g.out_c, tap_in, row_tap_offset, row_taps, weights, bias, out_pixel, activation);
        }
        continue;
      }
      std::size_t taps = 0;
      for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
        const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
        if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
        for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
          const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
          if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
          tap_in[taps] = in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
          tap_offset[taps] = (ky * g.kernel_w + kx) * rows;
          ++taps;
        }
      }
      channels_over_taps(g.out_c, tap_in, tap_offset, taps, weights, bias, out_pixel, activation);
    }
  }
}
// ----- end mote/kernels/depthwise/simd-inl.hpp -----
// ----- begin mote/kernels/pool/simd-inl.hpp -----
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
// ----- end mote/kernels/pool/simd-inl.hpp -----

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}
template <class Activation = activation::Identity>
inline void conv2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const WeightMatrix<F32, DenseStorage>& weights,
                   const float* bias, const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::conv2d(g, weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void depthwise_conv2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g,
                             const WeightMatrix<F32, DenseStorage>& weights, const float* bias, const float* in,
                             float* out, Activation activation = {}) noexcept {
  // A channel multiplier above 1 reads input channel o / M for output o: no contiguous vector.
  if (g.out_c != g.in_c) return depthwise_conv2d(isa::Scalar{}, g, weights, bias, in, out, activation);
  MOTE_SIMD_NS::depthwise_conv2d(g, weights, bias, in, out, activation);
}
template <class Activation>
inline void activate(isa::MOTE_SIMD_TAG, Activation activation, const float* in, float* out,
                     std::size_t count) noexcept {
  MOTE_SIMD_NS::activate(activation, in, out, count);
}
inline void channel_affine(isa::MOTE_SIMD_TAG, const float* scale, const float* shift, const float* in, float* out,
                           std::size_t pixels, std::size_t channels) noexcept {
  MOTE_SIMD_NS::channel_affine(scale, shift, in, out, pixels, channels);
}
inline void add(isa::MOTE_SIMD_TAG, const float* a, const float* b, float* out, std::size_t count) noexcept {
  MOTE_SIMD_NS::add(a, b, out, count);
}
inline void softmax(isa::MOTE_SIMD_TAG, const float* in, float* out, std::size_t rows,
                    std::size_t channels) noexcept {
  MOTE_SIMD_NS::softmax(in, out, rows, channels);
}
inline void max_pool2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const float* in, float* out) noexcept {
  MOTE_SIMD_NS::max_pool2d(g, in, out);
}
inline void avg_pool2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const float* in, float* out) noexcept {
  MOTE_SIMD_NS::avg_pool2d(g, in, out);
}
inline void global_avg_pool(isa::MOTE_SIMD_TAG, std::size_t pixels, std::size_t channels, const float* in,
                            float* out) noexcept {
  MOTE_SIMD_NS::global_avg_pool(pixels, channels, in, out);
}

// bf16 / f16 weights (kernels/dense/half-inl.hpp).
template <HalfFloatFormat Format, class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <HalfFloatFormat Format, class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}

// Codebook weights (kernels/dense/codebook-inl.hpp).
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}

// Binary weights (kernels/dense/binary-inl.hpp): f32 activations, and XNOR-popcount with binary
// activations (bit-exact on every ISA; transcendental activations then run as a vector pass).
template <class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}
template <class Activation = activation::Identity>
inline void dense_xnor(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, Activation activation,
                       std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_xnor(weights, bias, in, out, batch, activation, scratch);
  } else {
    MOTE_SIMD_NS::dense_xnor(weights, bias, in, out, batch, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}

}  // namespace mote::kernels
// ----- end mote/kernels/simd-inl.hpp -----
// ----- begin mote/kernels/simd_int8-inl.hpp -----
// The int8 kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA that has integer dot-product primitives (arch/<family>/<isa>_int8.hpp), inside
// that ISA's target region, with MOTE_SIMD_NS and MOTE_SIMD_TAG defined as for simd-inl.hpp.

#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Int8Ops = ::mote::simd::MOTE_SIMD_NS::Int8Ops;
using ::mote::align_up;

// ----- begin mote/kernels/dense/int8-inl.hpp -----
// int8 Dense kernels, written once against `Int8Ops`, the ISA's integer dot-product primitives
// (arch/<family>/<isa>_int8.hpp). Included by kernels/simd_int8-inl.hpp, once per ISA.
//
// Contract of an Int8 primitive set:
//   Act                 the activation code type the ISA multiplies (int16, uint8 or int8)
//   encode(u)           the Act holding code u in [0, 255]
//   activation_offset   what encode subtracts: the kernels see dot_r = sum_k w_rk (u_k - offset)
//   Acc / zero()        accumulators of one 16-row panel
//   Panel / load(g)     one 64-byte group (16 rows x 4 columns) of weights, loaded for reuse
//   madd(acc, w, a)     acc += the products of the group with the 4 codes at a
//   store(acc, out)     the 16 row sums as int32
//   quantize(x, n, ...) float -> Act codes, bit-identical to mote::quantize
//   gemm_cols           samples per register tile in the batched kernel

// One panel of 16 rows times `Cols` samples; codes of sample c at act + c * stride.
// An ISA may provide its own microkernel (Int8Ops::panel_tile) where the compiler does not
// keep this generic one's accumulators in registers.
template <std::size_t Cols, class Ops = Int8Ops>
inline void int8_panel_tile(const std::int8_t* panel, std::size_t groups, const typename Ops::Act* act,
                            std::size_t stride, std::int32_t* dots, std::size_t dots_stride) noexcept {
  if constexpr (requires { Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride); }) {
    return Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
  }
  typename Ops::Acc acc[Cols];
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) acc[c] = Int8Ops::zero();
  for (std::size_t g = 0; g < groups; ++g) {
    const typename Int8Ops::Panel w = Int8Ops::load(panel + g * 64);
    MOTE_UNROLL
    for (std::size_t c = 0; c < Cols; ++c) Int8Ops::madd(acc[c], w, act + c * stride + g * 4);
  }
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) Int8Ops::store(acc[c], dots + c * dots_stride);
}

template <std::size_t Cols = Int8Ops::gemm_cols>
inline void int8_panel_columns(const std::int8_t* panel, std::size_t groups, const Int8Ops::Act* act, std::size_t stride,
                               std::int32_t* dots, std::size_t dots_stride, std::size_t columns) noexcept {
  if constexpr (Cols > 0) {
    for (; columns >= Cols; columns -= Cols, act += Cols * stride, dots += Cols * dots_stride)
      int8_panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
    if (columns > 0) int8_panel_columns<Cols / 2>(panel, groups, act, stride, dots, dots_stride, columns);
  }
}

// An ISA may vectorise the symmetric-weight epilogue (Int8Ops::dequantize_rows), with the same
// operations as int8_dense_epilogue lane by lane.
template <class Ops>
inline constexpr bool int8_has_vector_epilogue = requires(const std::int32_t* i, const float* f, float* o) {
  Ops::dequantize_rows(i, i, 0, 0.0f, f, f, o, std::size_t{0});
};
template <class Ops>
inline std::size_t int8_vector_epilogue(const std::int32_t* dots, const std::int32_t* row_sums, std::int32_t correction,
                                        float input_scale, const float* scales, const float* bias, float* out,
                                        std::size_t rows) noexcept {
  if constexpr (int8_has_vector_epilogue<Ops>)
    return Ops::dequantize_rows(dots, row_sums, correction, input_scale, scales, bias, out, rows);
  else
    return 0;
}

template <class G, class S, class Activation>
inline void dense_int8(const ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>& weights,
                       const float* bias, const float* in, float* out, std::size_t batch,
                       const ::mote::kernels::Int8InputQuant& input, Activation activation,
                       std::byte* scratch) noexcept {
  using Matrix = ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>;
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t groups = padded_cols / 4;
  auto* act = reinterpret_cast<Int8Ops::Act*>(scratch);
  auto* dots = reinterpret_cast<std::int32_t*>(scratch + batch * align_up(padded_cols * sizeof(std::int16_t)));
  const typename Int8Ops::Act padding = Int8Ops::encode(input.params.zero_point);
  for (std::size_t b = 0; b < batch; ++b) {
    Int8Ops::Act* codes = act + b * padded_cols;
    Int8Ops::quantize(in + b * cols, cols, input.params, input.low, input.high, codes);
    for (std::size_t k = cols; k < padded_cols; ++k) codes[k] = padding;
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    int8_panel_columns(weights.panel(p), groups, act, padded_cols, dots + p * 16, padded_rows, batch);
  if constexpr (Matrix::format::symmetric && int8_has_vector_epilogue<Int8Ops>) {
    // Symmetric weights: the epilogue vectorised where the ISA provides it (same operations).
    const std::int32_t correction = Int8Ops::activation_offset - input.params.zero_point;
    for (std::size_t b = 0; b < batch; ++b) {
      float* y = out + b * rows;
      const std::int32_t* d = dots + b * padded_rows;
      std::size_t r = int8_vector_epilogue<Int8Ops>(d, weights.row_sums(), correction, input.params.scale,
                                                    weights.scales(), bias, y, rows);
      for (; r < rows; ++r)
        y[r] = std::fma(static_cast<float>(static_cast<std::int64_t>(d[r]) +
                                           static_cast<std::int64_t>(correction) * weights.row_sum(r)),
                        input.params.scale * weights.scales()[r], bias[r]);
      if constexpr (!std::is_same_v<Activation, ::mote::activation::Identity>)
        for (std::size_t i = 0; i < rows; ++i) y[i] = Activation::apply(y[i]);
    }
    return;
  }
  for (std::size_t b = 0; b < batch; ++b) {
    std::int64_t sum_u = 0;
    if constexpr (!Matrix::format::symmetric)
      for (std::size_t k = 0; k < cols; ++k) sum_u += act[b * padded_cols + k] + Int8Ops::activation_offset;
    ::mote::kernels::int8_dense_epilogue(weights, bias, dots + b * padded_rows, input, Int8Ops::activation_offset, sum_u,
                                         out + b * rows, activation);
  }
}
// ----- end mote/kernels/dense/int8-inl.hpp -----
#if defined(MOTE_SIMD_HAS_INT4)
using Int4Ops = ::mote::simd::MOTE_SIMD_NS::Int4Ops;
// ----- begin mote/kernels/dense/int4-inl.hpp -----
// int4 Dense kernels, written once against `Int4Ops`, the ISA's int4 primitives
// (arch/<family>/<isa>_int4.hpp). Included by kernels/simd_int8-inl.hpp for ISAs that have them.
//   centre(x, n, params, low, high, out)   s = quantize(x) - 128 as int8, bit-identical to mote::quantize
//   panel(packed, scales, blocks, blocks_per_group, act, block_sums, f)   F of one 16-row panel
// Samples run panel by panel so that a panel's packed weights stay in L1 across the batch.

template <std::size_t G, class Activation>
inline void dense_int4(const ::mote::WeightMatrix<::mote::Int4<G>, ::mote::DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const ::mote::kernels::Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols(), blocks = weights.block_count();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t per_sample = align_up(padded_cols) + align_up(blocks * sizeof(std::int32_t));
  auto* f = reinterpret_cast<float*>(scratch + batch * per_sample);
  for (std::size_t b = 0; b < batch; ++b) {
    auto* act = reinterpret_cast<std::int8_t*>(scratch + b * per_sample);
    auto* block_sums = reinterpret_cast<std::int32_t*>(scratch + b * per_sample + align_up(padded_cols));
    Int4Ops::centre(in + b * cols, cols, input.params, input.low, input.high, act);
    for (std::size_t k = cols; k < padded_cols; ++k) act[k] = 0;
    for (std::size_t block = 0; block < blocks; ++block) {
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < 32; ++k) sum += act[block * 32 + k];
      block_sums[block] = sum;
    }
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    for (std::size_t b = 0; b < batch; ++b)
      Int4Ops::panel(weights.panel(p), weights.panel_scales(p, 0), blocks, weights.blocks_per_group(),
                     reinterpret_cast<const std::int8_t*>(scratch + b * per_sample),
                     reinterpret_cast<const std::int32_t*>(scratch + b * per_sample + align_up(padded_cols)),
                     f + b * padded_rows + p * 16);
  for (std::size_t b = 0; b < batch; ++b)
    ::mote::kernels::int4_dense_epilogue(weights, bias, f + b * padded_rows, input, out + b * rows, activation);
}
// ----- end mote/kernels/dense/int4-inl.hpp -----
#endif

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class G, class S, class Activation>
inline void dense_int8(isa::MOTE_SIMD_TAG, const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    // Transcendental activations: the vectorised functions of the ISA (their stated bounds)
    // over the whole output, instead of one libm call per output in the scalar epilogue.
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}

#if defined(MOTE_SIMD_HAS_INT4)
template <std::size_t G, class Activation>
inline void dense_int4(isa::MOTE_SIMD_TAG, const WeightMatrix<Int4<G>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}
#endif

}  // namespace mote::kernels
// ----- end mote/kernels/simd_int8-inl.hpp -----
#undef MOTE_SIMD_HAS_INT4
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END

MOTE_TARGET_REGION_BEGIN("avx2,fma,bmi2,f16c")
// ----- begin mote/arch/x86/avx2.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_HPP_
// AVX2 + FMA vector of 8 floats. Included by arch/targets.hpp inside a target("avx2,fma")
// region (no #pragma once on purpose: see targets.hpp), so every function here is compiled for
// AVX2 whatever the translation unit's flags are.
#if !defined(MOTE_ARCH_X86_AVX2_VEC)
#define MOTE_ARCH_X86_AVX2_VEC
namespace mote::simd::avx2 {

#define MOTE_VEC_INLINE inline __attribute__((always_inline))

struct VecF32 {
  static constexpr std::size_t lanes = 8;
  using Mask = __m256;
  __m256 v;

  static MOTE_VEC_INLINE VecF32 zero() { return {_mm256_setzero_ps()}; }
  static MOTE_VEC_INLINE VecF32 broadcast(float x) { return {_mm256_set1_ps(x)}; }
  static MOTE_VEC_INLINE VecF32 load(const float* p) { return {_mm256_loadu_ps(p)}; }
  /// 8 bfloat16 values widened exactly to f32: zero-extend to 32 bits, shift to the top half.
  static MOTE_VEC_INLINE VecF32 load_bf16(const std::uint16_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(wide, 16))};
  }
  /// 8 IEEE binary16 values widened exactly to f32 (F16C vcvtph2ps, enabled in this region).
  static MOTE_VEC_INLINE VecF32 load_f16(const std::uint16_t* p) {
    return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))};
  }
  /// 16 bfloat16 values as two vectors of f32, de-interleaved: `even` gets values 0, 2, ..., 14,
  /// `odd` 1, 3, ..., 15. One load and two bit operations (two load_bf16: two loads and four),
  /// which makes a bf16 GEMV about 1.3x faster on Zen 3; interleave_even_odd restores the order.
  static MOTE_VEC_INLINE void load_bf16_even_odd(const std::uint16_t* p, VecF32& even, VecF32& odd) {
    __m256i pairs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    // Keeps `pairs` in a register: GCC would otherwise read the memory a second time as vpand's
    // operand, and the GEMV, at two FMAs per 16 weights, is then load-bound (5% slower).
    __asm__("" : "+x"(pairs));
    even = {_mm256_castsi256_ps(_mm256_slli_epi32(pairs, 16))};
    odd = {_mm256_castsi256_ps(_mm256_and_si256(pairs, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))))};
  }
  /// Inverse of load_bf16_even_odd's order: the sequence even[0], odd[0], even[1], odd[1], ...
  /// split into `first` (its values 0..7) and `second` (8..15).
  static MOTE_VEC_INLINE void interleave_even_odd(VecF32 even, VecF32 odd, VecF32& first, VecF32& second) {
    const __m256 low = _mm256_unpacklo_ps(even.v, odd.v), high = _mm256_unpackhi_ps(even.v, odd.v);
    first = {_mm256_permute2f128_ps(low, high, 0x20)};
    second = {_mm256_permute2f128_ps(low, high, 0x31)};
  }
  static MOTE_VEC_INLINE __m256i partial_mask(std::size_t n) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), index);
  }
  /// Loads n < lanes elements; the other lanes are zero and their memory is not touched.
  static MOTE_VEC_INLINE VecF32 load_partial(const float* p, std::size_t n) {
    return {_mm256_maskload_ps(p, partial_mask(n))};
  }
  MOTE_VEC_INLINE void store(float* p) const { _mm256_storeu_ps(p, v); }
  MOTE_VEC_INLINE void store_partial(float* p, std::size_t n) const { _mm256_maskstore_ps(p, partial_mask(n), v); }

  friend MOTE_VEC_INLINE VecF32 operator+(VecF32 a, VecF32 b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator-(VecF32 a, VecF32 b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator*(VecF32 a, VecF32 b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator/(VecF32 a, VecF32 b) { return {_mm256_div_ps(a.v, b.v)}; }
  /// a * b + c with one rounding.
  static MOTE_VEC_INLINE VecF32 fma(VecF32 a, VecF32 b, VecF32 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  /// min/max return the second operand when either is NaN (x86 semantics): callers that must
  /// propagate NaN use select() with explicit masks.
  static MOTE_VEC_INLINE VecF32 min(VecF32 a, VecF32 b) { return {_mm256_min_ps(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 max(VecF32 a, VecF32 b) { return {_mm256_max_ps(a.v, b.v)}; }
  /// x < low ? low : x, lane-wise, exactly (NaN and -0 in x pass through): x86 MAX returns
  /// its second operand when the operands are equal or either is NaN.
  static MOTE_VEC_INLINE VecF32 clamp_below(VecF32 x, VecF32 low) { return {_mm256_max_ps(low.v, x.v)}; }
  /// x > high ? high : x, lane-wise, exactly (NaN and -0 in x pass through).
  static MOTE_VEC_INLINE VecF32 clamp_above(VecF32 x, VecF32 high) { return {_mm256_min_ps(high.v, x.v)}; }
  static MOTE_VEC_INLINE VecF32 abs(VecF32 a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)}; }
  /// |magnitude| with the sign bit of `sign`.
  static MOTE_VEC_INLINE VecF32 copysign(VecF32 magnitude, VecF32 sign) {
    const __m256 bit = _mm256_set1_ps(-0.0f);
    return {_mm256_or_ps(_mm256_andnot_ps(bit, magnitude.v), _mm256_and_ps(bit, sign.v))};
  }
  static MOTE_VEC_INLINE VecF32 round_nearest(VecF32 a) {
    return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  /// 2^n for integral n in [-126, 127], built in the exponent field.
  static MOTE_VEC_INLINE VecF32 pow2(VecF32 n) {
    const __m256i biased = _mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(biased, 23))};
  }
  static MOTE_VEC_INLINE Mask less(VecF32 a, VecF32 b) { return _mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ); }
  static MOTE_VEC_INLINE Mask greater(VecF32 a, VecF32 b) { return _mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ); }
  static MOTE_VEC_INLINE Mask is_nan(VecF32 a) { return _mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q); }
  static MOTE_VEC_INLINE Mask mask_or(Mask a, Mask b) { return _mm256_or_ps(a, b); }
  static MOTE_VEC_INLINE bool any(Mask m) { return _mm256_movemask_ps(m) != 0; }
  /// Lane-wise m ? if_true : if_false.
  static MOTE_VEC_INLINE VecF32 select(Mask m, VecF32 if_true, VecF32 if_false) {
    return {_mm256_blendv_ps(if_false.v, if_true.v, m)};
  }
  MOTE_VEC_INLINE float reduce_add() const {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

#undef MOTE_VEC_INLINE
}  // namespace mote::simd::avx2
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_HPP_
// ----- end mote/arch/x86/avx2.hpp -----
// ----- begin mote/arch/x86/avx2_int8.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_INT8_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_INT8_HPP_
// AVX2 int8 dot-product primitives (contract: kernels/dense/int8-inl.hpp). No include guard on
// purpose: included by arch/targets.hpp inside the avx2 target region. Exact int16 pmaddwd on
// sign-extended weights, as in sse4_int8.hpp: pmaddubsw would be twice the rate but saturates
// at 2 * 255 * 127 > 32767 and corrupts results.
#if !defined(MOTE_ARCH_X86_AVX2_INT8)
#define MOTE_ARCH_X86_AVX2_INT8
namespace mote::simd::avx2 {

/// The 8 codes of x[0..8) as mote::quantize computes them (IEEE division, ties to even, NaN to
/// the clamped zero point), as int32: shared by the int8 and int4 primitives.
struct QuantizeCodes {
  __m256 scale, zero, lo, hi, nan_code;
  QuantizeCodes(const QuantParams& p, std::int32_t low, std::int32_t high)
      : scale(_mm256_set1_ps(p.scale)),
        zero(_mm256_set1_ps(static_cast<float>(p.zero_point))),
        lo(_mm256_set1_ps(static_cast<float>(low))),
        hi(_mm256_set1_ps(static_cast<float>(high))),
        nan_code(_mm256_set1_ps(static_cast<float>(std::clamp(p.zero_point, low, high)))) {}
  inline __attribute__((always_inline)) __m256i operator()(const float* x) const {
    const __m256 scaled = _mm256_div_ps(_mm256_loadu_ps(x), scale);
    __m256 q = _mm256_add_ps(_mm256_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero);
    q = _mm256_min_ps(_mm256_max_ps(q, lo), hi);
    q = _mm256_blendv_ps(q, nan_code, _mm256_cmp_ps(scaled, scaled, _CMP_UNORD_Q));
    return _mm256_cvttps_epi32(q);
  }
};

struct Int8Ops {
  using Act = std::int16_t;
  static constexpr std::int32_t activation_offset = 0;
  static constexpr std::size_t gemm_cols = 6;
  /// register j: rows 4j..4j+3, lanes (r, k01), (r, k23), (r+1, k01), (r+1, k23) | (r+2, ...), (r+3, ...)
  struct Acc {
    __m256i v[4];
  };
  struct Panel {
    __m256i v[4];
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u); }
  static inline __attribute__((always_inline)) Acc zero() {
    return {{_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()}};
  }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    Panel panel;
    for (int j = 0; j < 4; ++j)
      panel.v[j] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(group + 16 * j)));
    return panel;
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    std::int64_t pattern;
    std::memcpy(&pattern, act, sizeof(pattern));
    const __m256i a = _mm256_set1_epi64x(pattern);
    for (int j = 0; j < 4; ++j) acc.v[j] = _mm256_add_epi32(acc.v[j], _mm256_madd_epi16(w.v[j], a));
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    for (int j = 0; j < 2; ++j) {
      // hadd gives rows [0 1 4 5 | 2 3 6 7] of the pair; reorder the 64-bit halves.
      const __m256i sums = _mm256_hadd_epi32(acc.v[2 * j], acc.v[2 * j + 1]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * j),
                          _mm256_permute4x64_epi64(sums, _MM_SHUFFLE(3, 1, 2, 0)));
    }
  }
  /// The GEMM/GEMV microkernel: 16 rows x Cols samples over `groups` groups of 4 columns, as two
  /// passes of 8 rows so that each widened weight register serves up to 6 samples (vpmovsxbw,
  /// not vpmaddwd, limited the 16 x 2 tile: 1.85 ms for W3b64). Written with plain register
  /// arrays: GCC 12 copied and spilled the generic kernel's accumulator structs every iteration.
  template <std::size_t Cols>
  static inline __attribute__((always_inline)) void panel_tile(const std::int8_t* panel, std::size_t groups,
                                                               const Act* act, std::size_t stride,
                                                               std::int32_t* dots, std::size_t dots_stride) {
    static_assert(Cols >= 1 && Cols <= gemm_cols, "the AVX2 int8 tile covers 1 to 6 samples");
    for (std::size_t half = 0; half < 2; ++half) {
      __m256i acc[Cols][2];
#pragma GCC unroll 8
      for (std::size_t c = 0; c < Cols; ++c) acc[c][0] = acc[c][1] = _mm256_setzero_si256();
      const std::int8_t* w = panel + half * 32;
      for (std::size_t g = 0; g < groups; ++g, w += 64) {
        const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
        const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16)));
#pragma GCC unroll 8
        for (std::size_t c = 0; c < Cols; ++c) {
          std::int64_t pattern;
          std::memcpy(&pattern, act + c * stride + g * 4, sizeof(pattern));
          const __m256i x = _mm256_set1_epi64x(pattern);
          acc[c][0] = _mm256_add_epi32(acc[c][0], _mm256_madd_epi16(w0, x));
          acc[c][1] = _mm256_add_epi32(acc[c][1], _mm256_madd_epi16(w1, x));
        }
      }
#pragma GCC unroll 8
      for (std::size_t c = 0; c < Cols; ++c) {
        const __m256i sums = _mm256_hadd_epi32(acc[c][0], acc[c][1]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dots + c * dots_stride + half * 8),
                            _mm256_permute4x64_epi64(sums, _MM_SHUFFLE(3, 1, 2, 0)));
      }
    }
  }
  /// out[r] = fma(float(dots[r] + correction * row_sums[r]), input_scale * scales[r], bias[r]) for
  /// 8 rows at a time: the scalar epilogue's operations, lane by lane (the int32 sum wraps in
  /// between but its final value fits, so it is exact). Returns the rows done.
  static inline std::size_t dequantize_rows(const std::int32_t* dots, const std::int32_t* row_sums,
                                            std::int32_t correction, float input_scale, const float* scales,
                                            const float* bias, float* out, std::size_t rows) {
    const __m256i c = _mm256_set1_epi32(correction);
    const __m256 s = _mm256_set1_ps(input_scale);
    std::size_t r = 0;
    for (; r + 8 <= rows; r += 8) {
      const __m256i acc = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dots + r)),
                                           _mm256_mullo_epi32(c, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_sums + r))));
      const __m256 multiplier = _mm256_mul_ps(s, _mm256_loadu_ps(scales + r));
      _mm256_storeu_ps(out + r, _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), multiplier, _mm256_loadu_ps(bias + r)));
    }
    return r;
  }
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const QuantizeCodes codes_of(p, low, high);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256i codes = codes_of(x + i);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                       _mm_packs_epi32(_mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1)));
    }
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::avx2
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_INT8_HPP_
// ----- end mote/arch/x86/avx2_int8.hpp -----
// ----- begin mote/arch/x86/avx2_int4.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_INT4_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_INT4_HPP_
// AVX2 int4 primitives (contract: kernels/dense/int4-inl.hpp). Offset-binary weight nibbles
// (w + 8 in [1, 15]) times signed activation codes with pmaddubsw: each int16 pair sum is at
// most 2 * 15 * 128 = 3840, and 8 of them (one 32-column block) at most 30720 < 32767, so the
// 16-bit accumulation is exact; pmaddwd by ones then widens to int32 once per block.
#if !defined(MOTE_ARCH_X86_AVX2_INT4)
#define MOTE_ARCH_X86_AVX2_INT4
namespace mote::simd::avx2 {

struct Int4Ops {
  /// s = quantize(x) - 128 for n values.
  static inline void centre(const float* x, std::size_t n, const QuantParams& p, std::int32_t low, std::int32_t high,
                            std::int8_t* out) {
    // Codes u - 128 are the codes of the same scale with everything shifted by -128.
    const QuantizeCodes codes_of(QuantParams{p.scale, p.zero_point - 128}, low - 128, high - 128);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256i codes = codes_of(x + i);
      const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packs_epi16(words, words));
    }
    for (; i < n; ++i) out[i] = static_cast<std::int8_t>(::mote::quantize(x[i], p, low, high) - 128);
  }

  /// F for the 16 rows of one panel: groups of `blocks_per_group` blocks (the last may be
  /// shorter), `block_sums[b]` = sum of act over block b.
  static inline void panel(const std::uint8_t* packed, const float* scales, std::size_t blocks,
                           std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
                           float* f) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 f_low = _mm256_setzero_ps(), f_high = _mm256_setzero_ps();
    for (std::size_t first = 0; first < blocks; first += blocks_per_group, scales += 16) {
      const std::size_t last = std::min(blocks, first + blocks_per_group);
      __m256i sum_low = _mm256_setzero_si256(), sum_high = _mm256_setzero_si256();
      for (std::size_t b = first; b < last; ++b) {
        const std::uint8_t* block = packed + b * 256;
        __m256i acc_low = _mm256_setzero_si256(), acc_high = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (std::size_t q = 0; q < 8; ++q) {
          const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + q * 32));
          std::int32_t pattern;
          std::memcpy(&pattern, act + b * 32 + q * 4, sizeof(pattern));
          const __m256i x = _mm256_set1_epi32(pattern);
          acc_low = _mm256_add_epi16(acc_low, _mm256_maddubs_epi16(_mm256_and_si256(bytes, nibble), x));
          acc_high = _mm256_add_epi16(acc_high,
                                      _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble), x));
        }
        const __m256i offset = _mm256_set1_epi32(8 * block_sums[b]);
        sum_low = _mm256_add_epi32(sum_low, _mm256_sub_epi32(_mm256_madd_epi16(acc_low, ones), offset));
        sum_high = _mm256_add_epi32(sum_high, _mm256_sub_epi32(_mm256_madd_epi16(acc_high, ones), offset));
      }
      f_low = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum_low), _mm256_loadu_ps(scales), f_low);
      f_high = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum_high), _mm256_loadu_ps(scales + 8), f_high);
    }
    _mm256_storeu_ps(f, f_low);
    _mm256_storeu_ps(f + 8, f_high);
  }
};

}  // namespace mote::simd::avx2
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_INT4_HPP_
// ----- end mote/arch/x86/avx2_int4.hpp -----
// ----- begin mote/arch/x86/avx2_binary.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_BINARY_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_BINARY_HPP_
// AVX2 primitives of the binary kernels (contract: kernels/dense/binary-inl.hpp). Included by
// arch/targets.hpp inside the avx2 target region, after avx2.hpp. One weight group (16 rows x
// 32 columns, layout/dense_binary.hpp) is two vectors of 8 row words.
// Popcount without a popcount instruction (AVX2 has none): Mula's nibble lookup, vpshufb of the
// low and high nibbles of each byte in a 16-entry table, giving per-byte counts that are
// summed as bytes for up to 31 groups (31 x 8 = 248 < 256) and then widened per 32-bit lane
// (= per row) with vpmaddubsw + vpmaddwd by ones (vpsadbw would sum 64-bit lanes: two rows).
#if !defined(MOTE_ARCH_X86_AVX2_BINARY)
#define MOTE_ARCH_X86_AVX2_BINARY
namespace mote::simd::avx2 {

struct BinaryOps {
  // ---- XNOR-popcount (binary activations)
  static constexpr std::size_t xnor_tile = 4;     ///< samples sharing each group load
  static constexpr std::size_t flush_every = 31;  ///< groups a Partial absorbs without overflow
  struct Group {
    __m256i v[2];
  };
  struct Partial {  ///< per-byte counts
    __m256i v[2];
  };
  struct Counts {  ///< per-row counts (int32 lanes)
    __m256i v[2];
  };
  static inline __attribute__((always_inline)) Group load_group(const std::uint32_t* p) {
    return {{_mm256_load_si256(reinterpret_cast<const __m256i*>(p)),
             _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 8))}};
  }
  static inline __attribute__((always_inline)) Partial partial_zero() {
    return {{_mm256_setzero_si256(), _mm256_setzero_si256()}};
  }
  static inline __attribute__((always_inline)) Counts counts_zero() {
    return {{_mm256_setzero_si256(), _mm256_setzero_si256()}};
  }
  static inline __attribute__((always_inline)) __m256i popcount_bytes(__m256i v) {
    const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                           0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
    const __m256i low = _mm256_and_si256(v, low_nibbles);
    const __m256i high = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles);
    return _mm256_add_epi8(_mm256_shuffle_epi8(table, low), _mm256_shuffle_epi8(table, high));
  }
  /// acc += popcount(w_r XOR x) for each of the group's 16 rows.
  static inline __attribute__((always_inline)) void add(Partial& acc, const Group& w, std::uint32_t x) {
    const __m256i xs = _mm256_set1_epi32(static_cast<int>(x));
    for (int j = 0; j < 2; ++j)
      acc.v[j] = _mm256_add_epi8(acc.v[j], popcount_bytes(_mm256_xor_si256(w.v[j], xs)));
  }
  /// counts += partial, widened per row.
  static inline __attribute__((always_inline)) void flush(const Partial& partial, Counts& counts) {
    for (int j = 0; j < 2; ++j) {
      const __m256i pairs = _mm256_maddubs_epi16(partial.v[j], _mm256_set1_epi8(1));
      counts.v[j] = _mm256_add_epi32(counts.v[j], _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
    }
  }
  static inline __attribute__((always_inline)) void store(const Counts& counts, std::int32_t* out) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), counts.v[0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), counts.v[1]);
  }
  /// words[i]: bit t set when !(x[32 i + t] >= 0), for ceil(n / 32) words (zero padded).
  static inline void pack_signs(const float* x, std::size_t n, std::uint32_t* words) {
    const __m256 zero = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      std::uint32_t bits = 0;
      for (int q = 0; q < 4; ++q) {
        const __m256 negative = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 8 * q), zero, _CMP_NGE_UQ);
        bits |= static_cast<std::uint32_t>(_mm256_movemask_ps(negative)) << (8 * q);
      }
      words[i / 32] = bits;
    }
    if (i < n) {
      std::uint32_t bits = 0;
      for (std::size_t t = 0; i + t < n; ++t) bits |= static_cast<std::uint32_t>(::mote::Binary::negative(x[i + t])) << t;
      words[i / 32] = bits;
    }
  }

  // ---- f32 activations: lanes are rows, as in VecF32
  using Words = __m256i;
  static inline __attribute__((always_inline)) Words load_words(const std::uint32_t* p) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(p));
  }
  static inline __attribute__((always_inline)) Words shift_left(Words w, unsigned n) {
    return _mm256_sll_epi32(w, _mm_cvtsi32_si128(static_cast<int>(n)));
  }
  static inline __attribute__((always_inline)) Words twice(Words w) { return _mm256_add_epi32(w, w); }
  /// Lane-wise table[w & 7] (vpermps reads the low 3 bits), then the next 3 columns' bits.
  static inline __attribute__((always_inline)) VecF32 lookup(const float* table, Words w) {
    return {_mm256_permutevar8x32_ps(_mm256_load_ps(table), w)};
  }
  static inline __attribute__((always_inline)) Words next_lookup(Words w) { return _mm256_srli_epi32(w, 3); }
  /// Lane-wise: neg_x where w's top bit is set (weight -1), else x. vblendvps reads that bit.
  static inline __attribute__((always_inline)) VecF32 flip(VecF32 x, VecF32 neg_x, Words w) {
    return {_mm256_blendv_ps(x.v, neg_x.v, _mm256_castsi256_ps(w))};
  }
};

}  // namespace mote::simd::avx2
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_BINARY_HPP_
// ----- end mote/arch/x86/avx2_binary.hpp -----
// ----- begin mote/arch/x86/avx2_codebook.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_CODEBOOK_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_CODEBOOK_HPP_
// AVX2 codebook lookup primitives (contract: kernels/dense/codebook-inl.hpp). No include guard
// on purpose: included by arch/targets.hpp inside the avx2 target region.
// vpermps picks 8 floats from an 8-entry table held in one register by the low 3 bits of each
// 32-bit index lane. Half a chunk (8 indices, Bits bytes) is broadcast to every lane and shifted
// by vpsrlvd so that lane i holds index i in its low bits; the bits above are ignored by vpermps,
// which is why a 4-entry table is stored twice. 16 entries: two permutes (entries 0-7, 8-15)
// and vblendvps on the index's top bit, moved to the sign bit by vpsllvd.
#if !defined(MOTE_ARCH_X86_AVX2_CODEBOOK)
#define MOTE_ARCH_X86_AVX2_CODEBOOK
namespace mote::simd::avx2 {

template <std::size_t Bits>
struct CodebookOps {
  static constexpr std::size_t gemv_rows = 4;
  static constexpr std::size_t gemm_rows = 4;
  static constexpr std::size_t gemm_samples = 3;
  /// Entries 0-7 (a 4-entry table twice) and 8-15.
  struct Table {
    __m256 low, high;
  };
  static inline __attribute__((always_inline)) Table prepare(const float* entries) {
    if constexpr (Bits == 2) {
      const __m256 twice = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(entries));
      return {twice, twice};
    } else if constexpr (Bits == 3) {
      const __m256 all = _mm256_loadu_ps(entries);
      return {all, all};
    } else {
      return {_mm256_loadu_ps(entries), _mm256_loadu_ps(entries + 8)};
    }
  }
  /// The 16 weights of a chunk, in column order: w[0] columns 0-7, w[1] 8-15.
  static inline __attribute__((always_inline)) void lookup(const Table& table, const std::uint8_t* chunk,
                                                           VecF32 (&w)[2]) {
    constexpr int b = static_cast<int>(Bits);
    const __m256i shifts = _mm256_setr_epi32(0, b, 2 * b, 3 * b, 4 * b, 5 * b, 6 * b, 7 * b);
    for (int half = 0; half < 2; ++half) {
      std::uint32_t word;
      std::memcpy(&word, chunk + half * b, sizeof(word));  // 8 indices, and bits beyond them
      const __m256i packed = _mm256_set1_epi32(static_cast<int>(word));
      const __m256i index = _mm256_srlv_epi32(packed, shifts);
      __m256 value = _mm256_permutevar8x32_ps(table.low, index);
      if constexpr (Bits == 4) {
        const __m256i top = _mm256_sllv_epi32(packed, _mm256_setr_epi32(28, 24, 20, 16, 12, 8, 4, 0));
        value = _mm256_blendv_ps(value, _mm256_permutevar8x32_ps(table.high, index), _mm256_castsi256_ps(top));
      }
      w[half] = {value};
    }
  }
};

}  // namespace mote::simd::avx2
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX2_CODEBOOK_HPP_
// ----- end mote/arch/x86/avx2_codebook.hpp -----
#define MOTE_SIMD_NS avx2
#define MOTE_SIMD_TAG Avx2
#define MOTE_SIMD_HAS_INT4
// ----- begin mote/kernels/simd-inl.hpp -----
// The SIMD kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA, inside that ISA's target region, with MOTE_SIMD_NS (namespace and vector type
// name, e.g. avx2) and MOTE_SIMD_TAG (ISA tag, e.g. Avx2) defined. The op files included here
// hold code only (no #include): they are written once against `Vec`, the ISA's vector of floats.

// Register tiles are arrays indexed by loops of compile-time length; they must be unrolled for
// the arrays to live in registers, which GCC does at -O3 but not at -O2 (measured: pointwise
// conv 3.4x slower at -O2 without this).
#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Vec = ::mote::simd::MOTE_SIMD_NS::VecF32;
using ::mote::kernels::WindowGeometry;
using DenseF32 = ::mote::WeightMatrix<::mote::F32, ::mote::DenseStorage>;

// ----- begin mote/kernels/elementwise/simd-inl.hpp -----
// ----- begin mote/kernels/elementwise/math-inl.hpp -----
// Vector math for the element-wise kernels: exp, sigmoid, tanh, erf, written once against `Vec`.
// Code only (no #include, no #pragma once): elementwise/simd-inl.hpp includes it, so it is
// expanded once per ISA inside that ISA's namespace and target region (see arch/targets.hpp).
// The functions live in a nested namespace `math` so that they never hide std::exp and friends
// from the other kernel files compiled into the same per-ISA namespace.
//
// Accuracy. "Measured" is the maximum over every 11th float of the range (about 2e8 inputs
// per function), on AVX2 (with FMA) and SSE4 (Vec::fma is a multiply then an add there),
// against glibc's expf/erff/tanhf (which the scalar reference kernels call) and against the
// true value (double precision); the tests (tests/unit/kernels/test_elementwise_simd.cpp)
// hold every ISA to the bounds in brackets and print their own maxima.
//
//   exp      measured 1 ulp from glibc (AVX2 and SSE4) on [-110, 90], denormal results
//            included (counted in denormal ulps); 1.005 ulp (AVX2), 0.98 ulp (SSE4) from the
//            true value on normal results. [2 ulp]
//            x > 88.7228 gives +inf, x < -103.97 and -inf give +0, NaN gives NaN.
//            Why: Cephes' expf (S. L. Moshier): n = round(x log2 e), r = x - n ln 2 with ln 2 in
//            two parts (n * 0.693359375 is exact: 9-bit constant, |n| <= 152), |r| <= ln(2)/2;
//            e^r = 1 + r + r^2 P(r), degree-5 P whose float coefficients are within 2.7e-9
//            relative of e^r on that range, so the result's error is the last few roundings
//            (about 1 ulp). Then y * 2^n with the power split in two factors 2^h 2^(n-h), each a
//            normal float for n in [-152, 129] (the clamped input range): the first product is
//            exact, the second exact or rounded once into the denormals (or to +inf).
//   sigmoid  1 / (1 + exp(-x)), the reference's formula: measured 4 ulp from the reference,
//            2.47 ulp from the true value (the reference is 2.47 ulp off too: where e^-x is
//            near 2^24, 1 + e rounds by up to 1/2 ulp of e, on top of exp's and the division's
//            errors; the two err in either direction). [6 ulp]
//   tanh     measured 2 ulp from glibc, 1.32 ulp from the true value (glibc's tanhf: 2.17).
//            Cephes' tanhf: |x| < 0.625: x + x^3 P(x^2), degree-4 P (8.6e-9 relative error
//            of the result); else 1 - 2 / (exp(2|x|) + 1) with the sign of x: exp's error is
//            damped by 2/(e+1) <= 0.45 and the result is >= 0.555 (no cancellation).
//            tanh(+-inf) = +-1 (exp overflows, 2/inf = 0), tanh(-0) = -0, NaN gives NaN. [4 ulp]
//   erf      measured 1 ulp from glibc, 1.08 ulp (AVX2) / 1.27 ulp (SSE4) from the true value.
//            Fitted for mote (mpmath, Chebyshev nodes, coefficients rounded to float):
//            |x| < 1: x + x P(x^2), degree-6 P (approximation error 1.3e-9 absolute on
//            (erf(x) - x)/x); 1 <= |x| < 3.9375: 1 - exp(-x^2 + G(x - 2.46875)), degree-8 G
//            fitting log(erfc(x)) + x^2 to 1.3e-8 absolute, i.e. relative on erfc <= 0.157:
//            at most 2e-9 absolute on erf; |x| >= 3.9375 gives exactly +-1 (erfc(3.9375) =
//            2.6e-8 < 2^-25: erf rounds to 1 there). erf(+-inf) = +-1, NaN gives NaN. [2 ulp]
//   GELU     (elementwise/simd-inl.hpp) 0.5 x (1 + erf(x / sqrt 2)), the reference's formula:
//            measured |d| <= 1.0 (ulp(reference) + |x| 2^-24): for x < 0, 1 + erf cancels, so
//            erf's 1-ulp error near -1 (2^-24) is 0.5 |x| 2^-24 absolute in the result.
//            [2 (ulp(reference) + |x| 2^-24)]

namespace math {

/// e^x. See the table above for its accuracy and special values.
inline Vec exp(Vec x) noexcept {
  // Clamping keeps n in [-152, 129]: 89 still overflows to +inf, -105 still underflows to +0.
  // Compare-and-select (not min/max) so that NaN passes through on every ISA.
  const Vec hi = Vec::broadcast(89.0f), lo = Vec::broadcast(-105.0f);
  x = Vec::select(Vec::greater(x, hi), hi, x);
  x = Vec::select(Vec::less(x, lo), lo, x);
  const Vec n = Vec::round_nearest(x * Vec::broadcast(1.44269504088896341f));
  Vec r = Vec::fma(n, Vec::broadcast(-0.693359375f), x);  // exact: 9-bit constant, |n| <= 152
  r = Vec::fma(n, Vec::broadcast(2.12194440e-4f), r);     // ln 2 = 0.693359375 - 2.12194440e-4
  Vec p = Vec::broadcast(1.9875691500e-4f);
  p = Vec::fma(p, r, Vec::broadcast(1.3981999507e-3f));
  p = Vec::fma(p, r, Vec::broadcast(8.3334519073e-3f));
  p = Vec::fma(p, r, Vec::broadcast(4.1665795894e-2f));
  p = Vec::fma(p, r, Vec::broadcast(1.6666665459e-1f));
  p = Vec::fma(p, r, Vec::broadcast(5.0000001201e-1f));
  const Vec y = Vec::fma(p, r * r, r) + Vec::broadcast(1.0f);
  // 2^n = 2^h * 2^(n-h) with h = round(n/2): both factors within pow2's [-126, 127]. A NaN input
  // gives a NaN y, and NaN times whatever pow2 makes of NaN is NaN.
  const Vec h = Vec::round_nearest(n * Vec::broadcast(0.5f));
  return (y * Vec::pow2(h)) * Vec::pow2(n - h);
}

/// 1 / (1 + e^-x), the scalar reference's formula: sigmoid(-inf) = 0, sigmoid(+inf) = 1.
inline Vec sigmoid(Vec x) noexcept {
  const Vec one = Vec::broadcast(1.0f);
  return one / (one + exp(Vec::broadcast(-0.0f) - x));
}

/// tanh(x): odd, +-1 at +-inf, -0 at -0.
inline Vec tanh(Vec x) noexcept {
  const Vec a = Vec::abs(x);
  const Vec s = a * a;
  Vec p = Vec::broadcast(-5.70498872745e-3f);
  p = Vec::fma(p, s, Vec::broadcast(2.06390887954e-2f));
  p = Vec::fma(p, s, Vec::broadcast(-5.37397155531e-2f));
  p = Vec::fma(p, s, Vec::broadcast(1.33314422036e-1f));
  p = Vec::fma(p, s, Vec::broadcast(-3.33332819422e-1f));
  const Vec small = Vec::fma(p * s, a, a);
  // exp(2a) = +inf for a > 44.4 (and a = +inf): 2 / inf = 0, the result 1. NaN stays NaN.
  const Vec one = Vec::broadcast(1.0f);
  const Vec large = one - Vec::broadcast(2.0f) / (exp(a + a) + one);
  return Vec::copysign(Vec::select(Vec::less(a, Vec::broadcast(0.625f)), small, large), x);
}

/// erf(x): odd, +-1 for |x| >= 3.9375 and at +-inf.
inline Vec erf(Vec x) noexcept {
  const Vec a = Vec::abs(x);
  // |x| < 1: a + a P(a^2).
  const Vec s = a * a;
  Vec p = Vec::broadcast(7.875874871e-05f);
  p = Vec::fma(p, s, Vec::broadcast(-8.016864303e-04f));
  p = Vec::fma(p, s, Vec::broadcast(5.189087242e-03f));
  p = Vec::fma(p, s, Vec::broadcast(-2.685421146e-02f));
  p = Vec::fma(p, s, Vec::broadcast(1.128359437e-01f));
  p = Vec::fma(p, s, Vec::broadcast(-3.761262596e-01f));
  p = Vec::fma(p, s, Vec::broadcast(1.283791661e-01f));
  const Vec small = Vec::fma(a, p, a);
  // 1 <= |x|: 1 - erfc, erfc = exp(-b^2 + G(b - 2.46875)), b = min(a, 3.9375) (NaN stays).
  const Vec limit = Vec::broadcast(3.9375f);
  const Vec b = Vec::select(Vec::greater(a, limit), limit, a);
  const Vec v = b - Vec::broadcast(2.46875f);  // exact (Sterbenz-like: same binade spacing)
  Vec g = Vec::broadcast(1.663424086e-06f);
  g = Vec::fma(g, v, Vec::broadcast(-1.370350310e-05f));
  g = Vec::fma(g, v, Vec::broadcast(8.014721243e-05f));
  g = Vec::fma(g, v, Vec::broadcast(-4.349613737e-04f));
  g = Vec::fma(g, v, Vec::broadcast(2.232213970e-03f));
  g = Vec::fma(g, v, Vec::broadcast(-1.113328803e-02f));
  g = Vec::fma(g, v, Vec::broadcast(5.713705719e-02f));
  g = Vec::fma(g, v, Vec::broadcast(-3.562194109e-01f));
  g = Vec::fma(g, v, Vec::broadcast(-1.545738816e+00f));
  const Vec large = Vec::broadcast(1.0f) - exp(Vec::fma(Vec::broadcast(-0.0f) - b, b, g));
  return Vec::copysign(Vec::select(Vec::less(a, Vec::broadcast(1.0f)), small, large), x);
}

}  // namespace math
// ----- end mote/kernels/elementwise/math-inl.hpp -----
// Element-wise kernels for one ISA: activations, per-channel affine map, addition, softmax.
// Code only: included per ISA by kernels/simd-inl.hpp (namespace and `Vec` given there); the
// include above is code only too (vector exp/sigmoid/tanh/erf in namespace `math`).
//
// Semantics are those of the scalar functors (elementwise/activations.hpp) lane by lane:
// comparisons are written as selects on `x < 0` / `x > 6` so that NaN propagates (a NaN lane
// fails both comparisons and keeps x) and -0 stays -0, exactly as `x < 0 ? 0 : x` does.
// Identity, ReLU, ReLU6, LeakyReLU, HardSwish and add are bit-exact with the reference; the
// transcendental ones are within the bounds documented in math-inl.hpp.

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
// ----- end mote/kernels/elementwise/simd-inl.hpp -----
// ----- begin mote/kernels/dense/simd-inl.hpp -----
// Dense (GEMV) on 16-row weight panels: each input value is broadcast and multiplied into the
// 16 output channels of the panel. Several input columns are accumulated in separate registers
// (`streams`) so that 8 FMAs are in flight, enough to cover FMA latency on 2 pipes; they are
// summed at the end, which is the only reordering compared with the scalar reference.
// Code only: included per ISA by kernels/simd-inl.hpp (namespace and `Vec` given there).

namespace dense_detail {

constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
// Accumulator registers for a GEMM tile: 24 of 32 (AVX-512), 12 of 16 (AVX2, SSE4, NEON).
constexpr std::size_t accumulators = Vec::lanes == 16 ? 24 : 12;
constexpr std::size_t tile_rows = accumulators / per_panel > 0 ? accumulators / per_panel : 1;

/// Rows [0, Rows) of `in` times one panel: each weight vector is loaded once per k and reused
/// by every row of the tile.
template <std::size_t Rows, class Activation>
inline void gemm_tile(const DenseF32& weights, std::size_t p, const float* bias, const float* in, float* out,
                      Activation activation) noexcept {
  const std::size_t cols = weights.cols();
  const float* panel = weights.panel(p);
  Vec acc[Rows][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t k = 0; k < cols; ++k) {
    Vec w[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load(panel + k * DenseF32::panel_rows + j * Vec::lanes);
    MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
      const Vec x = Vec::broadcast(in[i * cols + k]);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
    }
  }
  const std::size_t first_row = p * DenseF32::panel_rows;
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      const std::size_t row = first_row + j * Vec::lanes;
      const Vec sum = apply(activation, acc[i][j] + Vec::load(bias + row));
      float* destination = out + i * weights.rows() + row;
      if (row + Vec::lanes <= weights.rows()) sum.store(destination);
      else if (row < weights.rows()) sum.store_partial(destination, weights.rows() - row);
    }
  }
}

}  // namespace dense_detail

/// GEMM: `batch` input rows times the panels, tile_rows rows at a time. The panel (16 x cols)
/// stays in L1/L2 while every tile of rows streams past it.
template <class Activation>
inline void dense_batch(const DenseF32& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation) noexcept {
  using namespace dense_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile_rows <= batch; b += tile_rows) gemm_tile<tile_rows>(weights, p, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
  }
}

/// Activations costing a few instructions are applied to each accumulator before it is stored;
/// transcendental ones (tanh, sigmoid, GELU) run as a separate pass over the finished outputs,
/// where consecutive vectors are independent and overlap (W2's tanh layers: 70 -> 30 ns).
template <class Activation>
constexpr bool cheap_epilogue_v = std::is_same_v<Activation, ::mote::activation::Identity> ||
                                  std::is_same_v<Activation, ::mote::activation::Relu> ||
                                  std::is_same_v<Activation, ::mote::activation::Relu6>;

template <class Activation>
inline void dense(const DenseF32& weights, const float* bias, const float* in, float* out,
                  Activation activation) noexcept {
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
    return;
  }
  constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
  constexpr std::size_t streams = per_panel >= 8 ? 1 : 8 / per_panel;
  const std::size_t cols = weights.cols();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const float* panel = weights.panel(p);
    Vec acc[streams][per_panel];
    MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::zero();
    std::size_t k = 0;
    for (; k + streams <= cols; k += streams) {
      MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s) {
        const Vec x = Vec::broadcast(in[k + s]);
        const float* column = panel + (k + s) * DenseF32::panel_rows;
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j)
          acc[s][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[s][j]);
      }
    }
    for (; k < cols; ++k) {
      const Vec x = Vec::broadcast(in[k]);
      const float* column = panel + k * DenseF32::panel_rows;
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[0][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[0][j]);
    }
    const std::size_t first_row = p * DenseF32::panel_rows;
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      Vec sum = acc[0][j];
      MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sum = sum + acc[s][j];
      sum = apply(activation, sum + Vec::load(bias + first_row + j * Vec::lanes));
      const std::size_t row = first_row + j * Vec::lanes;
      if (row + Vec::lanes <= weights.rows()) sum.store(out + row);
      else if (row < weights.rows()) sum.store_partial(out + row, weights.rows() - row);
    }
  }
}
// ----- end mote/kernels/dense/simd-inl.hpp -----
// ----- begin mote/kernels/dense/half-inl.hpp -----
// Dense (GEMV, GEMM) with bf16 / f16 weights, computed in f32: the f32 kernels' structure
// (dense/simd-inl.hpp: k-streams for the GEMV, register tiles for the GEMM) with each panel
// column widened from 16 bits as it is loaded, so a memory-bound GEMV streams half the bytes.
// Widening is exact (Vec::load_bf16 / load_f16): the only reordering compared with the scalar
// reference (half_reference.hpp) is the f32 kernels' one.
// Where Vec has load_bf16_even_odd (AVX2, SSE4), bf16 columns are loaded two vectors at a time
// with rows de-interleaved (even rows in one register, odd in the next): half the instructions
// of two load_bf16. The accumulators then hold rows in that order, restored once per panel.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp, whose
// cheap_epilogue_v and activate it reuses.

namespace dense_half_detail {

constexpr std::size_t panel_rows = DenseF32::panel_rows;
constexpr std::size_t per_panel = panel_rows / Vec::lanes;
constexpr std::size_t tile_rows = dense_detail::tile_rows;

template <class V>
concept LoadsBf16EvenOdd = requires(const std::uint16_t* p, V& v) {
  V::load_bf16_even_odd(p, v, v);
  V::interleave_even_odd(v, v, v, v);
};
template <class Format>
constexpr bool even_odd_v = std::is_same_v<Format, ::mote::BF16> && per_panel % 2 == 0 && LoadsBf16EvenOdd<Vec>;

/// The 16 weights of one panel column as per_panel vectors of f32 (rows de-interleaved in
/// pairs of vectors when even_odd_v). V is Vec, a template parameter so that the branches an
/// ISA lacks are discarded.
template <class Format, class V>
inline void load_column(const std::uint16_t* column, V (&w)[per_panel]) noexcept {
  if constexpr (even_odd_v<Format>) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; j += 2)
      V::load_bf16_even_odd(column + j * Vec::lanes, w[j], w[j + 1]);
  } else if constexpr (std::is_same_v<Format, ::mote::BF16>) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load_bf16(column + j * Vec::lanes);
  } else {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load_f16(column + j * Vec::lanes);
  }
}

/// Puts sums accumulated from load_column's vectors back in row order.
template <class Format, class V>
inline void restore_rows(V (&sums)[per_panel]) noexcept {
  if constexpr (even_odd_v<Format>)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; j += 2)
      V::interleave_even_odd(sums[j], sums[j + 1], sums[j], sums[j + 1]);
}

/// bias + sums (in row order), activated, stored to rows [first_row, first_row + 16) of `out`
/// that exist.
template <class Activation>
inline void store_panel(const Vec (&sums)[per_panel], std::size_t first_row, std::size_t rows, const float* bias,
                        float* out, Activation activation) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    const std::size_t row = first_row + j * Vec::lanes;
    const Vec sum = apply(activation, sums[j] + Vec::load(bias + row));
    if (row + Vec::lanes <= rows) sum.store(out + row);
    else if (row < rows) sum.store_partial(out + row, rows - row);
  }
}

/// Rows [0, Rows) of `in` times one panel: each column is widened once and reused by every row
/// of the tile.
template <std::size_t Rows, class Format, class Activation>
inline void gemm_tile(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, std::size_t p,
                      const float* bias, const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols();
  const std::uint16_t* panel = weights.panel(p);
  Vec acc[Rows][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t k = 0; k < cols; ++k) {
    Vec w[per_panel];
    load_column<Format>(panel + k * panel_rows, w);
    MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
      const Vec x = Vec::broadcast(in[i * cols + k]);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
    restore_rows<Format>(acc[i]);
    store_panel(acc[i], p * panel_rows, weights.rows(), bias, out + i * weights.rows(), activation);
  }
}

}  // namespace dense_half_detail

/// GEMM: `batch` input rows times the panels, tile_rows rows at a time (as for f32).
template <::mote::HalfFloatFormat Format, class Activation>
inline void dense_batch(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation) noexcept {
  using namespace dense_half_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile_rows <= batch; b += tile_rows)
      gemm_tile<tile_rows>(weights, p, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
  }
}

/// GEMV: per panel, `streams` input columns accumulate in separate registers (8 FMAs in
/// flight), summed at the end; transcendental activations run as a second pass (as for f32).
template <::mote::HalfFloatFormat Format, class Activation>
inline void dense(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation) noexcept {
  using namespace dense_half_detail;
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
    return;
  }
  constexpr std::size_t streams = per_panel >= 8 ? 1 : 8 / per_panel;
  const std::size_t cols = weights.cols();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const std::uint16_t* panel = weights.panel(p);
    Vec acc[streams][per_panel];
    MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::zero();
    std::size_t k = 0;
    for (; k + streams <= cols; k += streams) {
      MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s) {
        const Vec x = Vec::broadcast(in[k + s]);
        Vec w[per_panel];
        load_column<Format>(panel + (k + s) * panel_rows, w);
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::fma(x, w[j], acc[s][j]);
      }
    }
    for (; k < cols; ++k) {
      const Vec x = Vec::broadcast(in[k]);
      Vec w[per_panel];
      load_column<Format>(panel + k * panel_rows, w);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[0][j] = Vec::fma(x, w[j], acc[0][j]);
    }
    Vec sums[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      sums[j] = acc[0][j];
      MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sums[j] = sums[j] + acc[s][j];
    }
    restore_rows<Format>(sums);
    store_panel(sums, p * panel_rows, weights.rows(), bias, out, activation);
  }
}
// ----- end mote/kernels/dense/half-inl.hpp -----
// ----- begin mote/kernels/dense/binary-inl.hpp -----
// Dense with binary weights (layout/dense_binary.hpp; semantics: numeric/binary.hpp), written
// once against the ISA's BinaryOps (arch/<family>/<isa>_binary.hpp) and, for f32 activations,
// its Vec. Per 16-row panel, each 32-column group of sign words is loaded once:
//  * binary activations (dense_xnor): the input's signs are packed to words (BinaryOps::
//    pack_signs) in scratch; each group is XORed with one input word and its bits counted per
//    row (BinaryOps::add; byte counts flushed to int32 every flush_every groups). Exact
//    integers, then the scalar epilogue every ISA shares (binary_reference.hpp): bit-exact.
//    Batches: xnor_tile samples share each group load.
//  * f32 activations (dense, dense_batch): no float weight is materialised, and nothing is
//    multiplied until the scale (applied once, with the bias). Two ways, chosen per ISA:
//    - sign flips (SSE4, NEON): the group's words (one lane per row, like Vec) are shifted so
//      that column t's bit is each lane's top bit, and BinaryOps::flip turns the broadcast x_t
//      into -x_t in the lanes where it is set (a blend on the sign bit, or an XOR into x's
//      sign bit), then adds: 3 vector ops per column and Vec.
//    - table lookups (AVX2, AVX-512: BinaryOps::lookup, a lane-wise variable permute): for
//      each run of log2(lanes) columns the input's table holds the signed sums of all sign
//      patterns, and each lane picks its row's entry: 3 ops per 3 (AVX2) or 4 (AVX-512)
//      columns; on Zen 3 (AVX2), 1024x1024: 2.1x (GEMV) and 2.4x (GEMM) faster than flips.
//    Column streams (or the samples of a GEMM tile) accumulate in separate registers; both
//    only reorder the reference's sum of the terms +-x_k.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp (whose
// cheap_epilogue_v and activate it reuses), and a second time, XNOR part only
// (MOTE_BINARY_XNOR_ONLY, no Vec there), by arch/targets.hpp for AVX-512 VPOPCNTDQ.

using BinaryOps = ::mote::simd::MOTE_SIMD_NS::BinaryOps;

namespace dense_binary_detail {

constexpr std::size_t panel_rows = ::mote::kernels::BinaryMatrix::panel_rows;
constexpr std::size_t group_cols = ::mote::kernels::BinaryMatrix::group_cols;

/// Samples [0, Tile) (their sign words `stride` words apart) times panel p.
template <std::size_t Tile, class Activation>
inline void xnor_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const std::uint32_t* x_words,
                      std::size_t stride, const float* bias, float* out, Activation activation) noexcept {
  const std::size_t groups = weights.group_count(), rows = weights.rows();
  const std::uint32_t* panel = weights.panel(p);
  BinaryOps::Counts counts[Tile];
  MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) counts[i] = BinaryOps::counts_zero();
  for (std::size_t g = 0; g < groups;) {
    const std::size_t end = groups - g > BinaryOps::flush_every ? g + BinaryOps::flush_every : groups;
    BinaryOps::Partial partial[Tile];
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) partial[i] = BinaryOps::partial_zero();
    for (; g < end; ++g) {
      const BinaryOps::Group w = BinaryOps::load_group(panel + g * panel_rows);
      MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::add(partial[i], w, x_words[i * stride + g]);
    }
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::flush(partial[i], counts[i]);
  }
  const std::size_t first = p * panel_rows;
  const std::size_t count = rows - first < panel_rows ? rows - first : panel_rows;
  const auto cols = static_cast<std::int32_t>(weights.cols());
  for (std::size_t i = 0; i < Tile; ++i) {
    alignas(64) std::int32_t dots[panel_rows];
    BinaryOps::store(counts[i], dots);
    for (std::size_t r = 0; r < count; ++r) dots[r] = cols - 2 * dots[r];
    ::mote::kernels::binary_xnor_epilogue(weights, bias, dots, first, count, out + i * rows, activation);
  }
}

}  // namespace dense_binary_detail

/// Binary activations: `batch` samples binarised into `scratch` (binary_xnor_scratch_bytes per
/// sample), XNOR-popcount per panel, the shared scalar epilogue. Where BinaryOps names a
/// better build of this kernel for the running CPU (AVX-512 VPOPCNTDQ), that one runs instead.
template <class Activation, class Ops = BinaryOps>
inline void dense_xnor(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                       std::size_t batch, Activation activation, std::byte* scratch) noexcept {
  if constexpr (requires { Ops::use_vpopcntdq(); }) {
    if (Ops::use_vpopcntdq()) return Ops::dense_xnor_vpopcntdq(weights, bias, in, out, batch, activation, scratch);
  }
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::size_t stride = ::mote::kernels::binary_xnor_scratch_bytes(cols) / sizeof(std::uint32_t);
  auto* words = reinterpret_cast<std::uint32_t*>(scratch);
  for (std::size_t b = 0; b < batch; ++b) BinaryOps::pack_signs(in + b * cols, cols, words + b * stride);
  constexpr std::size_t tile = BinaryOps::xnor_tile;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile <= batch; b += tile)
      xnor_tile<tile>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
    for (; b < batch; ++b) xnor_tile<1>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
  }
}

#if !defined(MOTE_BINARY_XNOR_ONLY)

namespace dense_binary_detail {

constexpr std::size_t per_panel = panel_rows / Vec::lanes;
/// Independent accumulators per panel: 8 vector adds in flight (4 cycles of latency on 2
/// pipes), from column streams of one sample or from the samples of a GEMM tile.
constexpr std::size_t chains = per_panel >= 8 ? 1 : 8 / per_panel;

/// The group's words (one BinaryOps::Words per Vec of rows), shifted left by `shift`.
inline void load_words(const std::uint32_t* group, unsigned shift, BinaryOps::Words (&w)[per_panel]) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    w[j] = BinaryOps::load_words(group + j * Vec::lanes);
    if (shift != 0) w[j] = BinaryOps::shift_left(w[j], shift);
  }
}

/// scale * sums + bias, activated, stored to the rows of panel p that exist.
template <class Activation>
inline void store_panel(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const Vec (&sums)[per_panel],
                        const float* bias, float* out, Activation activation) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    const std::size_t row = p * panel_rows + j * Vec::lanes;
    const Vec y = apply(activation, Vec::fma(sums[j], Vec::load(weights.scales() + row), Vec::load(bias + row)));
    if (row + Vec::lanes <= weights.rows()) y.store(out + row);
    else if (row < weights.rows()) y.store_partial(out + row, weights.rows() - row);
  }
}

// ---- sign flips: each column's bit moved to the top of each lane (BinaryOps::flip) ------------

/// acc[j] += +-x (per row, by the top bits of w[j]); then, if `advance`, moves the next
/// column's bits up.
inline void accumulate_column(float x, BinaryOps::Words (&w)[per_panel], Vec (&acc)[per_panel],
                              bool advance = true) noexcept {
  const Vec pos = Vec::broadcast(x), neg = Vec::broadcast(-x);
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    acc[j] = acc[j] + BinaryOps::flip(pos, neg, w[j]);
    if (advance) w[j] = BinaryOps::twice(w[j]);
  }
}

/// GEMV: the 32 columns of a group go round-robin to `chains` accumulators, summed at the end.
template <class Activation>
inline void flip_gemv(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                      Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const std::uint32_t* panel = weights.panel(p);
    Vec acc[chains][per_panel];
    MOTE_UNROLL for (std::size_t c = 0; c < chains; ++c)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[c][j] = Vec::zero();
    for (std::size_t g = 0; g < full; ++g) {
      BinaryOps::Words w[per_panel];
      load_words(panel + g * panel_rows, 0, w);
      const float* x = in + g * group_cols;
      MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) accumulate_column(x[group_cols - 1 - t], w, acc[t % chains]);
    }
    if (tail != 0) {
      BinaryOps::Words w[per_panel];
      load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
      const float* x = in + full * group_cols;
      for (std::size_t t = 0; t < tail; ++t) accumulate_column(x[tail - 1 - t], w, acc[0]);
    }
    Vec sums[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      sums[j] = acc[0][j];
      MOTE_UNROLL for (std::size_t c = 1; c < chains; ++c) sums[j] = sums[j] + acc[c][j];
    }
    store_panel(weights, p, sums, bias, out, activation);
  }
}

/// GEMM tile: samples [0, Samples) of `in` times panel p; each group's words are loaded and
/// shifted once for all of them.
template <std::size_t Samples, class Activation>
inline void flip_gemm_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const float* bias,
                           const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  const std::uint32_t* panel = weights.panel(p);
  Vec acc[Samples][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t g = 0; g < full; ++g) {
    BinaryOps::Words w[per_panel];
    load_words(panel + g * panel_rows, 0, w);
    MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + g * group_cols + group_cols - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  if (tail != 0) {
    BinaryOps::Words w[per_panel];
    load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
    for (std::size_t t = 0; t < tail; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + full * group_cols + tail - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    store_panel(weights, p, acc[i], bias, out + i * weights.rows(), activation);
}

// ---- table lookups: per input, the 2^bits signed sums of each `bits` consecutive columns -------

/// Where BinaryOps::lookup exists (a lane-wise variable permute of one Vec: AVX2 vpermps, 8
/// entries, AVX-512 vpermps, 16), `bits` = log2(lanes) columns take one lookup per Vec of rows
/// instead of `bits` sign flips: the table of the input holds, for each pattern e of the
/// columns' sign bits, sum_i (bit i of e ? -x_i : x_i), and each lane indexes it with its row's
/// bits (the low bits of the word, shifted down `bits` after each lookup). Each table entry is
/// a sum of terms +-x_k: still a reordering of the reference's sum. Tables are built per chunk
/// of columns on the stack (8 KiB), partial sums kept in `out` between chunks.
template <class Ops>
concept LooksUp = requires(const float* table, typename Ops::Words w) {
  { Ops::lookup(table, w) } -> std::same_as<Vec>;
  { Ops::next_lookup(w) } -> std::same_as<typename Ops::Words>;
};
constexpr std::size_t lookup_bits = std::bit_width(Vec::lanes) - 1;
constexpr std::size_t lookups_per_group = (group_cols + lookup_bits - 1) / lookup_bits;
constexpr std::size_t table_floats_per_group = lookups_per_group * Vec::lanes;
template <std::size_t Samples>
constexpr std::size_t chunk_groups =
    2048 / (Samples * table_floats_per_group) > 0 ? 2048 / (Samples * table_floats_per_group) : 1;

/// The tables of groups [first, first + count) of input x (columns past `cols` count as 0).
inline void build_tables(const float* x, std::size_t cols, std::size_t first, std::size_t count,
                         float* tables) noexcept {
  // signs[i] lane e: -1 where bit i of e is set.
  alignas(64) static constexpr auto signs = [] {
    std::array<float, lookup_bits * Vec::lanes> s{};
    for (std::size_t i = 0; i < lookup_bits; ++i)
      for (std::size_t e = 0; e < Vec::lanes; ++e) s[i * Vec::lanes + e] = ((e >> i) & 1u) != 0 ? -1.0f : 1.0f;
    return s;
  }();
  for (std::size_t g = 0; g < count; ++g) {
    const std::size_t group_start = (first + g) * group_cols;
    MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
      const std::size_t start = group_start + l * lookup_bits;
      Vec table = Vec::zero();
      MOTE_UNROLL for (std::size_t i = 0; i < lookup_bits; ++i) {
        if (l * lookup_bits + i >= group_cols) continue;  // the last lookup of a group may be shorter
        const float x_k = start + i < cols ? x[start + i] : 0.0f;
        table = Vec::fma(Vec::broadcast(x_k), Vec::load(signs.data() + i * Vec::lanes), table);  // exact product
      }
      table.store(tables + (g * lookups_per_group + l) * Vec::lanes);
    }
  }
}

/// Samples [0, Samples) of `in` times every panel, by table lookups, chunk by chunk of columns.
template <std::size_t Samples, class Activation, class Ops = BinaryOps>
inline void lookup_tile(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        Activation activation) noexcept {
  constexpr std::size_t streams = chains / Samples > 0 ? chains / Samples : 1;
  constexpr std::size_t chunk = chunk_groups<Samples>;
  alignas(64) float tables[Samples][chunk * table_floats_per_group];
  const std::size_t cols = weights.cols(), rows = weights.rows(), groups = weights.group_count();
  for (std::size_t g0 = 0; g0 < groups; g0 += chunk) {
    const std::size_t count = groups - g0 < chunk ? groups - g0 : chunk;
    const bool first_chunk = g0 == 0, last_chunk = g0 + count == groups;
    MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) build_tables(in + i * cols, cols, g0, count, tables[i]);
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      const std::uint32_t* panel = weights.panel(p) + g0 * panel_rows;
      Vec acc[Samples][streams][per_panel];
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            acc[i][s][j] = Vec::zero();
            if (s == 0 && !first_chunk) {  // the partial sums of the previous chunks
              if (row + Vec::lanes <= rows) acc[i][s][j] = Vec::load(out + i * rows + row);
              else if (row < rows) acc[i][s][j] = Vec::load_partial(out + i * rows + row, rows - row);
            }
          }
      for (std::size_t g = 0; g < count; ++g) {
        BinaryOps::Words w[per_panel];
        load_words(panel + g * panel_rows, 0, w);
        const std::size_t table_offset = g * table_floats_per_group;
        MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
          MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
            const float* table = tables[i] + table_offset + l * Vec::lanes;
            MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j)
              acc[i][l % streams][j] = acc[i][l % streams][j] + Ops::lookup(table, w[j]);
          }
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Ops::next_lookup(w[j]);
        }
      }
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
        Vec sums[per_panel];
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
          sums[j] = acc[i][0][j];
          MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sums[j] = sums[j] + acc[i][s][j];
        }
        if (last_chunk) {
          store_panel(weights, p, sums, bias, out + i * rows, activation);
        } else {
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            if (row + Vec::lanes <= rows) sums[j].store(out + i * rows + row);
            else if (row < rows) sums[j].store_partial(out + i * rows + row, rows - row);
          }
        }
      }
    }
  }
}

}  // namespace dense_binary_detail

/// GEMM: `batch` samples, `chains` at a time.
template <class Activation>
inline void dense_batch(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation) noexcept {
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  if constexpr (LooksUp<BinaryOps>) {
    std::size_t b = 0;
    for (; b + chains <= batch; b += chains) lookup_tile<chains>(weights, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) lookup_tile<1>(weights, bias, in + b * cols, out + b * rows, activation);
  } else {
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      std::size_t b = 0;
      for (; b + chains <= batch; b += chains)
        flip_gemm_tile<chains>(weights, p, bias, in + b * cols, out + b * rows, activation);
      for (; b < batch; ++b) flip_gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
    }
  }
}

/// GEMV; transcendental activations run as a second pass (as for f32).
template <class Activation>
inline void dense(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                  Activation activation) noexcept {
  using namespace dense_binary_detail;
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
  } else if constexpr (LooksUp<BinaryOps>) {
    lookup_tile<1>(weights, bias, in, out, activation);
  } else {
    flip_gemv(weights, bias, in, out, activation);
  }
}

#endif  // !MOTE_BINARY_XNOR_ONLY
// ----- end mote/kernels/dense/binary-inl.hpp -----
// ----- begin mote/kernels/dense/codebook-inl.hpp -----
// Dense (GEMV, GEMM) with codebook weights, computed in f32, without ever building the float
// weight matrix: for a tile of rows, each row's table is prepared once in registers
// (CodebookOps::prepare), and for every chunk (16 columns of one row, layout/dense_codebook.hpp)
// the 16 weights are decoded and looked up in registers (CodebookOps::lookup) and multiplied
// into per-row accumulators with the activations (dot-product form: a register permute picks
// from one table, so the lanes of a vector are columns of one row, never rows with different
// tables). Each row's lanes are summed at the end: the only reordering compared with the scalar
// reference (codebook_reference.hpp), within the f32 dot-product bound.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp and
// elementwise/simd-inl.hpp (activate).
//
// Contract of the per-ISA primitives (arch/<family>/<isa>_codebook.hpp), CodebookOps<Bits>:
//   Table / prepare(entries)   a table of 2^Bits ascending floats, ready for lookups
//   lookup(table, chunk, w)    w[j], j < 16 / Vec::lanes: the chunk's weights, in column order
//   gemv_rows                  rows per tile of the GEMV (a divisor of 16)
//   gemm_rows, gemm_samples    rows x samples per register tile of the GEMM

namespace dense_codebook_detail {

constexpr std::size_t group_cols = 16;
constexpr std::size_t per_group = group_cols / Vec::lanes;

template <class Matrix>
using Ops = ::mote::simd::MOTE_SIMD_NS::CodebookOps<Matrix::format::bits>;

/// Lanes of the padding columns (column >= valid of the last group) set to exactly 0, whatever
/// the table holds; the activations there are loaded as 0 too.
inline void clear_padding(Vec (&w)[per_group], std::size_t valid) noexcept {
  alignas(64) static constexpr float column[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const Vec limit = Vec::broadcast(static_cast<float>(valid));
  MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j)
    w[j] = Vec::select(Vec::less(Vec::load(column + j * Vec::lanes), limit), w[j], Vec::zero());
}

/// Activations of columns [g * 16, g * 16 + 16) of one sample; lanes past `valid` are 0.
inline void load_group(const float* x, std::size_t valid, Vec (&v)[per_group]) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j) {
    const std::size_t first = j * Vec::lanes;
    if (first + Vec::lanes <= valid) v[j] = Vec::load(x + first);
    else if (first < valid) v[j] = Vec::load_partial(x + first, valid - first);
    else v[j] = Vec::zero();
  }
}

/// Rows [row, row + Rows) (inside the padded rows) times `Samples` inputs (sample s at
/// in + s * cols): writes bias + dot product, with `Activation` when it is piecewise linear
/// (exact per output), to out[s * rows + r] for the rows that exist.
template <std::size_t Rows, std::size_t Samples, class Matrix, class Activation>
inline void tile(const Matrix& weights, std::size_t row, const float* bias, const float* in, float* out,
                 Activation) noexcept {
  using O = Ops<Matrix>;
  constexpr bool per_channel = Matrix::format::per_channel;
  constexpr std::size_t tables = per_channel ? Rows : 1;
  constexpr std::size_t chunk_bytes = Matrix::chunk_bytes, group_stride = Matrix::panel_rows * chunk_bytes;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::size_t full_groups = cols / group_cols;
  typename O::Table table[tables];
  MOTE_UNROLL for (std::size_t t = 0; t < tables; ++t) table[t] = O::prepare(weights.table(row + t));
  Vec acc[Rows][Samples];
  MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r)
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) acc[r][s] = Vec::zero();
  const std::uint8_t* chunks = weights.chunk(row, 0);
  for (std::size_t g = 0; g < full_groups; ++g, chunks += group_stride) {
    MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
      Vec w[per_group];
      O::lookup(table[per_channel ? r : 0], chunks + r * chunk_bytes, w);
      MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) {
        const float* x = in + s * cols + g * group_cols;
        MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j)
          acc[r][s] = Vec::fma(w[j], Vec::load(x + j * Vec::lanes), acc[r][s]);
      }
    }
  }
  if (full_groups < weights.group_count()) {
    const std::size_t valid = cols - full_groups * group_cols;
    Vec x[Samples][per_group];
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s)
      load_group(in + s * cols + full_groups * group_cols, valid, x[s]);
    MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
      Vec w[per_group];
      O::lookup(table[per_channel ? r : 0], chunks + r * chunk_bytes, w);
      clear_padding(w, valid);
      MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s)
        MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j) acc[r][s] = Vec::fma(w[j], x[s][j], acc[r][s]);
    }
  }
  MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
    if (row + r >= rows) break;
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) {
      const float sum = acc[r][s].reduce_add() + bias[row + r];
      if constexpr (::mote::activation::is_piecewise_linear_v<Activation>)
        out[s * rows + row + r] = Activation::apply(sum);
      else
        out[s * rows + row + r] = sum;
    }
  }
}

/// Rows [row, row + Rows) times samples [0, count), count < Samples.
template <std::size_t Rows, std::size_t Samples, class Matrix, class Activation>
inline void tile_remainder(const Matrix& weights, std::size_t row, const float* bias, const float* in, float* out,
                           std::size_t count, Activation activation) noexcept {
  if constexpr (Samples > 1) {
    if (count == Samples - 1) return tile<Rows, Samples - 1>(weights, row, bias, in, out, activation);
    tile_remainder<Rows, Samples - 1>(weights, row, bias, in, out, count, activation);
  }
}

/// Transcendental activations run as a vectorised pass over the finished outputs.
template <class Activation>
inline void finish(Activation activation, float* out, std::size_t count) noexcept {
  if constexpr (!::mote::activation::is_piecewise_linear_v<Activation>) activate(activation, out, out, count);
}

}  // namespace dense_codebook_detail

/// GEMV: tiles of gemv_rows rows, every column group of each, one sample.
template <std::size_t Bits, class Granularity, class Activation>
inline void dense(const ::mote::WeightMatrix<::mote::Codebook<Bits, Granularity>, ::mote::DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation activation) noexcept {
  using namespace dense_codebook_detail;
  using Matrix = std::remove_cvref_t<decltype(weights)>;
  constexpr std::size_t rows_per_tile = Ops<Matrix>::gemv_rows;
  static_assert(Matrix::panel_rows % rows_per_tile == 0, "a row tile must not straddle two panels");
  for (std::size_t row = 0; row < weights.rows(); row += rows_per_tile)
    tile<rows_per_tile, 1>(weights, row, bias, in, out, activation);
  finish(activation, out, weights.rows());
}

/// GEMM: tiles of gemm_rows rows x gemm_samples samples; a row tile's chunks stay in L1 while
/// the samples stream past them.
template <std::size_t Bits, class Granularity, class Activation>
inline void dense_batch(const ::mote::WeightMatrix<::mote::Codebook<Bits, Granularity>, ::mote::DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation) noexcept {
  using namespace dense_codebook_detail;
  using Matrix = std::remove_cvref_t<decltype(weights)>;
  constexpr std::size_t rows_per_tile = Ops<Matrix>::gemm_rows, samples = Ops<Matrix>::gemm_samples;
  static_assert(Matrix::panel_rows % rows_per_tile == 0, "a row tile must not straddle two panels");
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t row = 0; row < rows; row += rows_per_tile) {
    std::size_t b = 0;
    for (; b + samples <= batch; b += samples)
      tile<rows_per_tile, samples>(weights, row, bias, in + b * cols, out + b * rows, activation);
    if (b < batch)
      tile_remainder<rows_per_tile, samples>(weights, row, bias, in + b * cols, out + b * rows, batch - b, activation);
  }
  finish(activation, out, batch * rows);
}
// ----- end mote/kernels/dense/codebook-inl.hpp -----
// ----- begin mote/kernels/conv2d/simd-inl.hpp -----
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

/// out[0..Pixels) for one panel, pixel i reading its input at in_pixel[i]; taps with a null
/// pointer are padding.
template <std::size_t Pixels, class Activation>
inline void conv_pixels(const WindowGeometry& g, const float* panel, const float* bias, std::size_t oy,
                        std::size_t ox, const float* in, float* out, std::size_t channels_here,
                        Activation activation) noexcept {
  Vec acc[Pixels][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::load(bias + j * Vec::lanes);
  for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
    const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
    if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
    for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
      const float* pixel_in[Pixels];
      bool any = false;
      MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
        const long ix = static_cast<long>((ox + i) * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
        pixel_in[i] = ix < 0 || ix >= static_cast<long>(g.in_w)
                          ? nullptr
                          : in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
        any = any || pixel_in[i] != nullptr;
      }
      if (!any) continue;
      const float* taps = panel + (ky * g.kernel_w + kx) * g.in_c * DenseF32::panel_rows;
      for (std::size_t ic = 0; ic < g.in_c; ++ic) {
        Vec w[per_panel];
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load(taps + ic * DenseF32::panel_rows + j * Vec::lanes);
        MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
          if (Pixels > 1 || pixel_in[i] != nullptr) {
            const Vec x = Vec::broadcast(pixel_in[i][ic]);
            MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
          }
        }
      }
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
    float* out_pixel = out + ((oy * g.out_w) + ox + i) * g.out_c;
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      const std::size_t c = j * Vec::lanes;
      const Vec result = apply(activation, acc[i][j]);
      if (c + Vec::lanes <= channels_here) result.store(out_pixel + c);
      else if (c < channels_here) result.store_partial(out_pixel + c, channels_here - c);
    }
  }
}

}  // namespace conv_detail

template <class Activation>
inline void conv2d(const WindowGeometry& g, const DenseF32& weights, const float* bias, const float* in,
                   float* out, Activation activation) noexcept {
  using namespace conv_detail;
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
    for (; ox < x_begin; ++ox) conv_pixels<1>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    for (; ox + block <= x_end; ox += block)
      conv_pixels<block>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    // The interior's remainder in halving blocks: a lone pixel has too few accumulators to
    // hide FMA latency.
    if constexpr (block >= 4)
      for (; ox + block / 2 <= x_end; ox += block / 2)
        conv_pixels<block / 2>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    if constexpr (block >= 8)
      for (; ox + block / 4 <= x_end; ox += block / 4)
        conv_pixels<block / 4>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    if constexpr (block >= 2)
      for (; ox + 2 <= x_end; ox += 2) conv_pixels<2>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    for (; ox < g.out_w; ++ox) conv_pixels<1>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
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
// ----- end mote/kernels/conv2d/simd-inl.hpp -----
// ----- begin mote/kernels/depthwise/simd-inl.hpp -----
// Depthwise Conv2D (channel multiplier 1) over channels-last input. The 16-row weight panels
// hold, for 16 consecutive channels, tap t at panel[t * 16 ...]: one vector of weights per tap
// and channel group, multiplied with the matching vector of input channels. For each output
// pixel the taps inside the input are listed once, then every channel group runs over them
// without bounds checks.
// Code only: included per ISA by kernels/simd-inl.hpp.

namespace depthwise_detail {

/// Kernels up to 7x7 list their taps on the stack; larger ones use the scalar reference.
constexpr std::size_t max_listed_taps = 49;

template <class Activation>
inline void channels_over_taps(std::size_t channels, const float* const* tap_in, const std::size_t* tap_offset,
                               std::size_t taps, const DenseF32& weights, const float* bias, float* out,
                               Activation activation) noexcept {
  constexpr std::size_t rows = DenseF32::panel_rows;
  std::size_t c = 0;
  // Two channel vectors at a time: two independent FMA chains.
  for (; c + 2 * Vec::lanes <= channels; c += 2 * Vec::lanes) {
    const float* panel0 = weights.panel(c / rows) + c % rows;
    const float* panel1 = weights.panel((c + Vec::lanes) / rows) + (c + Vec::lanes) % rows;
    Vec acc0 = Vec::load(bias + c), acc1 = Vec::load(bias + c + Vec::lanes);
    for (std::size_t t = 0; t < taps; ++t) {
      acc0 = Vec::fma(Vec::load(tap_in[t] + c), Vec::load(panel0 + tap_offset[t]), acc0);
      acc1 = Vec::fma(Vec::load(tap_in[t] + c + Vec::lanes), Vec::load(panel1 + tap_offset[t]), acc1);
    }
    apply(activation, acc0).store(out + c);
    apply(activation, acc1).store(out + c + Vec::lanes);
  }
  for (; c < channels; c += Vec::lanes) {
    const std::size_t lanes = std::min(Vec::lanes, channels - c);
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec x = lanes == Vec::lanes ? Vec::load(tap_in[t] + c) : Vec::load_partial(tap_in[t] + c, lanes);
      acc = Vec::fma(x, Vec::load(panel + tap_offset[t]), acc);
    }
    acc = apply(activation, acc);
    if (lanes == Vec::lanes) acc.store(out + c);
    else acc.store_partial(out + c, lanes);
  }
}

/// Pixels consecutive interior output pixels of one row at once: each weight vector is loaded
/// once per tap for all of them (`pixel_step` = stride * channels between their inputs).
template <std::size_t Pixels, class Activation>
inline void pixels_over_taps(std::size_t channels, const float* const* tap_in, const std::size_t* tap_offset,
                             std::size_t taps, std::size_t pixel_step, const DenseF32& weights, const float* bias,
                             float* out, Activation activation) noexcept {
  constexpr std::size_t rows = DenseF32::panel_rows;
  std::size_t c = 0;
  for (; c + Vec::lanes <= channels; c += Vec::lanes) {
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc[Pixels];
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec w = Vec::load(panel + tap_offset[t]);
      const float* x = tap_in[t] + c;
      MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::fma(Vec::load(x + q * pixel_step), w, acc[q]);
    }
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) apply(activation, acc[q]).store(out + q * channels + c);
  }
  if (c < channels) {
    const std::size_t lanes = channels - c;
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc[Pixels];
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec w = Vec::load(panel + tap_offset[t]);
      const float* x = tap_in[t] + c;
      MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q)
        acc[q] = Vec::fma(Vec::load_partial(x + q * pixel_step, lanes), w, acc[q]);
    }
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) apply(activation, acc[q]).store_partial(out + q * channels + c, lanes);
  }
}

/// Interior pixels per block: 8 accumulators (16 with AVX-512's 32 registers).
constexpr std::size_t pixel_block = Vec::lanes == 16 ? 16 : 8;

}  // namespace depthwise_detail

template <class Activation>
inline void depthwise_conv2d(const WindowGeometry& g, const DenseF32& weights, const float* bias, const float* in,
                             float* out, Activation activation) noexcept {
  using namespace depthwise_detail;
  constexpr std::size_t rows = DenseF32::panel_rows;
  if (g.kernel_h * g.kernel_w > max_listed_taps)
    return ::mote::kernels::depthwise_conv2d(isa::Scalar{}, g, weights, bias, in, out, activation);
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
      const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
      if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
      for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
        const long ix0 = static_cast<long>(kx * g.dilation_w) - static_cast<long>(g.pad_left);
        row_tap_index[row_taps] = (iy * static_cast<long>(g.in_w) + ix0) * static_cast<long>(g.in_c);
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
          pixels_over_taps<pixel_block>(g.out_c, tap_in, row_tap_offset, row_taps, g.stride_w * g.in_c, weights,
                                        bias, out_pixel, activation);
          ox += pixel_block - 1;
        } else {
          channels_over_taps(g.out_c, tap_in, row_tap_offset, row_taps, weights, bias, out_pixel, activation);
        }
        continue;
      }
      std::size_t taps = 0;
      for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
        const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
        if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
        for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
          const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
          if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
          tap_in[taps] = in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
          tap_offset[taps] = (ky * g.kernel_w + kx) * rows;
          ++taps;
        }
      }
      channels_over_taps(g.out_c, tap_in, tap_offset, taps, weights, bias, out_pixel, activation);
    }
  }
}
// ----- end mote/kernels/depthwise/simd-inl.hpp -----
// ----- begin mote/kernels/pool/simd-inl.hpp -----
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
// ----- end mote/kernels/pool/simd-inl.hpp -----

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}
template <class Activation = activation::Identity>
inline void conv2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const WeightMatrix<F32, DenseStorage>& weights,
                   const float* bias, const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::conv2d(g, weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void depthwise_conv2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g,
                             const WeightMatrix<F32, DenseStorage>& weights, const float* bias, const float* in,
                             float* out, Activation activation = {}) noexcept {
  // A channel multiplier above 1 reads input channel o / M for output o: no contiguous vector.
  if (g.out_c != g.in_c) return depthwise_conv2d(isa::Scalar{}, g, weights, bias, in, out, activation);
  MOTE_SIMD_NS::depthwise_conv2d(g, weights, bias, in, out, activation);
}
template <class Activation>
inline void activate(isa::MOTE_SIMD_TAG, Activation activation, const float* in, float* out,
                     std::size_t count) noexcept {
  MOTE_SIMD_NS::activate(activation, in, out, count);
}
inline void channel_affine(isa::MOTE_SIMD_TAG, const float* scale, const float* shift, const float* in, float* out,
                           std::size_t pixels, std::size_t channels) noexcept {
  MOTE_SIMD_NS::channel_affine(scale, shift, in, out, pixels, channels);
}
inline void add(isa::MOTE_SIMD_TAG, const float* a, const float* b, float* out, std::size_t count) noexcept {
  MOTE_SIMD_NS::add(a, b, out, count);
}
inline void softmax(isa::MOTE_SIMD_TAG, const float* in, float* out, std::size_t rows,
                    std::size_t channels) noexcept {
  MOTE_SIMD_NS::softmax(in, out, rows, channels);
}
inline void max_pool2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const float* in, float* out) noexcept {
  MOTE_SIMD_NS::max_pool2d(g, in, out);
}
inline void avg_pool2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const float* in, float* out) noexcept {
  MOTE_SIMD_NS::avg_pool2d(g, in, out);
}
inline void global_avg_pool(isa::MOTE_SIMD_TAG, std::size_t pixels, std::size_t channels, const float* in,
                            float* out) noexcept {
  MOTE_SIMD_NS::global_avg_pool(pixels, channels, in, out);
}

// bf16 / f16 weights (kernels/dense/half-inl.hpp).
template <HalfFloatFormat Format, class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <HalfFloatFormat Format, class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}

// Codebook weights (kernels/dense/codebook-inl.hpp).
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}

// Binary weights (kernels/dense/binary-inl.hpp): f32 activations, and XNOR-popcount with binary
// activations (bit-exact on every ISA; transcendental activations then run as a vector pass).
template <class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}
template <class Activation = activation::Identity>
inline void dense_xnor(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, Activation activation,
                       std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_xnor(weights, bias, in, out, batch, activation, scratch);
  } else {
    MOTE_SIMD_NS::dense_xnor(weights, bias, in, out, batch, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}

}  // namespace mote::kernels
// ----- end mote/kernels/simd-inl.hpp -----
// ----- begin mote/kernels/simd_int8-inl.hpp -----
// The int8 kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA that has integer dot-product primitives (arch/<family>/<isa>_int8.hpp), inside
// that ISA's target region, with MOTE_SIMD_NS and MOTE_SIMD_TAG defined as for simd-inl.hpp.

#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Int8Ops = ::mote::simd::MOTE_SIMD_NS::Int8Ops;
using ::mote::align_up;

// ----- begin mote/kernels/dense/int8-inl.hpp -----
// int8 Dense kernels, written once against `Int8Ops`, the ISA's integer dot-product primitives
// (arch/<family>/<isa>_int8.hpp). Included by kernels/simd_int8-inl.hpp, once per ISA.
//
// Contract of an Int8 primitive set:
//   Act                 the activation code type the ISA multiplies (int16, uint8 or int8)
//   encode(u)           the Act holding code u in [0, 255]
//   activation_offset   what encode subtracts: the kernels see dot_r = sum_k w_rk (u_k - offset)
//   Acc / zero()        accumulators of one 16-row panel
//   Panel / load(g)     one 64-byte group (16 rows x 4 columns) of weights, loaded for reuse
//   madd(acc, w, a)     acc += the products of the group with the 4 codes at a
//   store(acc, out)     the 16 row sums as int32
//   quantize(x, n, ...) float -> Act codes, bit-identical to mote::quantize
//   gemm_cols           samples per register tile in the batched kernel

// One panel of 16 rows times `Cols` samples; codes of sample c at act + c * stride.
// An ISA may provide its own microkernel (Int8Ops::panel_tile) where the compiler does not
// keep this generic one's accumulators in registers.
template <std::size_t Cols, class Ops = Int8Ops>
inline void int8_panel_tile(const std::int8_t* panel, std::size_t groups, const typename Ops::Act* act,
                            std::size_t stride, std::int32_t* dots, std::size_t dots_stride) noexcept {
  if constexpr (requires { Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride); }) {
    return Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
  }
  typename Ops::Acc acc[Cols];
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) acc[c] = Int8Ops::zero();
  for (std::size_t g = 0; g < groups; ++g) {
    const typename Int8Ops::Panel w = Int8Ops::load(panel + g * 64);
    MOTE_UNROLL
    for (std::size_t c = 0; c < Cols; ++c) Int8Ops::madd(acc[c], w, act + c * stride + g * 4);
  }
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) Int8Ops::store(acc[c], dots + c * dots_stride);
}

template <std::size_t Cols = Int8Ops::gemm_cols>
inline void int8_panel_columns(const std::int8_t* panel, std::size_t groups, const Int8Ops::Act* act, std::size_t stride,
                               std::int32_t* dots, std::size_t dots_stride, std::size_t columns) noexcept {
  if constexpr (Cols > 0) {
    for (; columns >= Cols; columns -= Cols, act += Cols * stride, dots += Cols * dots_stride)
      int8_panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
    if (columns > 0) int8_panel_columns<Cols / 2>(panel, groups, act, stride, dots, dots_stride, columns);
  }
}

// An ISA may vectorise the symmetric-weight epilogue (Int8Ops::dequantize_rows), with the same
// operations as int8_dense_epilogue lane by lane.
template <class Ops>
inline constexpr bool int8_has_vector_epilogue = requires(const std::int32_t* i, const float* f, float* o) {
  Ops::dequantize_rows(i, i, 0, 0.0f, f, f, o, std::size_t{0});
};
template <class Ops>
inline std::size_t int8_vector_epilogue(const std::int32_t* dots, const std::int32_t* row_sums, std::int32_t correction,
                                        float input_scale, const float* scales, const float* bias, float* out,
                                        std::size_t rows) noexcept {
  if constexpr (int8_has_vector_epilogue<Ops>)
    return Ops::dequantize_rows(dots, row_sums, correction, input_scale, scales, bias, out, rows);
  else
    return 0;
}

template <class G, class S, class Activation>
inline void dense_int8(const ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>& weights,
                       const float* bias, const float* in, float* out, std::size_t batch,
                       const ::mote::kernels::Int8InputQuant& input, Activation activation,
                       std::byte* scratch) noexcept {
  using Matrix = ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>;
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t groups = padded_cols / 4;
  auto* act = reinterpret_cast<Int8Ops::Act*>(scratch);
  auto* dots = reinterpret_cast<std::int32_t*>(scratch + batch * align_up(padded_cols * sizeof(std::int16_t)));
  const typename Int8Ops::Act padding = Int8Ops::encode(input.params.zero_point);
  for (std::size_t b = 0; b < batch; ++b) {
    Int8Ops::Act* codes = act + b * padded_cols;
    Int8Ops::quantize(in + b * cols, cols, input.params, input.low, input.high, codes);
    for (std::size_t k = cols; k < padded_cols; ++k) codes[k] = padding;
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    int8_panel_columns(weights.panel(p), groups, act, padded_cols, dots + p * 16, padded_rows, batch);
  if constexpr (Matrix::format::symmetric && int8_has_vector_epilogue<Int8Ops>) {
    // Symmetric weights: the epilogue vectorised where the ISA provides it (same operations).
    const std::int32_t correction = Int8Ops::activation_offset - input.params.zero_point;
    for (std::size_t b = 0; b < batch; ++b) {
      float* y = out + b * rows;
      const std::int32_t* d = dots + b * padded_rows;
      std::size_t r = int8_vector_epilogue<Int8Ops>(d, weights.row_sums(), correction, input.params.scale,
                                                    weights.scales(), bias, y, rows);
      for (; r < rows; ++r)
        y[r] = std::fma(static_cast<float>(static_cast<std::int64_t>(d[r]) +
                                           static_cast<std::int64_t>(correction) * weights.row_sum(r)),
                        input.params.scale * weights.scales()[r], bias[r]);
      if constexpr (!std::is_same_v<Activation, ::mote::activation::Identity>)
        for (std::size_t i = 0; i < rows; ++i) y[i] = Activation::apply(y[i]);
    }
    return;
  }
  for (std::size_t b = 0; b < batch; ++b) {
    std::int64_t sum_u = 0;
    if constexpr (!Matrix::format::symmetric)
      for (std::size_t k = 0; k < cols; ++k) sum_u += act[b * padded_cols + k] + Int8Ops::activation_offset;
    ::mote::kernels::int8_dense_epilogue(weights, bias, dots + b * padded_rows, input, Int8Ops::activation_offset, sum_u,
                                         out + b * rows, activation);
  }
}
// ----- end mote/kernels/dense/int8-inl.hpp -----
#if defined(MOTE_SIMD_HAS_INT4)
using Int4Ops = ::mote::simd::MOTE_SIMD_NS::Int4Ops;
// ----- begin mote/kernels/dense/int4-inl.hpp -----
// int4 Dense kernels, written once against `Int4Ops`, the ISA's int4 primitives
// (arch/<family>/<isa>_int4.hpp). Included by kernels/simd_int8-inl.hpp for ISAs that have them.
//   centre(x, n, params, low, high, out)   s = quantize(x) - 128 as int8, bit-identical to mote::quantize
//   panel(packed, scales, blocks, blocks_per_group, act, block_sums, f)   F of one 16-row panel
// Samples run panel by panel so that a panel's packed weights stay in L1 across the batch.

template <std::size_t G, class Activation>
inline void dense_int4(const ::mote::WeightMatrix<::mote::Int4<G>, ::mote::DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const ::mote::kernels::Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols(), blocks = weights.block_count();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t per_sample = align_up(padded_cols) + align_up(blocks * sizeof(std::int32_t));
  auto* f = reinterpret_cast<float*>(scratch + batch * per_sample);
  for (std::size_t b = 0; b < batch; ++b) {
    auto* act = reinterpret_cast<std::int8_t*>(scratch + b * per_sample);
    auto* block_sums = reinterpret_cast<std::int32_t*>(scratch + b * per_sample + align_up(padded_cols));
    Int4Ops::centre(in + b * cols, cols, input.params, input.low, input.high, act);
    for (std::size_t k = cols; k < padded_cols; ++k) act[k] = 0;
    for (std::size_t block = 0; block < blocks; ++block) {
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < 32; ++k) sum += act[block * 32 + k];
      block_sums[block] = sum;
    }
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    for (std::size_t b = 0; b < batch; ++b)
      Int4Ops::panel(weights.panel(p), weights.panel_scales(p, 0), blocks, weights.blocks_per_group(),
                     reinterpret_cast<const std::int8_t*>(scratch + b * per_sample),
                     reinterpret_cast<const std::int32_t*>(scratch + b * per_sample + align_up(padded_cols)),
                     f + b * padded_rows + p * 16);
  for (std::size_t b = 0; b < batch; ++b)
    ::mote::kernels::int4_dense_epilogue(weights, bias, f + b * padded_rows, input, out + b * rows, activation);
}
// ----- end mote/kernels/dense/int4-inl.hpp -----
#endif

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class G, class S, class Activation>
inline void dense_int8(isa::MOTE_SIMD_TAG, const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    // Transcendental activations: the vectorised functions of the ISA (their stated bounds)
    // over the whole output, instead of one libm call per output in the scalar epilogue.
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}

#if defined(MOTE_SIMD_HAS_INT4)
template <std::size_t G, class Activation>
inline void dense_int4(isa::MOTE_SIMD_TAG, const WeightMatrix<Int4<G>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}
#endif

}  // namespace mote::kernels
// ----- end mote/kernels/simd_int8-inl.hpp -----
#undef MOTE_SIMD_HAS_INT4
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END

// GCC 12 builds many AVX-512 intrinsics on _mm512_undefined_*() and then reports its own
// header as (maybe-)uninitialized wherever they are inlined; the warning is about GCC's code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
// VPOPCNTDQ adds only the XNOR-popcount kernel of binary Dense layers, which the AVX-512 one
// hands over to where the CPU has it (arch/x86/avx512_binary.hpp); not an ISA level of its own.
MOTE_TARGET_REGION_BEGIN("avx512f,avx512bw,avx512dq,avx512vl,avx512vpopcntdq,avx2,fma,bmi2,f16c")
// ----- begin mote/arch/x86/avx512_vpopcntdq_binary.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_VPOPCNTDQ_BINARY_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_VPOPCNTDQ_BINARY_HPP_
// AVX-512 VPOPCNTDQ primitives of the XNOR-popcount kernel (contract: kernels/dense/binary-inl.hpp):
// vpopcntd counts each row word's bits in one instruction, so no byte counts to flush. Included
// by arch/targets.hpp inside a region adding avx512vpopcntdq to AVX-512 F/BW/DQ/VL, which builds
// only the XNOR kernel; the AVX-512 one calls it when CPUID says the CPU has VPOPCNTDQ
// (CpuFeatures::avx512_vpopcntdq), and never otherwise. No machine available here has it:
// compiled, never run.
#if !defined(MOTE_ARCH_X86_AVX512_VPOPCNTDQ_BINARY)
#define MOTE_ARCH_X86_AVX512_VPOPCNTDQ_BINARY
namespace mote::simd::avx512_vpopcntdq {

struct BinaryOps {
  static constexpr std::size_t xnor_tile = 8;
  static constexpr std::size_t flush_every = std::size_t{1} << 24;  ///< int32 counts: no flush needed
  struct Group {
    __m512i v;
  };
  struct Partial {
    __m512i v;
  };
  using Counts = Partial;
  static inline __attribute__((always_inline)) Group load_group(const std::uint32_t* p) {
    return {_mm512_load_si512(p)};
  }
  static inline __attribute__((always_inline)) Partial partial_zero() { return {_mm512_setzero_si512()}; }
  static inline __attribute__((always_inline)) Counts counts_zero() { return {_mm512_setzero_si512()}; }
  static inline __attribute__((always_inline)) void add(Partial& acc, const Group& w, std::uint32_t x) {
    acc.v = _mm512_add_epi32(acc.v, _mm512_popcnt_epi32(_mm512_xor_si512(w.v, _mm512_set1_epi32(static_cast<int>(x)))));
  }
  static inline __attribute__((always_inline)) void flush(const Partial& partial, Counts& counts) {
    counts.v = _mm512_add_epi32(counts.v, partial.v);
  }
  static inline __attribute__((always_inline)) void store(const Counts& counts, std::int32_t* out) {
    _mm512_storeu_si512(out, counts.v);
  }
  static inline void pack_signs(const float* x, std::size_t n, std::uint32_t* words) {
    const __m512 zero = _mm512_setzero_ps();
    for (std::size_t i = 0; i < n; i += 32) {
      std::uint32_t bits = 0;
      for (std::size_t q = 0; q < 2 && i + 16 * q < n; ++q) {
        const std::size_t left = n - i - 16 * q;
        const __mmask16 valid = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
        const __m512 values = _mm512_maskz_loadu_ps(valid, x + i + 16 * q);
        bits |= static_cast<std::uint32_t>(_mm512_cmp_ps_mask(values, zero, _CMP_NGE_UQ)) << (16 * q);
      }
      words[i / 32] = bits;
    }
  }
};

}  // namespace mote::simd::avx512_vpopcntdq
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_VPOPCNTDQ_BINARY_HPP_
// ----- end mote/arch/x86/avx512_vpopcntdq_binary.hpp -----
#define MOTE_SIMD_NS avx512_vpopcntdq
#define MOTE_BINARY_XNOR_ONLY
namespace mote::kernels::avx512_vpopcntdq {
// ----- begin mote/kernels/dense/binary-inl.hpp -----
// Dense with binary weights (layout/dense_binary.hpp; semantics: numeric/binary.hpp), written
// once against the ISA's BinaryOps (arch/<family>/<isa>_binary.hpp) and, for f32 activations,
// its Vec. Per 16-row panel, each 32-column group of sign words is loaded once:
//  * binary activations (dense_xnor): the input's signs are packed to words (BinaryOps::
//    pack_signs) in scratch; each group is XORed with one input word and its bits counted per
//    row (BinaryOps::add; byte counts flushed to int32 every flush_every groups). Exact
//    integers, then the scalar epilogue every ISA shares (binary_reference.hpp): bit-exact.
//    Batches: xnor_tile samples share each group load.
//  * f32 activations (dense, dense_batch): no float weight is materialised, and nothing is
//    multiplied until the scale (applied once, with the bias). Two ways, chosen per ISA:
//    - sign flips (SSE4, NEON): the group's words (one lane per row, like Vec) are shifted so
//      that column t's bit is each lane's top bit, and BinaryOps::flip turns the broadcast x_t
//      into -x_t in the lanes where it is set (a blend on the sign bit, or an XOR into x's
//      sign bit), then adds: 3 vector ops per column and Vec.
//    - table lookups (AVX2, AVX-512: BinaryOps::lookup, a lane-wise variable permute): for
//      each run of log2(lanes) columns the input's table holds the signed sums of all sign
//      patterns, and each lane picks its row's entry: 3 ops per 3 (AVX2) or 4 (AVX-512)
//      columns; on Zen 3 (AVX2), 1024x1024: 2.1x (GEMV) and 2.4x (GEMM) faster than flips.
//    Column streams (or the samples of a GEMM tile) accumulate in separate registers; both
//    only reorder the reference's sum of the terms +-x_k.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp (whose
// cheap_epilogue_v and activate it reuses), and a second time, XNOR part only
// (MOTE_BINARY_XNOR_ONLY, no Vec there), by arch/targets.hpp for AVX-512 VPOPCNTDQ.

using BinaryOps = ::mote::simd::MOTE_SIMD_NS::BinaryOps;

namespace dense_binary_detail {

constexpr std::size_t panel_rows = ::mote::kernels::BinaryMatrix::panel_rows;
constexpr std::size_t group_cols = ::mote::kernels::BinaryMatrix::group_cols;

/// Samples [0, Tile) (their sign words `stride` words apart) times panel p.
template <std::size_t Tile, class Activation>
inline void xnor_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const std::uint32_t* x_words,
                      std::size_t stride, const float* bias, float* out, Activation activation) noexcept {
  const std::size_t groups = weights.group_count(), rows = weights.rows();
  const std::uint32_t* panel = weights.panel(p);
  BinaryOps::Counts counts[Tile];
  MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) counts[i] = BinaryOps::counts_zero();
  for (std::size_t g = 0; g < groups;) {
    const std::size_t end = groups - g > BinaryOps::flush_every ? g + BinaryOps::flush_every : groups;
    BinaryOps::Partial partial[Tile];
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) partial[i] = BinaryOps::partial_zero();
    for (; g < end; ++g) {
      const BinaryOps::Group w = BinaryOps::load_group(panel + g * panel_rows);
      MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::add(partial[i], w, x_words[i * stride + g]);
    }
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::flush(partial[i], counts[i]);
  }
  const std::size_t first = p * panel_rows;
  const std::size_t count = rows - first < panel_rows ? rows - first : panel_rows;
  const auto cols = static_cast<std::int32_t>(weights.cols());
  for (std::size_t i = 0; i < Tile; ++i) {
    alignas(64) std::int32_t dots[panel_rows];
    BinaryOps::store(counts[i], dots);
    for (std::size_t r = 0; r < count; ++r) dots[r] = cols - 2 * dots[r];
    ::mote::kernels::binary_xnor_epilogue(weights, bias, dots, first, count, out + i * rows, activation);
  }
}

}  // namespace dense_binary_detail

/// Binary activations: `batch` samples binarised into `scratch` (binary_xnor_scratch_bytes per
/// sample), XNOR-popcount per panel, the shared scalar epilogue. Where BinaryOps names a
/// better build of this kernel for the running CPU (AVX-512 VPOPCNTDQ), that one runs instead.
template <class Activation, class Ops = BinaryOps>
inline void dense_xnor(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                       std::size_t batch, Activation activation, std::byte* scratch) noexcept {
  if constexpr (requires { Ops::use_vpopcntdq(); }) {
    if (Ops::use_vpopcntdq()) return Ops::dense_xnor_vpopcntdq(weights, bias, in, out, batch, activation, scratch);
  }
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::size_t stride = ::mote::kernels::binary_xnor_scratch_bytes(cols) / sizeof(std::uint32_t);
  auto* words = reinterpret_cast<std::uint32_t*>(scratch);
  for (std::size_t b = 0; b < batch; ++b) BinaryOps::pack_signs(in + b * cols, cols, words + b * stride);
  constexpr std::size_t tile = BinaryOps::xnor_tile;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile <= batch; b += tile)
      xnor_tile<tile>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
    for (; b < batch; ++b) xnor_tile<1>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
  }
}

#if !defined(MOTE_BINARY_XNOR_ONLY)

namespace dense_binary_detail {

constexpr std::size_t per_panel = panel_rows / Vec::lanes;
/// Independent accumulators per panel: 8 vector adds in flight (4 cycles of latency on 2
/// pipes), from column streams of one sample or from the samples of a GEMM tile.
constexpr std::size_t chains = per_panel >= 8 ? 1 : 8 / per_panel;

/// The group's words (one BinaryOps::Words per Vec of rows), shifted left by `shift`.
inline void load_words(const std::uint32_t* group, unsigned shift, BinaryOps::Words (&w)[per_panel]) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    w[j] = BinaryOps::load_words(group + j * Vec::lanes);
    if (shift != 0) w[j] = BinaryOps::shift_left(w[j], shift);
  }
}

/// scale * sums + bias, activated, stored to the rows of panel p that exist.
template <class Activation>
inline void store_panel(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const Vec (&sums)[per_panel],
                        const float* bias, float* out, Activation activation) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    const std::size_t row = p * panel_rows + j * Vec::lanes;
    const Vec y = apply(activation, Vec::fma(sums[j], Vec::load(weights.scales() + row), Vec::load(bias + row)));
    if (row + Vec::lanes <= weights.rows()) y.store(out + row);
    else if (row < weights.rows()) y.store_partial(out + row, weights.rows() - row);
  }
}

// ---- sign flips: each column's bit moved to the top of each lane (BinaryOps::flip) ------------

/// acc[j] += +-x (per row, by the top bits of w[j]); then, if `advance`, moves the next
/// column's bits up.
inline void accumulate_column(float x, BinaryOps::Words (&w)[per_panel], Vec (&acc)[per_panel],
                              bool advance = true) noexcept {
  const Vec pos = Vec::broadcast(x), neg = Vec::broadcast(-x);
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    acc[j] = acc[j] + BinaryOps::flip(pos, neg, w[j]);
    if (advance) w[j] = BinaryOps::twice(w[j]);
  }
}

/// GEMV: the 32 columns of a group go round-robin to `chains` accumulators, summed at the end.
template <class Activation>
inline void flip_gemv(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                      Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const std::uint32_t* panel = weights.panel(p);
    Vec acc[chains][per_panel];
    MOTE_UNROLL for (std::size_t c = 0; c < chains; ++c)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[c][j] = Vec::zero();
    for (std::size_t g = 0; g < full; ++g) {
      BinaryOps::Words w[per_panel];
      load_words(panel + g * panel_rows, 0, w);
      const float* x = in + g * group_cols;
      MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) accumulate_column(x[group_cols - 1 - t], w, acc[t % chains]);
    }
    if (tail != 0) {
      BinaryOps::Words w[per_panel];
      load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
      const float* x = in + full * group_cols;
      for (std::size_t t = 0; t < tail; ++t) accumulate_column(x[tail - 1 - t], w, acc[0]);
    }
    Vec sums[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      sums[j] = acc[0][j];
      MOTE_UNROLL for (std::size_t c = 1; c < chains; ++c) sums[j] = sums[j] + acc[c][j];
    }
    store_panel(weights, p, sums, bias, out, activation);
  }
}

/// GEMM tile: samples [0, Samples) of `in` times panel p; each group's words are loaded and
/// shifted once for all of them.
template <std::size_t Samples, class Activation>
inline void flip_gemm_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const float* bias,
                           const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  const std::uint32_t* panel = weights.panel(p);
  Vec acc[Samples][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t g = 0; g < full; ++g) {
    BinaryOps::Words w[per_panel];
    load_words(panel + g * panel_rows, 0, w);
    MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + g * group_cols + group_cols - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  if (tail != 0) {
    BinaryOps::Words w[per_panel];
    load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
    for (std::size_t t = 0; t < tail; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + full * group_cols + tail - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    store_panel(weights, p, acc[i], bias, out + i * weights.rows(), activation);
}

// ---- table lookups: per input, the 2^bits signed sums of each `bits` consecutive columns -------

/// Where BinaryOps::lookup exists (a lane-wise variable permute of one Vec: AVX2 vpermps, 8
/// entries, AVX-512 vpermps, 16), `bits` = log2(lanes) columns take one lookup per Vec of rows
/// instead of `bits` sign flips: the table of the input holds, for each pattern e of the
/// columns' sign bits, sum_i (bit i of e ? -x_i : x_i), and each lane indexes it with its row's
/// bits (the low bits of the word, shifted down `bits` after each lookup). Each table entry is
/// a sum of terms +-x_k: still a reordering of the reference's sum. Tables are built per chunk
/// of columns on the stack (8 KiB), partial sums kept in `out` between chunks.
template <class Ops>
concept LooksUp = requires(const float* table, typename Ops::Words w) {
  { Ops::lookup(table, w) } -> std::same_as<Vec>;
  { Ops::next_lookup(w) } -> std::same_as<typename Ops::Words>;
};
constexpr std::size_t lookup_bits = std::bit_width(Vec::lanes) - 1;
constexpr std::size_t lookups_per_group = (group_cols + lookup_bits - 1) / lookup_bits;
constexpr std::size_t table_floats_per_group = lookups_per_group * Vec::lanes;
template <std::size_t Samples>
constexpr std::size_t chunk_groups =
    2048 / (Samples * table_floats_per_group) > 0 ? 2048 / (Samples * table_floats_per_group) : 1;

/// The tables of groups [first, first + count) of input x (columns past `cols` count as 0).
inline void build_tables(const float* x, std::size_t cols, std::size_t first, std::size_t count,
                         float* tables) noexcept {
  // signs[i] lane e: -1 where bit i of e is set.
  alignas(64) static constexpr auto signs = [] {
    std::array<float, lookup_bits * Vec::lanes> s{};
    for (std::size_t i = 0; i < lookup_bits; ++i)
      for (std::size_t e = 0; e < Vec::lanes; ++e) s[i * Vec::lanes + e] = ((e >> i) & 1u) != 0 ? -1.0f : 1.0f;
    return s;
  }();
  for (std::size_t g = 0; g < count; ++g) {
    const std::size_t group_start = (first + g) * group_cols;
    MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
      const std::size_t start = group_start + l * lookup_bits;
      Vec table = Vec::zero();
      MOTE_UNROLL for (std::size_t i = 0; i < lookup_bits; ++i) {
        if (l * lookup_bits + i >= group_cols) continue;  // the last lookup of a group may be shorter
        const float x_k = start + i < cols ? x[start + i] : 0.0f;
        table = Vec::fma(Vec::broadcast(x_k), Vec::load(signs.data() + i * Vec::lanes), table);  // exact product
      }
      table.store(tables + (g * lookups_per_group + l) * Vec::lanes);
    }
  }
}

/// Samples [0, Samples) of `in` times every panel, by table lookups, chunk by chunk of columns.
template <std::size_t Samples, class Activation, class Ops = BinaryOps>
inline void lookup_tile(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        Activation activation) noexcept {
  constexpr std::size_t streams = chains / Samples > 0 ? chains / Samples : 1;
  constexpr std::size_t chunk = chunk_groups<Samples>;
  alignas(64) float tables[Samples][chunk * table_floats_per_group];
  const std::size_t cols = weights.cols(), rows = weights.rows(), groups = weights.group_count();
  for (std::size_t g0 = 0; g0 < groups; g0 += chunk) {
    const std::size_t count = groups - g0 < chunk ? groups - g0 : chunk;
    const bool first_chunk = g0 == 0, last_chunk = g0 + count == groups;
    MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) build_tables(in + i * cols, cols, g0, count, tables[i]);
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      const std::uint32_t* panel = weights.panel(p) + g0 * panel_rows;
      Vec acc[Samples][streams][per_panel];
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            acc[i][s][j] = Vec::zero();
            if (s == 0 && !first_chunk) {  // the partial sums of the previous chunks
              if (row + Vec::lanes <= rows) acc[i][s][j] = Vec::load(out + i * rows + row);
              else if (row < rows) acc[i][s][j] = Vec::load_partial(out + i * rows + row, rows - row);
            }
          }
      for (std::size_t g = 0; g < count; ++g) {
        BinaryOps::Words w[per_panel];
        load_words(panel + g * panel_rows, 0, w);
        const std::size_t table_offset = g * table_floats_per_group;
        MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
          MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
            const float* table = tables[i] + table_offset + l * Vec::lanes;
            MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j)
              acc[i][l % streams][j] = acc[i][l % streams][j] + Ops::lookup(table, w[j]);
          }
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Ops::next_lookup(w[j]);
        }
      }
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
        Vec sums[per_panel];
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
          sums[j] = acc[i][0][j];
          MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sums[j] = sums[j] + acc[i][s][j];
        }
        if (last_chunk) {
          store_panel(weights, p, sums, bias, out + i * rows, activation);
        } else {
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            if (row + Vec::lanes <= rows) sums[j].store(out + i * rows + row);
            else if (row < rows) sums[j].store_partial(out + i * rows + row, rows - row);
          }
        }
      }
    }
  }
}

}  // namespace dense_binary_detail

/// GEMM: `batch` samples, `chains` at a time.
template <class Activation>
inline void dense_batch(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation) noexcept {
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  if constexpr (LooksUp<BinaryOps>) {
    std::size_t b = 0;
    for (; b + chains <= batch; b += chains) lookup_tile<chains>(weights, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) lookup_tile<1>(weights, bias, in + b * cols, out + b * rows, activation);
  } else {
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      std::size_t b = 0;
      for (; b + chains <= batch; b += chains)
        flip_gemm_tile<chains>(weights, p, bias, in + b * cols, out + b * rows, activation);
      for (; b < batch; ++b) flip_gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
    }
  }
}

/// GEMV; transcendental activations run as a second pass (as for f32).
template <class Activation>
inline void dense(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                  Activation activation) noexcept {
  using namespace dense_binary_detail;
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
  } else if constexpr (LooksUp<BinaryOps>) {
    lookup_tile<1>(weights, bias, in, out, activation);
  } else {
    flip_gemv(weights, bias, in, out, activation);
  }
}

#endif  // !MOTE_BINARY_XNOR_ONLY
// ----- end mote/kernels/dense/binary-inl.hpp -----
}  // namespace mote::kernels::avx512_vpopcntdq
#undef MOTE_BINARY_XNOR_ONLY
#undef MOTE_SIMD_NS
MOTE_TARGET_REGION_END
MOTE_TARGET_REGION_BEGIN("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi2,f16c")
// ----- begin mote/arch/x86/avx512.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_HPP_
// AVX-512 (F/BW/DQ/VL) vector of 16 floats. Included by arch/targets.hpp inside its target
// region. Only the register width differs from AVX2; the kernels using it are the same code.
#if !defined(MOTE_ARCH_X86_AVX512_VEC)
#define MOTE_ARCH_X86_AVX512_VEC
namespace mote::simd::avx512 {

#define MOTE_VEC_INLINE inline __attribute__((always_inline))

struct VecF32 {
  static constexpr std::size_t lanes = 16;
  using Mask = __mmask16;
  __m512 v;

  static MOTE_VEC_INLINE VecF32 zero() { return {_mm512_setzero_ps()}; }
  static MOTE_VEC_INLINE VecF32 broadcast(float x) { return {_mm512_set1_ps(x)}; }
  static MOTE_VEC_INLINE VecF32 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  /// 16 bfloat16 values widened exactly to f32: zero-extend to 32 bits, shift to the top half.
  static MOTE_VEC_INLINE VecF32 load_bf16(const std::uint16_t* p) {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return {_mm512_castsi512_ps(_mm512_slli_epi32(wide, 16))};
  }
  /// 16 IEEE binary16 values widened exactly to f32 (vcvtph2ps).
  static MOTE_VEC_INLINE VecF32 load_f16(const std::uint16_t* p) {
    return {_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))};
  }
  static MOTE_VEC_INLINE __mmask16 partial_mask(std::size_t n) {
    return static_cast<__mmask16>((1u << n) - 1u);
  }
  static MOTE_VEC_INLINE VecF32 load_partial(const float* p, std::size_t n) {
    return {_mm512_maskz_loadu_ps(partial_mask(n), p)};
  }
  MOTE_VEC_INLINE void store(float* p) const { _mm512_storeu_ps(p, v); }
  MOTE_VEC_INLINE void store_partial(float* p, std::size_t n) const { _mm512_mask_storeu_ps(p, partial_mask(n), v); }

  friend MOTE_VEC_INLINE VecF32 operator+(VecF32 a, VecF32 b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator-(VecF32 a, VecF32 b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator*(VecF32 a, VecF32 b) { return {_mm512_mul_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator/(VecF32 a, VecF32 b) { return {_mm512_div_ps(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 fma(VecF32 a, VecF32 b, VecF32 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  static MOTE_VEC_INLINE VecF32 min(VecF32 a, VecF32 b) { return {_mm512_min_ps(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 max(VecF32 a, VecF32 b) { return {_mm512_max_ps(a.v, b.v)}; }
  /// x < low ? low : x, lane-wise, exactly (NaN and -0 in x pass through): x86 MAX returns
  /// its second operand when the operands are equal or either is NaN.
  static MOTE_VEC_INLINE VecF32 clamp_below(VecF32 x, VecF32 low) { return {_mm512_max_ps(low.v, x.v)}; }
  /// x > high ? high : x, lane-wise, exactly (NaN and -0 in x pass through).
  static MOTE_VEC_INLINE VecF32 clamp_above(VecF32 x, VecF32 high) { return {_mm512_min_ps(high.v, x.v)}; }
  static MOTE_VEC_INLINE VecF32 abs(VecF32 a) { return {_mm512_abs_ps(a.v)}; }
  static MOTE_VEC_INLINE VecF32 copysign(VecF32 magnitude, VecF32 sign) {
    const __m512i bit = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    const __m512i m = _mm512_castps_si512(magnitude.v), s = _mm512_castps_si512(sign.v);
    return {_mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(bit, m), _mm512_and_si512(bit, s)))};
  }
  static MOTE_VEC_INLINE VecF32 round_nearest(VecF32 a) {
    return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  static MOTE_VEC_INLINE VecF32 pow2(VecF32 n) {
    const __m512i biased = _mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127));
    return {_mm512_castsi512_ps(_mm512_slli_epi32(biased, 23))};
  }
  static MOTE_VEC_INLINE Mask less(VecF32 a, VecF32 b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ); }
  static MOTE_VEC_INLINE Mask greater(VecF32 a, VecF32 b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ); }
  static MOTE_VEC_INLINE Mask is_nan(VecF32 a) { return _mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q); }
  static MOTE_VEC_INLINE Mask mask_or(Mask a, Mask b) { return static_cast<Mask>(a | b); }
  static MOTE_VEC_INLINE bool any(Mask m) { return m != 0; }
  static MOTE_VEC_INLINE VecF32 select(Mask m, VecF32 if_true, VecF32 if_false) {
    return {_mm512_mask_blend_ps(m, if_false.v, if_true.v)};
  }
  MOTE_VEC_INLINE float reduce_add() const { return _mm512_reduce_add_ps(v); }
};

#undef MOTE_VEC_INLINE
}  // namespace mote::simd::avx512
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_HPP_
// ----- end mote/arch/x86/avx512.hpp -----
// ----- begin mote/arch/x86/avx512_int8.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_INT8_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_INT8_HPP_
// AVX-512 (F/BW) int8 dot-product primitives (contract: kernels/dense/int8-inl.hpp), exact
// int16 vpmaddwd as on AVX2. No include guard on purpose: see arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX512_INT8)
#define MOTE_ARCH_X86_AVX512_INT8
namespace mote::simd::avx512 {

/// Float -> code conversion shared by the AVX-512 and AVX-512 VNNI primitives.
inline __m512i quantize16(const float* x, __m512 scale, __m512 zero, __m512 lo, __m512 hi, __m512 nan_code) {
  const __m512 scaled = _mm512_div_ps(_mm512_loadu_ps(x), scale);
  __m512 q = _mm512_add_ps(_mm512_roundscale_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero);
  q = _mm512_min_ps(_mm512_max_ps(q, lo), hi);
  q = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(scaled, scaled, _CMP_UNORD_Q), q, nan_code);
  return _mm512_cvttps_epi32(q);
}

struct Int8Ops {
  using Act = std::int16_t;
  static constexpr std::int32_t activation_offset = 0;
  static constexpr std::size_t gemm_cols = 4;
  /// register j: rows 8j..8j+7, two lanes (k01, k23) per row
  struct Acc {
    __m512i v[2];
  };
  struct Panel {
    __m512i v[2];
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u); }
  static inline __attribute__((always_inline)) Acc zero() { return {{_mm512_setzero_si512(), _mm512_setzero_si512()}}; }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    return {{_mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(group))),
             _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + 32)))}};
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    std::int64_t pattern;
    std::memcpy(&pattern, act, sizeof(pattern));
    const __m512i a = _mm512_set1_epi64(pattern);
    for (int j = 0; j < 2; ++j) acc.v[j] = _mm512_add_epi32(acc.v[j], _mm512_madd_epi16(w.v[j], a));
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i sums = _mm512_add_epi32(_mm512_permutex2var_epi32(acc.v[0], even, acc.v[1]),
                                          _mm512_permutex2var_epi32(acc.v[0], odd, acc.v[1]));
    _mm512_storeu_si512(out, sums);
  }
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const __m512 scale = _mm512_set1_ps(p.scale), zero = _mm512_set1_ps(static_cast<float>(p.zero_point));
    const __m512 lo = _mm512_set1_ps(static_cast<float>(low)), hi = _mm512_set1_ps(static_cast<float>(high));
    const __m512 nan_code = _mm512_set1_ps(static_cast<float>(std::clamp(p.zero_point, low, high)));
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                          _mm512_cvtsepi32_epi16(quantize16(x + i, scale, zero, lo, hi, nan_code)));
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::avx512
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_INT8_HPP_
// ----- end mote/arch/x86/avx512_int8.hpp -----
// ----- begin mote/arch/x86/avx512_binary.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_BINARY_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_BINARY_HPP_
// AVX-512 (F/BW/DQ/VL) primitives of the binary kernels (contract: kernels/dense/binary-inl.hpp).
// Included by arch/targets.hpp inside the avx512 target region, after avx512.hpp. One weight
// group (16 rows x 32 columns, layout/dense_binary.hpp) is one vector of 16 row words.
// Popcount: Mula's vpshufb nibble lookup, as avx2_binary.hpp. Where the CPU has VPOPCNTDQ
// (vpopcntd, one instruction per group) the XNOR kernel hands over to its build in the
// avx512_vpopcntdq region (avx512_vpopcntdq_binary.hpp; chosen once per process).
#if !defined(MOTE_ARCH_X86_AVX512_BINARY)
#define MOTE_ARCH_X86_AVX512_BINARY
namespace mote::simd::avx512 {

struct BinaryOps {
  // ---- XNOR-popcount (binary activations)
  static constexpr std::size_t xnor_tile = 8;     ///< samples sharing each group load
  static constexpr std::size_t flush_every = 31;  ///< groups a Partial absorbs without overflow
  struct Group {
    __m512i v;
  };
  struct Partial {  ///< per-byte counts
    __m512i v;
  };
  struct Counts {  ///< per-row counts (int32 lanes)
    __m512i v;
  };
  static inline __attribute__((always_inline)) Group load_group(const std::uint32_t* p) {
    return {_mm512_load_si512(p)};
  }
  static inline __attribute__((always_inline)) Partial partial_zero() { return {_mm512_setzero_si512()}; }
  static inline __attribute__((always_inline)) Counts counts_zero() { return {_mm512_setzero_si512()}; }
  /// acc += popcount(w_r XOR x) for each of the group's 16 rows.
  static inline __attribute__((always_inline)) void add(Partial& acc, const Group& w, std::uint32_t x) {
    const __m512i table = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4));
    const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
    const __m512i v = _mm512_xor_si512(w.v, _mm512_set1_epi32(static_cast<int>(x)));
    const __m512i low = _mm512_and_si512(v, low_nibbles);
    const __m512i high = _mm512_and_si512(_mm512_srli_epi16(v, 4), low_nibbles);
    acc.v = _mm512_add_epi8(acc.v, _mm512_add_epi8(_mm512_shuffle_epi8(table, low), _mm512_shuffle_epi8(table, high)));
  }
  /// counts += partial, widened per row.
  static inline __attribute__((always_inline)) void flush(const Partial& partial, Counts& counts) {
    const __m512i pairs = _mm512_maddubs_epi16(partial.v, _mm512_set1_epi8(1));
    counts.v = _mm512_add_epi32(counts.v, _mm512_madd_epi16(pairs, _mm512_set1_epi16(1)));
  }
  static inline __attribute__((always_inline)) void store(const Counts& counts, std::int32_t* out) {
    _mm512_storeu_si512(out, counts.v);
  }
  /// words[i]: bit t set when !(x[32 i + t] >= 0), for ceil(n / 32) words (zero padded).
  static inline void pack_signs(const float* x, std::size_t n, std::uint32_t* words) {
    const __m512 zero = _mm512_setzero_ps();
    for (std::size_t i = 0; i < n; i += 32) {
      std::uint32_t bits = 0;
      for (std::size_t q = 0; q < 2 && i + 16 * q < n; ++q) {
        const std::size_t left = n - i - 16 * q;
        const __mmask16 valid = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
        const __m512 values = _mm512_maskz_loadu_ps(valid, x + i + 16 * q);
        bits |= static_cast<std::uint32_t>(_mm512_cmp_ps_mask(values, zero, _CMP_NGE_UQ)) << (16 * q);
      }
      words[i / 32] = bits;
    }
  }
  /// Whether the XNOR kernel runs the VPOPCNTDQ build instead (decided once per process).
  static inline bool use_vpopcntdq() {
    static const bool available = ::mote::arch::detect_cpu().avx512_vpopcntdq;
    return available;
  }
  template <class Activation>
  static inline void dense_xnor_vpopcntdq(const ::mote::kernels::BinaryMatrix& weights, const float* bias,
                                          const float* in, float* out, std::size_t batch, Activation activation,
                                          std::byte* scratch) {
    ::mote::kernels::avx512_vpopcntdq::dense_xnor(weights, bias, in, out, batch, activation, scratch);
  }

  // ---- f32 activations: lanes are rows, as in VecF32
  using Words = __m512i;
  static inline __attribute__((always_inline)) Words load_words(const std::uint32_t* p) { return _mm512_load_si512(p); }
  static inline __attribute__((always_inline)) Words shift_left(Words w, unsigned n) {
    return _mm512_sll_epi32(w, _mm_cvtsi32_si128(static_cast<int>(n)));
  }
  static inline __attribute__((always_inline)) Words twice(Words w) { return _mm512_add_epi32(w, w); }
  /// Lane-wise table[w & 15] (vpermps reads the low 4 bits), then the next 4 columns' bits.
  static inline __attribute__((always_inline)) VecF32 lookup(const float* table, Words w) {
    return {_mm512_permutexvar_ps(w, _mm512_load_ps(table))};
  }
  static inline __attribute__((always_inline)) Words next_lookup(Words w) { return _mm512_srli_epi32(w, 4); }
  /// Lane-wise: -x where w's top bit is set (weight -1), else x: x XOR (w AND sign bit) in one
  /// vpternlogd (truth table 0x78 = a ^ (b & c)).
  static inline __attribute__((always_inline)) VecF32 flip(VecF32 x, VecF32, Words w) {
    const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    return {_mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(x.v), w, sign, 0x78))};
  }
};

}  // namespace mote::simd::avx512
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_BINARY_HPP_
// ----- end mote/arch/x86/avx512_binary.hpp -----
// ----- begin mote/arch/x86/avx512_codebook.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_CODEBOOK_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_CODEBOOK_HPP_
// AVX-512 codebook lookup primitives (contract: kernels/dense/codebook-inl.hpp). No include
// guard on purpose: included by arch/targets.hpp inside the avx512 target region.
// One chunk (16 indices, 2 * Bits <= 8 bytes) is copied into each 128-bit lane; vpshufb gives
// 32-bit lane i the 4 bytes from the one holding index i, vpsrlvd moves the index to the low
// bits, and vpermps picks from a 16-entry table in one register by the low 4 bits of each lane
// (8- and 4-entry tables are repeated to fill it, so the bits above the index do not matter).
#if !defined(MOTE_ARCH_X86_AVX512_CODEBOOK)
#define MOTE_ARCH_X86_AVX512_CODEBOOK
namespace mote::simd::avx512 {

template <std::size_t Bits>
struct CodebookOps {
  static constexpr std::size_t gemv_rows = 4;
  static constexpr std::size_t gemm_rows = 4;
  static constexpr std::size_t gemm_samples = 6;
  struct Table {
    __m512 entries;
  };
  static inline __attribute__((always_inline)) Table prepare(const float* entries) {
    if constexpr (Bits == 2) return {_mm512_broadcast_f32x4(_mm_loadu_ps(entries))};
    else if constexpr (Bits == 3) return {_mm512_broadcast_f32x8(_mm256_loadu_ps(entries))};
    else return {_mm512_loadu_ps(entries)};
  }
  /// The 16 weights of a chunk, in column order.
  static inline __attribute__((always_inline)) void lookup(const Table& table, const std::uint8_t* chunk,
                                                           VecF32 (&w)[1]) {
    const __m512i bytes = _mm512_broadcast_i32x4(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(chunk)));
    const __m512i spread = _mm512_shuffle_epi8(
        bytes, _mm512_setr_epi32(control(0), control(1), control(2), control(3), control(4), control(5),
                                 control(6), control(7), control(8), control(9), control(10), control(11),
                                 control(12), control(13), control(14), control(15)));
    const __m512i index = _mm512_srlv_epi32(
        spread, _mm512_setr_epi32(shift(0), shift(1), shift(2), shift(3), shift(4), shift(5), shift(6), shift(7),
                                  shift(8), shift(9), shift(10), shift(11), shift(12), shift(13), shift(14),
                                  shift(15)));
    w[0] = {_mm512_permutexvar_ps(index, table.entries)};
  }

 private:
  /// vpshufb control of lane i: bytes first, first + 1, first + 2, first + 3 of the chunk.
  static constexpr int control(int i) noexcept {
    return static_cast<int>(static_cast<unsigned>(::mote::detail::codebook_index_byte(Bits, i)) * 0x01010101u +
                            0x03020100u);
  }
  static constexpr int shift(int i) noexcept { return ::mote::detail::codebook_index_shift(Bits, i); }
};

}  // namespace mote::simd::avx512
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_CODEBOOK_HPP_
// ----- end mote/arch/x86/avx512_codebook.hpp -----
#define MOTE_SIMD_NS avx512
#define MOTE_SIMD_TAG Avx512
// ----- begin mote/kernels/simd-inl.hpp -----
// The SIMD kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA, inside that ISA's target region, with MOTE_SIMD_NS (namespace and vector type
// name, e.g. avx2) and MOTE_SIMD_TAG (ISA tag, e.g. Avx2) defined. The op files included here
// hold code only (no #include): they are written once against `Vec`, the ISA's vector of floats.

// Register tiles are arrays indexed by loops of compile-time length; they must be unrolled for
// the arrays to live in registers, which GCC does at -O3 but not at -O2 (measured: pointwise
// conv 3.4x slower at -O2 without this).
#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Vec = ::mote::simd::MOTE_SIMD_NS::VecF32;
using ::mote::kernels::WindowGeometry;
using DenseF32 = ::mote::WeightMatrix<::mote::F32, ::mote::DenseStorage>;

// ----- begin mote/kernels/elementwise/simd-inl.hpp -----
// ----- begin mote/kernels/elementwise/math-inl.hpp -----
// Vector math for the element-wise kernels: exp, sigmoid, tanh, erf, written once against `Vec`.
// Code only (no #include, no #pragma once): elementwise/simd-inl.hpp includes it, so it is
// expanded once per ISA inside that ISA's namespace and target region (see arch/targets.hpp).
// The functions live in a nested namespace `math` so that they never hide std::exp and friends
// from the other kernel files compiled into the same per-ISA namespace.
//
// Accuracy. "Measured" is the maximum over every 11th float of the range (about 2e8 inputs
// per function), on AVX2 (with FMA) and SSE4 (Vec::fma is a multiply then an add there),
// against glibc's expf/erff/tanhf (which the scalar reference kernels call) and against the
// true value (double precision); the tests (tests/unit/kernels/test_elementwise_simd.cpp)
// hold every ISA to the bounds in brackets and print their own maxima.
//
//   exp      measured 1 ulp from glibc (AVX2 and SSE4) on [-110, 90], denormal results
//            included (counted in denormal ulps); 1.005 ulp (AVX2), 0.98 ulp (SSE4) from the
//            true value on normal results. [2 ulp]
//            x > 88.7228 gives +inf, x < -103.97 and -inf give +0, NaN gives NaN.
//            Why: Cephes' expf (S. L. Moshier): n = round(x log2 e), r = x - n ln 2 with ln 2 in
//            two parts (n * 0.693359375 is exact: 9-bit constant, |n| <= 152), |r| <= ln(2)/2;
//            e^r = 1 + r + r^2 P(r), degree-5 P whose float coefficients are within 2.7e-9
//            relative of e^r on that range, so the result's error is the last few roundings
//            (about 1 ulp). Then y * 2^n with the power split in two factors 2^h 2^(n-h), each a
//            normal float for n in [-152, 129] (the clamped input range): the first product is
//            exact, the second exact or rounded once into the denormals (or to +inf).
//   sigmoid  1 / (1 + exp(-x)), the reference's formula: measured 4 ulp from the reference,
//            2.47 ulp from the true value (the reference is 2.47 ulp off too: where e^-x is
//            near 2^24, 1 + e rounds by up to 1/2 ulp of e, on top of exp's and the division's
//            errors; the two err in either direction). [6 ulp]
//   tanh     measured 2 ulp from glibc, 1.32 ulp from the true value (glibc's tanhf: 2.17).
//            Cephes' tanhf: |x| < 0.625: x + x^3 P(x^2), degree-4 P (8.6e-9 relative error
//            of the result); else 1 - 2 / (exp(2|x|) + 1) with the sign of x: exp's error is
//            damped by 2/(e+1) <= 0.45 and the result is >= 0.555 (no cancellation).
//            tanh(+-inf) = +-1 (exp overflows, 2/inf = 0), tanh(-0) = -0, NaN gives NaN. [4 ulp]
//   erf      measured 1 ulp from glibc, 1.08 ulp (AVX2) / 1.27 ulp (SSE4) from the true value.
//            Fitted for mote (mpmath, Chebyshev nodes, coefficients rounded to float):
//            |x| < 1: x + x P(x^2), degree-6 P (approximation error 1.3e-9 absolute on
//            (erf(x) - x)/x); 1 <= |x| < 3.9375: 1 - exp(-x^2 + G(x - 2.46875)), degree-8 G
//            fitting log(erfc(x)) + x^2 to 1.3e-8 absolute, i.e. relative on erfc <= 0.157:
//            at most 2e-9 absolute on erf; |x| >= 3.9375 gives exactly +-1 (erfc(3.9375) =
//            2.6e-8 < 2^-25: erf rounds to 1 there). erf(+-inf) = +-1, NaN gives NaN. [2 ulp]
//   GELU     (elementwise/simd-inl.hpp) 0.5 x (1 + erf(x / sqrt 2)), the reference's formula:
//            measured |d| <= 1.0 (ulp(reference) + |x| 2^-24): for x < 0, 1 + erf cancels, so
//            erf's 1-ulp error near -1 (2^-24) is 0.5 |x| 2^-24 absolute in the result.
//            [2 (ulp(reference) + |x| 2^-24)]

namespace math {

/// e^x. See the table above for its accuracy and special values.
inline Vec exp(Vec x) noexcept {
  // Clamping keeps n in [-152, 129]: 89 still overflows to +inf, -105 still underflows to +0.
  // Compare-and-select (not min/max) so that NaN passes through on every ISA.
  const Vec hi = Vec::broadcast(89.0f), lo = Vec::broadcast(-105.0f);
  x = Vec::select(Vec::greater(x, hi), hi, x);
  x = Vec::select(Vec::less(x, lo), lo, x);
  const Vec n = Vec::round_nearest(x * Vec::broadcast(1.44269504088896341f));
  Vec r = Vec::fma(n, Vec::broadcast(-0.693359375f), x);  // exact: 9-bit constant, |n| <= 152
  r = Vec::fma(n, Vec::broadcast(2.12194440e-4f), r);     // ln 2 = 0.693359375 - 2.12194440e-4
  Vec p = Vec::broadcast(1.9875691500e-4f);
  p = Vec::fma(p, r, Vec::broadcast(1.3981999507e-3f));
  p = Vec::fma(p, r, Vec::broadcast(8.3334519073e-3f));
  p = Vec::fma(p, r, Vec::broadcast(4.1665795894e-2f));
  p = Vec::fma(p, r, Vec::broadcast(1.6666665459e-1f));
  p = Vec::fma(p, r, Vec::broadcast(5.0000001201e-1f));
  const Vec y = Vec::fma(p, r * r, r) + Vec::broadcast(1.0f);
  // 2^n = 2^h * 2^(n-h) with h = round(n/2): both factors within pow2's [-126, 127]. A NaN input
  // gives a NaN y, and NaN times whatever pow2 makes of NaN is NaN.
  const Vec h = Vec::round_nearest(n * Vec::broadcast(0.5f));
  return (y * Vec::pow2(h)) * Vec::pow2(n - h);
}

/// 1 / (1 + e^-x), the scalar reference's formula: sigmoid(-inf) = 0, sigmoid(+inf) = 1.
inline Vec sigmoid(Vec x) noexcept {
  const Vec one = Vec::broadcast(1.0f);
  return one / (one + exp(Vec::broadcast(-0.0f) - x));
}

/// tanh(x): odd, +-1 at +-inf, -0 at -0.
inline Vec tanh(Vec x) noexcept {
  const Vec a = Vec::abs(x);
  const Vec s = a * a;
  Vec p = Vec::broadcast(-5.70498872745e-3f);
  p = Vec::fma(p, s, Vec::broadcast(2.06390887954e-2f));
  p = Vec::fma(p, s, Vec::broadcast(-5.37397155531e-2f));
  p = Vec::fma(p, s, Vec::broadcast(1.33314422036e-1f));
  p = Vec::fma(p, s, Vec::broadcast(-3.33332819422e-1f));
  const Vec small = Vec::fma(p * s, a, a);
  // exp(2a) = +inf for a > 44.4 (and a = +inf): 2 / inf = 0, the result 1. NaN stays NaN.
  const Vec one = Vec::broadcast(1.0f);
  const Vec large = one - Vec::broadcast(2.0f) / (exp(a + a) + one);
  return Vec::copysign(Vec::select(Vec::less(a, Vec::broadcast(0.625f)), small, large), x);
}

/// erf(x): odd, +-1 for |x| >= 3.9375 and at +-inf.
inline Vec erf(Vec x) noexcept {
  const Vec a = Vec::abs(x);
  // |x| < 1: a + a P(a^2).
  const Vec s = a * a;
  Vec p = Vec::broadcast(7.875874871e-05f);
  p = Vec::fma(p, s, Vec::broadcast(-8.016864303e-04f));
  p = Vec::fma(p, s, Vec::broadcast(5.189087242e-03f));
  p = Vec::fma(p, s, Vec::broadcast(-2.685421146e-02f));
  p = Vec::fma(p, s, Vec::broadcast(1.128359437e-01f));
  p = Vec::fma(p, s, Vec::broadcast(-3.761262596e-01f));
  p = Vec::fma(p, s, Vec::broadcast(1.283791661e-01f));
  const Vec small = Vec::fma(a, p, a);
  // 1 <= |x|: 1 - erfc, erfc = exp(-b^2 + G(b - 2.46875)), b = min(a, 3.9375) (NaN stays).
  const Vec limit = Vec::broadcast(3.9375f);
  const Vec b = Vec::select(Vec::greater(a, limit), limit, a);
  const Vec v = b - Vec::broadcast(2.46875f);  // exact (Sterbenz-like: same binade spacing)
  Vec g = Vec::broadcast(1.663424086e-06f);
  g = Vec::fma(g, v, Vec::broadcast(-1.370350310e-05f));
  g = Vec::fma(g, v, Vec::broadcast(8.014721243e-05f));
  g = Vec::fma(g, v, Vec::broadcast(-4.349613737e-04f));
  g = Vec::fma(g, v, Vec::broadcast(2.232213970e-03f));
  g = Vec::fma(g, v, Vec::broadcast(-1.113328803e-02f));
  g = Vec::fma(g, v, Vec::broadcast(5.713705719e-02f));
  g = Vec::fma(g, v, Vec::broadcast(-3.562194109e-01f));
  g = Vec::fma(g, v, Vec::broadcast(-1.545738816e+00f));
  const Vec large = Vec::broadcast(1.0f) - exp(Vec::fma(Vec::broadcast(-0.0f) - b, b, g));
  return Vec::copysign(Vec::select(Vec::less(a, Vec::broadcast(1.0f)), small, large), x);
}

}  // namespace math
// ----- end mote/kernels/elementwise/math-inl.hpp -----
// Element-wise kernels for one ISA: activations, per-channel affine map, addition, softmax.
// Code only: included per ISA by kernels/simd-inl.hpp (namespace and `Vec` given there); the
// include above is code only too (vector exp/sigmoid/tanh/erf in namespace `math`).
//
// Semantics are those of the scalar functors (elementwise/activations.hpp) lane by lane:
// comparisons are written as selects on `x < 0` / `x > 6` so that NaN propagates (a NaN lane
// fails both comparisons and keeps x) and -0 stays -0, exactly as `x < 0 ? 0 : x` does.
// Identity, ReLU, ReLU6, LeakyReLU, HardSwish and add are bit-exact with the reference; the
// transcendental ones are within the bounds documented in math-inl.hpp.

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
// ----- end mote/kernels/elementwise/simd-inl.hpp -----
// ----- begin mote/kernels/dense/simd-inl.hpp -----
// Dense (GEMV) on 16-row weight panels: each input value is broadcast and multiplied into the
// 16 output channels of the panel. Several input columns are accumulated in separate registers
// (`streams`) so that 8 FMAs are in flight, enough to cover FMA latency on 2 pipes; they are
// summed at the end, which is the only reordering compared with the scalar reference.
// Code only: included per ISA by kernels/simd-inl.hpp (namespace and `Vec` given there).

namespace dense_detail {

constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
// Accumulator registers for a GEMM tile: 24 of 32 (AVX-512), 12 of 16 (AVX2, SSE4, NEON).
constexpr std::size_t accumulators = Vec::lanes == 16 ? 24 : 12;
constexpr std::size_t tile_rows = accumulators / per_panel > 0 ? accumulators / per_panel : 1;

/// Rows [0, Rows) of `in` times one panel: each weight vector is loaded once per k and reused
/// by every row of the tile.
template <std::size_t Rows, class Activation>
inline void gemm_tile(const DenseF32& weights, std::size_t p, const float* bias, const float* in, float* out,
                      Activation activation) noexcept {
  const std::size_t cols = weights.cols();
  const float* panel = weights.panel(p);
  Vec acc[Rows][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t k = 0; k < cols; ++k) {
    Vec w[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load(panel + k * DenseF32::panel_rows + j * Vec::lanes);
    MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
      const Vec x = Vec::broadcast(in[i * cols + k]);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
    }
  }
  const std::size_t first_row = p * DenseF32::panel_rows;
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      const std::size_t row = first_row + j * Vec::lanes;
      const Vec sum = apply(activation, acc[i][j] + Vec::load(bias + row));
      float* destination = out + i * weights.rows() + row;
      if (row + Vec::lanes <= weights.rows()) sum.store(destination);
      else if (row < weights.rows()) sum.store_partial(destination, weights.rows() - row);
    }
  }
}

}  // namespace dense_detail

/// GEMM: `batch` input rows times the panels, tile_rows rows at a time. The panel (16 x cols)
/// stays in L1/L2 while every tile of rows streams past it.
template <class Activation>
inline void dense_batch(const DenseF32& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation) noexcept {
  using namespace dense_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile_rows <= batch; b += tile_rows) gemm_tile<tile_rows>(weights, p, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
  }
}

/// Activations costing a few instructions are applied to each accumulator before it is stored;
/// transcendental ones (tanh, sigmoid, GELU) run as a separate pass over the finished outputs,
/// where consecutive vectors are independent and overlap (W2's tanh layers: 70 -> 30 ns).
template <class Activation>
constexpr bool cheap_epilogue_v = std::is_same_v<Activation, ::mote::activation::Identity> ||
                                  std::is_same_v<Activation, ::mote::activation::Relu> ||
                                  std::is_same_v<Activation, ::mote::activation::Relu6>;

template <class Activation>
inline void dense(const DenseF32& weights, const float* bias, const float* in, float* out,
                  Activation activation) noexcept {
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
    return;
  }
  constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
  constexpr std::size_t streams = per_panel >= 8 ? 1 : 8 / per_panel;
  const std::size_t cols = weights.cols();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const float* panel = weights.panel(p);
    Vec acc[streams][per_panel];
    MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::zero();
    std::size_t k = 0;
    for (; k + streams <= cols; k += streams) {
      MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s) {
        const Vec x = Vec::broadcast(in[k + s]);
        const float* column = panel + (k + s) * DenseF32::panel_rows;
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j)
          acc[s][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[s][j]);
      }
    }
    for (; k < cols; ++k) {
      const Vec x = Vec::broadcast(in[k]);
      const float* column = panel + k * DenseF32::panel_rows;
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[0][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[0][j]);
    }
    const std::size_t first_row = p * DenseF32::panel_rows;
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      Vec sum = acc[0][j];
      MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sum = sum + acc[s][j];
      sum = apply(activation, sum + Vec::load(bias + first_row + j * Vec::lanes));
      const std::size_t row = first_row + j * Vec::lanes;
      if (row + Vec::lanes <= weights.rows()) sum.store(out + row);
      else if (row < weights.rows()) sum.store_partial(out + row, weights.rows() - row);
    }
  }
}
// ----- end mote/kernels/dense/simd-inl.hpp -----
// ----- begin mote/kernels/dense/half-inl.hpp -----
// Dense (GEMV, GEMM) with bf16 / f16 weights, computed in f32: the f32 kernels' structure
// (dense/simd-inl.hpp: k-streams for the GEMV, register tiles for the GEMM) with each panel
// column widened from 16 bits as it is loaded, so a memory-bound GEMV streams half the bytes.
// Widening is exact (Vec::load_bf16 / load_f16): the only reordering compared with the scalar
// reference (half_reference.hpp) is the f32 kernels' one.
// Where Vec has load_bf16_even_odd (AVX2, SSE4), bf16 columns are loaded two vectors at a time
// with rows de-interleaved (even rows in one register, odd in the next): half the instructions
// of two load_bf16. The accumulators then hold rows in that order, restored once per panel.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp, whose
// cheap_epilogue_v and activate it reuses.

namespace dense_half_detail {

constexpr std::size_t panel_rows = DenseF32::panel_rows;
constexpr std::size_t per_panel = panel_rows / Vec::lanes;
constexpr std::size_t tile_rows = dense_detail::tile_rows;

template <class V>
concept LoadsBf16EvenOdd = requires(const std::uint16_t* p, V& v) {
  V::load_bf16_even_odd(p, v, v);
  V::interleave_even_odd(v, v, v, v);
};
template <class Format>
constexpr bool even_odd_v = std::is_same_v<Format, ::mote::BF16> && per_panel % 2 == 0 && LoadsBf16EvenOdd<Vec>;

/// The 16 weights of one panel column as per_panel vectors of f32 (rows de-interleaved in
/// pairs of vectors when even_odd_v). V is Vec, a template parameter so that the branches an
/// ISA lacks are discarded.
template <class Format, class V>
inline void load_column(const std::uint16_t* column, V (&w)[per_panel]) noexcept {
  if constexpr (even_odd_v<Format>) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; j += 2)
      V::load_bf16_even_odd(column + j * Vec::lanes, w[j], w[j + 1]);
  } else if constexpr (std::is_same_v<Format, ::mote::BF16>) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load_bf16(column + j * Vec::lanes);
  } else {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load_f16(column + j * Vec::lanes);
  }
}

/// Puts sums accumulated from load_column's vectors back in row order.
template <class Format, class V>
inline void restore_rows(V (&sums)[per_panel]) noexcept {
  if constexpr (even_odd_v<Format>)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; j += 2)
      V::interleave_even_odd(sums[j], sums[j + 1], sums[j], sums[j + 1]);
}

/// bias + sums (in row order), activated, stored to rows [first_row, first_row + 16) of `out`
/// that exist.
template <class Activation>
inline void store_panel(const Vec (&sums)[per_panel], std::size_t first_row, std::size_t rows, const float* bias,
                        float* out, Activation activation) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    const std::size_t row = first_row + j * Vec::lanes;
    const Vec sum = apply(activation, sums[j] + Vec::load(bias + row));
    if (row + Vec::lanes <= rows) sum.store(out + row);
    else if (row < rows) sum.store_partial(out + row, rows - row);
  }
}

/// Rows [0, Rows) of `in` times one panel: each column is widened once and reused by every row
/// of the tile.
template <std::size_t Rows, class Format, class Activation>
inline void gemm_tile(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, std::size_t p,
                      const float* bias, const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols();
  const std::uint16_t* panel = weights.panel(p);
  Vec acc[Rows][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t k = 0; k < cols; ++k) {
    Vec w[per_panel];
    load_column<Format>(panel + k * panel_rows, w);
    MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
      const Vec x = Vec::broadcast(in[i * cols + k]);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
    restore_rows<Format>(acc[i]);
    store_panel(acc[i], p * panel_rows, weights.rows(), bias, out + i * weights.rows(), activation);
  }
}

}  // namespace dense_half_detail

/// GEMM: `batch` input rows times the panels, tile_rows rows at a time (as for f32).
template <::mote::HalfFloatFormat Format, class Activation>
inline void dense_batch(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation) noexcept {
  using namespace dense_half_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile_rows <= batch; b += tile_rows)
      gemm_tile<tile_rows>(weights, p, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
  }
}

/// GEMV: per panel, `streams` input columns accumulate in separate registers (8 FMAs in
/// flight), summed at the end; transcendental activations run as a second pass (as for f32).
template <::mote::HalfFloatFormat Format, class Activation>
inline void dense(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation) noexcept {
  using namespace dense_half_detail;
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
    return;
  }
  constexpr std::size_t streams = per_panel >= 8 ? 1 : 8 / per_panel;
  const std::size_t cols = weights.cols();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const std::uint16_t* panel = weights.panel(p);
    Vec acc[streams][per_panel];
    MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::zero();
    std::size_t k = 0;
    for (; k + streams <= cols; k += streams) {
      MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s) {
        const Vec x = Vec::broadcast(in[k + s]);
        Vec w[per_panel];
        load_column<Format>(panel + (k + s) * panel_rows, w);
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::fma(x, w[j], acc[s][j]);
      }
    }
    for (; k < cols; ++k) {
      const Vec x = Vec::broadcast(in[k]);
      Vec w[per_panel];
      load_column<Format>(panel + k * panel_rows, w);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[0][j] = Vec::fma(x, w[j], acc[0][j]);
    }
    Vec sums[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      sums[j] = acc[0][j];
      MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sums[j] = sums[j] + acc[s][j];
    }
    restore_rows<Format>(sums);
    store_panel(sums, p * panel_rows, weights.rows(), bias, out, activation);
  }
}
// ----- end mote/kernels/dense/half-inl.hpp -----
// ----- begin mote/kernels/dense/binary-inl.hpp -----
// Dense with binary weights (layout/dense_binary.hpp; semantics: numeric/binary.hpp), written
// once against the ISA's BinaryOps (arch/<family>/<isa>_binary.hpp) and, for f32 activations,
// its Vec. Per 16-row panel, each 32-column group of sign words is loaded once:
//  * binary activations (dense_xnor): the input's signs are packed to words (BinaryOps::
//    pack_signs) in scratch; each group is XORed with one input word and its bits counted per
//    row (BinaryOps::add; byte counts flushed to int32 every flush_every groups). Exact
//    integers, then the scalar epilogue every ISA shares (binary_reference.hpp): bit-exact.
//    Batches: xnor_tile samples share each group load.
//  * f32 activations (dense, dense_batch): no float weight is materialised, and nothing is
//    multiplied until the scale (applied once, with the bias). Two ways, chosen per ISA:
//    - sign flips (SSE4, NEON): the group's words (one lane per row, like Vec) are shifted so
//      that column t's bit is each lane's top bit, and BinaryOps::flip turns the broadcast x_t
//      into -x_t in the lanes where it is set (a blend on the sign bit, or an XOR into x's
//      sign bit), then adds: 3 vector ops per column and Vec.
//    - table lookups (AVX2, AVX-512: BinaryOps::lookup, a lane-wise variable permute): for
//      each run of log2(lanes) columns the input's table holds the signed sums of all sign
//      patterns, and each lane picks its row's entry: 3 ops per 3 (AVX2) or 4 (AVX-512)
//      columns; on Zen 3 (AVX2), 1024x1024: 2.1x (GEMV) and 2.4x (GEMM) faster than flips.
//    Column streams (or the samples of a GEMM tile) accumulate in separate registers; both
//    only reorder the reference's sum of the terms +-x_k.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp (whose
// cheap_epilogue_v and activate it reuses), and a second time, XNOR part only
// (MOTE_BINARY_XNOR_ONLY, no Vec there), by arch/targets.hpp for AVX-512 VPOPCNTDQ.

using BinaryOps = ::mote::simd::MOTE_SIMD_NS::BinaryOps;

namespace dense_binary_detail {

constexpr std::size_t panel_rows = ::mote::kernels::BinaryMatrix::panel_rows;
constexpr std::size_t group_cols = ::mote::kernels::BinaryMatrix::group_cols;

/// Samples [0, Tile) (their sign words `stride` words apart) times panel p.
template <std::size_t Tile, class Activation>
inline void xnor_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const std::uint32_t* x_words,
                      std::size_t stride, const float* bias, float* out, Activation activation) noexcept {
  const std::size_t groups = weights.group_count(), rows = weights.rows();
  const std::uint32_t* panel = weights.panel(p);
  BinaryOps::Counts counts[Tile];
  MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) counts[i] = BinaryOps::counts_zero();
  for (std::size_t g = 0; g < groups;) {
    const std::size_t end = groups - g > BinaryOps::flush_every ? g + BinaryOps::flush_every : groups;
    BinaryOps::Partial partial[Tile];
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) partial[i] = BinaryOps::partial_zero();
    for (; g < end; ++g) {
      const BinaryOps::Group w = BinaryOps::load_group(panel + g * panel_rows);
      MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::add(partial[i], w, x_words[i * stride + g]);
    }
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::flush(partial[i], counts[i]);
  }
  const std::size_t first = p * panel_rows;
  const std::size_t count = rows - first < panel_rows ? rows - first : panel_rows;
  const auto cols = static_cast<std::int32_t>(weights.cols());
  for (std::size_t i = 0; i < Tile; ++i) {
    alignas(64) std::int32_t dots[panel_rows];
    BinaryOps::store(counts[i], dots);
    for (std::size_t r = 0; r < count; ++r) dots[r] = cols - 2 * dots[r];
    ::mote::kernels::binary_xnor_epilogue(weights, bias, dots, first, count, out + i * rows, activation);
  }
}

}  // namespace dense_binary_detail

/// Binary activations: `batch` samples binarised into `scratch` (binary_xnor_scratch_bytes per
/// sample), XNOR-popcount per panel, the shared scalar epilogue. Where BinaryOps names a
/// better build of this kernel for the running CPU (AVX-512 VPOPCNTDQ), that one runs instead.
template <class Activation, class Ops = BinaryOps>
inline void dense_xnor(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                       std::size_t batch, Activation activation, std::byte* scratch) noexcept {
  if constexpr (requires { Ops::use_vpopcntdq(); }) {
    if (Ops::use_vpopcntdq()) return Ops::dense_xnor_vpopcntdq(weights, bias, in, out, batch, activation, scratch);
  }
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::size_t stride = ::mote::kernels::binary_xnor_scratch_bytes(cols) / sizeof(std::uint32_t);
  auto* words = reinterpret_cast<std::uint32_t*>(scratch);
  for (std::size_t b = 0; b < batch; ++b) BinaryOps::pack_signs(in + b * cols, cols, words + b * stride);
  constexpr std::size_t tile = BinaryOps::xnor_tile;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile <= batch; b += tile)
      xnor_tile<tile>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
    for (; b < batch; ++b) xnor_tile<1>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
  }
}

#if !defined(MOTE_BINARY_XNOR_ONLY)

namespace dense_binary_detail {

constexpr std::size_t per_panel = panel_rows / Vec::lanes;
/// Independent accumulators per panel: 8 vector adds in flight (4 cycles of latency on 2
/// pipes), from column streams of one sample or from the samples of a GEMM tile.
constexpr std::size_t chains = per_panel >= 8 ? 1 : 8 / per_panel;

/// The group's words (one BinaryOps::Words per Vec of rows), shifted left by `shift`.
inline void load_words(const std::uint32_t* group, unsigned shift, BinaryOps::Words (&w)[per_panel]) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    w[j] = BinaryOps::load_words(group + j * Vec::lanes);
    if (shift != 0) w[j] = BinaryOps::shift_left(w[j], shift);
  }
}

/// scale * sums + bias, activated, stored to the rows of panel p that exist.
template <class Activation>
inline void store_panel(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const Vec (&sums)[per_panel],
                        const float* bias, float* out, Activation activation) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    const std::size_t row = p * panel_rows + j * Vec::lanes;
    const Vec y = apply(activation, Vec::fma(sums[j], Vec::load(weights.scales() + row), Vec::load(bias + row)));
    if (row + Vec::lanes <= weights.rows()) y.store(out + row);
    else if (row < weights.rows()) y.store_partial(out + row, weights.rows() - row);
  }
}

// ---- sign flips: each column's bit moved to the top of each lane (BinaryOps::flip) ------------

/// acc[j] += +-x (per row, by the top bits of w[j]); then, if `advance`, moves the next
/// column's bits up.
inline void accumulate_column(float x, BinaryOps::Words (&w)[per_panel], Vec (&acc)[per_panel],
                              bool advance = true) noexcept {
  const Vec pos = Vec::broadcast(x), neg = Vec::broadcast(-x);
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    acc[j] = acc[j] + BinaryOps::flip(pos, neg, w[j]);
    if (advance) w[j] = BinaryOps::twice(w[j]);
  }
}

/// GEMV: the 32 columns of a group go round-robin to `chains` accumulators, summed at the end.
template <class Activation>
inline void flip_gemv(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                      Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const std::uint32_t* panel = weights.panel(p);
    Vec acc[chains][per_panel];
    MOTE_UNROLL for (std::size_t c = 0; c < chains; ++c)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[c][j] = Vec::zero();
    for (std::size_t g = 0; g < full; ++g) {
      BinaryOps::Words w[per_panel];
      load_words(panel + g * panel_rows, 0, w);
      const float* x = in + g * group_cols;
      MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) accumulate_column(x[group_cols - 1 - t], w, acc[t % chains]);
    }
    if (tail != 0) {
      BinaryOps::Words w[per_panel];
      load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
      const float* x = in + full * group_cols;
      for (std::size_t t = 0; t < tail; ++t) accumulate_column(x[tail - 1 - t], w, acc[0]);
    }
    Vec sums[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      sums[j] = acc[0][j];
      MOTE_UNROLL for (std::size_t c = 1; c < chains; ++c) sums[j] = sums[j] + acc[c][j];
    }
    store_panel(weights, p, sums, bias, out, activation);
  }
}

/// GEMM tile: samples [0, Samples) of `in` times panel p; each group's words are loaded and
/// shifted once for all of them.
template <std::size_t Samples, class Activation>
inline void flip_gemm_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const float* bias,
                           const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  const std::uint32_t* panel = weights.panel(p);
  Vec acc[Samples][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t g = 0; g < full; ++g) {
    BinaryOps::Words w[per_panel];
    load_words(panel + g * panel_rows, 0, w);
    MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + g * group_cols + group_cols - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  if (tail != 0) {
    BinaryOps::Words w[per_panel];
    load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
    for (std::size_t t = 0; t < tail; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + full * group_cols + tail - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    store_panel(weights, p, acc[i], bias, out + i * weights.rows(), activation);
}

// ---- table lookups: per input, the 2^bits signed sums of each `bits` consecutive columns -------

/// Where BinaryOps::lookup exists (a lane-wise variable permute of one Vec: AVX2 vpermps, 8
/// entries, AVX-512 vpermps, 16), `bits` = log2(lanes) columns take one lookup per Vec of rows
/// instead of `bits` sign flips: the table of the input holds, for each pattern e of the
/// columns' sign bits, sum_i (bit i of e ? -x_i : x_i), and each lane indexes it with its row's
/// bits (the low bits of the word, shifted down `bits` after each lookup). Each table entry is
/// a sum of terms +-x_k: still a reordering of the reference's sum. Tables are built per chunk
/// of columns on the stack (8 KiB), partial sums kept in `out` between chunks.
template <class Ops>
concept LooksUp = requires(const float* table, typename Ops::Words w) {
  { Ops::lookup(table, w) } -> std::same_as<Vec>;
  { Ops::next_lookup(w) } -> std::same_as<typename Ops::Words>;
};
constexpr std::size_t lookup_bits = std::bit_width(Vec::lanes) - 1;
constexpr std::size_t lookups_per_group = (group_cols + lookup_bits - 1) / lookup_bits;
constexpr std::size_t table_floats_per_group = lookups_per_group * Vec::lanes;
template <std::size_t Samples>
constexpr std::size_t chunk_groups =
    2048 / (Samples * table_floats_per_group) > 0 ? 2048 / (Samples * table_floats_per_group) : 1;

/// The tables of groups [first, first + count) of input x (columns past `cols` count as 0).
inline void build_tables(const float* x, std::size_t cols, std::size_t first, std::size_t count,
                         float* tables) noexcept {
  // signs[i] lane e: -1 where bit i of e is set.
  alignas(64) static constexpr auto signs = [] {
    std::array<float, lookup_bits * Vec::lanes> s{};
    for (std::size_t i = 0; i < lookup_bits; ++i)
      for (std::size_t e = 0; e < Vec::lanes; ++e) s[i * Vec::lanes + e] = ((e >> i) & 1u) != 0 ? -1.0f : 1.0f;
    return s;
  }();
  for (std::size_t g = 0; g < count; ++g) {
    const std::size_t group_start = (first + g) * group_cols;
    MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
      const std::size_t start = group_start + l * lookup_bits;
      Vec table = Vec::zero();
      MOTE_UNROLL for (std::size_t i = 0; i < lookup_bits; ++i) {
        if (l * lookup_bits + i >= group_cols) continue;  // the last lookup of a group may be shorter
        const float x_k = start + i < cols ? x[start + i] : 0.0f;
        table = Vec::fma(Vec::broadcast(x_k), Vec::load(signs.data() + i * Vec::lanes), table);  // exact product
      }
      table.store(tables + (g * lookups_per_group + l) * Vec::lanes);
    }
  }
}

/// Samples [0, Samples) of `in` times every panel, by table lookups, chunk by chunk of columns.
template <std::size_t Samples, class Activation, class Ops = BinaryOps>
inline void lookup_tile(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        Activation activation) noexcept {
  constexpr std::size_t streams = chains / Samples > 0 ? chains / Samples : 1;
  constexpr std::size_t chunk = chunk_groups<Samples>;
  alignas(64) float tables[Samples][chunk * table_floats_per_group];
  const std::size_t cols = weights.cols(), rows = weights.rows(), groups = weights.group_count();
  for (std::size_t g0 = 0; g0 < groups; g0 += chunk) {
    const std::size_t count = groups - g0 < chunk ? groups - g0 : chunk;
    const bool first_chunk = g0 == 0, last_chunk = g0 + count == groups;
    MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) build_tables(in + i * cols, cols, g0, count, tables[i]);
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      const std::uint32_t* panel = weights.panel(p) + g0 * panel_rows;
      Vec acc[Samples][streams][per_panel];
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            acc[i][s][j] = Vec::zero();
            if (s == 0 && !first_chunk) {  // the partial sums of the previous chunks
              if (row + Vec::lanes <= rows) acc[i][s][j] = Vec::load(out + i * rows + row);
              else if (row < rows) acc[i][s][j] = Vec::load_partial(out + i * rows + row, rows - row);
            }
          }
      for (std::size_t g = 0; g < count; ++g) {
        BinaryOps::Words w[per_panel];
        load_words(panel + g * panel_rows, 0, w);
        const std::size_t table_offset = g * table_floats_per_group;
        MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
          MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
            const float* table = tables[i] + table_offset + l * Vec::lanes;
            MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j)
              acc[i][l % streams][j] = acc[i][l % streams][j] + Ops::lookup(table, w[j]);
          }
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Ops::next_lookup(w[j]);
        }
      }
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
        Vec sums[per_panel];
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
          sums[j] = acc[i][0][j];
          MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sums[j] = sums[j] + acc[i][s][j];
        }
        if (last_chunk) {
          store_panel(weights, p, sums, bias, out + i * rows, activation);
        } else {
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            if (row + Vec::lanes <= rows) sums[j].store(out + i * rows + row);
            else if (row < rows) sums[j].store_partial(out + i * rows + row, rows - row);
          }
        }
      }
    }
  }
}

}  // namespace dense_binary_detail

/// GEMM: `batch` samples, `chains` at a time.
template <class Activation>
inline void dense_batch(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation) noexcept {
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  if constexpr (LooksUp<BinaryOps>) {
    std::size_t b = 0;
    for (; b + chains <= batch; b += chains) lookup_tile<chains>(weights, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) lookup_tile<1>(weights, bias, in + b * cols, out + b * rows, activation);
  } else {
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      std::size_t b = 0;
      for (; b + chains <= batch; b += chains)
        flip_gemm_tile<chains>(weights, p, bias, in + b * cols, out + b * rows, activation);
      for (; b < batch; ++b) flip_gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
    }
  }
}

/// GEMV; transcendental activations run as a second pass (as for f32).
template <class Activation>
inline void dense(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                  Activation activation) noexcept {
  using namespace dense_binary_detail;
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
  } else if constexpr (LooksUp<BinaryOps>) {
    lookup_tile<1>(weights, bias, in, out, activation);
  } else {
    flip_gemv(weights, bias, in, out, activation);
  }
}

#endif  // !MOTE_BINARY_XNOR_ONLY
// ----- end mote/kernels/dense/binary-inl.hpp -----
// ----- begin mote/kernels/dense/codebook-inl.hpp -----
// Dense (GEMV, GEMM) with codebook weights, computed in f32, without ever building the float
// weight matrix: for a tile of rows, each row's table is prepared once in registers
// (CodebookOps::prepare), and for every chunk (16 columns of one row, layout/dense_codebook.hpp)
// the 16 weights are decoded and looked up in registers (CodebookOps::lookup) and multiplied
// into per-row accumulators with the activations (dot-product form: a register permute picks
// from one table, so the lanes of a vector are columns of one row, never rows with different
// tables). Each row's lanes are summed at the end: the only reordering compared with the scalar
// reference (codebook_reference.hpp), within the f32 dot-product bound.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp and
// elementwise/simd-inl.hpp (activate).
//
// Contract of the per-ISA primitives (arch/<family>/<isa>_codebook.hpp), CodebookOps<Bits>:
//   Table / prepare(entries)   a table of 2^Bits ascending floats, ready for lookups
//   lookup(table, chunk, w)    w[j], j < 16 / Vec::lanes: the chunk's weights, in column order
//   gemv_rows                  rows per tile of the GEMV (a divisor of 16)
//   gemm_rows, gemm_samples    rows x samples per register tile of the GEMM

namespace dense_codebook_detail {

constexpr std::size_t group_cols = 16;
constexpr std::size_t per_group = group_cols / Vec::lanes;

template <class Matrix>
using Ops = ::mote::simd::MOTE_SIMD_NS::CodebookOps<Matrix::format::bits>;

/// Lanes of the padding columns (column >= valid of the last group) set to exactly 0, whatever
/// the table holds; the activations there are loaded as 0 too.
inline void clear_padding(Vec (&w)[per_group], std::size_t valid) noexcept {
  alignas(64) static constexpr float column[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const Vec limit = Vec::broadcast(static_cast<float>(valid));
  MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j)
    w[j] = Vec::select(Vec::less(Vec::load(column + j * Vec::lanes), limit), w[j], Vec::zero());
}

/// Activations of columns [g * 16, g * 16 + 16) of one sample; lanes past `valid` are 0.
inline void load_group(const float* x, std::size_t valid, Vec (&v)[per_group]) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j) {
    const std::size_t first = j * Vec::lanes;
    if (first + Vec::lanes <= valid) v[j] = Vec::load(x + first);
    else if (first < valid) v[j] = Vec::load_partial(x + first, valid - first);
    else v[j] = Vec::zero();
  }
}

/// Rows [row, row + Rows) (inside the padded rows) times `Samples` inputs (sample s at
/// in + s * cols): writes bias + dot product, with `Activation` when it is piecewise linear
/// (exact per output), to out[s * rows + r] for the rows that exist.
template <std::size_t Rows, std::size_t Samples, class Matrix, class Activation>
inline void tile(const Matrix& weights, std::size_t row, const float* bias, const float* in, float* out,
                 Activation) noexcept {
  using O = Ops<Matrix>;
  constexpr bool per_channel = Matrix::format::per_channel;
  constexpr std::size_t tables = per_channel ? Rows : 1;
  constexpr std::size_t chunk_bytes = Matrix::chunk_bytes, group_stride = Matrix::panel_rows * chunk_bytes;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::size_t full_groups = cols / group_cols;
  typename O::Table table[tables];
  MOTE_UNROLL for (std::size_t t = 0; t < tables; ++t) table[t] = O::prepare(weights.table(row + t));
  Vec acc[Rows][Samples];
  MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r)
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) acc[r][s] = Vec::zero();
  const std::uint8_t* chunks = weights.chunk(row, 0);
  for (std::size_t g = 0; g < full_groups; ++g, chunks += group_stride) {
    MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
      Vec w[per_group];
      O::lookup(table[per_channel ? r : 0], chunks + r * chunk_bytes, w);
      MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) {
        const float* x = in + s * cols + g * group_cols;
        MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j)
          acc[r][s] = Vec::fma(w[j], Vec::load(x + j * Vec::lanes), acc[r][s]);
      }
    }
  }
  if (full_groups < weights.group_count()) {
    const std::size_t valid = cols - full_groups * group_cols;
    Vec x[Samples][per_group];
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s)
      load_group(in + s * cols + full_groups * group_cols, valid, x[s]);
    MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
      Vec w[per_group];
      O::lookup(table[per_channel ? r : 0], chunks + r * chunk_bytes, w);
      clear_padding(w, valid);
      MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s)
        MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j) acc[r][s] = Vec::fma(w[j], x[s][j], acc[r][s]);
    }
  }
  MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
    if (row + r >= rows) break;
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) {
      const float sum = acc[r][s].reduce_add() + bias[row + r];
      if constexpr (::mote::activation::is_piecewise_linear_v<Activation>)
        out[s * rows + row + r] = Activation::apply(sum);
      else
        out[s * rows + row + r] = sum;
    }
  }
}

/// Rows [row, row + Rows) times samples [0, count), count < Samples.
template <std::size_t Rows, std::size_t Samples, class Matrix, class Activation>
inline void tile_remainder(const Matrix& weights, std::size_t row, const float* bias, const float* in, float* out,
                           std::size_t count, Activation activation) noexcept {
  if constexpr (Samples > 1) {
    if (count == Samples - 1) return tile<Rows, Samples - 1>(weights, row, bias, in, out, activation);
    tile_remainder<Rows, Samples - 1>(weights, row, bias, in, out, count, activation);
  }
}

/// Transcendental activations run as a vectorised pass over the finished outputs.
template <class Activation>
inline void finish(Activation activation, float* out, std::size_t count) noexcept {
  if constexpr (!::mote::activation::is_piecewise_linear_v<Activation>) activate(activation, out, out, count);
}

}  // namespace dense_codebook_detail

/// GEMV: tiles of gemv_rows rows, every column group of each, one sample.
template <std::size_t Bits, class Granularity, class Activation>
inline void dense(const ::mote::WeightMatrix<::mote::Codebook<Bits, Granularity>, ::mote::DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation activation) noexcept {
  using namespace dense_codebook_detail;
  using Matrix = std::remove_cvref_t<decltype(weights)>;
  constexpr std::size_t rows_per_tile = Ops<Matrix>::gemv_rows;
  static_assert(Matrix::panel_rows % rows_per_tile == 0, "a row tile must not straddle two panels");
  for (std::size_t row = 0; row < weights.rows(); row += rows_per_tile)
    tile<rows_per_tile, 1>(weights, row, bias, in, out, activation);
  finish(activation, out, weights.rows());
}

/// GEMM: tiles of gemm_rows rows x gemm_samples samples; a row tile's chunks stay in L1 while
/// the samples stream past them.
template <std::size_t Bits, class Granularity, class Activation>
inline void dense_batch(const ::mote::WeightMatrix<::mote::Codebook<Bits, Granularity>, ::mote::DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation) noexcept {
  using namespace dense_codebook_detail;
  using Matrix = std::remove_cvref_t<decltype(weights)>;
  constexpr std::size_t rows_per_tile = Ops<Matrix>::gemm_rows, samples = Ops<Matrix>::gemm_samples;
  static_assert(Matrix::panel_rows % rows_per_tile == 0, "a row tile must not straddle two panels");
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t row = 0; row < rows; row += rows_per_tile) {
    std::size_t b = 0;
    for (; b + samples <= batch; b += samples)
      tile<rows_per_tile, samples>(weights, row, bias, in + b * cols, out + b * rows, activation);
    if (b < batch)
      tile_remainder<rows_per_tile, samples>(weights, row, bias, in + b * cols, out + b * rows, batch - b, activation);
  }
  finish(activation, out, batch * rows);
}
// ----- end mote/kernels/dense/codebook-inl.hpp -----
// ----- begin mote/kernels/conv2d/simd-inl.hpp -----
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

/// out[0..Pixels) for one panel, pixel i reading its input at in_pixel[i]; taps with a null
/// pointer are padding.
template <std::size_t Pixels, class Activation>
inline void conv_pixels(const WindowGeometry& g, const float* panel, const float* bias, std::size_t oy,
                        std::size_t ox, const float* in, float* out, std::size_t channels_here,
                        Activation activation) noexcept {
  Vec acc[Pixels][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::load(bias + j * Vec::lanes);
  for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
    const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
    if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
    for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
      const float* pixel_in[Pixels];
      bool any = false;
      MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
        const long ix = static_cast<long>((ox + i) * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
        pixel_in[i] = ix < 0 || ix >= static_cast<long>(g.in_w)
                          ? nullptr
                          : in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
        any = any || pixel_in[i] != nullptr;
      }
      if (!any) continue;
      const float* taps = panel + (ky * g.kernel_w + kx) * g.in_c * DenseF32::panel_rows;
      for (std::size_t ic = 0; ic < g.in_c; ++ic) {
        Vec w[per_panel];
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load(taps + ic * DenseF32::panel_rows + j * Vec::lanes);
        MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
          if (Pixels > 1 || pixel_in[i] != nullptr) {
            const Vec x = Vec::broadcast(pixel_in[i][ic]);
            MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
          }
        }
      }
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
    float* out_pixel = out + ((oy * g.out_w) + ox + i) * g.out_c;
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      const std::size_t c = j * Vec::lanes;
      const Vec result = apply(activation, acc[i][j]);
      if (c + Vec::lanes <= channels_here) result.store(out_pixel + c);
      else if (c < channels_here) result.store_partial(out_pixel + c, channels_here - c);
    }
  }
}

}  // namespace conv_detail

template <class Activation>
inline void conv2d(const WindowGeometry& g, const DenseF32& weights, const float* bias, const float* in,
                   float* out, Activation activation) noexcept {
  using namespace conv_detail;
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
    for (; ox < x_begin; ++ox) conv_pixels<1>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    for (; ox + block <= x_end; ox += block)
      conv_pixels<block>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    // The interior's remainder in halving blocks: a lone pixel has too few accumulators to
    // hide FMA latency.
    if constexpr (block >= 4)
      for (; ox + block / 2 <= x_end; ox += block / 2)
        conv_pixels<block / 2>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    if constexpr (block >= 8)
      for (; ox + block / 4 <= x_end; ox += block / 4)
        conv_pixels<block / 4>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    if constexpr (block >= 2)
      for (; ox + 2 <= x_end; ox += 2) conv_pixels<2>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    for (; ox < g.out_w; ++ox) conv_pixels<1>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
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
// ----- end mote/kernels/conv2d/simd-inl.hpp -----
// ----- begin mote/kernels/depthwise/simd-inl.hpp -----
// Depthwise Conv2D (channel multiplier 1) over channels-last input. The 16-row weight panels
// hold, for 16 consecutive channels, tap t at panel[t * 16 ...]: one vector of weights per tap
// and channel group, multiplied with the matching vector of input channels. For each output
// pixel the taps inside the input are listed once, then every channel group runs over them
// without bounds checks.
// Code only: included per ISA by kernels/simd-inl.hpp.

namespace depthwise_detail {

/// Kernels up to 7x7 list their taps on the stack; larger ones use the scalar reference.
constexpr std::size_t max_listed_taps = 49;

template <class Activation>
inline void channels_over_taps(std::size_t channels, const float* const* tap_in, const std::size_t* tap_offset,
                               std::size_t taps, const DenseF32& weights, const float* bias, float* out,
                               Activation activation) noexcept {
  constexpr std::size_t rows = DenseF32::panel_rows;
  std::size_t c = 0;
  // Two channel vectors at a time: two independent FMA chains.
  for (; c + 2 * Vec::lanes <= channels; c += 2 * Vec::lanes) {
    const float* panel0 = weights.panel(c / rows) + c % rows;
    const float* panel1 = weights.panel((c + Vec::lanes) / rows) + (c + Vec::lanes) % rows;
    Vec acc0 = Vec::load(bias + c), acc1 = Vec::load(bias + c + Vec::lanes);
    for (std::size_t t = 0; t < taps; ++t) {
      acc0 = Vec::fma(Vec::load(tap_in[t] + c), Vec::load(panel0 + tap_offset[t]), acc0);
      acc1 = Vec::fma(Vec::load(tap_in[t] + c + Vec::lanes), Vec::load(panel1 + tap_offset[t]), acc1);
    }
    apply(activation, acc0).store(out + c);
    apply(activation, acc1).store(out + c + Vec::lanes);
  }
  for (; c < channels; c += Vec::lanes) {
    const std::size_t lanes = std::min(Vec::lanes, channels - c);
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec x = lanes == Vec::lanes ? Vec::load(tap_in[t] + c) : Vec::load_partial(tap_in[t] + c, lanes);
      acc = Vec::fma(x, Vec::load(panel + tap_offset[t]), acc);
    }
    acc = apply(activation, acc);
    if (lanes == Vec::lanes) acc.store(out + c);
    else acc.store_partial(out + c, lanes);
  }
}

/// Pixels consecutive interior output pixels of one row at once: each weight vector is loaded
/// once per tap for all of them (`pixel_step` = stride * channels between their inputs).
template <std::size_t Pixels, class Activation>
inline void pixels_over_taps(std::size_t channels, const float* const* tap_in, const std::size_t* tap_offset,
                             std::size_t taps, std::size_t pixel_step, const DenseF32& weights, const float* bias,
                             float* out, Activation activation) noexcept {
  constexpr std::size_t rows = DenseF32::panel_rows;
  std::size_t c = 0;
  for (; c + Vec::lanes <= channels; c += Vec::lanes) {
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc[Pixels];
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec w = Vec::load(panel + tap_offset[t]);
      const float* x = tap_in[t] + c;
      MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::fma(Vec::load(x + q * pixel_step), w, acc[q]);
    }
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) apply(activation, acc[q]).store(out + q * channels + c);
  }
  if (c < channels) {
    const std::size_t lanes = channels - c;
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc[Pixels];
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec w = Vec::load(panel + tap_offset[t]);
      const float* x = tap_in[t] + c;
      MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q)
        acc[q] = Vec::fma(Vec::load_partial(x + q * pixel_step, lanes), w, acc[q]);
    }
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) apply(activation, acc[q]).store_partial(out + q * channels + c, lanes);
  }
}

/// Interior pixels per block: 8 accumulators (16 with AVX-512's 32 registers).
constexpr std::size_t pixel_block = Vec::lanes == 16 ? 16 : 8;

}  // namespace depthwise_detail

template <class Activation>
inline void depthwise_conv2d(const WindowGeometry& g, const DenseF32& weights, const float* bias, const float* in,
                             float* out, Activation activation) noexcept {
  using namespace depthwise_detail;
  constexpr std::size_t rows = DenseF32::panel_rows;
  if (g.kernel_h * g.kernel_w > max_listed_taps)
    return ::mote::kernels::depthwise_conv2d(isa::Scalar{}, g, weights, bias, in, out, activation);
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
      const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
      if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
      for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
        const long ix0 = static_cast<long>(kx * g.dilation_w) - static_cast<long>(g.pad_left);
        row_tap_index[row_taps] = (iy * static_cast<long>(g.in_w) + ix0) * static_cast<long>(g.in_c);
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
          pixels_over_taps<pixel_block>(g.out_c, tap_in, row_tap_offset, row_taps, g.stride_w * g.in_c, weights,
                                        bias, out_pixel, activation);
          ox += pixel_block - 1;
        } else {
          channels_over_taps(g.out_c, tap_in, row_tap_offset, row_taps, weights, bias, out_pixel, activation);
        }
        continue;
      }
      std::size_t taps = 0;
      for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
        const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
        if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
        for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
          const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
          if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
          tap_in[taps] = in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
          tap_offset[taps] = (ky * g.kernel_w + kx) * rows;
          ++taps;
        }
      }
      channels_over_taps(g.out_c, tap_in, tap_offset, taps, weights, bias, out_pixel, activation);
    }
  }
}
// ----- end mote/kernels/depthwise/simd-inl.hpp -----
// ----- begin mote/kernels/pool/simd-inl.hpp -----
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
// ----- end mote/kernels/pool/simd-inl.hpp -----

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}
template <class Activation = activation::Identity>
inline void conv2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const WeightMatrix<F32, DenseStorage>& weights,
                   const float* bias, const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::conv2d(g, weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void depthwise_conv2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g,
                             const WeightMatrix<F32, DenseStorage>& weights, const float* bias, const float* in,
                             float* out, Activation activation = {}) noexcept {
  // A channel multiplier above 1 reads input channel o / M for output o: no contiguous vector.
  if (g.out_c != g.in_c) return depthwise_conv2d(isa::Scalar{}, g, weights, bias, in, out, activation);
  MOTE_SIMD_NS::depthwise_conv2d(g, weights, bias, in, out, activation);
}
template <class Activation>
inline void activate(isa::MOTE_SIMD_TAG, Activation activation, const float* in, float* out,
                     std::size_t count) noexcept {
  MOTE_SIMD_NS::activate(activation, in, out, count);
}
inline void channel_affine(isa::MOTE_SIMD_TAG, const float* scale, const float* shift, const float* in, float* out,
                           std::size_t pixels, std::size_t channels) noexcept {
  MOTE_SIMD_NS::channel_affine(scale, shift, in, out, pixels, channels);
}
inline void add(isa::MOTE_SIMD_TAG, const float* a, const float* b, float* out, std::size_t count) noexcept {
  MOTE_SIMD_NS::add(a, b, out, count);
}
inline void softmax(isa::MOTE_SIMD_TAG, const float* in, float* out, std::size_t rows,
                    std::size_t channels) noexcept {
  MOTE_SIMD_NS::softmax(in, out, rows, channels);
}
inline void max_pool2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const float* in, float* out) noexcept {
  MOTE_SIMD_NS::max_pool2d(g, in, out);
}
inline void avg_pool2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const float* in, float* out) noexcept {
  MOTE_SIMD_NS::avg_pool2d(g, in, out);
}
inline void global_avg_pool(isa::MOTE_SIMD_TAG, std::size_t pixels, std::size_t channels, const float* in,
                            float* out) noexcept {
  MOTE_SIMD_NS::global_avg_pool(pixels, channels, in, out);
}

// bf16 / f16 weights (kernels/dense/half-inl.hpp).
template <HalfFloatFormat Format, class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <HalfFloatFormat Format, class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}

// Codebook weights (kernels/dense/codebook-inl.hpp).
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}

// Binary weights (kernels/dense/binary-inl.hpp): f32 activations, and XNOR-popcount with binary
// activations (bit-exact on every ISA; transcendental activations then run as a vector pass).
template <class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}
template <class Activation = activation::Identity>
inline void dense_xnor(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, Activation activation,
                       std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_xnor(weights, bias, in, out, batch, activation, scratch);
  } else {
    MOTE_SIMD_NS::dense_xnor(weights, bias, in, out, batch, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}

}  // namespace mote::kernels
// ----- end mote/kernels/simd-inl.hpp -----
// ----- begin mote/kernels/simd_int8-inl.hpp -----
// The int8 kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA that has integer dot-product primitives (arch/<family>/<isa>_int8.hpp), inside
// that ISA's target region, with MOTE_SIMD_NS and MOTE_SIMD_TAG defined as for simd-inl.hpp.

#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Int8Ops = ::mote::simd::MOTE_SIMD_NS::Int8Ops;
using ::mote::align_up;

// ----- begin mote/kernels/dense/int8-inl.hpp -----
// int8 Dense kernels, written once against `Int8Ops`, the ISA's integer dot-product primitives
// (arch/<family>/<isa>_int8.hpp). Included by kernels/simd_int8-inl.hpp, once per ISA.
//
// Contract of an Int8 primitive set:
//   Act                 the activation code type the ISA multiplies (int16, uint8 or int8)
//   encode(u)           the Act holding code u in [0, 255]
//   activation_offset   what encode subtracts: the kernels see dot_r = sum_k w_rk (u_k - offset)
//   Acc / zero()        accumulators of one 16-row panel
//   Panel / load(g)     one 64-byte group (16 rows x 4 columns) of weights, loaded for reuse
//   madd(acc, w, a)     acc += the products of the group with the 4 codes at a
//   store(acc, out)     the 16 row sums as int32
//   quantize(x, n, ...) float -> Act codes, bit-identical to mote::quantize
//   gemm_cols           samples per register tile in the batched kernel

// One panel of 16 rows times `Cols` samples; codes of sample c at act + c * stride.
// An ISA may provide its own microkernel (Int8Ops::panel_tile) where the compiler does not
// keep this generic one's accumulators in registers.
template <std::size_t Cols, class Ops = Int8Ops>
inline void int8_panel_tile(const std::int8_t* panel, std::size_t groups, const typename Ops::Act* act,
                            std::size_t stride, std::int32_t* dots, std::size_t dots_stride) noexcept {
  if constexpr (requires { Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride); }) {
    return Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
  }
  typename Ops::Acc acc[Cols];
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) acc[c] = Int8Ops::zero();
  for (std::size_t g = 0; g < groups; ++g) {
    const typename Int8Ops::Panel w = Int8Ops::load(panel + g * 64);
    MOTE_UNROLL
    for (std::size_t c = 0; c < Cols; ++c) Int8Ops::madd(acc[c], w, act + c * stride + g * 4);
  }
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) Int8Ops::store(acc[c], dots + c * dots_stride);
}

template <std::size_t Cols = Int8Ops::gemm_cols>
inline void int8_panel_columns(const std::int8_t* panel, std::size_t groups, const Int8Ops::Act* act, std::size_t stride,
                               std::int32_t* dots, std::size_t dots_stride, std::size_t columns) noexcept {
  if constexpr (Cols > 0) {
    for (; columns >= Cols; columns -= Cols, act += Cols * stride, dots += Cols * dots_stride)
      int8_panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
    if (columns > 0) int8_panel_columns<Cols / 2>(panel, groups, act, stride, dots, dots_stride, columns);
  }
}

// An ISA may vectorise the symmetric-weight epilogue (Int8Ops::dequantize_rows), with the same
// operations as int8_dense_epilogue lane by lane.
template <class Ops>
inline constexpr bool int8_has_vector_epilogue = requires(const std::int32_t* i, const float* f, float* o) {
  Ops::dequantize_rows(i, i, 0, 0.0f, f, f, o, std::size_t{0});
};
template <class Ops>
inline std::size_t int8_vector_epilogue(const std::int32_t* dots, const std::int32_t* row_sums, std::int32_t correction,
                                        float input_scale, const float* scales, const float* bias, float* out,
                                        std::size_t rows) noexcept {
  if constexpr (int8_has_vector_epilogue<Ops>)
    return Ops::dequantize_rows(dots, row_sums, correction, input_scale, scales, bias, out, rows);
  else
    return 0;
}

template <class G, class S, class Activation>
inline void dense_int8(const ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>& weights,
                       const float* bias, const float* in, float* out, std::size_t batch,
                       const ::mote::kernels::Int8InputQuant& input, Activation activation,
                       std::byte* scratch) noexcept {
  using Matrix = ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>;
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t groups = padded_cols / 4;
  auto* act = reinterpret_cast<Int8Ops::Act*>(scratch);
  auto* dots = reinterpret_cast<std::int32_t*>(scratch + batch * align_up(padded_cols * sizeof(std::int16_t)));
  const typename Int8Ops::Act padding = Int8Ops::encode(input.params.zero_point);
  for (std::size_t b = 0; b < batch; ++b) {
    Int8Ops::Act* codes = act + b * padded_cols;
    Int8Ops::quantize(in + b * cols, cols, input.params, input.low, input.high, codes);
    for (std::size_t k = cols; k < padded_cols; ++k) codes[k] = padding;
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    int8_panel_columns(weights.panel(p), groups, act, padded_cols, dots + p * 16, padded_rows, batch);
  if constexpr (Matrix::format::symmetric && int8_has_vector_epilogue<Int8Ops>) {
    // Symmetric weights: the epilogue vectorised where the ISA provides it (same operations).
    const std::int32_t correction = Int8Ops::activation_offset - input.params.zero_point;
    for (std::size_t b = 0; b < batch; ++b) {
      float* y = out + b * rows;
      const std::int32_t* d = dots + b * padded_rows;
      std::size_t r = int8_vector_epilogue<Int8Ops>(d, weights.row_sums(), correction, input.params.scale,
                                                    weights.scales(), bias, y, rows);
      for (; r < rows; ++r)
        y[r] = std::fma(static_cast<float>(static_cast<std::int64_t>(d[r]) +
                                           static_cast<std::int64_t>(correction) * weights.row_sum(r)),
                        input.params.scale * weights.scales()[r], bias[r]);
      if constexpr (!std::is_same_v<Activation, ::mote::activation::Identity>)
        for (std::size_t i = 0; i < rows; ++i) y[i] = Activation::apply(y[i]);
    }
    return;
  }
  for (std::size_t b = 0; b < batch; ++b) {
    std::int64_t sum_u = 0;
    if constexpr (!Matrix::format::symmetric)
      for (std::size_t k = 0; k < cols; ++k) sum_u += act[b * padded_cols + k] + Int8Ops::activation_offset;
    ::mote::kernels::int8_dense_epilogue(weights, bias, dots + b * padded_rows, input, Int8Ops::activation_offset, sum_u,
                                         out + b * rows, activation);
  }
}
// ----- end mote/kernels/dense/int8-inl.hpp -----
#if defined(MOTE_SIMD_HAS_INT4)
using Int4Ops = ::mote::simd::MOTE_SIMD_NS::Int4Ops;
// ----- begin mote/kernels/dense/int4-inl.hpp -----
// int4 Dense kernels, written once against `Int4Ops`, the ISA's int4 primitives
// (arch/<family>/<isa>_int4.hpp). Included by kernels/simd_int8-inl.hpp for ISAs that have them.
//   centre(x, n, params, low, high, out)   s = quantize(x) - 128 as int8, bit-identical to mote::quantize
//   panel(packed, scales, blocks, blocks_per_group, act, block_sums, f)   F of one 16-row panel
// Samples run panel by panel so that a panel's packed weights stay in L1 across the batch.

template <std::size_t G, class Activation>
inline void dense_int4(const ::mote::WeightMatrix<::mote::Int4<G>, ::mote::DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const ::mote::kernels::Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols(), blocks = weights.block_count();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t per_sample = align_up(padded_cols) + align_up(blocks * sizeof(std::int32_t));
  auto* f = reinterpret_cast<float*>(scratch + batch * per_sample);
  for (std::size_t b = 0; b < batch; ++b) {
    auto* act = reinterpret_cast<std::int8_t*>(scratch + b * per_sample);
    auto* block_sums = reinterpret_cast<std::int32_t*>(scratch + b * per_sample + align_up(padded_cols));
    Int4Ops::centre(in + b * cols, cols, input.params, input.low, input.high, act);
    for (std::size_t k = cols; k < padded_cols; ++k) act[k] = 0;
    for (std::size_t block = 0; block < blocks; ++block) {
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < 32; ++k) sum += act[block * 32 + k];
      block_sums[block] = sum;
    }
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    for (std::size_t b = 0; b < batch; ++b)
      Int4Ops::panel(weights.panel(p), weights.panel_scales(p, 0), blocks, weights.blocks_per_group(),
                     reinterpret_cast<const std::int8_t*>(scratch + b * per_sample),
                     reinterpret_cast<const std::int32_t*>(scratch + b * per_sample + align_up(padded_cols)),
                     f + b * padded_rows + p * 16);
  for (std::size_t b = 0; b < batch; ++b)
    ::mote::kernels::int4_dense_epilogue(weights, bias, f + b * padded_rows, input, out + b * rows, activation);
}
// ----- end mote/kernels/dense/int4-inl.hpp -----
#endif

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class G, class S, class Activation>
inline void dense_int8(isa::MOTE_SIMD_TAG, const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    // Transcendental activations: the vectorised functions of the ISA (their stated bounds)
    // over the whole output, instead of one libm call per output in the scalar epilogue.
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}

#if defined(MOTE_SIMD_HAS_INT4)
template <std::size_t G, class Activation>
inline void dense_int4(isa::MOTE_SIMD_TAG, const WeightMatrix<Int4<G>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}
#endif

}  // namespace mote::kernels
// ----- end mote/kernels/simd_int8-inl.hpp -----
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END

// VNNI adds only integer kernels; its float kernels are the AVX-512 ones (tag inheritance).
MOTE_TARGET_REGION_BEGIN("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,bmi2,f16c")
// ----- begin mote/arch/x86/avx512_vnni_int8.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_VNNI_INT8_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_VNNI_INT8_HPP_
// AVX-512 VNNI int8 dot-product primitives (contract: kernels/dense/int8-inl.hpp): one vpdpbusd
// multiplies 16 rows x 4 columns of signed weights by 4 unsigned activation codes and adds the
// four int32 products per row without intermediate saturation (vpdpbusd, not vpdpbusds), so
// results are exact. No include guard on purpose: see arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX512_VNNI_INT8)
#define MOTE_ARCH_X86_AVX512_VNNI_INT8
namespace mote::simd::avx512_vnni {

using VecF32 = ::mote::simd::avx512::VecF32;

struct Int8Ops {
  using Act = std::uint8_t;
  static constexpr std::int32_t activation_offset = 0;
  static constexpr std::size_t gemm_cols = 8;
  struct Acc {
    __m512i v;
  };
  struct Panel {
    __m512i v;
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u); }
  static inline __attribute__((always_inline)) Acc zero() { return {_mm512_setzero_si512()}; }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    return {_mm512_loadu_si512(group)};
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    std::int32_t pattern;
    std::memcpy(&pattern, act, sizeof(pattern));
    acc.v = _mm512_dpbusd_epi32(acc.v, _mm512_set1_epi32(pattern), w.v);
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    _mm512_storeu_si512(out, acc.v);
  }
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const __m512 scale = _mm512_set1_ps(p.scale), zero = _mm512_set1_ps(static_cast<float>(p.zero_point));
    const __m512 lo = _mm512_set1_ps(static_cast<float>(low)), hi = _mm512_set1_ps(static_cast<float>(high));
    const __m512 nan_code = _mm512_set1_ps(static_cast<float>(std::clamp(p.zero_point, low, high)));
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                       _mm512_cvtusepi32_epi8(::mote::simd::avx512::quantize16(x + i, scale, zero, lo, hi, nan_code)));
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::avx512_vnni
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_X86_AVX512_VNNI_INT8_HPP_
// ----- end mote/arch/x86/avx512_vnni_int8.hpp -----
#define MOTE_SIMD_NS avx512_vnni
#define MOTE_SIMD_TAG Avx512Vnni
// ----- begin mote/kernels/simd_int8-inl.hpp -----
// The int8 kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA that has integer dot-product primitives (arch/<family>/<isa>_int8.hpp), inside
// that ISA's target region, with MOTE_SIMD_NS and MOTE_SIMD_TAG defined as for simd-inl.hpp.

#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Int8Ops = ::mote::simd::MOTE_SIMD_NS::Int8Ops;
using ::mote::align_up;

// ----- begin mote/kernels/dense/int8-inl.hpp -----
// int8 Dense kernels, written once against `Int8Ops`, the ISA's integer dot-product primitives
// (arch/<family>/<isa>_int8.hpp). Included by kernels/simd_int8-inl.hpp, once per ISA.
//
// Contract of an Int8 primitive set:
//   Act                 the activation code type the ISA multiplies (int16, uint8 or int8)
//   encode(u)           the Act holding code u in [0, 255]
//   activation_offset   what encode subtracts: the kernels see dot_r = sum_k w_rk (u_k - offset)
//   Acc / zero()        accumulators of one 16-row panel
//   Panel / load(g)     one 64-byte group (16 rows x 4 columns) of weights, loaded for reuse
//   madd(acc, w, a)     acc += the products of the group with the 4 codes at a
//   store(acc, out)     the 16 row sums as int32
//   quantize(x, n, ...) float -> Act codes, bit-identical to mote::quantize
//   gemm_cols           samples per register tile in the batched kernel

// One panel of 16 rows times `Cols` samples; codes of sample c at act + c * stride.
// An ISA may provide its own microkernel (Int8Ops::panel_tile) where the compiler does not
// keep this generic one's accumulators in registers.
template <std::size_t Cols, class Ops = Int8Ops>
inline void int8_panel_tile(const std::int8_t* panel, std::size_t groups, const typename Ops::Act* act,
                            std::size_t stride, std::int32_t* dots, std::size_t dots_stride) noexcept {
  if constexpr (requires { Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride); }) {
    return Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
  }
  typename Ops::Acc acc[Cols];
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) acc[c] = Int8Ops::zero();
  for (std::size_t g = 0; g < groups; ++g) {
    const typename Int8Ops::Panel w = Int8Ops::load(panel + g * 64);
    MOTE_UNROLL
    for (std::size_t c = 0; c < Cols; ++c) Int8Ops::madd(acc[c], w, act + c * stride + g * 4);
  }
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) Int8Ops::store(acc[c], dots + c * dots_stride);
}

template <std::size_t Cols = Int8Ops::gemm_cols>
inline void int8_panel_columns(const std::int8_t* panel, std::size_t groups, const Int8Ops::Act* act, std::size_t stride,
                               std::int32_t* dots, std::size_t dots_stride, std::size_t columns) noexcept {
  if constexpr (Cols > 0) {
    for (; columns >= Cols; columns -= Cols, act += Cols * stride, dots += Cols * dots_stride)
      int8_panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
    if (columns > 0) int8_panel_columns<Cols / 2>(panel, groups, act, stride, dots, dots_stride, columns);
  }
}

// An ISA may vectorise the symmetric-weight epilogue (Int8Ops::dequantize_rows), with the same
// operations as int8_dense_epilogue lane by lane.
template <class Ops>
inline constexpr bool int8_has_vector_epilogue = requires(const std::int32_t* i, const float* f, float* o) {
  Ops::dequantize_rows(i, i, 0, 0.0f, f, f, o, std::size_t{0});
};
template <class Ops>
inline std::size_t int8_vector_epilogue(const std::int32_t* dots, const std::int32_t* row_sums, std::int32_t correction,
                                        float input_scale, const float* scales, const float* bias, float* out,
                                        std::size_t rows) noexcept {
  if constexpr (int8_has_vector_epilogue<Ops>)
    return Ops::dequantize_rows(dots, row_sums, correction, input_scale, scales, bias, out, rows);
  else
    return 0;
}

template <class G, class S, class Activation>
inline void dense_int8(const ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>& weights,
                       const float* bias, const float* in, float* out, std::size_t batch,
                       const ::mote::kernels::Int8InputQuant& input, Activation activation,
                       std::byte* scratch) noexcept {
  using Matrix = ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>;
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t groups = padded_cols / 4;
  auto* act = reinterpret_cast<Int8Ops::Act*>(scratch);
  auto* dots = reinterpret_cast<std::int32_t*>(scratch + batch * align_up(padded_cols * sizeof(std::int16_t)));
  const typename Int8Ops::Act padding = Int8Ops::encode(input.params.zero_point);
  for (std::size_t b = 0; b < batch; ++b) {
    Int8Ops::Act* codes = act + b * padded_cols;
    Int8Ops::quantize(in + b * cols, cols, input.params, input.low, input.high, codes);
    for (std::size_t k = cols; k < padded_cols; ++k) codes[k] = padding;
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    int8_panel_columns(weights.panel(p), groups, act, padded_cols, dots + p * 16, padded_rows, batch);
  if constexpr (Matrix::format::symmetric && int8_has_vector_epilogue<Int8Ops>) {
    // Symmetric weights: the epilogue vectorised where the ISA provides it (same operations).
    const std::int32_t correction = Int8Ops::activation_offset - input.params.zero_point;
    for (std::size_t b = 0; b < batch; ++b) {
      float* y = out + b * rows;
      const std::int32_t* d = dots + b * padded_rows;
      std::size_t r = int8_vector_epilogue<Int8Ops>(d, weights.row_sums(), correction, input.params.scale,
                                                    weights.scales(), bias, y, rows);
      for (; r < rows; ++r)
        y[r] = std::fma(static_cast<float>(static_cast<std::int64_t>(d[r]) +
                                           static_cast<std::int64_t>(correction) * weights.row_sum(r)),
                        input.params.scale * weights.scales()[r], bias[r]);
      if constexpr (!std::is_same_v<Activation, ::mote::activation::Identity>)
        for (std::size_t i = 0; i < rows; ++i) y[i] = Activation::apply(y[i]);
    }
    return;
  }
  for (std::size_t b = 0; b < batch; ++b) {
    std::int64_t sum_u = 0;
    if constexpr (!Matrix::format::symmetric)
      for (std::size_t k = 0; k < cols; ++k) sum_u += act[b * padded_cols + k] + Int8Ops::activation_offset;
    ::mote::kernels::int8_dense_epilogue(weights, bias, dots + b * padded_rows, input, Int8Ops::activation_offset, sum_u,
                                         out + b * rows, activation);
  }
}
// ----- end mote/kernels/dense/int8-inl.hpp -----
#if defined(MOTE_SIMD_HAS_INT4)
using Int4Ops = ::mote::simd::MOTE_SIMD_NS::Int4Ops;
// ----- begin mote/kernels/dense/int4-inl.hpp -----
// int4 Dense kernels, written once against `Int4Ops`, the ISA's int4 primitives
// (arch/<family>/<isa>_int4.hpp). Included by kernels/simd_int8-inl.hpp for ISAs that have them.
//   centre(x, n, params, low, high, out)   s = quantize(x) - 128 as int8, bit-identical to mote::quantize
//   panel(packed, scales, blocks, blocks_per_group, act, block_sums, f)   F of one 16-row panel
// Samples run panel by panel so that a panel's packed weights stay in L1 across the batch.

template <std::size_t G, class Activation>
inline void dense_int4(const ::mote::WeightMatrix<::mote::Int4<G>, ::mote::DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const ::mote::kernels::Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols(), blocks = weights.block_count();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t per_sample = align_up(padded_cols) + align_up(blocks * sizeof(std::int32_t));
  auto* f = reinterpret_cast<float*>(scratch + batch * per_sample);
  for (std::size_t b = 0; b < batch; ++b) {
    auto* act = reinterpret_cast<std::int8_t*>(scratch + b * per_sample);
    auto* block_sums = reinterpret_cast<std::int32_t*>(scratch + b * per_sample + align_up(padded_cols));
    Int4Ops::centre(in + b * cols, cols, input.params, input.low, input.high, act);
    for (std::size_t k = cols; k < padded_cols; ++k) act[k] = 0;
    for (std::size_t block = 0; block < blocks; ++block) {
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < 32; ++k) sum += act[block * 32 + k];
      block_sums[block] = sum;
    }
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    for (std::size_t b = 0; b < batch; ++b)
      Int4Ops::panel(weights.panel(p), weights.panel_scales(p, 0), blocks, weights.blocks_per_group(),
                     reinterpret_cast<const std::int8_t*>(scratch + b * per_sample),
                     reinterpret_cast<const std::int32_t*>(scratch + b * per_sample + align_up(padded_cols)),
                     f + b * padded_rows + p * 16);
  for (std::size_t b = 0; b < batch; ++b)
    ::mote::kernels::int4_dense_epilogue(weights, bias, f + b * padded_rows, input, out + b * rows, activation);
}
// ----- end mote/kernels/dense/int4-inl.hpp -----
#endif

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class G, class S, class Activation>
inline void dense_int8(isa::MOTE_SIMD_TAG, const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    // Transcendental activations: the vectorised functions of the ISA (their stated bounds)
    // over the whole output, instead of one libm call per output in the scalar epilogue.
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}

#if defined(MOTE_SIMD_HAS_INT4)
template <std::size_t G, class Activation>
inline void dense_int4(isa::MOTE_SIMD_TAG, const WeightMatrix<Int4<G>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}
#endif

}  // namespace mote::kernels
// ----- end mote/kernels/simd_int8-inl.hpp -----
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

#if MOTE_SIMD_NEON
// ----- begin mote/arch/arm/neon.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_HPP_
// AArch64 NEON vector of 4 floats (NEON is part of the AArch64 baseline: no target region).
#if !defined(MOTE_ARCH_ARM_NEON_VEC)
#define MOTE_ARCH_ARM_NEON_VEC
namespace mote::simd::neon {

#define MOTE_VEC_INLINE inline __attribute__((always_inline))

struct VecF32 {
  static constexpr std::size_t lanes = 4;
  using Mask = uint32x4_t;
  float32x4_t v;

  static MOTE_VEC_INLINE VecF32 zero() { return {vdupq_n_f32(0.0f)}; }
  static MOTE_VEC_INLINE VecF32 broadcast(float x) { return {vdupq_n_f32(x)}; }
  static MOTE_VEC_INLINE VecF32 load(const float* p) { return {vld1q_f32(p)}; }
  /// 4 bfloat16 values widened exactly to f32: a widening shift left by 16.
  static MOTE_VEC_INLINE VecF32 load_bf16(const std::uint16_t* p) {
    return {vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16))};
  }
  /// 4 IEEE binary16 values widened exactly to f32 (fcvtl, part of AArch64 NEON).
  static MOTE_VEC_INLINE VecF32 load_f16(const std::uint16_t* p) {
    return {vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)))};
  }
  static MOTE_VEC_INLINE VecF32 load_partial(const float* p, std::size_t n) {
    float lanes_[4] = {0, 0, 0, 0};
    for (std::size_t i = 0; i < n; ++i) lanes_[i] = p[i];
    return {vld1q_f32(lanes_)};
  }
  MOTE_VEC_INLINE void store(float* p) const { vst1q_f32(p, v); }
  MOTE_VEC_INLINE void store_partial(float* p, std::size_t n) const {
    float lanes_[4];
    vst1q_f32(lanes_, v);
    for (std::size_t i = 0; i < n; ++i) p[i] = lanes_[i];
  }

  friend MOTE_VEC_INLINE VecF32 operator+(VecF32 a, VecF32 b) { return {vaddq_f32(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator-(VecF32 a, VecF32 b) { return {vsubq_f32(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator*(VecF32 a, VecF32 b) { return {vmulq_f32(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator/(VecF32 a, VecF32 b) { return {vdivq_f32(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 fma(VecF32 a, VecF32 b, VecF32 c) { return {vfmaq_f32(c.v, a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 min(VecF32 a, VecF32 b) { return {vminnmq_f32(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 max(VecF32 a, VecF32 b) { return {vmaxnmq_f32(a.v, b.v)}; }
  /// x < low ? low : x, lane-wise, exactly (NaN and -0 in x pass through; NEON's max would
  /// turn -0 into +0, hence the select).
  static MOTE_VEC_INLINE VecF32 clamp_below(VecF32 x, VecF32 low) { return {vbslq_f32(vcltq_f32(x.v, low.v), low.v, x.v)}; }
  /// x > high ? high : x, lane-wise, exactly.
  static MOTE_VEC_INLINE VecF32 clamp_above(VecF32 x, VecF32 high) { return {vbslq_f32(vcgtq_f32(x.v, high.v), high.v, x.v)}; }
  static MOTE_VEC_INLINE VecF32 abs(VecF32 a) { return {vabsq_f32(a.v)}; }
  static MOTE_VEC_INLINE VecF32 copysign(VecF32 magnitude, VecF32 sign) {
    return {vbslq_f32(vdupq_n_u32(0x80000000u), sign.v, magnitude.v)};
  }
  static MOTE_VEC_INLINE VecF32 round_nearest(VecF32 a) { return {vrndnq_f32(a.v)}; }
  static MOTE_VEC_INLINE VecF32 pow2(VecF32 n) {
    const int32x4_t biased = vaddq_s32(vcvtnq_s32_f32(n.v), vdupq_n_s32(127));
    return {vreinterpretq_f32_s32(vshlq_n_s32(biased, 23))};
  }
  static MOTE_VEC_INLINE Mask less(VecF32 a, VecF32 b) { return vcltq_f32(a.v, b.v); }
  static MOTE_VEC_INLINE Mask greater(VecF32 a, VecF32 b) { return vcgtq_f32(a.v, b.v); }
  static MOTE_VEC_INLINE Mask is_nan(VecF32 a) { return vmvnq_u32(vceqq_f32(a.v, a.v)); }
  static MOTE_VEC_INLINE Mask mask_or(Mask a, Mask b) { return vorrq_u32(a, b); }
  static MOTE_VEC_INLINE bool any(Mask m) { return vmaxvq_u32(m) != 0; }
  static MOTE_VEC_INLINE VecF32 select(Mask m, VecF32 if_true, VecF32 if_false) {
    return {vbslq_f32(m, if_true.v, if_false.v)};
  }
  MOTE_VEC_INLINE float reduce_add() const { return vaddvq_f32(v); }
};

#undef MOTE_VEC_INLINE
}  // namespace mote::simd::neon
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_HPP_
// ----- end mote/arch/arm/neon.hpp -----
// ----- begin mote/arch/arm/neon_int8.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_INT8_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_INT8_HPP_
// AArch64 NEON int8 dot-product primitives without the dot-product extension (contract:
// kernels/dense/int8-inl.hpp): weights widened to int16 and multiplied by int16 activation
// codes with vmlal_s16 (products of at most 128 * 255: exact in int32).
#if !defined(MOTE_ARCH_ARM_NEON_INT8)
#define MOTE_ARCH_ARM_NEON_INT8
namespace mote::simd::neon {

/// Float -> code conversion shared by the NEON primitives: as mote::quantize, exactly.
inline int32x4_t quantize4(const float* x, float32x4_t scale, float32x4_t zero, float32x4_t lo, float32x4_t hi,
                           float32x4_t nan_code) {
  const float32x4_t scaled = vdivq_f32(vld1q_f32(x), scale);
  float32x4_t q = vaddq_f32(vrndnq_f32(scaled), zero);
  q = vminq_f32(vmaxq_f32(q, lo), hi);
  q = vbslq_f32(vceqq_f32(scaled, scaled), q, nan_code);
  return vcvtq_s32_f32(q);
}

struct Int8Ops {
  using Act = std::int16_t;
  static constexpr std::int32_t activation_offset = 0;
  static constexpr std::size_t gemm_cols = 1;
  /// one register per row: lane i holds the products of column k = 4g + i
  struct Acc {
    int32x4_t v[16];
  };
  struct Panel {
    int16x8_t v[8];  ///< rows 2j and 2j+1
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u); }
  static inline __attribute__((always_inline)) Acc zero() {
    Acc acc;
    for (auto& v : acc.v) v = vdupq_n_s32(0);
    return acc;
  }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    Panel panel;
    for (int j = 0; j < 4; ++j) {
      const int8x16_t bytes = vld1q_s8(group + 16 * j);
      panel.v[2 * j] = vmovl_s8(vget_low_s8(bytes));
      panel.v[2 * j + 1] = vmovl_s8(vget_high_s8(bytes));
    }
    return panel;
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    const int16x4_t a = vld1_s16(act);
    for (int j = 0; j < 8; ++j) {
      acc.v[2 * j] = vmlal_s16(acc.v[2 * j], vget_low_s16(w.v[j]), a);
      acc.v[2 * j + 1] = vmlal_s16(acc.v[2 * j + 1], vget_high_s16(w.v[j]), a);
    }
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    for (int r = 0; r < 16; r += 4) {
      const int32x4_t s01 = vpaddq_s32(acc.v[r], acc.v[r + 1]);
      const int32x4_t s23 = vpaddq_s32(acc.v[r + 2], acc.v[r + 3]);
      vst1q_s32(out + r, vpaddq_s32(s01, s23));
    }
  }
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const float32x4_t scale = vdupq_n_f32(p.scale), zero = vdupq_n_f32(static_cast<float>(p.zero_point));
    const float32x4_t lo = vdupq_n_f32(static_cast<float>(low)), hi = vdupq_n_f32(static_cast<float>(high));
    const float32x4_t nan_code = vdupq_n_f32(static_cast<float>(std::clamp(p.zero_point, low, high)));
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1_s16(out + i, vmovn_s32(quantize4(x + i, scale, zero, lo, hi, nan_code)));
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::neon
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_INT8_HPP_
// ----- end mote/arch/arm/neon_int8.hpp -----
// ----- begin mote/arch/arm/neon_binary.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_BINARY_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_BINARY_HPP_
// NEON primitives of the binary kernels (contract: kernels/dense/binary-inl.hpp). Included by
// arch/targets.hpp after neon.hpp. One weight group (16 rows x 32 columns,
// layout/dense_binary.hpp) is four vectors of 4 row words. Popcount: vcnt (cnt.16b) per byte,
// bytes summed for up to 31 groups, then widened per 32-bit lane (= per row) by pairwise adds
// (uaddlp + uadalp).
#if !defined(MOTE_ARCH_ARM_NEON_BINARY)
#define MOTE_ARCH_ARM_NEON_BINARY
namespace mote::simd::neon {

struct BinaryOps {
  // ---- XNOR-popcount (binary activations)
  static constexpr std::size_t xnor_tile = 4;     ///< samples sharing each group load
  static constexpr std::size_t flush_every = 31;  ///< groups a Partial absorbs without overflow
  struct Group {
    uint32x4_t v[4];
  };
  struct Partial {  ///< per-byte counts
    uint8x16_t v[4];
  };
  struct Counts {  ///< per-row counts
    uint32x4_t v[4];
  };
  static inline __attribute__((always_inline)) Group load_group(const std::uint32_t* p) {
    return {{vld1q_u32(p), vld1q_u32(p + 4), vld1q_u32(p + 8), vld1q_u32(p + 12)}};
  }
  static inline __attribute__((always_inline)) Partial partial_zero() {
    return {{vdupq_n_u8(0), vdupq_n_u8(0), vdupq_n_u8(0), vdupq_n_u8(0)}};
  }
  static inline __attribute__((always_inline)) Counts counts_zero() {
    return {{vdupq_n_u32(0), vdupq_n_u32(0), vdupq_n_u32(0), vdupq_n_u32(0)}};
  }
  /// acc += popcount(w_r XOR x) for each of the group's 16 rows.
  static inline __attribute__((always_inline)) void add(Partial& acc, const Group& w, std::uint32_t x) {
    const uint32x4_t xs = vdupq_n_u32(x);
    for (int j = 0; j < 4; ++j) acc.v[j] = vaddq_u8(acc.v[j], vcntq_u8(vreinterpretq_u8_u32(veorq_u32(w.v[j], xs))));
  }
  /// counts += partial, widened per row.
  static inline __attribute__((always_inline)) void flush(const Partial& partial, Counts& counts) {
    for (int j = 0; j < 4; ++j) counts.v[j] = vpadalq_u16(counts.v[j], vpaddlq_u8(partial.v[j]));
  }
  static inline __attribute__((always_inline)) void store(const Counts& counts, std::int32_t* out) {
    for (int j = 0; j < 4; ++j) vst1q_s32(out + 4 * j, vreinterpretq_s32_u32(counts.v[j]));
  }
  /// words[i]: bit t set when !(x[32 i + t] >= 0), for ceil(n / 32) words (zero padded). NEON
  /// has no movemask: each lane keeps its own bit of the nibble, then an across-lane add.
  static inline void pack_signs(const float* x, std::size_t n, std::uint32_t* words) {
    const uint32x4_t lane_bits = {1u, 2u, 4u, 8u};
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      std::uint32_t bits = 0;
      for (int q = 0; q < 8; ++q) {
        const uint32x4_t negative = vmvnq_u32(vcgeq_f32(vld1q_f32(x + i + 4 * q), vdupq_n_f32(0.0f)));
        bits |= vaddvq_u32(vandq_u32(negative, lane_bits)) << (4 * q);
      }
      words[i / 32] = bits;
    }
    if (i < n) {
      std::uint32_t bits = 0;
      for (std::size_t t = 0; i + t < n; ++t) bits |= static_cast<std::uint32_t>(::mote::Binary::negative(x[i + t])) << t;
      words[i / 32] = bits;
    }
  }

  // ---- f32 activations: lanes are rows, as in VecF32
  using Words = uint32x4_t;
  static inline __attribute__((always_inline)) Words load_words(const std::uint32_t* p) { return vld1q_u32(p); }
  static inline __attribute__((always_inline)) Words shift_left(Words w, unsigned n) {
    return vshlq_u32(w, vdupq_n_s32(static_cast<std::int32_t>(n)));
  }
  static inline __attribute__((always_inline)) Words twice(Words w) { return vaddq_u32(w, w); }
  /// Lane-wise: -x where w's top bit is set (weight -1), else x: x XOR (w AND sign bit).
  static inline __attribute__((always_inline)) VecF32 flip(VecF32 x, VecF32, Words w) {
    const uint32x4_t sign = vandq_u32(w, vdupq_n_u32(0x80000000u));
    return {vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(x.v), sign))};
  }
};

}  // namespace mote::simd::neon
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_BINARY_HPP_
// ----- end mote/arch/arm/neon_binary.hpp -----
// ----- begin mote/arch/arm/neon_codebook.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_CODEBOOK_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_CODEBOOK_HPP_
// AArch64 NEON codebook lookup primitives (contract: kernels/dense/codebook-inl.hpp).
// The table (zero-padded to 16 entries) is held as 4 byte planes (vld4q_u8: plane b = byte b of
// every entry); vqtbl1q_u8 looks up byte b of the chunk's 16 weights in plane b, and two rounds
// of vzip put the bytes back together as 4 vectors of 4 floats. Index bytes: each index's 16-bit
// window gathered by vqtbl1q_u8, shifted right per lane (vshlq_u16 by a negative count), low
// bytes kept (vuzp1q_u8) and masked.
#if !defined(MOTE_ARCH_ARM_NEON_CODEBOOK)
#define MOTE_ARCH_ARM_NEON_CODEBOOK
namespace mote::simd::neon {

template <std::size_t Bits>
struct CodebookOps {
  static constexpr std::size_t gemv_rows = 4;
  static constexpr std::size_t gemm_rows = 4;
  static constexpr std::size_t gemm_samples = 3;
  struct Table {
    uint8x16x4_t planes;
  };
  static inline __attribute__((always_inline)) Table prepare(const float* entries) {
    float padded[16] = {};
    std::memcpy(padded, entries, (std::size_t{1} << Bits) * sizeof(float));
    return {vld4q_u8(reinterpret_cast<const std::uint8_t*>(padded))};
  }
  /// The 16 weights of a chunk, in column order: w[j] columns 4j..4j+3.
  static inline __attribute__((always_inline)) void lookup(const Table& table, const std::uint8_t* chunk,
                                                           VecF32 (&w)[4]) {
    static constexpr Constants c = constants();
    const uint8x16_t bytes = vcombine_u8(vld1_u8(chunk), vdup_n_u8(0));
    const uint16x8_t low = vshlq_u16(vreinterpretq_u16_u8(vqtbl1q_u8(bytes, vld1q_u8(c.window))), vld1q_s16(c.shift));
    const uint16x8_t high =
        vshlq_u16(vreinterpretq_u16_u8(vqtbl1q_u8(bytes, vld1q_u8(c.window + 16))), vld1q_s16(c.shift + 8));
    const uint8x16_t index = vandq_u8(vuzp1q_u8(vreinterpretq_u8_u16(low), vreinterpretq_u8_u16(high)),
                                      vdupq_n_u8(static_cast<std::uint8_t>((1u << Bits) - 1u)));
    const uint8x16_t b0 = vqtbl1q_u8(table.planes.val[0], index), b1 = vqtbl1q_u8(table.planes.val[1], index);
    const uint8x16_t b2 = vqtbl1q_u8(table.planes.val[2], index), b3 = vqtbl1q_u8(table.planes.val[3], index);
    const uint16x8_t low01 = vreinterpretq_u16_u8(vzip1q_u8(b0, b1)), high01 = vreinterpretq_u16_u8(vzip2q_u8(b0, b1));
    const uint16x8_t low23 = vreinterpretq_u16_u8(vzip1q_u8(b2, b3)), high23 = vreinterpretq_u16_u8(vzip2q_u8(b2, b3));
    w[0] = {vreinterpretq_f32_u16(vzip1q_u16(low01, low23))};
    w[1] = {vreinterpretq_f32_u16(vzip2q_u16(low01, low23))};
    w[2] = {vreinterpretq_f32_u16(vzip1q_u16(high01, high23))};
    w[3] = {vreinterpretq_f32_u16(vzip2q_u16(high01, high23))};
  }

 private:
  /// Table lookup controls (16-bit lane i: the two bytes from the one holding index i) and the
  /// negative shift counts that bring each index down to bit 0.
  struct Constants {
    std::uint8_t window[32];
    std::int16_t shift[16];
  };
  static constexpr Constants constants() noexcept {
    Constants c{};
    for (int i = 0; i < 16; ++i) {
      const int byte = ::mote::detail::codebook_index_byte(Bits, i);
      c.window[2 * i] = static_cast<std::uint8_t>(byte);
      c.window[2 * i + 1] = static_cast<std::uint8_t>(byte + 1);
      c.shift[i] = static_cast<std::int16_t>(-::mote::detail::codebook_index_shift(Bits, i));
    }
    return c;
  }
};

}  // namespace mote::simd::neon
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_CODEBOOK_HPP_
// ----- end mote/arch/arm/neon_codebook.hpp -----
#define MOTE_SIMD_NS neon
#define MOTE_SIMD_TAG Neon
// ----- begin mote/kernels/simd-inl.hpp -----
// The SIMD kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA, inside that ISA's target region, with MOTE_SIMD_NS (namespace and vector type
// name, e.g. avx2) and MOTE_SIMD_TAG (ISA tag, e.g. Avx2) defined. The op files included here
// hold code only (no #include): they are written once against `Vec`, the ISA's vector of floats.

// Register tiles are arrays indexed by loops of compile-time length; they must be unrolled for
// the arrays to live in registers, which GCC does at -O3 but not at -O2 (measured: pointwise
// conv 3.4x slower at -O2 without this).
#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Vec = ::mote::simd::MOTE_SIMD_NS::VecF32;
using ::mote::kernels::WindowGeometry;
using DenseF32 = ::mote::WeightMatrix<::mote::F32, ::mote::DenseStorage>;

// ----- begin mote/kernels/elementwise/simd-inl.hpp -----
// ----- begin mote/kernels/elementwise/math-inl.hpp -----
// Vector math for the element-wise kernels: exp, sigmoid, tanh, erf, written once against `Vec`.
// Code only (no #include, no #pragma once): elementwise/simd-inl.hpp includes it, so it is
// expanded once per ISA inside that ISA's namespace and target region (see arch/targets.hpp).
// The functions live in a nested namespace `math` so that they never hide std::exp and friends
// from the other kernel files compiled into the same per-ISA namespace.
//
// Accuracy. "Measured" is the maximum over every 11th float of the range (about 2e8 inputs
// per function), on AVX2 (with FMA) and SSE4 (Vec::fma is a multiply then an add there),
// against glibc's expf/erff/tanhf (which the scalar reference kernels call) and against the
// true value (double precision); the tests (tests/unit/kernels/test_elementwise_simd.cpp)
// hold every ISA to the bounds in brackets and print their own maxima.
//
//   exp      measured 1 ulp from glibc (AVX2 and SSE4) on [-110, 90], denormal results
//            included (counted in denormal ulps); 1.005 ulp (AVX2), 0.98 ulp (SSE4) from the
//            true value on normal results. [2 ulp]
//            x > 88.7228 gives +inf, x < -103.97 and -inf give +0, NaN gives NaN.
//            Why: Cephes' expf (S. L. Moshier): n = round(x log2 e), r = x - n ln 2 with ln 2 in
//            two parts (n * 0.693359375 is exact: 9-bit constant, |n| <= 152), |r| <= ln(2)/2;
//            e^r = 1 + r + r^2 P(r), degree-5 P whose float coefficients are within 2.7e-9
//            relative of e^r on that range, so the result's error is the last few roundings
//            (about 1 ulp). Then y * 2^n with the power split in two factors 2^h 2^(n-h), each a
//            normal float for n in [-152, 129] (the clamped input range): the first product is
//            exact, the second exact or rounded once into the denormals (or to +inf).
//   sigmoid  1 / (1 + exp(-x)), the reference's formula: measured 4 ulp from the reference,
//            2.47 ulp from the true value (the reference is 2.47 ulp off too: where e^-x is
//            near 2^24, 1 + e rounds by up to 1/2 ulp of e, on top of exp's and the division's
//            errors; the two err in either direction). [6 ulp]
//   tanh     measured 2 ulp from glibc, 1.32 ulp from the true value (glibc's tanhf: 2.17).
//            Cephes' tanhf: |x| < 0.625: x + x^3 P(x^2), degree-4 P (8.6e-9 relative error
//            of the result); else 1 - 2 / (exp(2|x|) + 1) with the sign of x: exp's error is
//            damped by 2/(e+1) <= 0.45 and the result is >= 0.555 (no cancellation).
//            tanh(+-inf) = +-1 (exp overflows, 2/inf = 0), tanh(-0) = -0, NaN gives NaN. [4 ulp]
//   erf      measured 1 ulp from glibc, 1.08 ulp (AVX2) / 1.27 ulp (SSE4) from the true value.
//            Fitted for mote (mpmath, Chebyshev nodes, coefficients rounded to float):
//            |x| < 1: x + x P(x^2), degree-6 P (approximation error 1.3e-9 absolute on
//            (erf(x) - x)/x); 1 <= |x| < 3.9375: 1 - exp(-x^2 + G(x - 2.46875)), degree-8 G
//            fitting log(erfc(x)) + x^2 to 1.3e-8 absolute, i.e. relative on erfc <= 0.157:
//            at most 2e-9 absolute on erf; |x| >= 3.9375 gives exactly +-1 (erfc(3.9375) =
//            2.6e-8 < 2^-25: erf rounds to 1 there). erf(+-inf) = +-1, NaN gives NaN. [2 ulp]
//   GELU     (elementwise/simd-inl.hpp) 0.5 x (1 + erf(x / sqrt 2)), the reference's formula:
//            measured |d| <= 1.0 (ulp(reference) + |x| 2^-24): for x < 0, 1 + erf cancels, so
//            erf's 1-ulp error near -1 (2^-24) is 0.5 |x| 2^-24 absolute in the result.
//            [2 (ulp(reference) + |x| 2^-24)]

namespace math {

/// e^x. See the table above for its accuracy and special values.
inline Vec exp(Vec x) noexcept {
  // Clamping keeps n in [-152, 129]: 89 still overflows to +inf, -105 still underflows to +0.
  // Compare-and-select (not min/max) so that NaN passes through on every ISA.
  const Vec hi = Vec::broadcast(89.0f), lo = Vec::broadcast(-105.0f);
  x = Vec::select(Vec::greater(x, hi), hi, x);
  x = Vec::select(Vec::less(x, lo), lo, x);
  const Vec n = Vec::round_nearest(x * Vec::broadcast(1.44269504088896341f));
  Vec r = Vec::fma(n, Vec::broadcast(-0.693359375f), x);  // exact: 9-bit constant, |n| <= 152
  r = Vec::fma(n, Vec::broadcast(2.12194440e-4f), r);     // ln 2 = 0.693359375 - 2.12194440e-4
  Vec p = Vec::broadcast(1.9875691500e-4f);
  p = Vec::fma(p, r, Vec::broadcast(1.3981999507e-3f));
  p = Vec::fma(p, r, Vec::broadcast(8.3334519073e-3f));
  p = Vec::fma(p, r, Vec::broadcast(4.1665795894e-2f));
  p = Vec::fma(p, r, Vec::broadcast(1.6666665459e-1f));
  p = Vec::fma(p, r, Vec::broadcast(5.0000001201e-1f));
  const Vec y = Vec::fma(p, r * r, r) + Vec::broadcast(1.0f);
  // 2^n = 2^h * 2^(n-h) with h = round(n/2): both factors within pow2's [-126, 127]. A NaN input
  // gives a NaN y, and NaN times whatever pow2 makes of NaN is NaN.
  const Vec h = Vec::round_nearest(n * Vec::broadcast(0.5f));
  return (y * Vec::pow2(h)) * Vec::pow2(n - h);
}

/// 1 / (1 + e^-x), the scalar reference's formula: sigmoid(-inf) = 0, sigmoid(+inf) = 1.
inline Vec sigmoid(Vec x) noexcept {
  const Vec one = Vec::broadcast(1.0f);
  return one / (one + exp(Vec::broadcast(-0.0f) - x));
}

/// tanh(x): odd, +-1 at +-inf, -0 at -0.
inline Vec tanh(Vec x) noexcept {
  const Vec a = Vec::abs(x);
  const Vec s = a * a;
  Vec p = Vec::broadcast(-5.70498872745e-3f);
  p = Vec::fma(p, s, Vec::broadcast(2.06390887954e-2f));
  p = Vec::fma(p, s, Vec::broadcast(-5.37397155531e-2f));
  p = Vec::fma(p, s, Vec::broadcast(1.33314422036e-1f));
  p = Vec::fma(p, s, Vec::broadcast(-3.33332819422e-1f));
  const Vec small = Vec::fma(p * s, a, a);
  // exp(2a) = +inf for a > 44.4 (and a = +inf): 2 / inf = 0, the result 1. NaN stays NaN.
  const Vec one = Vec::broadcast(1.0f);
  const Vec large = one - Vec::broadcast(2.0f) / (exp(a + a) + one);
  return Vec::copysign(Vec::select(Vec::less(a, Vec::broadcast(0.625f)), small, large), x);
}

/// erf(x): odd, +-1 for |x| >= 3.9375 and at +-inf.
inline Vec erf(Vec x) noexcept {
  const Vec a = Vec::abs(x);
  // |x| < 1: a + a P(a^2).
  const Vec s = a * a;
  Vec p = Vec::broadcast(7.875874871e-05f);
  p = Vec::fma(p, s, Vec::broadcast(-8.016864303e-04f));
  p = Vec::fma(p, s, Vec::broadcast(5.189087242e-03f));
  p = Vec::fma(p, s, Vec::broadcast(-2.685421146e-02f));
  p = Vec::fma(p, s, Vec::broadcast(1.128359437e-01f));
  p = Vec::fma(p, s, Vec::broadcast(-3.761262596e-01f));
  p = Vec::fma(p, s, Vec::broadcast(1.283791661e-01f));
  const Vec small = Vec::fma(a, p, a);
  // 1 <= |x|: 1 - erfc, erfc = exp(-b^2 + G(b - 2.46875)), b = min(a, 3.9375) (NaN stays).
  const Vec limit = Vec::broadcast(3.9375f);
  const Vec b = Vec::select(Vec::greater(a, limit), limit, a);
  const Vec v = b - Vec::broadcast(2.46875f);  // exact (Sterbenz-like: same binade spacing)
  Vec g = Vec::broadcast(1.663424086e-06f);
  g = Vec::fma(g, v, Vec::broadcast(-1.370350310e-05f));
  g = Vec::fma(g, v, Vec::broadcast(8.014721243e-05f));
  g = Vec::fma(g, v, Vec::broadcast(-4.349613737e-04f));
  g = Vec::fma(g, v, Vec::broadcast(2.232213970e-03f));
  g = Vec::fma(g, v, Vec::broadcast(-1.113328803e-02f));
  g = Vec::fma(g, v, Vec::broadcast(5.713705719e-02f));
  g = Vec::fma(g, v, Vec::broadcast(-3.562194109e-01f));
  g = Vec::fma(g, v, Vec::broadcast(-1.545738816e+00f));
  const Vec large = Vec::broadcast(1.0f) - exp(Vec::fma(Vec::broadcast(-0.0f) - b, b, g));
  return Vec::copysign(Vec::select(Vec::less(a, Vec::broadcast(1.0f)), small, large), x);
}

}  // namespace math
// ----- end mote/kernels/elementwise/math-inl.hpp -----
// Element-wise kernels for one ISA: activations, per-channel affine map, addition, softmax.
// Code only: included per ISA by kernels/simd-inl.hpp (namespace and `Vec` given there); the
// include above is code only too (vector exp/sigmoid/tanh/erf in namespace `math`).
//
// Semantics are those of the scalar functors (elementwise/activations.hpp) lane by lane:
// comparisons are written as selects on `x < 0` / `x > 6` so that NaN propagates (a NaN lane
// fails both comparisons and keeps x) and -0 stays -0, exactly as `x < 0 ? 0 : x` does.
// Identity, ReLU, ReLU6, LeakyReLU, HardSwish and add are bit-exact with the reference; the
// transcendental ones are within the bounds documented in math-inl.hpp.

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
// ----- end mote/kernels/elementwise/simd-inl.hpp -----
// ----- begin mote/kernels/dense/simd-inl.hpp -----
// Dense (GEMV) on 16-row weight panels: each input value is broadcast and multiplied into the
// 16 output channels of the panel. Several input columns are accumulated in separate registers
// (`streams`) so that 8 FMAs are in flight, enough to cover FMA latency on 2 pipes; they are
// summed at the end, which is the only reordering compared with the scalar reference.
// Code only: included per ISA by kernels/simd-inl.hpp (namespace and `Vec` given there).

namespace dense_detail {

constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
// Accumulator registers for a GEMM tile: 24 of 32 (AVX-512), 12 of 16 (AVX2, SSE4, NEON).
constexpr std::size_t accumulators = Vec::lanes == 16 ? 24 : 12;
constexpr std::size_t tile_rows = accumulators / per_panel > 0 ? accumulators / per_panel : 1;

/// Rows [0, Rows) of `in` times one panel: each weight vector is loaded once per k and reused
/// by every row of the tile.
template <std::size_t Rows, class Activation>
inline void gemm_tile(const DenseF32& weights, std::size_t p, const float* bias, const float* in, float* out,
                      Activation activation) noexcept {
  const std::size_t cols = weights.cols();
  const float* panel = weights.panel(p);
  Vec acc[Rows][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t k = 0; k < cols; ++k) {
    Vec w[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load(panel + k * DenseF32::panel_rows + j * Vec::lanes);
    MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
      const Vec x = Vec::broadcast(in[i * cols + k]);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
    }
  }
  const std::size_t first_row = p * DenseF32::panel_rows;
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      const std::size_t row = first_row + j * Vec::lanes;
      const Vec sum = apply(activation, acc[i][j] + Vec::load(bias + row));
      float* destination = out + i * weights.rows() + row;
      if (row + Vec::lanes <= weights.rows()) sum.store(destination);
      else if (row < weights.rows()) sum.store_partial(destination, weights.rows() - row);
    }
  }
}

}  // namespace dense_detail

/// GEMM: `batch` input rows times the panels, tile_rows rows at a time. The panel (16 x cols)
/// stays in L1/L2 while every tile of rows streams past it.
template <class Activation>
inline void dense_batch(const DenseF32& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation) noexcept {
  using namespace dense_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile_rows <= batch; b += tile_rows) gemm_tile<tile_rows>(weights, p, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
  }
}

/// Activations costing a few instructions are applied to each accumulator before it is stored;
/// transcendental ones (tanh, sigmoid, GELU) run as a separate pass over the finished outputs,
/// where consecutive vectors are independent and overlap (W2's tanh layers: 70 -> 30 ns).
template <class Activation>
constexpr bool cheap_epilogue_v = std::is_same_v<Activation, ::mote::activation::Identity> ||
                                  std::is_same_v<Activation, ::mote::activation::Relu> ||
                                  std::is_same_v<Activation, ::mote::activation::Relu6>;

template <class Activation>
inline void dense(const DenseF32& weights, const float* bias, const float* in, float* out,
                  Activation activation) noexcept {
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
    return;
  }
  constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
  constexpr std::size_t streams = per_panel >= 8 ? 1 : 8 / per_panel;
  const std::size_t cols = weights.cols();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const float* panel = weights.panel(p);
    Vec acc[streams][per_panel];
    MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::zero();
    std::size_t k = 0;
    for (; k + streams <= cols; k += streams) {
      MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s) {
        const Vec x = Vec::broadcast(in[k + s]);
        const float* column = panel + (k + s) * DenseF32::panel_rows;
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j)
          acc[s][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[s][j]);
      }
    }
    for (; k < cols; ++k) {
      const Vec x = Vec::broadcast(in[k]);
      const float* column = panel + k * DenseF32::panel_rows;
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[0][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[0][j]);
    }
    const std::size_t first_row = p * DenseF32::panel_rows;
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      Vec sum = acc[0][j];
      MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sum = sum + acc[s][j];
      sum = apply(activation, sum + Vec::load(bias + first_row + j * Vec::lanes));
      const std::size_t row = first_row + j * Vec::lanes;
      if (row + Vec::lanes <= weights.rows()) sum.store(out + row);
      else if (row < weights.rows()) sum.store_partial(out + row, weights.rows() - row);
    }
  }
}
// ----- end mote/kernels/dense/simd-inl.hpp -----
// ----- begin mote/kernels/dense/half-inl.hpp -----
// Dense (GEMV, GEMM) with bf16 / f16 weights, computed in f32: the f32 kernels' structure
// (dense/simd-inl.hpp: k-streams for the GEMV, register tiles for the GEMM) with each panel
// column widened from 16 bits as it is loaded, so a memory-bound GEMV streams half the bytes.
// Widening is exact (Vec::load_bf16 / load_f16): the only reordering compared with the scalar
// reference (half_reference.hpp) is the f32 kernels' one.
// Where Vec has load_bf16_even_odd (AVX2, SSE4), bf16 columns are loaded two vectors at a time
// with rows de-interleaved (even rows in one register, odd in the next): half the instructions
// of two load_bf16. The accumulators then hold rows in that order, restored once per panel.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp, whose
// cheap_epilogue_v and activate it reuses.

namespace dense_half_detail {

constexpr std::size_t panel_rows = DenseF32::panel_rows;
constexpr std::size_t per_panel = panel_rows / Vec::lanes;
constexpr std::size_t tile_rows = dense_detail::tile_rows;

template <class V>
concept LoadsBf16EvenOdd = requires(const std::uint16_t* p, V& v) {
  V::load_bf16_even_odd(p, v, v);
  V::interleave_even_odd(v, v, v, v);
};
template <class Format>
constexpr bool even_odd_v = std::is_same_v<Format, ::mote::BF16> && per_panel % 2 == 0 && LoadsBf16EvenOdd<Vec>;

/// The 16 weights of one panel column as per_panel vectors of f32 (rows de-interleaved in
/// pairs of vectors when even_odd_v). V is Vec, a template parameter so that the branches an
/// ISA lacks are discarded.
template <class Format, class V>
inline void load_column(const std::uint16_t* column, V (&w)[per_panel]) noexcept {
  if constexpr (even_odd_v<Format>) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; j += 2)
      V::load_bf16_even_odd(column + j * Vec::lanes, w[j], w[j + 1]);
  } else if constexpr (std::is_same_v<Format, ::mote::BF16>) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load_bf16(column + j * Vec::lanes);
  } else {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load_f16(column + j * Vec::lanes);
  }
}

/// Puts sums accumulated from load_column's vectors back in row order.
template <class Format, class V>
inline void restore_rows(V (&sums)[per_panel]) noexcept {
  if constexpr (even_odd_v<Format>)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; j += 2)
      V::interleave_even_odd(sums[j], sums[j + 1], sums[j], sums[j + 1]);
}

/// bias + sums (in row order), activated, stored to rows [first_row, first_row + 16) of `out`
/// that exist.
template <class Activation>
inline void store_panel(const Vec (&sums)[per_panel], std::size_t first_row, std::size_t rows, const float* bias,
                        float* out, Activation activation) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    const std::size_t row = first_row + j * Vec::lanes;
    const Vec sum = apply(activation, sums[j] + Vec::load(bias + row));
    if (row + Vec::lanes <= rows) sum.store(out + row);
    else if (row < rows) sum.store_partial(out + row, rows - row);
  }
}

/// Rows [0, Rows) of `in` times one panel: each column is widened once and reused by every row
/// of the tile.
template <std::size_t Rows, class Format, class Activation>
inline void gemm_tile(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, std::size_t p,
                      const float* bias, const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols();
  const std::uint16_t* panel = weights.panel(p);
  Vec acc[Rows][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t k = 0; k < cols; ++k) {
    Vec w[per_panel];
    load_column<Format>(panel + k * panel_rows, w);
    MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
      const Vec x = Vec::broadcast(in[i * cols + k]);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
    restore_rows<Format>(acc[i]);
    store_panel(acc[i], p * panel_rows, weights.rows(), bias, out + i * weights.rows(), activation);
  }
}

}  // namespace dense_half_detail

/// GEMM: `batch` input rows times the panels, tile_rows rows at a time (as for f32).
template <::mote::HalfFloatFormat Format, class Activation>
inline void dense_batch(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation) noexcept {
  using namespace dense_half_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile_rows <= batch; b += tile_rows)
      gemm_tile<tile_rows>(weights, p, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
  }
}

/// GEMV: per panel, `streams` input columns accumulate in separate registers (8 FMAs in
/// flight), summed at the end; transcendental activations run as a second pass (as for f32).
template <::mote::HalfFloatFormat Format, class Activation>
inline void dense(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation) noexcept {
  using namespace dense_half_detail;
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
    return;
  }
  constexpr std::size_t streams = per_panel >= 8 ? 1 : 8 / per_panel;
  const std::size_t cols = weights.cols();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const std::uint16_t* panel = weights.panel(p);
    Vec acc[streams][per_panel];
    MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::zero();
    std::size_t k = 0;
    for (; k + streams <= cols; k += streams) {
      MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s) {
        const Vec x = Vec::broadcast(in[k + s]);
        Vec w[per_panel];
        load_column<Format>(panel + (k + s) * panel_rows, w);
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::fma(x, w[j], acc[s][j]);
      }
    }
    for (; k < cols; ++k) {
      const Vec x = Vec::broadcast(in[k]);
      Vec w[per_panel];
      load_column<Format>(panel + k * panel_rows, w);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[0][j] = Vec::fma(x, w[j], acc[0][j]);
    }
    Vec sums[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      sums[j] = acc[0][j];
      MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sums[j] = sums[j] + acc[s][j];
    }
    restore_rows<Format>(sums);
    store_panel(sums, p * panel_rows, weights.rows(), bias, out, activation);
  }
}
// ----- end mote/kernels/dense/half-inl.hpp -----
// ----- begin mote/kernels/dense/binary-inl.hpp -----
// Dense with binary weights (layout/dense_binary.hpp; semantics: numeric/binary.hpp), written
// once against the ISA's BinaryOps (arch/<family>/<isa>_binary.hpp) and, for f32 activations,
// its Vec. Per 16-row panel, each 32-column group of sign words is loaded once:
//  * binary activations (dense_xnor): the input's signs are packed to words (BinaryOps::
//    pack_signs) in scratch; each group is XORed with one input word and its bits counted per
//    row (BinaryOps::add; byte counts flushed to int32 every flush_every groups). Exact
//    integers, then the scalar epilogue every ISA shares (binary_reference.hpp): bit-exact.
//    Batches: xnor_tile samples share each group load.
//  * f32 activations (dense, dense_batch): no float weight is materialised, and nothing is
//    multiplied until the scale (applied once, with the bias). Two ways, chosen per ISA:
//    - sign flips (SSE4, NEON): the group's words (one lane per row, like Vec) are shifted so
//      that column t's bit is each lane's top bit, and BinaryOps::flip turns the broadcast x_t
//      into -x_t in the lanes where it is set (a blend on the sign bit, or an XOR into x's
//      sign bit), then adds: 3 vector ops per column and Vec.
//    - table lookups (AVX2, AVX-512: BinaryOps::lookup, a lane-wise variable permute): for
//      each run of log2(lanes) columns the input's table holds the signed sums of all sign
//      patterns, and each lane picks its row's entry: 3 ops per 3 (AVX2) or 4 (AVX-512)
//      columns; on Zen 3 (AVX2), 1024x1024: 2.1x (GEMV) and 2.4x (GEMM) faster than flips.
//    Column streams (or the samples of a GEMM tile) accumulate in separate registers; both
//    only reorder the reference's sum of the terms +-x_k.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp (whose
// cheap_epilogue_v and activate it reuses), and a second time, XNOR part only
// (MOTE_BINARY_XNOR_ONLY, no Vec there), by arch/targets.hpp for AVX-512 VPOPCNTDQ.

using BinaryOps = ::mote::simd::MOTE_SIMD_NS::BinaryOps;

namespace dense_binary_detail {

constexpr std::size_t panel_rows = ::mote::kernels::BinaryMatrix::panel_rows;
constexpr std::size_t group_cols = ::mote::kernels::BinaryMatrix::group_cols;

/// Samples [0, Tile) (their sign words `stride` words apart) times panel p.
template <std::size_t Tile, class Activation>
inline void xnor_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const std::uint32_t* x_words,
                      std::size_t stride, const float* bias, float* out, Activation activation) noexcept {
  const std::size_t groups = weights.group_count(), rows = weights.rows();
  const std::uint32_t* panel = weights.panel(p);
  BinaryOps::Counts counts[Tile];
  MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) counts[i] = BinaryOps::counts_zero();
  for (std::size_t g = 0; g < groups;) {
    const std::size_t end = groups - g > BinaryOps::flush_every ? g + BinaryOps::flush_every : groups;
    BinaryOps::Partial partial[Tile];
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) partial[i] = BinaryOps::partial_zero();
    for (; g < end; ++g) {
      const BinaryOps::Group w = BinaryOps::load_group(panel + g * panel_rows);
      MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::add(partial[i], w, x_words[i * stride + g]);
    }
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::flush(partial[i], counts[i]);
  }
  const std::size_t first = p * panel_rows;
  const std::size_t count = rows - first < panel_rows ? rows - first : panel_rows;
  const auto cols = static_cast<std::int32_t>(weights.cols());
  for (std::size_t i = 0; i < Tile; ++i) {
    alignas(64) std::int32_t dots[panel_rows];
    BinaryOps::store(counts[i], dots);
    for (std::size_t r = 0; r < count; ++r) dots[r] = cols - 2 * dots[r];
    ::mote::kernels::binary_xnor_epilogue(weights, bias, dots, first, count, out + i * rows, activation);
  }
}

}  // namespace dense_binary_detail

/// Binary activations: `batch` samples binarised into `scratch` (binary_xnor_scratch_bytes per
/// sample), XNOR-popcount per panel, the shared scalar epilogue. Where BinaryOps names a
/// better build of this kernel for the running CPU (AVX-512 VPOPCNTDQ), that one runs instead.
template <class Activation, class Ops = BinaryOps>
inline void dense_xnor(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                       std::size_t batch, Activation activation, std::byte* scratch) noexcept {
  if constexpr (requires { Ops::use_vpopcntdq(); }) {
    if (Ops::use_vpopcntdq()) return Ops::dense_xnor_vpopcntdq(weights, bias, in, out, batch, activation, scratch);
  }
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::size_t stride = ::mote::kernels::binary_xnor_scratch_bytes(cols) / sizeof(std::uint32_t);
  auto* words = reinterpret_cast<std::uint32_t*>(scratch);
  for (std::size_t b = 0; b < batch; ++b) BinaryOps::pack_signs(in + b * cols, cols, words + b * stride);
  constexpr std::size_t tile = BinaryOps::xnor_tile;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile <= batch; b += tile)
      xnor_tile<tile>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
    for (; b < batch; ++b) xnor_tile<1>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
  }
}

#if !defined(MOTE_BINARY_XNOR_ONLY)

namespace dense_binary_detail {

constexpr std::size_t per_panel = panel_rows / Vec::lanes;
/// Independent accumulators per panel: 8 vector adds in flight (4 cycles of latency on 2
/// pipes), from column streams of one sample or from the samples of a GEMM tile.
constexpr std::size_t chains = per_panel >= 8 ? 1 : 8 / per_panel;

/// The group's words (one BinaryOps::Words per Vec of rows), shifted left by `shift`.
inline void load_words(const std::uint32_t* group, unsigned shift, BinaryOps::Words (&w)[per_panel]) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    w[j] = BinaryOps::load_words(group + j * Vec::lanes);
    if (shift != 0) w[j] = BinaryOps::shift_left(w[j], shift);
  }
}

/// scale * sums + bias, activated, stored to the rows of panel p that exist.
template <class Activation>
inline void store_panel(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const Vec (&sums)[per_panel],
                        const float* bias, float* out, Activation activation) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    const std::size_t row = p * panel_rows + j * Vec::lanes;
    const Vec y = apply(activation, Vec::fma(sums[j], Vec::load(weights.scales() + row), Vec::load(bias + row)));
    if (row + Vec::lanes <= weights.rows()) y.store(out + row);
    else if (row < weights.rows()) y.store_partial(out + row, weights.rows() - row);
  }
}

// ---- sign flips: each column's bit moved to the top of each lane (BinaryOps::flip) ------------

/// acc[j] += +-x (per row, by the top bits of w[j]); then, if `advance`, moves the next
/// column's bits up.
inline void accumulate_column(float x, BinaryOps::Words (&w)[per_panel], Vec (&acc)[per_panel],
                              bool advance = true) noexcept {
  const Vec pos = Vec::broadcast(x), neg = Vec::broadcast(-x);
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    acc[j] = acc[j] + BinaryOps::flip(pos, neg, w[j]);
    if (advance) w[j] = BinaryOps::twice(w[j]);
  }
}

/// GEMV: the 32 columns of a group go round-robin to `chains` accumulators, summed at the end.
template <class Activation>
inline void flip_gemv(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                      Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const std::uint32_t* panel = weights.panel(p);
    Vec acc[chains][per_panel];
    MOTE_UNROLL for (std::size_t c = 0; c < chains; ++c)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[c][j] = Vec::zero();
    for (std::size_t g = 0; g < full; ++g) {
      BinaryOps::Words w[per_panel];
      load_words(panel + g * panel_rows, 0, w);
      const float* x = in + g * group_cols;
      MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) accumulate_column(x[group_cols - 1 - t], w, acc[t % chains]);
    }
    if (tail != 0) {
      BinaryOps::Words w[per_panel];
      load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
      const float* x = in + full * group_cols;
      for (std::size_t t = 0; t < tail; ++t) accumulate_column(x[tail - 1 - t], w, acc[0]);
    }
    Vec sums[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      sums[j] = acc[0][j];
      MOTE_UNROLL for (std::size_t c = 1; c < chains; ++c) sums[j] = sums[j] + acc[c][j];
    }
    store_panel(weights, p, sums, bias, out, activation);
  }
}

/// GEMM tile: samples [0, Samples) of `in` times panel p; each group's words are loaded and
/// shifted once for all of them.
template <std::size_t Samples, class Activation>
inline void flip_gemm_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const float* bias,
                           const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  const std::uint32_t* panel = weights.panel(p);
  Vec acc[Samples][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t g = 0; g < full; ++g) {
    BinaryOps::Words w[per_panel];
    load_words(panel + g * panel_rows, 0, w);
    MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + g * group_cols + group_cols - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  if (tail != 0) {
    BinaryOps::Words w[per_panel];
    load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
    for (std::size_t t = 0; t < tail; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + full * group_cols + tail - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    store_panel(weights, p, acc[i], bias, out + i * weights.rows(), activation);
}

// ---- table lookups: per input, the 2^bits signed sums of each `bits` consecutive columns -------

/// Where BinaryOps::lookup exists (a lane-wise variable permute of one Vec: AVX2 vpermps, 8
/// entries, AVX-512 vpermps, 16), `bits` = log2(lanes) columns take one lookup per Vec of rows
/// instead of `bits` sign flips: the table of the input holds, for each pattern e of the
/// columns' sign bits, sum_i (bit i of e ? -x_i : x_i), and each lane indexes it with its row's
/// bits (the low bits of the word, shifted down `bits` after each lookup). Each table entry is
/// a sum of terms +-x_k: still a reordering of the reference's sum. Tables are built per chunk
/// of columns on the stack (8 KiB), partial sums kept in `out` between chunks.
template <class Ops>
concept LooksUp = requires(const float* table, typename Ops::Words w) {
  { Ops::lookup(table, w) } -> std::same_as<Vec>;
  { Ops::next_lookup(w) } -> std::same_as<typename Ops::Words>;
};
constexpr std::size_t lookup_bits = std::bit_width(Vec::lanes) - 1;
constexpr std::size_t lookups_per_group = (group_cols + lookup_bits - 1) / lookup_bits;
constexpr std::size_t table_floats_per_group = lookups_per_group * Vec::lanes;
template <std::size_t Samples>
constexpr std::size_t chunk_groups =
    2048 / (Samples * table_floats_per_group) > 0 ? 2048 / (Samples * table_floats_per_group) : 1;

/// The tables of groups [first, first + count) of input x (columns past `cols` count as 0).
inline void build_tables(const float* x, std::size_t cols, std::size_t first, std::size_t count,
                         float* tables) noexcept {
  // signs[i] lane e: -1 where bit i of e is set.
  alignas(64) static constexpr auto signs = [] {
    std::array<float, lookup_bits * Vec::lanes> s{};
    for (std::size_t i = 0; i < lookup_bits; ++i)
      for (std::size_t e = 0; e < Vec::lanes; ++e) s[i * Vec::lanes + e] = ((e >> i) & 1u) != 0 ? -1.0f : 1.0f;
    return s;
  }();
  for (std::size_t g = 0; g < count; ++g) {
    const std::size_t group_start = (first + g) * group_cols;
    MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
      const std::size_t start = group_start + l * lookup_bits;
      Vec table = Vec::zero();
      MOTE_UNROLL for (std::size_t i = 0; i < lookup_bits; ++i) {
        if (l * lookup_bits + i >= group_cols) continue;  // the last lookup of a group may be shorter
        const float x_k = start + i < cols ? x[start + i] : 0.0f;
        table = Vec::fma(Vec::broadcast(x_k), Vec::load(signs.data() + i * Vec::lanes), table);  // exact product
      }
      table.store(tables + (g * lookups_per_group + l) * Vec::lanes);
    }
  }
}

/// Samples [0, Samples) of `in` times every panel, by table lookups, chunk by chunk of columns.
template <std::size_t Samples, class Activation, class Ops = BinaryOps>
inline void lookup_tile(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        Activation activation) noexcept {
  constexpr std::size_t streams = chains / Samples > 0 ? chains / Samples : 1;
  constexpr std::size_t chunk = chunk_groups<Samples>;
  alignas(64) float tables[Samples][chunk * table_floats_per_group];
  const std::size_t cols = weights.cols(), rows = weights.rows(), groups = weights.group_count();
  for (std::size_t g0 = 0; g0 < groups; g0 += chunk) {
    const std::size_t count = groups - g0 < chunk ? groups - g0 : chunk;
    const bool first_chunk = g0 == 0, last_chunk = g0 + count == groups;
    MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) build_tables(in + i * cols, cols, g0, count, tables[i]);
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      const std::uint32_t* panel = weights.panel(p) + g0 * panel_rows;
      Vec acc[Samples][streams][per_panel];
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            acc[i][s][j] = Vec::zero();
            if (s == 0 && !first_chunk) {  // the partial sums of the previous chunks
              if (row + Vec::lanes <= rows) acc[i][s][j] = Vec::load(out + i * rows + row);
              else if (row < rows) acc[i][s][j] = Vec::load_partial(out + i * rows + row, rows - row);
            }
          }
      for (std::size_t g = 0; g < count; ++g) {
        BinaryOps::Words w[per_panel];
        load_words(panel + g * panel_rows, 0, w);
        const std::size_t table_offset = g * table_floats_per_group;
        MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
          MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
            const float* table = tables[i] + table_offset + l * Vec::lanes;
            MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j)
              acc[i][l % streams][j] = acc[i][l % streams][j] + Ops::lookup(table, w[j]);
          }
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Ops::next_lookup(w[j]);
        }
      }
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
        Vec sums[per_panel];
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
          sums[j] = acc[i][0][j];
          MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sums[j] = sums[j] + acc[i][s][j];
        }
        if (last_chunk) {
          store_panel(weights, p, sums, bias, out + i * rows, activation);
        } else {
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            if (row + Vec::lanes <= rows) sums[j].store(out + i * rows + row);
            else if (row < rows) sums[j].store_partial(out + i * rows + row, rows - row);
          }
        }
      }
    }
  }
}

}  // namespace dense_binary_detail

/// GEMM: `batch` samples, `chains` at a time.
template <class Activation>
inline void dense_batch(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation) noexcept {
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  if constexpr (LooksUp<BinaryOps>) {
    std::size_t b = 0;
    for (; b + chains <= batch; b += chains) lookup_tile<chains>(weights, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) lookup_tile<1>(weights, bias, in + b * cols, out + b * rows, activation);
  } else {
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      std::size_t b = 0;
      for (; b + chains <= batch; b += chains)
        flip_gemm_tile<chains>(weights, p, bias, in + b * cols, out + b * rows, activation);
      for (; b < batch; ++b) flip_gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
    }
  }
}

/// GEMV; transcendental activations run as a second pass (as for f32).
template <class Activation>
inline void dense(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                  Activation activation) noexcept {
  using namespace dense_binary_detail;
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
  } else if constexpr (LooksUp<BinaryOps>) {
    lookup_tile<1>(weights, bias, in, out, activation);
  } else {
    flip_gemv(weights, bias, in, out, activation);
  }
}

#endif  // !MOTE_BINARY_XNOR_ONLY
// ----- end mote/kernels/dense/binary-inl.hpp -----
// ----- begin mote/kernels/dense/codebook-inl.hpp -----
// Dense (GEMV, GEMM) with codebook weights, computed in f32, without ever building the float
// weight matrix: for a tile of rows, each row's table is prepared once in registers
// (CodebookOps::prepare), and for every chunk (16 columns of one row, layout/dense_codebook.hpp)
// the 16 weights are decoded and looked up in registers (CodebookOps::lookup) and multiplied
// into per-row accumulators with the activations (dot-product form: a register permute picks
// from one table, so the lanes of a vector are columns of one row, never rows with different
// tables). Each row's lanes are summed at the end: the only reordering compared with the scalar
// reference (codebook_reference.hpp), within the f32 dot-product bound.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp and
// elementwise/simd-inl.hpp (activate).
//
// Contract of the per-ISA primitives (arch/<family>/<isa>_codebook.hpp), CodebookOps<Bits>:
//   Table / prepare(entries)   a table of 2^Bits ascending floats, ready for lookups
//   lookup(table, chunk, w)    w[j], j < 16 / Vec::lanes: the chunk's weights, in column order
//   gemv_rows                  rows per tile of the GEMV (a divisor of 16)
//   gemm_rows, gemm_samples    rows x samples per register tile of the GEMM

namespace dense_codebook_detail {

constexpr std::size_t group_cols = 16;
constexpr std::size_t per_group = group_cols / Vec::lanes;

template <class Matrix>
using Ops = ::mote::simd::MOTE_SIMD_NS::CodebookOps<Matrix::format::bits>;

/// Lanes of the padding columns (column >= valid of the last group) set to exactly 0, whatever
/// the table holds; the activations there are loaded as 0 too.
inline void clear_padding(Vec (&w)[per_group], std::size_t valid) noexcept {
  alignas(64) static constexpr float column[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const Vec limit = Vec::broadcast(static_cast<float>(valid));
  MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j)
    w[j] = Vec::select(Vec::less(Vec::load(column + j * Vec::lanes), limit), w[j], Vec::zero());
}

/// Activations of columns [g * 16, g * 16 + 16) of one sample; lanes past `valid` are 0.
inline void load_group(const float* x, std::size_t valid, Vec (&v)[per_group]) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j) {
    const std::size_t first = j * Vec::lanes;
    if (first + Vec::lanes <= valid) v[j] = Vec::load(x + first);
    else if (first < valid) v[j] = Vec::load_partial(x + first, valid - first);
    else v[j] = Vec::zero();
  }
}

/// Rows [row, row + Rows) (inside the padded rows) times `Samples` inputs (sample s at
/// in + s * cols): writes bias + dot product, with `Activation` when it is piecewise linear
/// (exact per output), to out[s * rows + r] for the rows that exist.
template <std::size_t Rows, std::size_t Samples, class Matrix, class Activation>
inline void tile(const Matrix& weights, std::size_t row, const float* bias, const float* in, float* out,
                 Activation) noexcept {
  using O = Ops<Matrix>;
  constexpr bool per_channel = Matrix::format::per_channel;
  constexpr std::size_t tables = per_channel ? Rows : 1;
  constexpr std::size_t chunk_bytes = Matrix::chunk_bytes, group_stride = Matrix::panel_rows * chunk_bytes;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::size_t full_groups = cols / group_cols;
  typename O::Table table[tables];
  MOTE_UNROLL for (std::size_t t = 0; t < tables; ++t) table[t] = O::prepare(weights.table(row + t));
  Vec acc[Rows][Samples];
  MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r)
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) acc[r][s] = Vec::zero();
  const std::uint8_t* chunks = weights.chunk(row, 0);
  for (std::size_t g = 0; g < full_groups; ++g, chunks += group_stride) {
    MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
      Vec w[per_group];
      O::lookup(table[per_channel ? r : 0], chunks + r * chunk_bytes, w);
      MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) {
        const float* x = in + s * cols + g * group_cols;
        MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j)
          acc[r][s] = Vec::fma(w[j], Vec::load(x + j * Vec::lanes), acc[r][s]);
      }
    }
  }
  if (full_groups < weights.group_count()) {
    const std::size_t valid = cols - full_groups * group_cols;
    Vec x[Samples][per_group];
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s)
      load_group(in + s * cols + full_groups * group_cols, valid, x[s]);
    MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
      Vec w[per_group];
      O::lookup(table[per_channel ? r : 0], chunks + r * chunk_bytes, w);
      clear_padding(w, valid);
      MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s)
        MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j) acc[r][s] = Vec::fma(w[j], x[s][j], acc[r][s]);
    }
  }
  MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
    if (row + r >= rows) break;
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) {
      const float sum = acc[r][s].reduce_add() + bias[row + r];
      if constexpr (::mote::activation::is_piecewise_linear_v<Activation>)
        out[s * rows + row + r] = Activation::apply(sum);
      else
        out[s * rows + row + r] = sum;
    }
  }
}

/// Rows [row, row + Rows) times samples [0, count), count < Samples.
template <std::size_t Rows, std::size_t Samples, class Matrix, class Activation>
inline void tile_remainder(const Matrix& weights, std::size_t row, const float* bias, const float* in, float* out,
                           std::size_t count, Activation activation) noexcept {
  if constexpr (Samples > 1) {
    if (count == Samples - 1) return tile<Rows, Samples - 1>(weights, row, bias, in, out, activation);
    tile_remainder<Rows, Samples - 1>(weights, row, bias, in, out, count, activation);
  }
}

/// Transcendental activations run as a vectorised pass over the finished outputs.
template <class Activation>
inline void finish(Activation activation, float* out, std::size_t count) noexcept {
  if constexpr (!::mote::activation::is_piecewise_linear_v<Activation>) activate(activation, out, out, count);
}

}  // namespace dense_codebook_detail

/// GEMV: tiles of gemv_rows rows, every column group of each, one sample.
template <std::size_t Bits, class Granularity, class Activation>
inline void dense(const ::mote::WeightMatrix<::mote::Codebook<Bits, Granularity>, ::mote::DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation activation) noexcept {
  using namespace dense_codebook_detail;
  using Matrix = std::remove_cvref_t<decltype(weights)>;
  constexpr std::size_t rows_per_tile = Ops<Matrix>::gemv_rows;
  static_assert(Matrix::panel_rows % rows_per_tile == 0, "a row tile must not straddle two panels");
  for (std::size_t row = 0; row < weights.rows(); row += rows_per_tile)
    tile<rows_per_tile, 1>(weights, row, bias, in, out, activation);
  finish(activation, out, weights.rows());
}

/// GEMM: tiles of gemm_rows rows x gemm_samples samples; a row tile's chunks stay in L1 while
/// the samples stream past them.
template <std::size_t Bits, class Granularity, class Activation>
inline void dense_batch(const ::mote::WeightMatrix<::mote::Codebook<Bits, Granularity>, ::mote::DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation) noexcept {
  using namespace dense_codebook_detail;
  using Matrix = std::remove_cvref_t<decltype(weights)>;
  constexpr std::size_t rows_per_tile = Ops<Matrix>::gemm_rows, samples = Ops<Matrix>::gemm_samples;
  static_assert(Matrix::panel_rows % rows_per_tile == 0, "a row tile must not straddle two panels");
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t row = 0; row < rows; row += rows_per_tile) {
    std::size_t b = 0;
    for (; b + samples <= batch; b += samples)
      tile<rows_per_tile, samples>(weights, row, bias, in + b * cols, out + b * rows, activation);
    if (b < batch)
      tile_remainder<rows_per_tile, samples>(weights, row, bias, in + b * cols, out + b * rows, batch - b, activation);
  }
  finish(activation, out, batch * rows);
}
// ----- end mote/kernels/dense/codebook-inl.hpp -----
// ----- begin mote/kernels/conv2d/simd-inl.hpp -----
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

/// out[0..Pixels) for one panel, pixel i reading its input at in_pixel[i]; taps with a null
/// pointer are padding.
template <std::size_t Pixels, class Activation>
inline void conv_pixels(const WindowGeometry& g, const float* panel, const float* bias, std::size_t oy,
                        std::size_t ox, const float* in, float* out, std::size_t channels_here,
                        Activation activation) noexcept {
  Vec acc[Pixels][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::load(bias + j * Vec::lanes);
  for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
    const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
    if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
    for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
      const float* pixel_in[Pixels];
      bool any = false;
      MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
        const long ix = static_cast<long>((ox + i) * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
        pixel_in[i] = ix < 0 || ix >= static_cast<long>(g.in_w)
                          ? nullptr
                          : in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
        any = any || pixel_in[i] != nullptr;
      }
      if (!any) continue;
      const float* taps = panel + (ky * g.kernel_w + kx) * g.in_c * DenseF32::panel_rows;
      for (std::size_t ic = 0; ic < g.in_c; ++ic) {
        Vec w[per_panel];
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load(taps + ic * DenseF32::panel_rows + j * Vec::lanes);
        MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
          if (Pixels > 1 || pixel_in[i] != nullptr) {
            const Vec x = Vec::broadcast(pixel_in[i][ic]);
            MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
          }
        }
      }
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Pixels; ++i) {
    float* out_pixel = out + ((oy * g.out_w) + ox + i) * g.out_c;
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      const std::size_t c = j * Vec::lanes;
      const Vec result = apply(activation, acc[i][j]);
      if (c + Vec::lanes <= channels_here) result.store(out_pixel + c);
      else if (c < channels_here) result.store_partial(out_pixel + c, channels_here - c);
    }
  }
}

}  // namespace conv_detail

template <class Activation>
inline void conv2d(const WindowGeometry& g, const DenseF32& weights, const float* bias, const float* in,
                   float* out, Activation activation) noexcept {
  using namespace conv_detail;
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
    for (; ox < x_begin; ++ox) conv_pixels<1>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    for (; ox + block <= x_end; ox += block)
      conv_pixels<block>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    // The interior's remainder in halving blocks: a lone pixel has too few accumulators to
    // hide FMA latency.
    if constexpr (block >= 4)
      for (; ox + block / 2 <= x_end; ox += block / 2)
        conv_pixels<block / 2>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    if constexpr (block >= 8)
      for (; ox + block / 4 <= x_end; ox += block / 4)
        conv_pixels<block / 4>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    if constexpr (block >= 2)
      for (; ox + 2 <= x_end; ox += 2) conv_pixels<2>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
    for (; ox < g.out_w; ++ox) conv_pixels<1>(g, panel, panel_bias, oy, ox, in, panel_out, channels_here, activation);
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
// ----- end mote/kernels/conv2d/simd-inl.hpp -----
// ----- begin mote/kernels/depthwise/simd-inl.hpp -----
// Depthwise Conv2D (channel multiplier 1) over channels-last input. The 16-row weight panels
// hold, for 16 consecutive channels, tap t at panel[t * 16 ...]: one vector of weights per tap
// and channel group, multiplied with the matching vector of input channels. For each output
// pixel the taps inside the input are listed once, then every channel group runs over them
// without bounds checks.
// Code only: included per ISA by kernels/simd-inl.hpp.

namespace depthwise_detail {

/// Kernels up to 7x7 list their taps on the stack; larger ones use the scalar reference.
constexpr std::size_t max_listed_taps = 49;

template <class Activation>
inline void channels_over_taps(std::size_t channels, const float* const* tap_in, const std::size_t* tap_offset,
                               std::size_t taps, const DenseF32& weights, const float* bias, float* out,
                               Activation activation) noexcept {
  constexpr std::size_t rows = DenseF32::panel_rows;
  std::size_t c = 0;
  // Two channel vectors at a time: two independent FMA chains.
  for (; c + 2 * Vec::lanes <= channels; c += 2 * Vec::lanes) {
    const float* panel0 = weights.panel(c / rows) + c % rows;
    const float* panel1 = weights.panel((c + Vec::lanes) / rows) + (c + Vec::lanes) % rows;
    Vec acc0 = Vec::load(bias + c), acc1 = Vec::load(bias + c + Vec::lanes);
    for (std::size_t t = 0; t < taps; ++t) {
      acc0 = Vec::fma(Vec::load(tap_in[t] + c), Vec::load(panel0 + tap_offset[t]), acc0);
      acc1 = Vec::fma(Vec::load(tap_in[t] + c + Vec::lanes), Vec::load(panel1 + tap_offset[t]), acc1);
    }
    apply(activation, acc0).store(out + c);
    apply(activation, acc1).store(out + c + Vec::lanes);
  }
  for (; c < channels; c += Vec::lanes) {
    const std::size_t lanes = std::min(Vec::lanes, channels - c);
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec x = lanes == Vec::lanes ? Vec::load(tap_in[t] + c) : Vec::load_partial(tap_in[t] + c, lanes);
      acc = Vec::fma(x, Vec::load(panel + tap_offset[t]), acc);
    }
    acc = apply(activation, acc);
    if (lanes == Vec::lanes) acc.store(out + c);
    else acc.store_partial(out + c, lanes);
  }
}

/// Pixels consecutive interior output pixels of one row at once: each weight vector is loaded
/// once per tap for all of them (`pixel_step` = stride * channels between their inputs).
template <std::size_t Pixels, class Activation>
inline void pixels_over_taps(std::size_t channels, const float* const* tap_in, const std::size_t* tap_offset,
                             std::size_t taps, std::size_t pixel_step, const DenseF32& weights, const float* bias,
                             float* out, Activation activation) noexcept {
  constexpr std::size_t rows = DenseF32::panel_rows;
  std::size_t c = 0;
  for (; c + Vec::lanes <= channels; c += Vec::lanes) {
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc[Pixels];
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec w = Vec::load(panel + tap_offset[t]);
      const float* x = tap_in[t] + c;
      MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::fma(Vec::load(x + q * pixel_step), w, acc[q]);
    }
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) apply(activation, acc[q]).store(out + q * channels + c);
  }
  if (c < channels) {
    const std::size_t lanes = channels - c;
    const float* panel = weights.panel(c / rows) + c % rows;
    Vec acc[Pixels];
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) acc[q] = Vec::load(bias + c);
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec w = Vec::load(panel + tap_offset[t]);
      const float* x = tap_in[t] + c;
      MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q)
        acc[q] = Vec::fma(Vec::load_partial(x + q * pixel_step, lanes), w, acc[q]);
    }
    MOTE_UNROLL for (std::size_t q = 0; q < Pixels; ++q) apply(activation, acc[q]).store_partial(out + q * channels + c, lanes);
  }
}

/// Interior pixels per block: 8 accumulators (16 with AVX-512's 32 registers).
constexpr std::size_t pixel_block = Vec::lanes == 16 ? 16 : 8;

}  // namespace depthwise_detail

template <class Activation>
inline void depthwise_conv2d(const WindowGeometry& g, const DenseF32& weights, const float* bias, const float* in,
                             float* out, Activation activation) noexcept {
  using namespace depthwise_detail;
  constexpr std::size_t rows = DenseF32::panel_rows;
  if (g.kernel_h * g.kernel_w > max_listed_taps)
    return ::mote::kernels::depthwise_conv2d(isa::Scalar{}, g, weights, bias, in, out, activation);
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
      const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
      if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
      for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
        const long ix0 = static_cast<long>(kx * g.dilation_w) - static_cast<long>(g.pad_left);
        row_tap_index[row_taps] = (iy * static_cast<long>(g.in_w) + ix0) * static_cast<long>(g.in_c);
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
          pixels_over_taps<pixel_block>(g.out_c, tap_in, row_tap_offset, row_taps, g.stride_w * g.in_c, weights,
                                        bias, out_pixel, activation);
          ox += pixel_block - 1;
        } else {
          channels_over_taps(g.out_c, tap_in, row_tap_offset, row_taps, weights, bias, out_pixel, activation);
        }
        continue;
      }
      std::size_t taps = 0;
      for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
        const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
        if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
        for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
          const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
          if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
          tap_in[taps] = in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
          tap_offset[taps] = (ky * g.kernel_w + kx) * rows;
          ++taps;
        }
      }
      channels_over_taps(g.out_c, tap_in, tap_offset, taps, weights, bias, out_pixel, activation);
    }
  }
}
// ----- end mote/kernels/depthwise/simd-inl.hpp -----
// ----- begin mote/kernels/pool/simd-inl.hpp -----
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
// ----- end mote/kernels/pool/simd-inl.hpp -----

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}
template <class Activation = activation::Identity>
inline void conv2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const WeightMatrix<F32, DenseStorage>& weights,
                   const float* bias, const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::conv2d(g, weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void depthwise_conv2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g,
                             const WeightMatrix<F32, DenseStorage>& weights, const float* bias, const float* in,
                             float* out, Activation activation = {}) noexcept {
  // A channel multiplier above 1 reads input channel o / M for output o: no contiguous vector.
  if (g.out_c != g.in_c) return depthwise_conv2d(isa::Scalar{}, g, weights, bias, in, out, activation);
  MOTE_SIMD_NS::depthwise_conv2d(g, weights, bias, in, out, activation);
}
template <class Activation>
inline void activate(isa::MOTE_SIMD_TAG, Activation activation, const float* in, float* out,
                     std::size_t count) noexcept {
  MOTE_SIMD_NS::activate(activation, in, out, count);
}
inline void channel_affine(isa::MOTE_SIMD_TAG, const float* scale, const float* shift, const float* in, float* out,
                           std::size_t pixels, std::size_t channels) noexcept {
  MOTE_SIMD_NS::channel_affine(scale, shift, in, out, pixels, channels);
}
inline void add(isa::MOTE_SIMD_TAG, const float* a, const float* b, float* out, std::size_t count) noexcept {
  MOTE_SIMD_NS::add(a, b, out, count);
}
inline void softmax(isa::MOTE_SIMD_TAG, const float* in, float* out, std::size_t rows,
                    std::size_t channels) noexcept {
  MOTE_SIMD_NS::softmax(in, out, rows, channels);
}
inline void max_pool2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const float* in, float* out) noexcept {
  MOTE_SIMD_NS::max_pool2d(g, in, out);
}
inline void avg_pool2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const float* in, float* out) noexcept {
  MOTE_SIMD_NS::avg_pool2d(g, in, out);
}
inline void global_avg_pool(isa::MOTE_SIMD_TAG, std::size_t pixels, std::size_t channels, const float* in,
                            float* out) noexcept {
  MOTE_SIMD_NS::global_avg_pool(pixels, channels, in, out);
}

// bf16 / f16 weights (kernels/dense/half-inl.hpp).
template <HalfFloatFormat Format, class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <HalfFloatFormat Format, class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}

// Codebook weights (kernels/dense/codebook-inl.hpp).
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}

// Binary weights (kernels/dense/binary-inl.hpp): f32 activations, and XNOR-popcount with binary
// activations (bit-exact on every ISA; transcendental activations then run as a vector pass).
template <class Activation = activation::Identity>
inline void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
inline void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}
template <class Activation = activation::Identity>
inline void dense_xnor(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, Activation activation,
                       std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_xnor(weights, bias, in, out, batch, activation, scratch);
  } else {
    MOTE_SIMD_NS::dense_xnor(weights, bias, in, out, batch, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}

}  // namespace mote::kernels
// ----- end mote/kernels/simd-inl.hpp -----
// ----- begin mote/kernels/simd_int8-inl.hpp -----
// The int8 kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA that has integer dot-product primitives (arch/<family>/<isa>_int8.hpp), inside
// that ISA's target region, with MOTE_SIMD_NS and MOTE_SIMD_TAG defined as for simd-inl.hpp.

#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Int8Ops = ::mote::simd::MOTE_SIMD_NS::Int8Ops;
using ::mote::align_up;

// ----- begin mote/kernels/dense/int8-inl.hpp -----
// int8 Dense kernels, written once against `Int8Ops`, the ISA's integer dot-product primitives
// (arch/<family>/<isa>_int8.hpp). Included by kernels/simd_int8-inl.hpp, once per ISA.
//
// Contract of an Int8 primitive set:
//   Act                 the activation code type the ISA multiplies (int16, uint8 or int8)
//   encode(u)           the Act holding code u in [0, 255]
//   activation_offset   what encode subtracts: the kernels see dot_r = sum_k w_rk (u_k - offset)
//   Acc / zero()        accumulators of one 16-row panel
//   Panel / load(g)     one 64-byte group (16 rows x 4 columns) of weights, loaded for reuse
//   madd(acc, w, a)     acc += the products of the group with the 4 codes at a
//   store(acc, out)     the 16 row sums as int32
//   quantize(x, n, ...) float -> Act codes, bit-identical to mote::quantize
//   gemm_cols           samples per register tile in the batched kernel

// One panel of 16 rows times `Cols` samples; codes of sample c at act + c * stride.
// An ISA may provide its own microkernel (Int8Ops::panel_tile) where the compiler does not
// keep this generic one's accumulators in registers.
template <std::size_t Cols, class Ops = Int8Ops>
inline void int8_panel_tile(const std::int8_t* panel, std::size_t groups, const typename Ops::Act* act,
                            std::size_t stride, std::int32_t* dots, std::size_t dots_stride) noexcept {
  if constexpr (requires { Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride); }) {
    return Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
  }
  typename Ops::Acc acc[Cols];
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) acc[c] = Int8Ops::zero();
  for (std::size_t g = 0; g < groups; ++g) {
    const typename Int8Ops::Panel w = Int8Ops::load(panel + g * 64);
    MOTE_UNROLL
    for (std::size_t c = 0; c < Cols; ++c) Int8Ops::madd(acc[c], w, act + c * stride + g * 4);
  }
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) Int8Ops::store(acc[c], dots + c * dots_stride);
}

template <std::size_t Cols = Int8Ops::gemm_cols>
inline void int8_panel_columns(const std::int8_t* panel, std::size_t groups, const Int8Ops::Act* act, std::size_t stride,
                               std::int32_t* dots, std::size_t dots_stride, std::size_t columns) noexcept {
  if constexpr (Cols > 0) {
    for (; columns >= Cols; columns -= Cols, act += Cols * stride, dots += Cols * dots_stride)
      int8_panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
    if (columns > 0) int8_panel_columns<Cols / 2>(panel, groups, act, stride, dots, dots_stride, columns);
  }
}

// An ISA may vectorise the symmetric-weight epilogue (Int8Ops::dequantize_rows), with the same
// operations as int8_dense_epilogue lane by lane.
template <class Ops>
inline constexpr bool int8_has_vector_epilogue = requires(const std::int32_t* i, const float* f, float* o) {
  Ops::dequantize_rows(i, i, 0, 0.0f, f, f, o, std::size_t{0});
};
template <class Ops>
inline std::size_t int8_vector_epilogue(const std::int32_t* dots, const std::int32_t* row_sums, std::int32_t correction,
                                        float input_scale, const float* scales, const float* bias, float* out,
                                        std::size_t rows) noexcept {
  if constexpr (int8_has_vector_epilogue<Ops>)
    return Ops::dequantize_rows(dots, row_sums, correction, input_scale, scales, bias, out, rows);
  else
    return 0;
}

template <class G, class S, class Activation>
inline void dense_int8(const ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>& weights,
                       const float* bias, const float* in, float* out, std::size_t batch,
                       const ::mote::kernels::Int8InputQuant& input, Activation activation,
                       std::byte* scratch) noexcept {
  using Matrix = ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>;
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t groups = padded_cols / 4;
  auto* act = reinterpret_cast<Int8Ops::Act*>(scratch);
  auto* dots = reinterpret_cast<std::int32_t*>(scratch + batch * align_up(padded_cols * sizeof(std::int16_t)));
  const typename Int8Ops::Act padding = Int8Ops::encode(input.params.zero_point);
  for (std::size_t b = 0; b < batch; ++b) {
    Int8Ops::Act* codes = act + b * padded_cols;
    Int8Ops::quantize(in + b * cols, cols, input.params, input.low, input.high, codes);
    for (std::size_t k = cols; k < padded_cols; ++k) codes[k] = padding;
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    int8_panel_columns(weights.panel(p), groups, act, padded_cols, dots + p * 16, padded_rows, batch);
  if constexpr (Matrix::format::symmetric && int8_has_vector_epilogue<Int8Ops>) {
    // Symmetric weights: the epilogue vectorised where the ISA provides it (same operations).
    const std::int32_t correction = Int8Ops::activation_offset - input.params.zero_point;
    for (std::size_t b = 0; b < batch; ++b) {
      float* y = out + b * rows;
      const std::int32_t* d = dots + b * padded_rows;
      std::size_t r = int8_vector_epilogue<Int8Ops>(d, weights.row_sums(), correction, input.params.scale,
                                                    weights.scales(), bias, y, rows);
      for (; r < rows; ++r)
        y[r] = std::fma(static_cast<float>(static_cast<std::int64_t>(d[r]) +
                                           static_cast<std::int64_t>(correction) * weights.row_sum(r)),
                        input.params.scale * weights.scales()[r], bias[r]);
      if constexpr (!std::is_same_v<Activation, ::mote::activation::Identity>)
        for (std::size_t i = 0; i < rows; ++i) y[i] = Activation::apply(y[i]);
    }
    return;
  }
  for (std::size_t b = 0; b < batch; ++b) {
    std::int64_t sum_u = 0;
    if constexpr (!Matrix::format::symmetric)
      for (std::size_t k = 0; k < cols; ++k) sum_u += act[b * padded_cols + k] + Int8Ops::activation_offset;
    ::mote::kernels::int8_dense_epilogue(weights, bias, dots + b * padded_rows, input, Int8Ops::activation_offset, sum_u,
                                         out + b * rows, activation);
  }
}
// ----- end mote/kernels/dense/int8-inl.hpp -----
#if defined(MOTE_SIMD_HAS_INT4)
using Int4Ops = ::mote::simd::MOTE_SIMD_NS::Int4Ops;
// ----- begin mote/kernels/dense/int4-inl.hpp -----
// int4 Dense kernels, written once against `Int4Ops`, the ISA's int4 primitives
// (arch/<family>/<isa>_int4.hpp). Included by kernels/simd_int8-inl.hpp for ISAs that have them.
//   centre(x, n, params, low, high, out)   s = quantize(x) - 128 as int8, bit-identical to mote::quantize
//   panel(packed, scales, blocks, blocks_per_group, act, block_sums, f)   F of one 16-row panel
// Samples run panel by panel so that a panel's packed weights stay in L1 across the batch.

template <std::size_t G, class Activation>
inline void dense_int4(const ::mote::WeightMatrix<::mote::Int4<G>, ::mote::DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const ::mote::kernels::Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols(), blocks = weights.block_count();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t per_sample = align_up(padded_cols) + align_up(blocks * sizeof(std::int32_t));
  auto* f = reinterpret_cast<float*>(scratch + batch * per_sample);
  for (std::size_t b = 0; b < batch; ++b) {
    auto* act = reinterpret_cast<std::int8_t*>(scratch + b * per_sample);
    auto* block_sums = reinterpret_cast<std::int32_t*>(scratch + b * per_sample + align_up(padded_cols));
    Int4Ops::centre(in + b * cols, cols, input.params, input.low, input.high, act);
    for (std::size_t k = cols; k < padded_cols; ++k) act[k] = 0;
    for (std::size_t block = 0; block < blocks; ++block) {
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < 32; ++k) sum += act[block * 32 + k];
      block_sums[block] = sum;
    }
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    for (std::size_t b = 0; b < batch; ++b)
      Int4Ops::panel(weights.panel(p), weights.panel_scales(p, 0), blocks, weights.blocks_per_group(),
                     reinterpret_cast<const std::int8_t*>(scratch + b * per_sample),
                     reinterpret_cast<const std::int32_t*>(scratch + b * per_sample + align_up(padded_cols)),
                     f + b * padded_rows + p * 16);
  for (std::size_t b = 0; b < batch; ++b)
    ::mote::kernels::int4_dense_epilogue(weights, bias, f + b * padded_rows, input, out + b * rows, activation);
}
// ----- end mote/kernels/dense/int4-inl.hpp -----
#endif

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class G, class S, class Activation>
inline void dense_int8(isa::MOTE_SIMD_TAG, const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    // Transcendental activations: the vectorised functions of the ISA (their stated bounds)
    // over the whole output, instead of one libm call per output in the scalar epilogue.
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}

#if defined(MOTE_SIMD_HAS_INT4)
template <std::size_t G, class Activation>
inline void dense_int4(isa::MOTE_SIMD_TAG, const WeightMatrix<Int4<G>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}
#endif

}  // namespace mote::kernels
// ----- end mote/kernels/simd_int8-inl.hpp -----
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG

// The dot-product extension adds only integer kernels (sdot); float kernels are NEON's. GCC 12
// needs the architecture spelled out: with target("+dotprod") alone vdotq_s32 fails to inline.
#if defined(__clang__)
MOTE_TARGET_REGION_BEGIN("dotprod")
#else
MOTE_TARGET_REGION_BEGIN("arch=armv8.2-a+dotprod")
#endif
// ----- begin mote/arch/arm/neon_dotprod_int8.hpp -----
#ifndef MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_DOTPROD_INT8_HPP_
#define MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_DOTPROD_INT8_HPP_
// AArch64 NEON dot-product (ARMv8.2 sdot) int8 primitives (contract: kernels/dense/int8-inl.hpp).
// sdot multiplies signed by signed bytes, so activation codes u in [0, 255] are stored as
// u - 128 (activation_offset = 128) and the kernel adds 128 * row_sum back: exact.
// Included by arch/targets.hpp inside a "+dotprod" target region.
#if !defined(MOTE_ARCH_ARM_NEON_DOTPROD_INT8)
#define MOTE_ARCH_ARM_NEON_DOTPROD_INT8
namespace mote::simd::neon_dotprod {

using VecF32 = ::mote::simd::neon::VecF32;

struct Int8Ops {
  using Act = std::int8_t;
  static constexpr std::int32_t activation_offset = 128;
  static constexpr std::size_t gemm_cols = 4;
  struct Acc {
    int32x4_t v[4];  ///< rows 4j..4j+3
  };
  struct Panel {
    int8x16_t v[4];
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u - 128); }
  static inline __attribute__((always_inline)) Acc zero() {
    return {{vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)}};
  }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    return {{vld1q_s8(group), vld1q_s8(group + 16), vld1q_s8(group + 32), vld1q_s8(group + 48)}};
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    std::int32_t pattern;
    std::memcpy(&pattern, act, sizeof(pattern));
    const int8x16_t a = vreinterpretq_s8_s32(vdupq_n_s32(pattern));
    for (int j = 0; j < 4; ++j) acc.v[j] = vdotq_s32(acc.v[j], w.v[j], a);
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    for (int j = 0; j < 4; ++j) vst1q_s32(out + 4 * j, acc.v[j]);
  }
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const float32x4_t scale = vdupq_n_f32(p.scale), zero = vdupq_n_f32(static_cast<float>(p.zero_point));
    const float32x4_t lo = vdupq_n_f32(static_cast<float>(low)), hi = vdupq_n_f32(static_cast<float>(high));
    const float32x4_t nan_code = vdupq_n_f32(static_cast<float>(std::clamp(p.zero_point, low, high)));
    const int32x4_t offset = vdupq_n_s32(128);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const int32x4_t a = vsubq_s32(::mote::simd::neon::quantize4(x + i, scale, zero, lo, hi, nan_code), offset);
      const int32x4_t b = vsubq_s32(::mote::simd::neon::quantize4(x + i + 4, scale, zero, lo, hi, nan_code), offset);
      vst1_s8(out + i, vmovn_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))));
    }
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::neon_dotprod
#endif
#endif  // MOTE_SINGLE_INCLUDE_MOTE_ARCH_ARM_NEON_DOTPROD_INT8_HPP_
// ----- end mote/arch/arm/neon_dotprod_int8.hpp -----
#define MOTE_SIMD_NS neon_dotprod
#define MOTE_SIMD_TAG NeonDotprod
// ----- begin mote/kernels/simd_int8-inl.hpp -----
// The int8 kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA that has integer dot-product primitives (arch/<family>/<isa>_int8.hpp), inside
// that ISA's target region, with MOTE_SIMD_NS and MOTE_SIMD_TAG defined as for simd-inl.hpp.

#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Int8Ops = ::mote::simd::MOTE_SIMD_NS::Int8Ops;
using ::mote::align_up;

// ----- begin mote/kernels/dense/int8-inl.hpp -----
// int8 Dense kernels, written once against `Int8Ops`, the ISA's integer dot-product primitives
// (arch/<family>/<isa>_int8.hpp). Included by kernels/simd_int8-inl.hpp, once per ISA.
//
// Contract of an Int8 primitive set:
//   Act                 the activation code type the ISA multiplies (int16, uint8 or int8)
//   encode(u)           the Act holding code u in [0, 255]
//   activation_offset   what encode subtracts: the kernels see dot_r = sum_k w_rk (u_k - offset)
//   Acc / zero()        accumulators of one 16-row panel
//   Panel / load(g)     one 64-byte group (16 rows x 4 columns) of weights, loaded for reuse
//   madd(acc, w, a)     acc += the products of the group with the 4 codes at a
//   store(acc, out)     the 16 row sums as int32
//   quantize(x, n, ...) float -> Act codes, bit-identical to mote::quantize
//   gemm_cols           samples per register tile in the batched kernel

// One panel of 16 rows times `Cols` samples; codes of sample c at act + c * stride.
// An ISA may provide its own microkernel (Int8Ops::panel_tile) where the compiler does not
// keep this generic one's accumulators in registers.
template <std::size_t Cols, class Ops = Int8Ops>
inline void int8_panel_tile(const std::int8_t* panel, std::size_t groups, const typename Ops::Act* act,
                            std::size_t stride, std::int32_t* dots, std::size_t dots_stride) noexcept {
  if constexpr (requires { Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride); }) {
    return Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
  }
  typename Ops::Acc acc[Cols];
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) acc[c] = Int8Ops::zero();
  for (std::size_t g = 0; g < groups; ++g) {
    const typename Int8Ops::Panel w = Int8Ops::load(panel + g * 64);
    MOTE_UNROLL
    for (std::size_t c = 0; c < Cols; ++c) Int8Ops::madd(acc[c], w, act + c * stride + g * 4);
  }
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) Int8Ops::store(acc[c], dots + c * dots_stride);
}

template <std::size_t Cols = Int8Ops::gemm_cols>
inline void int8_panel_columns(const std::int8_t* panel, std::size_t groups, const Int8Ops::Act* act, std::size_t stride,
                               std::int32_t* dots, std::size_t dots_stride, std::size_t columns) noexcept {
  if constexpr (Cols > 0) {
    for (; columns >= Cols; columns -= Cols, act += Cols * stride, dots += Cols * dots_stride)
      int8_panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
    if (columns > 0) int8_panel_columns<Cols / 2>(panel, groups, act, stride, dots, dots_stride, columns);
  }
}

// An ISA may vectorise the symmetric-weight epilogue (Int8Ops::dequantize_rows), with the same
// operations as int8_dense_epilogue lane by lane.
template <class Ops>
inline constexpr bool int8_has_vector_epilogue = requires(const std::int32_t* i, const float* f, float* o) {
  Ops::dequantize_rows(i, i, 0, 0.0f, f, f, o, std::size_t{0});
};
template <class Ops>
inline std::size_t int8_vector_epilogue(const std::int32_t* dots, const std::int32_t* row_sums, std::int32_t correction,
                                        float input_scale, const float* scales, const float* bias, float* out,
                                        std::size_t rows) noexcept {
  if constexpr (int8_has_vector_epilogue<Ops>)
    return Ops::dequantize_rows(dots, row_sums, correction, input_scale, scales, bias, out, rows);
  else
    return 0;
}

template <class G, class S, class Activation>
inline void dense_int8(const ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>& weights,
                       const float* bias, const float* in, float* out, std::size_t batch,
                       const ::mote::kernels::Int8InputQuant& input, Activation activation,
                       std::byte* scratch) noexcept {
  using Matrix = ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>;
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t groups = padded_cols / 4;
  auto* act = reinterpret_cast<Int8Ops::Act*>(scratch);
  auto* dots = reinterpret_cast<std::int32_t*>(scratch + batch * align_up(padded_cols * sizeof(std::int16_t)));
  const typename Int8Ops::Act padding = Int8Ops::encode(input.params.zero_point);
  for (std::size_t b = 0; b < batch; ++b) {
    Int8Ops::Act* codes = act + b * padded_cols;
    Int8Ops::quantize(in + b * cols, cols, input.params, input.low, input.high, codes);
    for (std::size_t k = cols; k < padded_cols; ++k) codes[k] = padding;
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    int8_panel_columns(weights.panel(p), groups, act, padded_cols, dots + p * 16, padded_rows, batch);
  if constexpr (Matrix::format::symmetric && int8_has_vector_epilogue<Int8Ops>) {
    // Symmetric weights: the epilogue vectorised where the ISA provides it (same operations).
    const std::int32_t correction = Int8Ops::activation_offset - input.params.zero_point;
    for (std::size_t b = 0; b < batch; ++b) {
      float* y = out + b * rows;
      const std::int32_t* d = dots + b * padded_rows;
      std::size_t r = int8_vector_epilogue<Int8Ops>(d, weights.row_sums(), correction, input.params.scale,
                                                    weights.scales(), bias, y, rows);
      for (; r < rows; ++r)
        y[r] = std::fma(static_cast<float>(static_cast<std::int64_t>(d[r]) +
                                           static_cast<std::int64_t>(correction) * weights.row_sum(r)),
                        input.params.scale * weights.scales()[r], bias[r]);
      if constexpr (!std::is_same_v<Activation, ::mote::activation::Identity>)
        for (std::size_t i = 0; i < rows; ++i) y[i] = Activation::apply(y[i]);
    }
    return;
  }
  for (std::size_t b = 0; b < batch; ++b) {
    std::int64_t sum_u = 0;
    if constexpr (!Matrix::format::symmetric)
      for (std::size_t k = 0; k < cols; ++k) sum_u += act[b * padded_cols + k] + Int8Ops::activation_offset;
    ::mote::kernels::int8_dense_epilogue(weights, bias, dots + b * padded_rows, input, Int8Ops::activation_offset, sum_u,
                                         out + b * rows, activation);
  }
}
// ----- end mote/kernels/dense/int8-inl.hpp -----
#if defined(MOTE_SIMD_HAS_INT4)
using Int4Ops = ::mote::simd::MOTE_SIMD_NS::Int4Ops;
// ----- begin mote/kernels/dense/int4-inl.hpp -----
// int4 Dense kernels, written once against `Int4Ops`, the ISA's int4 primitives
// (arch/<family>/<isa>_int4.hpp). Included by kernels/simd_int8-inl.hpp for ISAs that have them.
//   centre(x, n, params, low, high, out)   s = quantize(x) - 128 as int8, bit-identical to mote::quantize
//   panel(packed, scales, blocks, blocks_per_group, act, block_sums, f)   F of one 16-row panel
// Samples run panel by panel so that a panel's packed weights stay in L1 across the batch.

template <std::size_t G, class Activation>
inline void dense_int4(const ::mote::WeightMatrix<::mote::Int4<G>, ::mote::DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const ::mote::kernels::Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols(), blocks = weights.block_count();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t per_sample = align_up(padded_cols) + align_up(blocks * sizeof(std::int32_t));
  auto* f = reinterpret_cast<float*>(scratch + batch * per_sample);
  for (std::size_t b = 0; b < batch; ++b) {
    auto* act = reinterpret_cast<std::int8_t*>(scratch + b * per_sample);
    auto* block_sums = reinterpret_cast<std::int32_t*>(scratch + b * per_sample + align_up(padded_cols));
    Int4Ops::centre(in + b * cols, cols, input.params, input.low, input.high, act);
    for (std::size_t k = cols; k < padded_cols; ++k) act[k] = 0;
    for (std::size_t block = 0; block < blocks; ++block) {
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < 32; ++k) sum += act[block * 32 + k];
      block_sums[block] = sum;
    }
  }
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    for (std::size_t b = 0; b < batch; ++b)
      Int4Ops::panel(weights.panel(p), weights.panel_scales(p, 0), blocks, weights.blocks_per_group(),
                     reinterpret_cast<const std::int8_t*>(scratch + b * per_sample),
                     reinterpret_cast<const std::int32_t*>(scratch + b * per_sample + align_up(padded_cols)),
                     f + b * padded_rows + p * 16);
  for (std::size_t b = 0; b < batch; ++b)
    ::mote::kernels::int4_dense_epilogue(weights, bias, f + b * padded_rows, input, out + b * rows, activation);
}
// ----- end mote/kernels/dense/int4-inl.hpp -----
#endif

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class G, class S, class Activation>
inline void dense_int8(isa::MOTE_SIMD_TAG, const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    // Transcendental activations: the vectorised functions of the ISA (their stated bounds)
    // over the whole output, instead of one libm call per output in the scalar epilogue.
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}

#if defined(MOTE_SIMD_HAS_INT4)
template <std::size_t G, class Activation>
inline void dense_int4(isa::MOTE_SIMD_TAG, const WeightMatrix<Int4<G>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, activation, scratch);
  } else {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}
#endif

}  // namespace mote::kernels
// ----- end mote/kernels/simd_int8-inl.hpp -----
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END
#endif

namespace mote::arch {

/// Calls `f(tag)` with the ISA tag of `level`; levels without kernels of their own resolve to
/// their parent's through the tags' inheritance.
template <class F>
decltype(auto) with_isa(IsaLevel level, F&& f) {
  switch (level) {
#if MOTE_SIMD_X86
    case IsaLevel::avx512_bf16: return f(isa::Avx512Bf16{});
    case IsaLevel::avx512_vnni: return f(isa::Avx512Vnni{});
    case IsaLevel::avx512: return f(isa::Avx512{});
    case IsaLevel::avx2: return f(isa::Avx2{});
    case IsaLevel::sse4: return f(isa::Sse4{});
#endif
#if MOTE_SIMD_NEON
    case IsaLevel::neon_dotprod: return f(isa::NeonDotprod{});
    case IsaLevel::neon: return f(isa::Neon{});
#endif
    default: return f(isa::Scalar{});
  }
}

}  // namespace mote::arch
// ----- end mote/arch/targets.hpp -----

namespace mote::kernels {

template <class... Args>
inline void dense(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { dense(tag, args...); });
}
template <class... Args>
inline void dense_batch(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { dense_batch(tag, args...); });
}
template <class... Args>
inline void dense_int8(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { dense_int8(tag, args...); });
}
template <class... Args>
inline void dense_xnor(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { dense_xnor(tag, args...); });
}
template <class... Args>
inline void dense_int4(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { dense_int4(tag, args...); });
}
template <class... Args>
inline void conv2d(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { conv2d(tag, args...); });
}
template <class... Args>
inline void depthwise_conv2d(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { depthwise_conv2d(tag, args...); });
}
template <class Activation>
inline void activate(isa::Dynamic, Activation activation, const float* in, float* out, std::size_t count) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { activate(tag, activation, in, out, count); });
}
template <class... Args>
inline void channel_affine(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { channel_affine(tag, args...); });
}
template <class... Args>
inline void add(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { add(tag, args...); });
}
template <class... Args>
inline void softmax(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { softmax(tag, args...); });
}
template <class... Args>
inline void max_pool2d(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { max_pool2d(tag, args...); });
}
template <class... Args>
inline void avg_pool2d(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { avg_pool2d(tag, args...); });
}
template <class... Args>
inline void global_avg_pool(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { global_avg_pool(tag, args...); });
}

}  // namespace mote::kernels
// ----- end mote/kernels/dispatch.hpp -----
// ----- begin mote/layers/weighted.hpp -----
// Storage shared by the layers that multiply by a weight matrix (Dense, Conv2D, Conv1D,
// DepthwiseConv2D): the matrix in the chosen format/layout, an f32 bias, and BatchNorm folding.


// ----- begin mote/layers/layer.hpp -----
// What a layer is. Users write layer *specs* (`Dense<10>`, `ReLU`); a network binds each spec
// to the shape flowing into it and to its position, giving a *bound layer* that knows its
// input/output shapes, its workspace needs and its weights. Every shape is a compile-time
// constant, so every misconfiguration is a compile-time error naming the bound layer type,
// whose first template arguments are its position (LayerPath) and input shape.



namespace mote {

/// Position of a layer: `LayerPath<3>` is the 4th layer after Input (0-based, as in a PyTorch
/// nn.Sequential), `LayerPath<3, 1>` the 2nd layer inside the Residual at position 3.
template <std::size_t... Index>
struct LayerPath {
  template <std::size_t Child>
  using child = LayerPath<Index..., Child>;
  /// "3.1"; empty for the root.
  static std::string to_string() {
    std::string text;
    ((text += (text.empty() ? "" : "."), text += std::to_string(Index)), ...);
    return text;
  }
};

/// A weight tensor a layer expects, in PyTorch's shape convention (e.g. Conv2d weight is
/// [out, in, kh, kw]) so that state_dict exports load without reshaping.
struct ParamSpec {
  const char* name = "";             ///< state_dict suffix: "weight", "bias", "running_mean", ...
  std::array<std::size_t, 4> dims{};  ///< the first `rank` entries are used
  std::size_t rank = 0;
  std::size_t size() const noexcept {
    std::size_t n = 1;
    for (std::size_t i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  std::string shape_string() const {
    std::string text = "[";
    for (std::size_t i = 0; i < rank; ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + "]";
  }
};

/// A layer spec: binds to an input shape and a position.
template <class Spec>
concept LayerSpec = requires { typename Spec::template bind<Shape<1>, LayerPath<0>>; };

/// A bound layer: what a network holds and runs.
template <class L>
concept BoundLayer = requires(const L& layer, const float* in, float* out, std::byte* scratch) {
  typename L::in_shape;
  typename L::out_shape;
  { L::in_place } -> std::convertible_to<bool>;
  { L::scratch_bytes } -> std::convertible_to<std::size_t>;
  { L::describe() } -> std::convertible_to<std::string>;
  layer.forward(in, out, scratch);
};

/// A bound layer with weights to load (Dense, Conv2D, BatchNorm, ...).
template <class L>
concept WeightedLayer = BoundLayer<L> && requires(L& layer, const float* values) {
  { L::param_count } -> std::convertible_to<std::size_t>;
  { L::param_spec(std::size_t{}) } -> std::same_as<ParamSpec>;
  layer.set_param(std::size_t{}, values);
};

/// A layer whose output channels can absorb a following per-channel affine map
/// (y * scale + shift): how BatchNorm is folded into Conv2D/Dense when weights are set.
template <class L>
concept AffineFoldable = requires(L& layer, const float* scale, const float* shift) {
  layer.fold_channel_affine(scale, shift);
};

/// Unweighted layers that have nothing to load report zero parameters.
template <class L>
inline constexpr std::size_t param_count_v = 0;
template <WeightedLayer L>
inline constexpr std::size_t param_count_v<L> = L::param_count;

}  // namespace mote
// ----- end mote/layers/layer.hpp -----

namespace mote::detail {

/// The weight-related options of a layer, resolved with their defaults.
template <class... Options>
struct WeightOptions {
  using weights = find_option_t<option_kind::weights, Weights<>, Options...>;
  using format = typename weights::format;
  using layout = typename weights::layout;
  using isa = find_option_t<option_kind::isa, isa::Default, Options...>;
  static constexpr bool has_bias = find_option_t<option_kind::bias, Bias<true>, Options...>::enabled;
  static constexpr bool storage_exists = has_weight_storage_v<format, layout>;
  using activation = typename find_option_t<option_kind::fused_activation,
                                            FusedActivation<::mote::activation::Identity>, Options...>::function;
  /// Integer weights multiply integer activations unless told otherwise.
  using default_activations =
      std::conditional_t<is_int8_format_v<format> || is_int4_format_v<format>, Int8<PerTensor, Asymmetric>, F32>;
  using activation_format = typename find_option_t<option_kind::activations, Activations<default_activations>,
                                                   Options...>::format;
  static constexpr bool integer_compute = is_int8_format_v<format> || is_int4_format_v<format>;
  /// The (weights, activations) pairs mote has kernels for.
  static constexpr bool kernel_exists =
      (std::is_same_v<activation_format, F32> && !integer_compute) ||
      (integer_compute && (std::is_same_v<activation_format, UInt8> || is_int8_format_v<activation_format>)) ||
      (std::is_same_v<format, Binary> && std::is_same_v<activation_format, Binary>);
};

/// The code range and offset into the kernels' unsigned domain of an integer activation format.
template <class Format>
struct ActivationCodes {
  static constexpr std::int32_t offset = Format::is_signed ? 128 : 0;
  static constexpr std::int32_t min_code = Format::min_code, max_code = Format::max_code;
};

/// Stands in for state a layer configuration does not need.
struct Empty {};

/// The input quantisation of an integer layer: calibrated parameters, or (until calibrated, or
/// after clear()) each input's own min/max range, like ONNX DynamicQuantizeLinear. Parameters
/// are held in the kernels' unsigned code domain (codes + ActivationCodes::offset).
template <class Opts>
class InputQuantization {
  using codes = ActivationCodes<std::conditional_t<Opts::integer_compute, typename Opts::activation_format, UInt8>>;
  static constexpr bool symmetric = [] {
    if constexpr (Opts::integer_compute) return Opts::activation_format::symmetric;
    else return false;
  }();

 public:
  /// Validates and fixes the parameters (codes of the activation format); `what` names the layer.
  Status set(const QuantParams& params, const std::string& what) {
    Status status = validate_quant_params(params, codes::min_code, codes::max_code, what);
    if (!status) return status;
    quant_ = kernels::Int8InputQuant{{params.scale, params.zero_point + codes::offset}, codes::min_code + codes::offset,
                                     codes::max_code + codes::offset};
    calibrated_ = true;
    return Status::ok();
  }
  void clear() noexcept { calibrated_ = false; }
  std::optional<QuantParams> get() const {
    if (!calibrated_) return std::nullopt;
    return QuantParams{quant_.params.scale, quant_.params.zero_point - codes::offset};
  }
  bool calibrated() const noexcept { return calibrated_; }
  /// The parameters to quantise `count` input values with.
  kernels::Int8InputQuant current(const float* in, std::size_t count) const noexcept {
    if (calibrated_) return quant_;
    float low = 0.0f, high = 0.0f;
    for (std::size_t i = 0; i < count; ++i) {
      if (!std::isfinite(in[i])) continue;
      low = std::min(low, in[i]);
      high = std::max(high, in[i]);
    }
    const QuantParams params = choose_quant_params(low, high, codes::min_code, codes::max_code, symmetric);
    return kernels::Int8InputQuant{{params.scale, params.zero_point + codes::offset}, codes::min_code + codes::offset,
                                   codes::max_code + codes::offset};
  }

 private:
  kernels::Int8InputQuant quant_{};
  bool calibrated_ = false;
};

/// The integer kernel of the weight format (int8 or int4) of a layer with options `Opts`.
template <class Opts, class Matrix, class Activation>
void integer_dense_kernel(const Matrix& matrix, const float* bias, const float* in, float* out, std::size_t batch,
                          const kernels::Int8InputQuant& quant, Activation activation, std::byte* scratch) noexcept {
  if constexpr (is_int4_format_v<typename Opts::format>)
    kernels::dense_int4(typename Opts::isa{}, matrix, bias, in, out, batch, quant, activation, scratch);
  else
    kernels::dense_int8(typename Opts::isa{}, matrix, bias, in, out, batch, quant, activation, scratch);
}

/// Scratch bytes per sample of the integer kernels for a Rows x Cols matrix (any ISA).
constexpr std::size_t integer_dense_scratch_bytes(std::size_t rows, std::size_t cols) noexcept {
  const std::size_t padded_rows = (rows + 15) / 16 * 16;
  return std::max({kernels::int8_dense_scratch_bytes(padded_rows, (cols + 3) / 4 * 4),
                   kernels::int8_dense_reference_scratch_bytes(padded_rows, (cols + 3) / 4 * 4),
                   kernels::int4_dense_scratch_bytes(padded_rows, (cols + 31) / 32 * 32)});
}

/// A weight matrix of `Rows` output channels by `Cols` inputs, plus a bias (always stored: a
/// layer declared without bias gets one when a BatchNorm is folded into it; padded with zeros
/// to the matrix's padded rows so that kernels may load whole panels of it).
template <class Format, class Layout, std::size_t Rows, std::size_t Cols>
class MatrixWithBias {
 public:
  MatrixWithBias() : matrix_(Rows, Cols), bias_(matrix_.padded_rows()) {}

  const WeightMatrix<Format, Layout>& matrix() const noexcept { return matrix_; }
  const float* bias() const noexcept { return bias_.data(); }
  /// Sets the weights from a row-major Rows x Cols f32 array.
  void set_matrix(const float* row_major) { matrix_.assign(row_major); }
  void set_bias(const float* values) noexcept {
    for (std::size_t r = 0; r < Rows; ++r) bias_[r] = values[r];
  }
  /// y' = y * scale + shift per output channel, absorbed into weights and bias.
  void fold_channel_affine(const float* scale, const float* shift) noexcept {
    for (std::size_t r = 0; r < Rows; ++r) {
      matrix_.scale_row(r, scale[r]);
      bias_[r] = bias_[r] * scale[r] + shift[r];
    }
  }
  /// Bytes of weights and bias in memory.
  std::size_t bytes() const noexcept { return matrix_.bytes() + bias_.size() * sizeof(float); }

 private:
  WeightMatrix<Format, Layout> matrix_;
  AlignedBuffer<float> bias_;
};

inline ParamSpec param(const char* name, std::size_t d0) { return ParamSpec{name, {d0, 0, 0, 0}, 1}; }
inline ParamSpec param(const char* name, std::size_t d0, std::size_t d1) {
  return ParamSpec{name, {d0, d1, 0, 0}, 2};
}
inline ParamSpec param(const char* name, std::size_t d0, std::size_t d1, std::size_t d2) {
  return ParamSpec{name, {d0, d1, d2, 0}, 3};
}
inline ParamSpec param(const char* name, std::size_t d0, std::size_t d1, std::size_t d2,
                       std::size_t d3) {
  return ParamSpec{name, {d0, d1, d2, d3}, 4};
}

/// "f32", or "f32, bias-free" etc. for layer descriptions.
template <class Opts>
std::string weight_description() {
  std::string text = Opts::format::name;
  if constexpr (is_int4_format_v<typename Opts::format>) {
    text += Opts::format::group_size == 0 ? std::string(" per-channel")
                                          : " groups of " + std::to_string(Opts::format::group_size);
    text += std::string(", ") + Opts::activation_format::name + " activations";
  } else if constexpr (Opts::integer_compute) {
    using Granularity = typename Opts::format::granularity;
    text += std::string(" ") + Granularity::name + (Opts::format::symmetric ? " symmetric" : " asymmetric");
    text += std::string(", ") + Opts::activation_format::name + " activations";
  }
  if constexpr (std::is_same_v<typename Opts::activation_format, Binary>) text += ", binary activations";
  if (std::string(Opts::layout::name) != "dense") text += std::string("-") + Opts::layout::name;
  if (!Opts::has_bias) text += ", no bias";
  if (!std::is_same_v<typename Opts::activation, ::mote::activation::Identity>)
    text += std::string(", fused ") + Opts::activation::name;
  return text;
}

}  // namespace mote::detail
// ----- end mote/layers/weighted.hpp -----

namespace mote {

/// A bound Dense layer (see `Dense`). Weights are one row per output unit, as in PyTorch.
template <class Path, ShapeType In, std::size_t Units, class... Options>
class DenseLayer {
  using opts = detail::WeightOptions<Options...>;
  static_assert(options_accepted_v<void(option_kind::weights, option_kind::bias, option_kind::isa,
                                        option_kind::fused_activation, option_kind::activations),
                                   Options...>,
                "Dense<Units, Options...>: the options may only be Weights<...>, Activations<...>, "
                "Bias<...>, FusedActivation<...> and an ISA tag.");
  static_assert(options_unique_v<Options...>, "Dense: the same kind of option is given twice.");
  static_assert(Units > 0, "Dense<Units>: a layer needs at least one unit.");
  static_assert(In::rank == 1,
                "Dense needs a 1-D input: put Flatten (or GlobalAveragePool2D) before it. The "
                "layer position and the input shape are the first template arguments of this "
                "DenseLayer.");
  static_assert(opts::storage_exists,
                "Dense: mote has no weight storage for this Weights<Format, Layout> combination.");
  static_assert(!opts::storage_exists || opts::kernel_exists,
                "Dense: mote has no kernel multiplying these Weights<...> by these Activations<...>: "
                "f32 weights take Activations<F32>; int8 weights take Activations<Int8<...>> or "
                "Activations<UInt8> (weight-only int8 with float activations is not implemented); binary "
                "weights take Activations<F32> or Activations<Binary>.");
  static_assert(!opts::integer_compute || In::size <= kernels::int8_max_cols,
                "Dense: an int8 layer's input is limited to 33025 values, the length for which every "
                "int32 accumulator provably cannot overflow.");
  /// Binary weights and activations: XNOR-popcount kernels (kernels/dense/binary-inl.hpp).
  static constexpr bool binary_activations = std::is_same_v<typename opts::activation_format, Binary>;

 public:
  using in_shape = In;
  using out_shape = Shape<Units>;
  using path = Path;
  static constexpr bool in_place = false;
  /// Integer layers quantise their input and accumulate in scratch (the larger of what the SIMD
  /// kernels and the scalar reference need).
  static constexpr std::size_t scratch_bytes =
      opts::integer_compute ? detail::integer_dense_scratch_bytes(Units, In::size)
      : binary_activations  ? kernels::binary_xnor_scratch_bytes(In::size)
                            : 0;
  /// True when the layer quantises its input: calibration (Sequential::calibrate) sets its range.
  static constexpr bool quantizes_input = opts::integer_compute;
  using activation_format = typename opts::activation_format;
  static constexpr std::size_t param_count = opts::has_bias ? 2 : 1;
  /// True after Flatten of a feature map: PyTorch's columns are then in (C, H, W) order.
  static constexpr bool columns_from_feature_map = [] {
    if constexpr (std::is_void_v<flat_origin_t<In>>) return false;
    else return flat_origin_t<In>::rank >= 2;
  }();

  static std::string describe() {
    return "Dense<" + std::to_string(Units) + "> (" + detail::weight_description<opts>() + ")";
  }
  static ParamSpec param_spec(std::size_t index) {
    return index == 0 ? detail::param("weight", Units, In::size) : detail::param("bias", Units);
  }
  /// Sets parameter `index` from PyTorch-layout values. After a Flatten of a feature map, the
  /// columns arrive in PyTorch's (C, H, W) order and are reordered to mote's (H, W, C).
  void set_param(std::size_t index, const float* values) {
    if (index == 1) return weights_.set_bias(values);
    if constexpr (!columns_from_feature_map) {
      weights_.set_matrix(values);
    } else {
      using Origin = flat_origin_t<In>;
      constexpr std::size_t channels = Origin::channels;
      constexpr std::size_t pixels = Origin::size / channels;
      std::vector<float> reordered(Units * In::size);
      for (std::size_t u = 0; u < Units; ++u)
        for (std::size_t c = 0; c < channels; ++c)
          for (std::size_t p = 0; p < pixels; ++p)
            reordered[u * In::size + p * channels + c] = values[u * In::size + c * pixels + p];
      weights_.set_matrix(reordered.data());
    }
  }
  void fold_channel_affine(const float* scale, const float* shift) noexcept {
    weights_.fold_channel_affine(scale, shift);
  }
  std::size_t weight_bytes() const noexcept { return weights_.bytes(); }
  const auto& weights() const noexcept { return weights_; }

  void forward(const float* in, float* out, std::byte* scratch) const noexcept {
    if constexpr (opts::integer_compute) {
      detail::integer_dense_kernel<opts>(weights_.matrix(), weights_.bias(), in, out, std::size_t{1},
                                         input_quant_.current(in, In::size), typename opts::activation{}, scratch);
    } else if constexpr (binary_activations) {
      kernels::dense_xnor(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, std::size_t{1},
                          typename opts::activation{}, scratch);
    } else {
      kernels::dense(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, typename opts::activation{});
    }
  }
  /// `batch` samples at once: one GEMM instead of `batch` GEMVs.
  void forward_batch(const float* in, float* out, std::size_t batch, std::byte* scratch) const noexcept {
    if constexpr (opts::integer_compute) {
      if (input_quant_.calibrated()) {
        detail::integer_dense_kernel<opts>(weights_.matrix(), weights_.bias(), in, out, batch,
                                           input_quant_.current(in, In::size), typename opts::activation{}, scratch);
      } else {
        for (std::size_t b = 0; b < batch; ++b) forward(in + b * In::size, out + b * Units, scratch);
      }
    } else if constexpr (binary_activations) {
      kernels::dense_xnor(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, batch,
                          typename opts::activation{}, scratch);
    } else {
      kernels::dense_batch(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, batch,
                           typename opts::activation{});
    }
  }

  /// Fixes the input's quantisation (codes of the activation format): what calibration does.
  /// Until then (or after clear_input_quantization) each input is quantised with its own
  /// min/max range, like ONNX DynamicQuantizeLinear.
  Status set_input_quantization(const QuantParams& params) requires(opts::integer_compute) {
    return input_quant_.set(params, "Dense input quantisation at layer " + Path::to_string());
  }
  void clear_input_quantization() noexcept requires(opts::integer_compute) { input_quant_.clear(); }
  /// The calibrated input quantisation (codes of the activation format), if set.
  std::optional<QuantParams> input_quantization() const requires(opts::integer_compute) { return input_quant_.get(); }

 private:
  [[no_unique_address]] std::conditional_t<opts::integer_compute, detail::InputQuantization<opts>, detail::Empty>
      input_quant_;
  detail::MatrixWithBias<typename opts::format, typename opts::layout, Units, In::size> weights_;
};

/// Fully connected layer with `Units` outputs. Options: `Weights<Format, Layout>` (default
/// f32 dense; `Weights<Int8<>>` for int8 per-channel weights), `Activations<Format>` (see
/// Activations), `Bias<false>`, an ISA tag (default: isa::Default, run-time dispatch).
/// Input must be 1-D. Cost: Units x inputs multiply-adds; Units x (inputs + 1) weights.
template <std::size_t Units, class... Options>
struct Dense {
  template <ShapeType In, class Path>
  using bind = DenseLayer<Path, In, Units, Options...>;
  template <class Function>
  using with_activation = Dense<Units, Options..., FusedActivation<Function>>;
};

}  // namespace mote
// ----- end mote/layers/dense.hpp -----
// ----- begin mote/layers/conv.hpp -----
// Convolutions over channels-last input: Conv2D, Conv1D (a Conv2D of height 1) and
// DepthwiseConv2D. Weights are stored one row per output channel with the receptive field in
// (ky, kx, input channel) order; PyTorch's [out, in, kh, kw] is reordered when set.


// ----- begin mote/layers/window.hpp -----
// Compile-time arithmetic of sliding windows (convolution and pooling): effective kernel
// extent, padding resolution and output size along one axis.



namespace mote::detail {

/// One spatial axis of a sliding window.
struct AxisWindow {
  std::size_t in = 1, kernel = 1, stride = 1, dilation = 1, pad_before = 0, pad_after = 0;
  constexpr std::size_t extent() const { return (kernel - 1) * dilation + 1; }
  constexpr bool fits() const { return kernel > 0 && in + pad_before + pad_after >= extent(); }
  /// Output size; 1 when the window does not fit, so that a failed static_assert is not buried
  /// under follow-up errors from zero-sized shapes.
  constexpr std::size_t out() const {
    return fits() && stride > 0 ? (in + pad_before + pad_after - extent()) / stride + 1 : 1;
  }
};

/// Resolves a padding option for one axis (`axis` 0 = vertical/1-D, 1 = horizontal).
template <class PaddingOption, std::size_t Axis, std::size_t Rank>
constexpr AxisWindow resolve_axis(std::size_t in, std::size_t kernel, std::size_t stride,
                                  std::size_t dilation) {
  AxisWindow axis{in, kernel, stride, dilation, 0, 0};
  if constexpr (std::is_same_v<PaddingOption, Pad::same>) {
    // TensorFlow / ONNX SAME_UPPER: output = ceil(in / stride), extra padding after.
    const std::size_t out = stride == 0 ? 1 : (in + stride - 1) / stride;
    const std::size_t needed = (out - 1) * stride + axis.extent();
    const std::size_t total = needed > in ? needed - in : 0;
    axis.pad_before = total / 2;
    axis.pad_after = total - total / 2;
  } else if constexpr (!std::is_same_v<PaddingOption, Pad::valid>) {
    constexpr auto& p = PaddingOption::values;
    constexpr std::size_t count = sizeof(p) / sizeof(p[0]);
    if constexpr (count == 1) {
      axis.pad_before = axis.pad_after = p[0];
    } else if constexpr (count == 2 && Rank == 1) {  // Conv1D: (left, right)
      axis.pad_before = p[0];
      axis.pad_after = p[1];
    } else if constexpr (count == 2) {  // (vertical, horizontal)
      axis.pad_before = axis.pad_after = p[Axis];
    } else {  // (top, left, bottom, right)
      axis.pad_before = p[Axis];
      axis.pad_after = p[Axis + 2];
    }
  }
  return axis;
}

}  // namespace mote::detail
// ----- end mote/layers/window.hpp -----

namespace mote {

namespace detail {

template <class T>
inline constexpr bool is_kernel_option_v = false;
template <std::size_t H, std::size_t W>
inline constexpr bool is_kernel_option_v<Kernel<H, W>> = true;

/// Geometry of a convolution-like window over a channels-last input of rank 2 (L, C) or 3
/// (H, W, C); rank 2 is treated as height 1.
template <ShapeType In, std::size_t KernelH, std::size_t KernelW, std::size_t OutChannels,
          class... Options>
struct ConvGeometry {
  static constexpr bool is_1d = In::rank == 2;
  static constexpr std::size_t in_h = In::rank == 3 ? In::dims[0] : 1;
  static constexpr std::size_t in_w = In::rank == 3 ? In::dims[1] : (In::rank == 2 ? In::dims[0] : 1);
  static constexpr std::size_t in_c = In::rank >= 2 ? In::dims[In::rank - 1] : 1;
  using stride = find_option_t<option_kind::stride, Stride<1>, Options...>;
  using dilation = find_option_t<option_kind::dilation, Dilation<1>, Options...>;
  using padding = find_option_t<option_kind::padding, Pad::valid, Options...>;
  // For 1-D layers the single axis is the width; Stride<S>/Dilation<D> give it through `h`.
  static constexpr AxisWindow vertical =
      is_1d ? AxisWindow{} : resolve_axis<padding, 0, 2>(in_h, KernelH, stride::h, dilation::h);
  static constexpr AxisWindow horizontal =
      is_1d ? resolve_axis<padding, 0, 1>(in_w, KernelW, stride::h, dilation::h)
            : resolve_axis<padding, 1, 2>(in_w, KernelW, stride::w, dilation::w);
  static constexpr bool positive = stride::h > 0 && stride::w > 0 && dilation::h > 0 &&
                                   dilation::w > 0 && KernelH > 0 && KernelW > 0;
  static constexpr bool fits = vertical.fits() && horizontal.fits();
  static constexpr kernels::WindowGeometry window{
      in_h, in_w, in_c, vertical.out(), horizontal.out(), OutChannels,
      vertical.kernel, horizontal.kernel, vertical.stride, horizontal.stride,
      vertical.dilation, horizontal.dilation, vertical.pad_before, horizontal.pad_before};
  using out_shape = std::conditional_t<is_1d, Shape<window.out_w, OutChannels>,
                                       Shape<window.out_h, window.out_w, OutChannels>>;
};

inline std::string window_description(const kernels::WindowGeometry& g, bool one_d) {
  std::string text = one_d ? std::to_string(g.kernel_w)
                           : std::to_string(g.kernel_h) + "x" + std::to_string(g.kernel_w);
  if (g.stride_h != 1 || g.stride_w != 1) text += ", stride " + std::to_string(g.stride_w);
  if (g.dilation_h != 1 || g.dilation_w != 1) text += ", dilation " + std::to_string(g.dilation_w);
  return text;
}

}  // namespace detail

/// A bound Conv2D or Conv1D layer (see `Conv2D`, `Conv1D`).
template <class Path, ShapeType In, std::size_t Filters, std::size_t KernelH, std::size_t KernelW,
          class... Options>
class ConvLayer {
  using opts = detail::WeightOptions<Options...>;
  using geometry = detail::ConvGeometry<In, KernelH, KernelW, Filters, Options...>;
  static constexpr bool is_1d = geometry::is_1d;
  static_assert(In::rank == 3 || In::rank == 2,
                "Conv2D needs an H x W x C input and Conv1D an L x C input; this layer received "
                "a tensor of another rank (the input shape is the second template argument).");
  static_assert(options_accepted_v<void(option_kind::stride, option_kind::dilation,
                                        option_kind::padding, option_kind::weights, option_kind::bias,
                                        option_kind::isa, option_kind::fused_activation, option_kind::activations),
                                   Options...>,
                "Conv2D/Conv1D options may only be Stride, Dilation, Pad::same/Pad::valid/Padding, "
                "Weights, Activations, Bias, FusedActivation and an ISA tag.");
  static_assert(options_unique_v<Options...>, "Conv2D/Conv1D: the same kind of option is given twice.");
  static_assert(Filters > 0, "Conv2D/Conv1D: the layer needs at least one filter.");
  static_assert(geometry::positive, "Conv2D/Conv1D: kernel size, stride and dilation must be at least 1.");
  static_assert(!(In::rank == 2 || In::rank == 3) || !geometry::positive || geometry::fits,
                "Conv2D/Conv1D: the (dilated) kernel is larger than the padded input. The layer "
                "position and the input shape are the first template arguments of this ConvLayer.");
  static_assert(opts::storage_exists,
                "Conv2D: mote has no weight storage for this Weights<Format, Layout> combination.");
  static_assert(!HalfFloatFormat<typename opts::format>,
                "Conv2D/Conv1D: bf16 and f16 weights (Weights<BF16>, Weights<F16>) are supported by "
                "Dense only; use Weights<F32> for convolutions.");
  static_assert(!is_codebook_format_v<typename opts::format>,
                "Conv2D/Conv1D: codebook weights (Weights<Codebook<Bits>>) are supported by Dense only; use "
                "Weights<F32> for convolutions.");

  static_assert(!opts::storage_exists || opts::integer_compute || std::is_same_v<typename opts::format, F32>,
                "Conv2D/Conv1D: convolutions take f32, int8 or int4 weights (Weights<F32>, "
                "Weights<Int8<...>>, Weights<Int4<G>>); other formats are supported by Dense only.");
  static_assert(!opts::storage_exists || opts::kernel_exists,
                "Conv2D/Conv1D: mote has no kernel multiplying these Weights<...> by these Activations<...>: "
                "f32 weights take Activations<F32>; int8/int4 weights take Activations<Int8<...>> or "
                "Activations<UInt8>.");

  static constexpr kernels::WindowGeometry window = geometry::window;
  static constexpr std::size_t receptive_field = KernelH * KernelW * geometry::in_c;
  static_assert(!opts::integer_compute || receptive_field <= kernels::int8_max_cols,
                "Conv2D/Conv1D: an integer layer's receptive field (kernel area x input channels) is limited "
                "to 33025 values, the length for which every int32 accumulator provably cannot overflow.");
  static constexpr std::size_t out_pixels = window.out_h * window.out_w;
  /// Integer convolution: output pixels run in chunks of this many as one integer GEMM over their
  /// receptive fields (gathered in scratch unless the kernel is 1x1, stride 1, unpadded).
  static constexpr std::size_t pixel_chunk = out_pixels < 64 ? out_pixels : 64;
  static constexpr bool pointwise = KernelH == 1 && KernelW == 1 && window.stride_h == 1 && window.stride_w == 1 &&
                                    window.pad_top == 0 && window.pad_left == 0 && window.out_h == window.in_h &&
                                    window.out_w == window.in_w;
  static constexpr std::size_t patch_bytes = pointwise ? 0 : align_up(pixel_chunk * receptive_field * sizeof(float));

 public:
  using in_shape = In;
  using out_shape = typename geometry::out_shape;
  using path = Path;
  static constexpr bool in_place = false;
  static constexpr std::size_t scratch_bytes =
      opts::integer_compute ? patch_bytes + pixel_chunk * detail::integer_dense_scratch_bytes(Filters, receptive_field)
                            : 0;
  static constexpr std::size_t param_count = opts::has_bias ? 2 : 1;
  /// True when the layer quantises its input: calibration (Sequential::calibrate) sets its range.
  static constexpr bool quantizes_input = opts::integer_compute;
  using activation_format = typename opts::activation_format;

  static std::string describe() {
    return std::string(is_1d ? "Conv1D<" : "Conv2D<") + std::to_string(Filters) + ", " +
           detail::window_description(window, is_1d) + "> (" +
           detail::weight_description<opts>() + ")";
  }
  static ParamSpec param_spec(std::size_t index) {
    if (index == 1) return detail::param("bias", Filters);
    if constexpr (is_1d) return detail::param("weight", Filters, geometry::in_c, KernelW);
    else return detail::param("weight", Filters, geometry::in_c, KernelH, KernelW);
  }
  /// PyTorch [out, in, kh, kw] (or [out, in, k]) becomes rows of (ky, kx, in).
  void set_param(std::size_t index, const float* values) {
    if (index == 1) return weights_.set_bias(values);
    std::vector<float> rows(Filters * receptive_field);
    const std::size_t taps = KernelH * KernelW;
    for (std::size_t o = 0; o < Filters; ++o)
      for (std::size_t i = 0; i < geometry::in_c; ++i)
        for (std::size_t t = 0; t < taps; ++t)
          rows[o * receptive_field + t * geometry::in_c + i] = values[(o * geometry::in_c + i) * taps + t];
    weights_.set_matrix(rows.data());
  }
  void fold_channel_affine(const float* scale, const float* shift) noexcept {
    weights_.fold_channel_affine(scale, shift);
  }
  std::size_t weight_bytes() const noexcept { return weights_.bytes(); }
  const auto& weights() const noexcept { return weights_; }

  void forward(const float* in, float* out, std::byte* scratch) const noexcept {
    if constexpr (opts::integer_compute) {
      const kernels::Int8InputQuant quant = input_quant_.current(in, In::size);
      auto* patches = reinterpret_cast<float*>(scratch);
      for (std::size_t first = 0; first < out_pixels; first += pixel_chunk) {
        const std::size_t count = std::min(pixel_chunk, out_pixels - first);
        const float* rows = in + first * geometry::in_c;
        if constexpr (!pointwise) {
          gather_patches(in, first, count, patches);
          rows = patches;
        }
        detail::integer_dense_kernel<opts>(weights_.matrix(), weights_.bias(), rows, out + first * Filters, count, quant,
                                           typename opts::activation{}, scratch + patch_bytes);
      }
    } else {
      kernels::conv2d(typename opts::isa{}, window, weights_.matrix(), weights_.bias(), in, out,
                      typename opts::activation{});
    }
  }

  /// Fixes the input's quantisation (codes of the activation format): what calibration does.
  Status set_input_quantization(const QuantParams& params) requires(opts::integer_compute) {
    return input_quant_.set(params, "Conv2D input quantisation at layer " + Path::to_string());
  }
  void clear_input_quantization() noexcept requires(opts::integer_compute) { input_quant_.clear(); }
  std::optional<QuantParams> input_quantization() const requires(opts::integer_compute) { return input_quant_.get(); }

 private:
  /// Receptive fields of output pixels [first, first + count) as rows of (ky, kx, c), zeros where
  /// the window covers padding (zero quantises exactly to the zero point).
  static void gather_patches(const float* in, std::size_t first, std::size_t count, float* patches) noexcept {
    constexpr std::size_t c = geometry::in_c;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t oy = (first + i) / window.out_w, ox = (first + i) % window.out_w;
      float* row = patches + i * receptive_field;
      for (std::size_t ky = 0; ky < KernelH; ++ky) {
        const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * window.stride_h + ky * window.dilation_h) -
                                  static_cast<std::ptrdiff_t>(window.pad_top);
        for (std::size_t kx = 0; kx < KernelW; ++kx, row += c) {
          const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * window.stride_w + kx * window.dilation_w) -
                                    static_cast<std::ptrdiff_t>(window.pad_left);
          if (iy < 0 || ix < 0 || iy >= static_cast<std::ptrdiff_t>(window.in_h) ||
              ix >= static_cast<std::ptrdiff_t>(window.in_w)) {
            std::fill(row, row + c, 0.0f);
          } else {
            const float* source = in + (static_cast<std::size_t>(iy) * window.in_w + static_cast<std::size_t>(ix)) * c;
            std::copy(source, source + c, row);
          }
        }
      }
    }
  }

  detail::MatrixWithBias<typename opts::format, typename opts::layout, Filters, receptive_field> weights_;
  [[no_unique_address]] std::conditional_t<opts::integer_compute, detail::InputQuantization<opts>, detail::Empty>
      input_quant_;
};

/// 2-D convolution with `Filters` output channels and kernel `KernelSize` (a `Kernel<H, W>`).
/// Options: `Stride<>`, `Dilation<>`, `Pad::valid` (default) / `Pad::same` / `Padding<...>`,
/// `Weights<>`, `Bias<false>`, an ISA tag. Input H x W x C.
/// Cost: out_h x out_w x Filters x kh x kw x C multiply-adds.
template <std::size_t Filters, class KernelSize, class... Options>
struct Conv2D {
  static_assert(detail::is_kernel_option_v<KernelSize>,
                "Conv2D<Filters, Kernel<H, W>, Options...>: the second argument must be a "
                "Kernel<H, W>.");
  template <ShapeType In, class Path>
  using bind = ConvLayer<Path, In, Filters, KernelSize::h, KernelSize::w, Options...>;
  template <class Function>
  using with_activation = Conv2D<Filters, KernelSize, Options..., FusedActivation<Function>>;
};

/// 1-D convolution over an L x C input with `Filters` outputs and a kernel of `KernelSize` taps.
/// Options as Conv2D; `Stride<S>`, `Dilation<D>`, `Padding<P>` or `Padding<Left, Right>`.
template <std::size_t Filters, std::size_t KernelSize, class... Options>
struct Conv1D {
  template <ShapeType In, class Path>
  using bind = ConvLayer<Path, In, Filters, 1, KernelSize, Options...>;
  template <class Function>
  using with_activation = Conv1D<Filters, KernelSize, Options..., FusedActivation<Function>>;
};

/// A bound DepthwiseConv2D layer (see `DepthwiseConv2D`).
template <class Path, ShapeType In, std::size_t KernelH, std::size_t KernelW, class... Options>
class DepthwiseConvLayer {
  using opts = detail::WeightOptions<Options...>;
  static constexpr std::size_t multiplier = find_option_t<option_kind::multiplier, Multiplier<1>, Options...>::value;
  static constexpr std::size_t in_channels = In::rank == 3 ? In::dims[2] : 1;
  static constexpr std::size_t out_channels = in_channels * multiplier;
  using geometry = detail::ConvGeometry<In, KernelH, KernelW, (out_channels > 0 ? out_channels : 1), Options...>;
  static_assert(In::rank == 3,
                "DepthwiseConv2D needs an H x W x C input; this layer received a tensor of "
                "another rank (the input shape is the second template argument).");
  static_assert(options_accepted_v<void(option_kind::multiplier, option_kind::stride,
                                        option_kind::dilation, option_kind::padding,
                                        option_kind::weights, option_kind::bias, option_kind::isa,
                                        option_kind::fused_activation),
                                   Options...>,
                "DepthwiseConv2D options may only be Multiplier, Stride, Dilation, "
                "Pad::same/Pad::valid/Padding, Weights, Bias, FusedActivation and an ISA tag.");
  static_assert(options_unique_v<Options...>, "DepthwiseConv2D: the same kind of option is given twice.");
  static_assert(multiplier > 0, "DepthwiseConv2D: Multiplier<M> needs M >= 1.");
  static_assert(geometry::positive, "DepthwiseConv2D: kernel size, stride and dilation must be at least 1.");
  static_assert(In::rank != 3 || !geometry::positive || geometry::fits,
                "DepthwiseConv2D: the (dilated) kernel is larger than the padded input. The layer "
                "position and the input shape are the first template arguments.");
  static_assert(opts::storage_exists,
                "DepthwiseConv2D: mote has no weight storage for this Weights<Format, Layout> "
                "combination.");
  static_assert(!HalfFloatFormat<typename opts::format>,
                "DepthwiseConv2D: bf16 and f16 weights (Weights<BF16>, Weights<F16>) are supported "
                "by Dense only; use Weights<F32> for convolutions.");
  static_assert(!is_codebook_format_v<typename opts::format>,
                "DepthwiseConv2D: codebook weights (Weights<Codebook<Bits>>) are supported by Dense only; "
                "use Weights<F32> for convolutions.");
  static_assert(!opts::integer_compute,
                "DepthwiseConv2D: int8/int4 weights are not implemented for depthwise convolutions yet; use "
                "Weights<F32> here (Conv2D and Dense take integer weights).");
  static constexpr kernels::WindowGeometry window = geometry::window;

 public:
  using in_shape = In;
  using out_shape = typename geometry::out_shape;
  using path = Path;
  static constexpr bool in_place = false;
  static constexpr std::size_t scratch_bytes = 0;
  static constexpr std::size_t param_count = opts::has_bias ? 2 : 1;

  static std::string describe() {
    return "DepthwiseConv2D<" + detail::window_description(window, false) +
           (multiplier != 1 ? ", multiplier " + std::to_string(multiplier) : std::string()) +
           "> (" + detail::weight_description<opts>() + ")";
  }
  static ParamSpec param_spec(std::size_t index) {
    return index == 1 ? detail::param("bias", out_channels)
                      : detail::param("weight", out_channels, 1, KernelH, KernelW);
  }
  /// PyTorch [C*M, 1, kh, kw] is already one row of taps per output channel.
  void set_param(std::size_t index, const float* values) {
    if (index == 1) return weights_.set_bias(values);
    weights_.set_matrix(values);
  }
  void fold_channel_affine(const float* scale, const float* shift) noexcept {
    weights_.fold_channel_affine(scale, shift);
  }
  std::size_t weight_bytes() const noexcept { return weights_.bytes(); }

  void forward(const float* in, float* out, std::byte*) const noexcept {
    kernels::depthwise_conv2d(typename opts::isa{}, window, weights_.matrix(), weights_.bias(), in, out,
                              typename opts::activation{});
  }

 private:
  detail::MatrixWithBias<typename opts::format, typename opts::layout, out_channels, KernelH * KernelW> weights_;
};

/// Depthwise 2-D convolution: each input channel is filtered on its own by `KernelSize`
/// (a `Kernel<H, W>`); `Multiplier<M>` gives M output channels per input channel, channel
/// c * M + m (PyTorch's groups = in_channels order). Other options as Conv2D.
template <class KernelSize, class... Options>
struct DepthwiseConv2D {
  static_assert(detail::is_kernel_option_v<KernelSize>,
                "DepthwiseConv2D<Kernel<H, W>, Options...>: the first argument must be a "
                "Kernel<H, W>.");
  template <ShapeType In, class Path>
  using bind = DepthwiseConvLayer<Path, In, KernelSize::h, KernelSize::w, Options...>;
  template <class Function>
  using with_activation = DepthwiseConv2D<KernelSize, Options..., FusedActivation<Function>>;
};

}  // namespace mote
// ----- end mote/layers/conv.hpp -----
// ----- begin mote/layers/pool.hpp -----
// Pooling over channels-last feature maps: MaxPool2D, AvgPool2D, GlobalAveragePool2D.



namespace mote {

enum class PoolKind { max, average };

/// A bound MaxPool2D/AvgPool2D layer.
template <class Path, ShapeType In, PoolKind Kind, std::size_t Window, class... Options>
class Pool2DLayer {
  using stride = find_option_t<option_kind::stride, Stride<Window>, Options...>;
  using padding = find_option_t<option_kind::padding, Pad::valid, Options...>;
  static constexpr std::size_t in_h = In::rank == 3 ? In::dims[0] : 1;
  static constexpr std::size_t in_w = In::rank == 3 ? In::dims[1] : 1;
  static constexpr std::size_t channels = In::rank == 3 ? In::dims[2] : 1;
  static constexpr detail::AxisWindow vertical = detail::resolve_axis<padding, 0, 2>(in_h, Window, stride::h, 1);
  static constexpr detail::AxisWindow horizontal = detail::resolve_axis<padding, 1, 2>(in_w, Window, stride::w, 1);
  static_assert(In::rank == 3,
                "MaxPool2D/AvgPool2D need an H x W x C input; this layer received a tensor of "
                "another rank (the input shape is the second template argument).");
  static_assert(options_accepted_v<void(option_kind::stride, option_kind::padding), Options...>,
                "MaxPool2D/AvgPool2D options may only be Stride and Pad::valid/Pad::same/Padding.");
  static_assert(options_unique_v<Options...>, "MaxPool2D/AvgPool2D: the same kind of option is given twice.");
  static_assert(Window > 0 && stride::h > 0 && stride::w > 0,
                "MaxPool2D/AvgPool2D: the window and the stride must be at least 1.");
  static_assert(vertical.fits() && horizontal.fits(),
                "MaxPool2D/AvgPool2D: the window is larger than the padded input. The layer "
                "position and the input shape are the first template arguments.");
  static_assert(vertical.pad_before < Window && vertical.pad_after < Window &&
                    horizontal.pad_before < Window && horizontal.pad_after < Window,
                "MaxPool2D/AvgPool2D: padding must be smaller than the window, or a window could "
                "lie entirely in the padding.");
  static constexpr kernels::WindowGeometry window{
      in_h, in_w, channels, vertical.out(), horizontal.out(), channels, Window, Window,
      stride::h, stride::w, 1, 1, vertical.pad_before, horizontal.pad_before};

 public:
  using in_shape = In;
  using out_shape = Shape<window.out_h, window.out_w, channels>;
  using path = Path;
  static constexpr bool in_place = false;
  static constexpr std::size_t scratch_bytes = 0;

  static std::string describe() {
    return std::string(Kind == PoolKind::max ? "MaxPool2D<" : "AvgPool2D<") + std::to_string(Window) +
           (stride::h != Window || stride::w != Window ? ", stride " + std::to_string(stride::h) : std::string()) + ">";
  }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    if constexpr (Kind == PoolKind::max) kernels::max_pool2d(isa::Default{}, window, in, out);
    else kernels::avg_pool2d(isa::Default{}, window, in, out);
  }
};

/// Max over `Window` x `Window` windows; options `Stride<>` (default: the window), padding
/// (padded taps are ignored). NaN propagates.
template <std::size_t Window, class... Options>
struct MaxPool2D {
  template <ShapeType In, class Path>
  using bind = Pool2DLayer<Path, In, PoolKind::max, Window, Options...>;
};

/// Mean over `Window` x `Window` windows; padded taps are not counted (count_include_pad=False).
template <std::size_t Window, class... Options>
struct AvgPool2D {
  template <ShapeType In, class Path>
  using bind = Pool2DLayer<Path, In, PoolKind::average, Window, Options...>;
};

/// A bound GlobalAveragePool2D layer.
template <class Path, ShapeType In>
class GlobalAveragePool2DLayer {
  static_assert(In::rank == 3 || In::rank == 2,
                "GlobalAveragePool2D needs an H x W x C (or L x C) input; the input shape is the "
                "second template argument.");
  static constexpr std::size_t channels = In::rank >= 2 ? In::dims[In::rank - 1] : 1;

 public:
  using in_shape = In;
  using out_shape = Shape<channels>;
  using path = Path;
  static constexpr bool in_place = false;
  static constexpr std::size_t scratch_bytes = 0;
  static std::string describe() { return "GlobalAveragePool2D"; }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    kernels::global_avg_pool(isa::Default{}, In::size / channels, channels, in, out);
  }
};

/// Mean over all pixels: H x W x C becomes C (ready for Dense without Flatten).
struct GlobalAveragePool2D {
  template <ShapeType In, class Path>
  using bind = GlobalAveragePool2DLayer<Path, In>;
};

}  // namespace mote
// ----- end mote/layers/pool.hpp -----
// ----- begin mote/layers/elementwise.hpp -----
// Shape-preserving layers: activations, Softmax, Flatten and BatchNorm. They run in place
// (input and output may be the same buffer), which lets the network plan reuse activations.



namespace mote {

/// A bound activation layer applying `Function` element-wise.
template <class Path, ShapeType In, class Function>
class ActivationLayer {
  static_assert(!In::has_zero_dim, "An activation received an empty tensor.");

 public:
  using in_shape = In;
  using out_shape = In;
  using path = Path;
  using function = Function;
  static constexpr bool in_place = true;
  static constexpr std::size_t scratch_bytes = 0;
  static std::string describe() { return Function::name; }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    kernels::activate(isa::Default{}, Function{}, in, out, In::size);
  }
};

/// Wraps an activation functor from mote::activation as a layer spec.
template <class Function>
struct ActivationSpec {
  using function = Function;
  template <ShapeType In, class Path>
  using bind = ActivationLayer<Path, In, Function>;
};

/// What an activation layer becomes once its function runs in the preceding layer's epilogue:
/// a view that passes the buffer through (and copies only when it is the network's last layer).
template <class Path, ShapeType In, class Function>
class FusedActivationLayer {
 public:
  using in_shape = In;
  using out_shape = In;
  using path = Path;
  static constexpr bool in_place = true;
  static constexpr bool is_view = true;
  static constexpr std::size_t scratch_bytes = 0;
  static std::string describe() { return std::string(Function::name) + " (fused into the previous layer)"; }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    if (in != out) std::memcpy(out, in, In::size * sizeof(float));
  }
};

/// max(x, 0).
struct ReLU : ActivationSpec<activation::Relu> {};
/// min(max(x, 0), 6).
struct ReLU6 : ActivationSpec<activation::Relu6> {};
/// x for x >= 0, slope * x otherwise, slope = Numerator / Denominator.
template <int Numerator, int Denominator>
struct LeakyReLUSlope : ActivationSpec<activation::LeakyRelu<Numerator, Denominator>> {};
/// LeakyReLU with PyTorch's default slope 0.01.
struct LeakyReLU : LeakyReLUSlope<1, 100> {};
/// 1 / (1 + exp(-x)).
struct Sigmoid : ActivationSpec<activation::Sigmoid> {};
/// tanh(x).
struct Tanh : ActivationSpec<activation::Tanh> {};
/// x * ReLU6(x + 3) / 6.
struct HardSwish : ActivationSpec<activation::HardSwish> {};
/// x * Phi(x), the exact erf form.
struct GELU : ActivationSpec<activation::Gelu> {};

/// A bound Softmax layer: softmax over the last axis (the classes of a vector, the channels of
/// each pixel of a feature map).
template <class Path, ShapeType In>
class SoftmaxLayer {
  static_assert(!In::has_zero_dim, "Softmax received an empty tensor.");

 public:
  using in_shape = In;
  using out_shape = In;
  using path = Path;
  static constexpr bool in_place = true;
  static constexpr std::size_t scratch_bytes = 0;
  static std::string describe() { return "Softmax"; }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    kernels::softmax(isa::Default{}, in, out, In::size / In::channels, In::channels);
  }
};

/// Softmax over the last axis.
struct Softmax {
  template <ShapeType In, class Path>
  using bind = SoftmaxLayer<Path, In>;
};

/// A bound Flatten layer: channels-last data is already contiguous, so this only renames the
/// shape (and copies when it must write to a different buffer).
template <class Path, ShapeType In>
class FlattenLayer {
 public:
  using in_shape = In;
  using out_shape = FlatShape<In>;
  using path = Path;
  static constexpr bool in_place = true;
  /// Passes its input buffer through (even the caller's): nothing runs unless it is last.
  static constexpr bool is_view = true;
  static constexpr std::size_t scratch_bytes = 0;
  static std::string describe() { return "Flatten"; }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    if (in != out) std::memcpy(out, in, In::size * sizeof(float));
  }
};

/// Flattens to 1-D in mote's (H, W, C) order. A following Dense loading PyTorch weights
/// reorders its columns from PyTorch's (C, H, W) flatten order automatically.
struct Flatten {
  template <ShapeType In, class Path>
  using bind = FlattenLayer<Path, In>;
};

/// A bound BatchNorm layer (inference form, per channel = last axis).
template <class Path, ShapeType In, int EpsilonExponent>
class BatchNormLayer {
  static constexpr std::size_t channels = In::channels;
  static_assert(!In::has_zero_dim, "BatchNorm received an empty tensor.");

 public:
  using in_shape = In;
  using out_shape = In;
  using path = Path;
  static constexpr bool in_place = true;
  static constexpr std::size_t scratch_bytes = 0;
  static constexpr std::size_t param_count = 4;
  static constexpr double epsilon = [] {
    double e = 1.0;
    for (int i = 0; i < -EpsilonExponent; ++i) e /= 10.0;
    return e;
  }();

  BatchNormLayer() : params_(4 * channels), scale_(channels), shift_(channels) {
    for (std::size_t c = 0; c < channels; ++c) scale_[c] = 1.0f;
  }
  static std::string describe() { return "BatchNorm"; }
  static ParamSpec param_spec(std::size_t index) {
    constexpr const char* names[] = {"weight", "bias", "running_mean", "running_var"};
    return detail::param(names[index], channels);
  }
  /// Parameters arrive as gamma, beta, mean, variance; scale/shift are recomputed each time,
  /// which also undoes an earlier folding (weights are always set as a whole).
  void set_param(std::size_t index, const float* values) {
    for (std::size_t c = 0; c < channels; ++c) params_[index * channels + c] = values[c];
    folded_ = false;
    for (std::size_t c = 0; c < channels; ++c) {
      const double gamma = params_[c], beta = params_[channels + c];
      const double mean = params_[2 * channels + c], variance = params_[3 * channels + c];
      const double scale = gamma / std::sqrt(variance + epsilon);
      scale_[c] = static_cast<float>(scale);
      shift_[c] = static_cast<float>(beta - mean * scale);
    }
  }
  const float* scale() const noexcept { return scale_.data(); }
  const float* shift() const noexcept { return shift_.data(); }
  /// Called by the network after the preceding layer absorbed scale and shift.
  void mark_folded() noexcept { folded_ = true; }
  bool folded() const noexcept { return folded_; }
  std::size_t weight_bytes() const noexcept { return folded_ ? 0 : 2 * channels * sizeof(float); }

  void forward(const float* in, float* out, std::byte*) const noexcept {
    if (folded_) {
      if (in != out) std::memcpy(out, in, In::size * sizeof(float));
      return;
    }
    kernels::channel_affine(isa::Default{}, scale_.data(), shift_.data(), in, out,
                            In::size / channels, channels);
  }

 private:
  AlignedBuffer<float> params_;
  AlignedBuffer<float> scale_;
  AlignedBuffer<float> shift_;
  bool folded_ = false;
};

/// Inference BatchNorm with epsilon = 10^EpsilonExponent (PyTorch BatchNorm1d/2d in eval
/// mode). Folded into a directly preceding Dense/Conv/Depthwise layer when weights are set, so
/// it then costs nothing.
template <int EpsilonExponent>
struct BatchNormEpsilon {
  static_assert(EpsilonExponent < 0, "BatchNormEpsilon<E>: epsilon is 10^E and must be below 1.");
  template <ShapeType In, class Path>
  using bind = BatchNormLayer<Path, In, EpsilonExponent>;
};
/// BatchNorm with PyTorch's default epsilon 1e-5.
struct BatchNorm : BatchNormEpsilon<-5> {};

}  // namespace mote
// ----- end mote/layers/elementwise.hpp -----
// ----- begin mote/layers/residual.hpp -----
// Skip connections. `Residual<Layers...>` computes y = x + body(x), where body is the chain
// `Layers...` bound to x's shape; the body must return the shape it receives. Nest it in a
// network like any layer:
//   Sequential<Input<8, 8, 16>, Residual<Conv2D<16, Kernel<3>, Pad::same>, ReLU,
//                                        Conv2D<16, Kernel<3>, Pad::same>>, ReLU, ...>
// Weights of body layers are named by nested paths ("1.0", "1.2"), mirroring a PyTorch
// nn.Sequential inside a module at index 1.


// ----- begin mote/model/chain.hpp -----
// A chain of layers bound one after another, with its compile-time memory plan.
//
// Memory plan ("two-ended arena"): intermediate activations live in one workspace of
// `workspace_bytes`. A layer that cannot run in place writes to the end of the arena opposite
// to its input (low end at offset 0, high end flush with the arena's end), and its scratch
// space sits between them, so at every step only the live input, output and scratch occupy
// memory. The arena size is therefore
//     max over layers i of ( |input_i| + |scratch_i| + |output_i| )   (sizes rounded to 64 B,
//                                                                      in-place steps count once,
//                                                                      the network's own input
//                                                                      and output excluded;
//                                                                      Flatten is a view),
// the smallest possible for a chain that keeps each layer's input alive while it runs.

#include <tuple>


namespace mote {

namespace detail {

/// Stands in for a template argument that is not a layer spec, so that the static_assert
/// reporting it is not followed by a cascade of unrelated errors.
struct NotALayer {
  template <ShapeType In, class Path>
  struct bind {
    using in_shape = In;
    using out_shape = In;
    static constexpr bool in_place = true;
    static constexpr std::size_t scratch_bytes = 0;
    static const char* describe() { return "not a layer"; }
    void forward(const float*, float*, std::byte*) const noexcept {}
  };
};

template <class Spec, std::size_t Index>
struct CheckedSpec {
  static_assert(LayerSpec<Spec>,
                "A network argument is not a mote layer spec (such as Dense<10>, ReLU or "
                "Conv2D<8, Kernel<3>>); its position is the second template argument of this "
                "CheckedSpec.");
  using type = std::conditional_t<LayerSpec<Spec>, Spec, NotALayer>;
};

template <ShapeType In, class Path, std::size_t Index, class... Specs>
struct BindChain {
  using type = std::tuple<>;
  using out_shape = In;
};
/// A weighted layer spec followed by an activation spec: the pair binds as the layer with the
/// activation fused into its epilogue, then a pass-through placeholder keeping the position.
template <class First, class Second>
concept FusesWith = requires {
  typename Second::function;
  typename First::template with_activation<typename Second::function>;
};

template <ShapeType In, class Path, std::size_t Index, class First, class... Rest>
struct BindChain<In, Path, Index, First, Rest...> {
  using spec = typename CheckedSpec<First, Index>::type;
  using layer = typename spec::template bind<In, typename Path::template child<Index>>;
  using next = BindChain<typename layer::out_shape, Path, Index + 1, Rest...>;
  using type = decltype(std::tuple_cat(std::declval<std::tuple<layer>>(),
                                       std::declval<typename next::type>()));
  using out_shape = typename next::out_shape;
};

template <ShapeType In, class Path, std::size_t Index, class First, class Second, class... Rest>
  requires FusesWith<First, Second>
struct BindChain<In, Path, Index, First, Second, Rest...> {
  using function = typename Second::function;
  using layer = typename First::template with_activation<function>::template bind<In, typename Path::template child<Index>>;
  using fused = FusedActivationLayer<typename Path::template child<Index + 1>, typename layer::out_shape, function>;
  using next = BindChain<typename layer::out_shape, Path, Index + 2, Rest...>;
  using type = decltype(std::tuple_cat(std::declval<std::tuple<layer, fused>>(), std::declval<typename next::type>()));
  using out_shape = typename next::out_shape;
};

/// Where a step's output lives: the caller's input (a view layer passing it through), the
/// caller's output, or one end of the arena.
enum class Slot : unsigned char { input, output, low, high };

struct StepPlan {
  Slot out_slot = Slot::output;
  std::size_t out_offset = 0;      ///< byte offset of the output in the arena (if not external)
  std::size_t scratch_offset = 0;  ///< byte offset of the layer's scratch space
};

template <std::size_t N>
struct ChainPlan {
  std::array<StepPlan, N> steps{};
  std::size_t bytes = 0;
};

/// Layers that only rename the shape (Flatten) pass their input through, even the caller's.
template <class Layer>
constexpr bool is_view_v = requires { requires Layer::is_view; };

template <class Layer>
constexpr std::size_t output_bytes() {
  return align_up(Layer::out_shape::size * sizeof(float));
}

template <class... Layers>
constexpr ChainPlan<sizeof...(Layers)> make_plan(std::tuple<Layers...>*) {
  constexpr std::size_t n = sizeof...(Layers);
  constexpr std::array<std::size_t, n> out_bytes{output_bytes<Layers>()...};
  constexpr std::array<bool, n> in_place{Layers::in_place...};
  constexpr std::array<bool, n> view{is_view_v<Layers>...};
  constexpr std::array<std::size_t, n> scratch{align_up(Layers::scratch_bytes)...};
  ChainPlan<n> plan{};
  std::array<std::size_t, n> low_used{};
  Slot in_slot = Slot::input;
  std::size_t in_bytes = 0;
  // Views at the end of the chain (e.g. an activation fused into the layer before) pass the
  // caller's output through: the last layer that computes writes there directly.
  std::size_t last_computing = n - 1;
  while (last_computing > 0 && view[last_computing]) --last_computing;
  for (std::size_t i = 0; i < n; ++i) {
    Slot out_slot = Slot::output;
    if (i < last_computing || (i == last_computing && view[i] && i + 1 < n)) {
      if (view[i] || (in_place[i] && in_slot != Slot::input)) out_slot = in_slot;
      else out_slot = in_slot == Slot::low ? Slot::high : Slot::low;
    }
    std::size_t low = 0, high = 0;
    if (in_slot == Slot::low) low = std::max(low, in_bytes);
    if (in_slot == Slot::high) high = std::max(high, in_bytes);
    if (out_slot == Slot::low) low = std::max(low, out_bytes[i]);
    if (out_slot == Slot::high) high = std::max(high, out_bytes[i]);
    plan.bytes = std::max(plan.bytes, low + scratch[i] + high);
    plan.steps[i].out_slot = out_slot;
    low_used[i] = low;
    in_slot = out_slot;
    in_bytes = out_bytes[i];
  }
  for (std::size_t i = 0; i < n; ++i) {
    plan.steps[i].scratch_offset = low_used[i];
    plan.steps[i].out_offset = plan.steps[i].out_slot == Slot::high ? plan.bytes - out_bytes[i] : 0;
  }
  return plan;
}

/// The hook of a plain forward(): nothing observes the layers' inputs.
struct NoInputHook {
  void operator()(std::size_t, const float*) const noexcept {}
};

template <class L>
constexpr bool quantizes_input_v = requires { requires L::quantizes_input; };

template <class L>
concept HasBody = requires(L& layer) { layer.body(); };

template <class L>
concept IsBatchNorm = requires(L& layer) {
  layer.mark_folded();
  layer.scale();
  layer.shift();
};

}  // namespace detail

/// Layers `Specs...` bound in sequence to input shape `In`; `Path` is the position of the
/// chain itself (empty for a network, the Residual's position for its body).
template <ShapeType In, class Path, class... Specs>
class Chain {
  using binding = detail::BindChain<In, Path, 0, Specs...>;

 public:
  using layers_type = typename binding::type;
  using in_shape = In;
  using out_shape = typename binding::out_shape;
  static constexpr std::size_t layer_count = sizeof...(Specs);
  static_assert(layer_count > 0, "A network (or Residual body) needs at least one layer.");
  static constexpr detail::ChainPlan<layer_count> plan =
      detail::make_plan(static_cast<layers_type*>(nullptr));
  /// Bytes of workspace forward() needs (see the plan above); a multiple of 64.
  static constexpr std::size_t workspace_bytes = plan.bytes;

  /// Runs every layer; `workspace` must be 64-byte aligned and hold workspace_bytes.
  /// `in` and `out` must not overlap the workspace.
  void forward(const float* in, float* out, std::byte* workspace) const noexcept {
    run(in, out, workspace, 1, std::make_index_sequence<layer_count>{}, detail::NoInputHook{});
  }
  /// forward() that first calls `hook(index, input)` for each layer that quantises its input
  /// (`index` counts those layers from 0 in order): how calibration sees each layer's input.
  template <class Hook>
  void forward_observed(const float* in, float* out, std::byte* workspace, Hook&& hook) const {
    run(in, out, workspace, 1, std::make_index_sequence<layer_count>{}, hook);
  }
  /// Number of layers of this chain that quantise their input.
  static constexpr std::size_t quantizing_layer_count = [] {
    std::size_t count = 0;
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      ((count += detail::quantizes_input_v<std::tuple_element_t<J, layers_type>> ? 1 : 0), ...);
    }(std::make_index_sequence<sizeof...(Specs)>{});
    return count;
  }();
  /// `batch` samples stored one after the other; the workspace must hold batch *
  /// workspace_bytes. The plan is linear in the sizes, so every offset is scaled by `batch`.
  /// Layers with a batched kernel (Dense: GEMM) use it; the others run sample by sample.
  void forward_batch(const float* in, float* out, std::size_t batch, std::byte* workspace) const noexcept {
    run(in, out, workspace, batch, std::make_index_sequence<layer_count>{}, detail::NoInputHook{});
  }

  template <std::size_t I>
  auto& layer() noexcept { return std::get<I>(layers_); }
  template <std::size_t I>
  const auto& layer() const noexcept { return std::get<I>(layers_); }

  /// Calls f(layer) for each layer in order.
  template <class F>
  void for_each_layer(F&& f) {
    std::apply([&](auto&... layers) { (f(layers), ...); }, layers_);
  }
  template <class F>
  void for_each_layer(F&& f) const {
    std::apply([&](const auto&... layers) { (f(layers), ...); }, layers_);
  }

  /// Calls f(index, layer) for each layer that quantises its input, `index` counting them from 0.
  template <class F>
  void for_each_quantizing_layer(F&& f) {
    std::size_t index = 0;
    for_each_layer([&](auto& layer) {
      if constexpr (detail::quantizes_input_v<std::remove_cvref_t<decltype(layer)>>) f(index++, layer);
    });
  }

  /// Folds every BatchNorm that directly follows an AffineFoldable layer into it, here and in
  /// nested bodies. Called after weights are set.
  void fold_batch_norms() noexcept { fold_from(std::make_index_sequence<layer_count>{}); }

 private:
  template <std::size_t... I, class Hook>
  void run(const float* in, float* out, std::byte* workspace, std::size_t batch, std::index_sequence<I...>,
           const Hook& hook) const {
    (step<I>(in, out, workspace, batch, hook), ...);
  }
  /// How many layers before position I quantise their input.
  template <std::size_t I>
  static constexpr std::size_t quantizing_before = [] {
    std::size_t count = 0;
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      ((count += detail::quantizes_input_v<std::tuple_element_t<J, layers_type>> ? 1 : 0), ...);
    }(std::make_index_sequence<I>{});
    return count;
  }();
  template <std::size_t I, class Hook>
  void step(const float* in, float* out, std::byte* workspace, std::size_t batch, const Hook& hook) const {
    constexpr detail::Slot out_slot = plan.steps[I].out_slot;
    if constexpr (out_slot == detail::Slot::input) return;  // a view of the caller's input
    const float* source = in;
    if constexpr (I > 0) {
      constexpr detail::Slot in_slot = plan.steps[I - 1].out_slot;
      if constexpr (in_slot == detail::Slot::output) return;  // a view of the caller's output
      if constexpr (in_slot != detail::Slot::input)
        source = reinterpret_cast<const float*>(workspace + batch * plan.steps[I - 1].out_offset);
    }
    float* destination = out;
    if constexpr (out_slot != detail::Slot::output)
      destination = reinterpret_cast<float*>(workspace + batch * plan.steps[I].out_offset);
    std::byte* scratch = workspace + batch * plan.steps[I].scratch_offset;
    const auto& layer = std::get<I>(layers_);
    using L = std::remove_cvref_t<decltype(layer)>;
    if constexpr (!std::is_same_v<Hook, detail::NoInputHook> && detail::quantizes_input_v<L>)
      hook(quantizing_before<I>, source);
    if (batch == 1) {
      layer.forward(source, destination, scratch);
    } else if constexpr (requires { layer.forward_batch(source, destination, batch, scratch); }) {
      layer.forward_batch(source, destination, batch, scratch);
    } else {
      for (std::size_t b = 0; b < batch; ++b)
        layer.forward(source + b * L::in_shape::size, destination + b * L::out_shape::size, scratch);
    }
  }

  template <std::size_t... I>
  void fold_from(std::index_sequence<I...>) noexcept {
    (fold_at<I>(), ...);
  }
  template <std::size_t I>
  void fold_at() noexcept {
    auto& current = std::get<I>(layers_);
    if constexpr (detail::HasBody<std::remove_reference_t<decltype(current)>>) current.body().fold_batch_norms();
    if constexpr (I > 0) {
      auto& previous = std::get<I - 1>(layers_);
      if constexpr (detail::IsBatchNorm<std::remove_reference_t<decltype(current)>> &&
                    AffineFoldable<std::remove_reference_t<decltype(previous)>>) {
        previous.fold_channel_affine(current.scale(), current.shift());
        current.mark_folded();
      }
    }
  }

  layers_type layers_;
};

}  // namespace mote
// ----- end mote/model/chain.hpp -----

namespace mote {

/// A bound Residual layer.
template <class Path, ShapeType In, class... Specs>
class ResidualLayer {
 public:
  using body_type = Chain<In, Path, Specs...>;
  static_assert(same_dims_v<typename body_type::out_shape, In>,
                "Residual: the body must return the shape it receives (channel or spatial "
                "mismatch). The block position and its input shape are the first template "
                "arguments of this ResidualLayer; the body's output shape is its out_shape.");

  using in_shape = In;
  using out_shape = In;
  using path = Path;
  static constexpr bool in_place = false;
  /// The body's own workspace, used while the block's input and output stay alive.
  static constexpr std::size_t scratch_bytes = body_type::workspace_bytes;

  static std::string describe() {
    return "Residual<" + std::to_string(sizeof...(Specs)) + " layers>";
  }
  body_type& body() noexcept { return body_; }
  const body_type& body() const noexcept { return body_; }

  void forward(const float* in, float* out, std::byte* scratch) const noexcept {
    body_.forward(in, out, scratch);
    kernels::add(isa::Default{}, out, in, out, In::size);
  }
  void forward_batch(const float* in, float* out, std::size_t batch, std::byte* scratch) const noexcept {
    body_.forward_batch(in, out, batch, scratch);
    kernels::add(isa::Default{}, out, in, out, In::size * batch);
  }

 private:
  body_type body_;
};

/// y = x + body(x) with body = Layers... (identity shortcut).
template <class... Specs>
struct Residual {
  static_assert(sizeof...(Specs) > 0, "Residual<Layers...> needs at least one layer in its body.");
  template <ShapeType In, class Path>
  using bind = ResidualLayer<Path, In, Specs...>;
};

}  // namespace mote
// ----- end mote/layers/residual.hpp -----
// ----- begin mote/model/weights.hpp -----
// Binding named tensors (from an .npz file or from memory) to the weighted layers of a
// network. Loading is all-or-nothing: every tensor is found and checked (name, dtype, shape)
// before any layer is changed, so a failed load leaves the network as it was.

#include <functional>


namespace mote {

/// A tensor handed to a loader: a name, a shape and little-endian element bytes. `dtype` is
/// numpy's name for the element type ("float32", "int64", ...); only float32 is accepted by
/// f32 layers.
struct TensorRef {
  std::string name;
  std::vector<std::size_t> shape;
  const void* data = nullptr;
  std::string dtype = "float32";

  /// A float32 tensor in memory, e.g. weights embedded in the binary as a constexpr array.
  static TensorRef f32(std::string name, std::vector<std::size_t> shape, const float* data) {
    return TensorRef{std::move(name), std::move(shape), data, "float32"};
  }
  std::size_t numel() const noexcept {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }
  std::string shape_string() const {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
  }
};

/// How tensor names map to layers.
class WeightNames {
 public:
  enum class Mode { file_order, layer_index, prefixes };

  /// Weighted layers take tensors in the order they appear in the source, each layer its
  /// parameters in declaration order (weight, bias; BatchNorm: weight, bias, running_mean,
  /// running_var). Names are ignored. This is the default.
  static WeightNames file_order() { return WeightNames(Mode::file_order, {}); }
  /// "<layer path>.<param>", e.g. "1.weight" for the layer at position 1: the state_dict names
  /// of a PyTorch nn.Sequential written layer for layer like the mote network.
  static WeightNames layer_index() { return WeightNames(Mode::layer_index, {}); }
  /// An explicit map from layer path ("1", or "3.0" inside a Residual) to a state_dict prefix
  /// ("fc1"): the layer's tensors are "<prefix>.<param>". Every weighted layer must be mapped.
  static WeightNames prefixes(std::vector<std::pair<std::string, std::string>> path_to_prefix) {
    return WeightNames(Mode::prefixes, std::move(path_to_prefix));
  }

  Mode mode() const noexcept { return mode_; }
  const std::vector<std::pair<std::string, std::string>>& map() const noexcept { return map_; }

 private:
  WeightNames(Mode mode, std::vector<std::pair<std::string, std::string>> map)
      : mode_(mode), map_(std::move(map)) {}
  Mode mode_;
  std::vector<std::pair<std::string, std::string>> map_;
};

namespace detail {

/// A weighted layer seen by the (non-template) loader.
struct LayerSlot {
  std::string path;
  std::string description;
  std::vector<ParamSpec> params;
  std::function<void(std::size_t, const float*)> set;
};

inline std::string layer_label(const LayerSlot& slot) {
  return "layer " + slot.path + " (" + slot.description + ")";
}

inline Status bind_tensors(const std::vector<LayerSlot>& slots, std::span<const TensorRef> tensors,
                           std::string_view source, const WeightNames& names) {
  const std::string where = "in '" + std::string(source) + "'";
  std::vector<bool> used(tensors.size(), false);
  struct Assignment {
    std::size_t slot, param, tensor;
  };
  std::vector<Assignment> plan;

  auto find_tensor = [&](const std::string& name) -> std::size_t {
    for (std::size_t t = 0; t < tensors.size(); ++t)
      if (tensors[t].name == name) return t;
    return tensors.size();
  };
  if (names.mode() == WeightNames::Mode::prefixes) {
    for (const auto& [path, prefix] : names.map()) {
      bool known = false;
      for (const auto& slot : slots) known = known || slot.path == path;
      if (!known)
        return make_error(ErrorCode::invalid_value,
                          "the weight name map names layer '" + path + "' (prefix '" + prefix +
                              "'), but the network has no weighted layer at that position");
    }
  }

  std::size_t next_in_order = 0;
  for (std::size_t s = 0; s < slots.size(); ++s) {
    const LayerSlot& slot = slots[s];
    std::string prefix = slot.path;
    if (names.mode() == WeightNames::Mode::prefixes) {
      bool mapped = false;
      for (const auto& [path, mapped_prefix] : names.map())
        if (path == slot.path) prefix = mapped_prefix, mapped = true;
      if (!mapped)
        return make_error(ErrorCode::missing_tensor,
                          where + ": " + layer_label(slot) + " has no entry in the weight name map");
    }
    for (std::size_t p = 0; p < slot.params.size(); ++p) {
      const ParamSpec& spec = slot.params[p];
      std::size_t t = 0;
      std::string wanted;
      if (names.mode() == WeightNames::Mode::file_order) {
        t = next_in_order++;
        wanted = "tensor #" + std::to_string(t);
        if (t >= tensors.size())
          return make_error(ErrorCode::missing_tensor,
                            where + ": " + layer_label(slot) + " needs its '" + spec.name +
                                "' float32 " + spec.shape_string() + " as tensor #" +
                                std::to_string(t) + ", but the source holds only " +
                                std::to_string(tensors.size()) + " tensors");
      } else {
        wanted = prefix + "." + spec.name;
        t = find_tensor(wanted);
        if (t == tensors.size())
          return make_error(ErrorCode::missing_tensor,
                            where + ": tensor '" + wanted + "' for " + layer_label(slot) +
                                " (float32 " + spec.shape_string() + ") is not in the source");
      }
      const TensorRef& tensor = tensors[t];
      const std::string label = "tensor '" + tensor.name + "' for " + layer_label(slot) + ", parameter '" + spec.name + "'";
      if (tensor.dtype != "float32")
        return make_error(ErrorCode::unsupported,
                          where + ": " + label + " has dtype " + tensor.dtype +
                              "; f32 layers need float32 (convert with .astype(np.float32))");
      bool same_shape = tensor.shape.size() == spec.rank;
      for (std::size_t d = 0; same_shape && d < spec.rank; ++d) same_shape = tensor.shape[d] == spec.dims[d];
      if (!same_shape)
        return make_error(ErrorCode::shape_mismatch, where + ": " + label + ": expected " +
                                                         spec.shape_string() + ", found " +
                                                         tensor.shape_string());
      if (tensor.data == nullptr && spec.size() != 0)
        return make_error(ErrorCode::invalid_value, where + ": " + label + " has no data");
      used[t] = true;
      plan.push_back({s, p, t});
    }
  }
  for (std::size_t t = 0; t < tensors.size(); ++t)
    if (!used[t])
      return make_error(ErrorCode::extra_tensor,
                        where + ": tensor '" + tensors[t].name + "' " + tensors[t].shape_string() +
                            " is not used by any layer (" +
                            (names.mode() == WeightNames::Mode::file_order
                                 ? std::string("the source has more tensors than the network's "
                                               "layers take in order")
                                 : std::string("no layer is named so")) +
                            ")");

  std::vector<float> values;  // the source bytes may be unaligned for float
  for (const Assignment& a : plan) {
    const TensorRef& tensor = tensors[a.tensor];
    values.resize(tensor.numel());
    if (!values.empty()) std::memcpy(values.data(), tensor.data, values.size() * sizeof(float));
    slots[a.slot].set(a.param, values.data());
  }
  return Status::ok();
}

/// Collects the weighted layers of a chain, recursing into Residual bodies.
template <class ChainT>
void collect_slots(ChainT& chain, std::vector<LayerSlot>& slots) {
  chain.for_each_layer([&](auto& layer) {
    using L = std::remove_reference_t<decltype(layer)>;
    if constexpr (WeightedLayer<L>) {
      LayerSlot slot;
      slot.path = L::path::to_string();
      slot.description = L::describe();
      for (std::size_t p = 0; p < L::param_count; ++p) slot.params.push_back(L::param_spec(p));
      slot.set = [&layer](std::size_t index, const float* values) { layer.set_param(index, values); };
      slots.push_back(std::move(slot));
    }
    if constexpr (requires { layer.body(); }) collect_slots(layer.body(), slots);
  });
}

}  // namespace detail

}  // namespace mote
// ----- end mote/model/weights.hpp -----
// ----- begin mote/model/sequential.hpp -----
// The network type: an Input followed by layers, e.g.
//   using Net = mote::Sequential<mote::Input<28, 28, 1>,
//                                mote::Conv2D<16, mote::Kernel<3>, mote::Pad::same>, mote::ReLU,
//                                mote::MaxPool2D<2>, mote::Flatten, mote::Dense<10>>;
// The network owns its weights (heap, allocated once at construction). forward() allocates
// nothing: it runs in a caller-provided workspace of Net::workspace_bytes, so one const
// network can serve many threads, each with its own workspace.


// ----- begin mote/io/npz.hpp -----
// .npz archives (np.savez, np.savez_compressed): a ZIP of .npy entries, read whole into memory.


// ----- begin mote/io/file.hpp -----
// Whole-file reading and the bounds-checked little/big-endian field access every reader uses.

#include <cerrno>
#include <system_error>


namespace mote::io {

namespace detail {

// Callers check `offset + N <= bytes.size()` first; these only assemble the value so that the
// result does not depend on the host's byte order.
inline std::uint16_t load_le16(std::span<const std::byte> b, std::size_t offset) noexcept {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[offset]) |
                                    (std::to_integer<unsigned>(b[offset + 1]) << 8));
}

inline std::uint32_t load_le32(std::span<const std::byte> b, std::size_t offset) noexcept {
  return static_cast<std::uint32_t>(load_le16(b, offset)) |
         (static_cast<std::uint32_t>(load_le16(b, offset + 2)) << 16);
}

inline std::uint64_t load_le64(std::span<const std::byte> b, std::size_t offset) noexcept {
  return static_cast<std::uint64_t>(load_le32(b, offset)) |
         (static_cast<std::uint64_t>(load_le32(b, offset + 4)) << 32);
}

inline std::uint32_t load_be32(std::span<const std::byte> b, std::size_t offset) noexcept {
  return (std::to_integer<std::uint32_t>(b[offset]) << 24) |
         (std::to_integer<std::uint32_t>(b[offset + 1]) << 16) |
         (std::to_integer<std::uint32_t>(b[offset + 2]) << 8) |
         std::to_integer<std::uint32_t>(b[offset + 3]);
}

// True when [offset, offset + length) lies inside a buffer of `size` bytes; written so that
// attacker-controlled 64-bit values cannot overflow the check.
inline bool in_bounds(std::uint64_t size, std::uint64_t offset, std::uint64_t length) noexcept {
  return offset <= size && length <= size - offset;
}

}  // namespace detail

/// Reads a whole file into memory. Fails with ErrorCode::io naming `path` and the OS reason,
/// or with ErrorCode::invalid_value when the file is larger than `max_size` bytes.
inline Expected<std::vector<std::byte>> try_read_file_bytes(const std::string& path,
                                                            std::size_t max_size = SIZE_MAX) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int err = errno;
    return make_error(ErrorCode::io, "cannot open '" + path + "': " +
                                         std::error_code(err, std::generic_category()).message());
  }
  // Read in chunks rather than asking for the size first: works for pipes and special files,
  // and needs no 64-bit ftell.
  std::vector<std::byte> bytes;
  constexpr std::size_t chunk = std::size_t{1} << 16;
  for (;;) {
    const std::size_t old_size = bytes.size();
    bytes.resize(old_size + chunk);
    const std::size_t got = std::fread(bytes.data() + old_size, 1, chunk, file);
    bytes.resize(old_size + got);
    if (bytes.size() > max_size) {
      std::fclose(file);
      return make_error(ErrorCode::invalid_value, "'" + path + "' is larger than the limit of " +
                                                      std::to_string(max_size) + " bytes");
    }
    if (got < chunk) break;
  }
  const bool failed = std::ferror(file) != 0;
  const int err = errno;
  std::fclose(file);
  if (failed) {
    return make_error(ErrorCode::io,
                      "cannot read '" + path + "' (after " + std::to_string(bytes.size()) +
                          " bytes): " + std::error_code(err, std::generic_category()).message());
  }
  return bytes;
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_read_file_bytes.
inline std::vector<std::byte> read_file_bytes(const std::string& path,
                                              std::size_t max_size = SIZE_MAX) {
  return value_or_throw(try_read_file_bytes(path, max_size));
}
#endif

}  // namespace mote::io
// ----- end mote/io/file.hpp -----
// ----- begin mote/io/npy.hpp -----
// The .npy array format (numpy's NEP 1), versions 1.0, 2.0 and 3.0.
//
// The header is a Python dict literal; it is parsed strictly (exactly the keys 'descr',
// 'fortran_order' and 'shape', string/bool/tuple values, no expressions) rather than
// evaluated, so a malformed header is reported with its byte offset instead of being guessed at.
// Big-endian arrays ('>f4', ...) of numeric dtypes are converted to little-endian on load, so
// TensorData::bytes is always little-endian; big-endian arrays of other dtypes are rejected.

#include <initializer_list>


namespace mote::io {

namespace detail {

inline std::string shape_to_string(std::span<const std::size_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace detail

/// Element type of a stored array. `other` covers dtypes mote loads as raw bytes but does not
/// interpret (complex, strings, datetimes, void/record-less bytes, long double).
enum class DType {
  f32,
  f64,
  f16,
  bf16_unused,
  i8,
  u8,
  i16,
  u16,
  i32,
  u32,
  i64,
  u64,
  boolean,
  other
};

/// Name of a DType as numpy spells it ("float32", "int8", "bool", ...).
inline const char* to_string(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::f16: return "float16";
    case DType::bf16_unused: return "bfloat16";
    case DType::i8: return "int8";
    case DType::u8: return "uint8";
    case DType::i16: return "int16";
    case DType::u16: return "uint16";
    case DType::i32: return "int32";
    case DType::u32: return "uint32";
    case DType::i64: return "int64";
    case DType::u64: return "uint64";
    case DType::boolean: return "bool";
    case DType::other: return "other";
  }
  return "unknown";
}

/// An array read from a .npy file or an .npz entry.
struct TensorData {
  std::string name;  ///< npz entry name without ".npy" (file stem for .npy files)
  DType dtype = DType::other;
  std::string descr;               ///< the raw numpy descr, e.g. "<f4", for messages
  std::vector<std::size_t> shape;  ///< C order; empty for a 0-d scalar
  std::vector<std::byte> bytes;    ///< little-endian elements, C order, numel() * itemsize bytes
  std::size_t itemsize = 0;        ///< bytes per element

  /// Number of elements: 1 for a scalar, 0 when any dimension is 0.
  std::size_t numel() const noexcept {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;  // cannot overflow: checked when the file was read
    return n;
  }

  /// The shape as "[256, 784]"; "[]" for a scalar.
  std::string shape_string() const { return detail::shape_to_string(shape); }

  /// Copies the elements into `out`, which must hold exactly numel() floats. Only float32
  /// tensors qualify (ErrorCode::unsupported names the tensor and its descr otherwise);
  /// a wrong-sized `out` gives ErrorCode::shape_mismatch.
  Status try_copy_to(std::span<float> out) const {
    if (dtype != DType::f32) {
      return make_error(ErrorCode::unsupported,
                        "tensor '" + name + "' has dtype " + to_string(dtype) + " ('" + descr +
                            "'); only float32 ('<f4') can be read as floats (convert with "
                            "astype(np.float32) before saving)");
    }
    if (out.size() != numel() || bytes.size() != numel() * sizeof(float)) {
      return make_error(ErrorCode::shape_mismatch,
                        "tensor '" + name + "' of shape " + shape_string() + " has " +
                            std::to_string(numel()) + " elements, the destination holds " +
                            std::to_string(out.size()));
    }
    if constexpr (std::endian::native == std::endian::little) {
      if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    } else {
      for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = std::bit_cast<float>(detail::load_le32(bytes, i * 4));
      }
    }
    return {};
  }

  /// The elements as floats; see try_copy_to.
  Expected<std::vector<float>> try_to_floats() const {
    std::vector<float> out;
    if (dtype == DType::f32) out.resize(numel());
    Status status = try_copy_to(out);
    if (!status) return status.error();
    return out;
  }

#if MOTE_HAS_EXCEPTIONS
  /// Throwing form of try_to_floats.
  std::vector<float> to_floats() const { return value_or_throw(try_to_floats()); }
#endif
};

namespace detail {

// Recursive-descent parser for the header dict; `base` is the header's offset in the file so
// that messages point at real bytes.
class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, std::size_t base, const std::string& where)
      : text_(text), base_(base), where_(where) {}

  struct Header {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::size_t> shape;
  };

  Expected<Header> parse() {
    Header h;
    bool seen_descr = false;
    bool seen_fortran = false;
    bool seen_shape = false;
    skip_space();
    if (!consume('{')) return expected("'{' opening the header dict");
    skip_space();
    while (!peek_is('}')) {
      const std::size_t key_at = pos_;
      std::string key;
      if (auto st = parse_string(key); !st) return st.error();
      skip_space();
      if (!consume(':')) return expected("':' after key '" + key + "'");
      skip_space();
      if (key == "descr") {
        if (seen_descr) return error_at(key_at, "duplicate key 'descr'");
        seen_descr = true;
        if (peek_is('[')) {
          return make_error(ErrorCode::unsupported,
                            where_ + ": structured (record) dtypes are not supported");
        }
        if (auto st = parse_string(h.descr); !st) return st.error();
      } else if (key == "fortran_order") {
        if (seen_fortran) return error_at(key_at, "duplicate key 'fortran_order'");
        seen_fortran = true;
        if (auto st = parse_bool(h.fortran_order); !st) return st.error();
      } else if (key == "shape") {
        if (seen_shape) return error_at(key_at, "duplicate key 'shape'");
        seen_shape = true;
        if (auto st = parse_shape(h.shape); !st) return st.error();
      } else {
        return error_at(key_at, "unexpected key '" + key +
                                    "' (a .npy header has only 'descr', 'fortran_order', "
                                    "'shape')");
      }
      skip_space();
      if (consume(',')) {
        skip_space();
      } else if (!peek_is('}')) {
        return expected("',' or '}' after the value of '" + key + "'");
      }
    }
    ++pos_;
    skip_space();
    if (pos_ != text_.size()) return expected("only padding after the header dict");
    if (!seen_descr || !seen_fortran || !seen_shape) {
      return error_at(pos_, std::string("the header lacks key '") +
                                (!seen_descr     ? "descr"
                                 : !seen_fortran ? "fortran_order"
                                                 : "shape") +
                                "'");
    }
    return h;
  }

 private:
  ErrorInfo error_at(std::size_t at, const std::string& why) const {
    return make_error(ErrorCode::corrupt,
                      where_ + ": header at byte " + std::to_string(base_ + at) + ": " + why);
  }
  ErrorInfo expected(const std::string& what) const {
    std::string found = "the end of the header";
    if (pos_ < text_.size()) {
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      found = (c >= 0x20 && c < 0x7f) ? "'" + std::string(1, static_cast<char>(c)) + "'"
                                      : "byte " + std::to_string(c);
    }
    return error_at(pos_, "expected " + what + ", found " + found);
  }
  bool peek_is(char c) const noexcept { return pos_ < text_.size() && text_[pos_] == c; }
  bool consume(char c) noexcept {
    if (!peek_is(c)) return false;
    ++pos_;
    return true;
  }
  void skip_space() noexcept {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  Status parse_string(std::string& out) {
    if (!peek_is('\'') && !peek_is('"')) return expected("a quoted string");
    const char quote = text_[pos_++];
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\') return error_at(pos_, "escape sequences are not supported");
      if (text_[pos_] == '\n') return error_at(pos_, "newline inside a string");
      ++pos_;
    }
    if (pos_ == text_.size()) return error_at(start - 1, "unterminated string");
    out.assign(text_.substr(start, pos_ - start));
    ++pos_;
    return {};
  }
  Status parse_bool(bool& out) {
    if (text_.substr(pos_, 4) == "True") {
      out = true;
      pos_ += 4;
    } else if (text_.substr(pos_, 5) == "False") {
      out = false;
      pos_ += 5;
    } else {
      return expected("True or False");
    }
    return {};
  }
  Status parse_shape(std::vector<std::size_t>& out) {
    if (!consume('(')) return expected("'(' opening the shape tuple");
    skip_space();
    bool trailing_comma = false;
    while (!peek_is(')')) {
      if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') {
        return expected("a non-negative integer in the shape tuple");
      }
      const std::size_t start = pos_;
      std::size_t value = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        const auto digit = static_cast<std::size_t>(text_[pos_] - '0');
        if (value > (SIZE_MAX - digit) / 10) return error_at(start, "dimension too large");
        value = value * 10 + digit;
        ++pos_;
      }
      consume('L');  // Python 2 era writers printed long integers as "3L"
      out.push_back(value);
      skip_space();
      trailing_comma = consume(',');
      if (!trailing_comma && !peek_is(')')) return expected("',' or ')' in the shape tuple");
      skip_space();
    }
    // "(5)" is the integer 5 in Python, not a tuple.
    if (out.size() == 1 && !trailing_comma) {
      return error_at(pos_, "a one-element shape must be written '(n,)'");
    }
    ++pos_;
    return {};
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t base_;
  const std::string& where_;
};

struct NpyDescr {
  DType dtype = DType::other;
  std::size_t itemsize = 0;
  bool big_endian = false;
};

inline Expected<NpyDescr> parse_npy_descr(std::string_view descr, const std::string& where) {
  auto bad = [&](ErrorCode code, const std::string& why) {
    return make_error(code, where + ": dtype descr '" + std::string(descr) + "' " + why);
  };
  if (descr.size() < 2) return bad(ErrorCode::corrupt, "is too short");
  const char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') {
    return bad(ErrorCode::corrupt, "does not start with a byte order ('<', '>', '|' or '=')");
  }
  const char kind = descr[1];
  if (kind == 'O') {
    return bad(ErrorCode::unsupported,
               "is a Python object array, which needs pickle; save numeric arrays instead");
  }
  std::size_t i = 2;
  std::size_t n = 0;
  const std::size_t digits_at = i;
  while (i < descr.size() && descr[i] >= '0' && descr[i] <= '9') {
    if (n > 1000000000) return bad(ErrorCode::corrupt, "has an absurd item size");
    n = n * 10 + static_cast<std::size_t>(descr[i] - '0');
    ++i;
  }
  if (i == digits_at) return bad(ErrorCode::corrupt, "lacks an item size");
  const std::string_view rest = descr.substr(i);
  if (!rest.empty() &&
      !((kind == 'M' || kind == 'm') && rest.front() == '[' && rest.back() == ']')) {
    return bad(ErrorCode::corrupt, "has unexpected trailing characters");
  }

  NpyDescr d;
  d.itemsize = n;
  d.big_endian = order == '>' || (order == '=' && std::endian::native == std::endian::big);
  auto pick = [&](std::initializer_list<std::pair<std::size_t, DType>> options) {
    for (const auto& [size, type] : options) {
      if (size == n) d.dtype = type;
    }
  };
  switch (kind) {
    case 'f': pick({{2, DType::f16}, {4, DType::f32}, {8, DType::f64}}); break;
    case 'i': pick({{1, DType::i8}, {2, DType::i16}, {4, DType::i32}, {8, DType::i64}}); break;
    case 'u': pick({{1, DType::u8}, {2, DType::u16}, {4, DType::u32}, {8, DType::u64}}); break;
    case 'b': pick({{1, DType::boolean}}); break;
    case 'c':
    case 'M':
    case 'm':
    case 'S':
    case 'V': break;
    case 'U':
      if (n > SIZE_MAX / 4) return bad(ErrorCode::corrupt, "has an absurd item size");
      d.itemsize = 4 * n;  // UCS-4 code units
      break;
    default: return bad(ErrorCode::unsupported, "has an unknown type kind");
  }
  // Sized kinds must use a size numpy produces; 'f' also allows long double (10, 12, 16).
  const bool sized = kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b';
  if (sized && d.dtype == DType::other && !(kind == 'f' && (n == 10 || n == 12 || n == 16))) {
    return bad(ErrorCode::unsupported, "has an item size numpy does not use for this kind");
  }
  // Only dtypes whose elements are single numbers can be byte-swapped element-wise.
  if (d.big_endian && d.dtype == DType::other && d.itemsize > 1) {
    return bad(ErrorCode::unsupported,
               "is big-endian; only numeric dtypes are converted (save with a '<' dtype)");
  }
  return d;
}

}  // namespace detail

/// Parses a complete .npy file held in `bytes`. `name` becomes TensorData::name; `where` names
/// the file (or archive entry) in messages. Fails with ErrorCode::truncated, corrupt, or
/// unsupported (Fortran order, object or structured dtypes, unknown versions).
inline Expected<TensorData> try_parse_npy(std::span<const std::byte> bytes, std::string name,
                                          std::string_view where = "npy data") {
  const std::string w(where);
  auto fail = [&](ErrorCode code, const std::string& why) {
    return make_error(code, w + ": " + why);
  };
  static constexpr unsigned char magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  for (std::size_t i = 0; i < 6; ++i) {
    if (i == bytes.size()) return fail(ErrorCode::truncated, "input ends inside the .npy magic");
    if (std::to_integer<unsigned char>(bytes[i]) != magic[i]) {
      return fail(ErrorCode::corrupt, "not a .npy file (expected magic \\x93NUMPY at byte 0)");
    }
  }
  if (bytes.size() < 10) return fail(ErrorCode::truncated, "input ends inside the .npy preamble");
  const unsigned major = std::to_integer<unsigned>(bytes[6]);
  const unsigned minor = std::to_integer<unsigned>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0) {
    return fail(ErrorCode::unsupported, "format version " + std::to_string(major) + "." +
                                            std::to_string(minor) +
                                            " (known versions are 1.0, 2.0 and 3.0)");
  }
  std::size_t header_at = 10;
  std::size_t header_len = detail::load_le16(bytes, 8);
  if (major >= 2) {
    if (bytes.size() < 12) return fail(ErrorCode::truncated, "input ends inside the .npy preamble");
    header_at = 12;
    header_len = detail::load_le32(bytes, 8);
  }
  if (bytes.size() - header_at < header_len) {
    return fail(ErrorCode::truncated, "the header announces " + std::to_string(header_len) +
                                          " bytes at byte " + std::to_string(header_at) +
                                          ", only " + std::to_string(bytes.size() - header_at) +
                                          " remain");
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + header_at), header_len);
  auto header = detail::NpyHeaderParser(text, header_at, w).parse();
  if (!header) return header.error();
  auto descr = detail::parse_npy_descr(header->descr, w);
  if (!descr) return descr.error();
  if (header->fortran_order) {
    return fail(ErrorCode::unsupported,
                "array of shape " + detail::shape_to_string(header->shape) +
                    " saved in Fortran order; save with np.ascontiguousarray");
  }

  std::size_t numel = 1;
  bool overflow = false;
  for (std::size_t d : header->shape) {
    if (d != 0 && numel > SIZE_MAX / d) overflow = true;
    numel *= d;
  }
  const std::size_t data_at = header_at + header_len;
  const std::size_t available = bytes.size() - data_at;
  if (overflow || (descr->itemsize != 0 && numel > SIZE_MAX / descr->itemsize)) {
    return fail(ErrorCode::corrupt, "shape overflows the address space");
  }
  const std::size_t nbytes = numel * descr->itemsize;
  if (nbytes != available) {
    return fail(nbytes > available ? ErrorCode::truncated : ErrorCode::corrupt,
                "shape " + detail::shape_to_string(header->shape) + " of '" + header->descr +
                    "' needs " + std::to_string(nbytes) + " data bytes after byte " +
                    std::to_string(data_at) + ", found " + std::to_string(available));
  }

  TensorData t;
  t.name = std::move(name);
  t.dtype = descr->dtype;
  t.descr = std::move(header->descr);
  t.shape = std::move(header->shape);
  t.itemsize = descr->itemsize;
  t.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(data_at), bytes.end());
  if (descr->big_endian && t.itemsize > 1) {
    for (std::size_t at = 0; at < t.bytes.size(); at += t.itemsize) {
      std::reverse(t.bytes.begin() + static_cast<std::ptrdiff_t>(at),
                   t.bytes.begin() + static_cast<std::ptrdiff_t>(at + t.itemsize));
    }
  }
  return t;
}

/// Reads a .npy file; the tensor is named after the file without directory and ".npy".
inline Expected<TensorData> try_read_npy(const std::string& path) {
  auto bytes = try_read_file_bytes(path);
  if (!bytes) return bytes.error();
  std::string_view stem(path);
  if (const auto slash = stem.find_last_of("/\\"); slash != std::string_view::npos) {
    stem.remove_prefix(slash + 1);
  }
  if (stem.size() > 4 && stem.substr(stem.size() - 4) == ".npy") stem.remove_suffix(4);
  return try_parse_npy(*bytes, std::string(stem), path);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_parse_npy.
inline TensorData parse_npy(std::span<const std::byte> bytes, std::string name,
                            std::string_view where = "npy data") {
  return value_or_throw(try_parse_npy(bytes, std::move(name), where));
}

/// Throwing form of try_read_npy.
inline TensorData read_npy(const std::string& path) { return value_or_throw(try_read_npy(path)); }
#endif

}  // namespace mote::io
// ----- end mote/io/npy.hpp -----
// ----- begin mote/io/zip.hpp -----
// A minimal ZIP reader for archives held in memory: what np.savez / np.savez_compressed and
// Python's zipfile write, plus ZIP64. Entry sizes come from the central directory, never from
// local headers (numpy writes local headers with 0xFFFFFFFF sizes and a ZIP64 extra field, and
// streamed entries leave them zero), and every entry's CRC-32 is verified.
// Not supported (ErrorCode::unsupported): multi-disk archives, encryption, methods other than
// stored (0) and deflate (8).


// ----- begin mote/io/crc32.hpp -----
// CRC-32 as used by zip, gzip and PNG (reflected polynomial 0xEDB88320).


namespace mote::io {

namespace detail {

// Table k maps a byte to its CRC contribution k bytes further on, so the main loop can fold
// eight bytes per step ("slicing-by-8"): about 5x faster than one table lookup per byte, which
// matters when verifying tens of megabytes of decompressed data.
inline constexpr std::array<std::array<std::uint32_t, 256>, 8> make_crc32_tables() noexcept {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][n] = c;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t n = 0; n < 256; ++n) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xFFu];
  }
  return t;
}

inline constexpr std::array<std::array<std::uint32_t, 256>, 8> crc32_tables = make_crc32_tables();

}  // namespace detail

/// Extends `crc` (the CRC-32 of earlier bytes, 0 for none) with `data`; same convention as
/// zlib's crc32(), so crc32_update(crc32_update(0, a), b) == crc32 of a followed by b.
inline constexpr std::uint32_t crc32_update(std::uint32_t crc,
                                            std::span<const std::byte> data) noexcept {
  const auto& t = detail::crc32_tables;
  crc = ~crc;
  std::size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    auto b = [&](std::size_t k) { return std::to_integer<std::uint32_t>(data[i + k]); };
    const std::uint32_t lo = crc ^ (b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24));
    crc = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
          t[3][b(4)] ^ t[2][b(5)] ^ t[1][b(6)] ^ t[0][b(7)];
  }
  for (; i < data.size(); ++i) {
    crc = t[0][(crc ^ std::to_integer<std::uint32_t>(data[i])) & 0xFFu] ^ (crc >> 8);
  }
  return ~crc;
}

/// CRC-32 of `data`.
inline constexpr std::uint32_t crc32(std::span<const std::byte> data) noexcept {
  return crc32_update(0, data);
}

}  // namespace mote::io
// ----- end mote/io/crc32.hpp -----
// ----- begin mote/io/inflate.hpp -----
// A DEFLATE (RFC 1951) decoder: stored, fixed-Huffman and dynamic-Huffman blocks.
//
// Validation follows zlib's and puff's rules: over-subscribed codes are rejected, incomplete
// codes are accepted only in the one case RFC 1951 allows (a single code of length one), and
// every length, distance and repeat count is checked before it is used. Output never grows past
// the caller's limit, so a hostile stream cannot make the decoder allocate without bound.



namespace mote::io {

/// Default cap on decompressed sizes (gzip data, one ZIP entry): far above any dataset or model
/// mote reads, yet it stops a small hostile input from demanding many gigabytes.
inline constexpr std::size_t default_max_decompressed_size = std::size_t{1} << 30;

/// A decoded DEFLATE stream and where it ended in the input.
struct InflateResult {
  std::vector<std::byte> bytes;  ///< the decompressed data
  std::size_t consumed = 0;      ///< input bytes up to and including the final block's last byte
};

namespace detail {

// Least-significant-bit-first reader with a 64-bit buffer; bits above `count_` are always zero,
// so peeking past the end of the input yields zeros and callers compare lengths with available().
class BitReader {
 public:
  explicit BitReader(std::span<const std::byte> in) noexcept : in_(in) {}

  void refill() noexcept {
    if (count_ <= 56 && in_.size() - pos_ >= 8) {
      // Whole bytes that fit, in one 8-byte load; the mask restores the zero-above-count_ rule.
      const unsigned take = (63 - count_) / 8;
      buf_ |= load_le64(in_, pos_) << count_;
      count_ += take * 8;
      pos_ += take;
      buf_ &= (std::uint64_t{1} << count_) - 1;
      return;
    }
    while (count_ <= 56 && pos_ < in_.size()) {
      buf_ |= std::to_integer<std::uint64_t>(in_[pos_++]) << count_;
      count_ += 8;
    }
  }
  bool ensure(unsigned n) noexcept {
    if (count_ < n) refill();
    return count_ >= n;
  }
  unsigned available() const noexcept { return count_; }
  std::uint32_t peek(unsigned n) const noexcept {
    return static_cast<std::uint32_t>(buf_ & ((std::uint64_t{1} << n) - 1));
  }
  void drop(unsigned n) noexcept {
    buf_ >>= n;
    count_ -= n;
  }
  std::uint32_t take(unsigned n) noexcept {
    const std::uint32_t v = peek(n);
    drop(n);
    return v;
  }
  void align_to_byte() noexcept { drop(count_ % 8); }
  // Index of the byte holding the next unread bit.
  std::size_t byte_position() const noexcept { return pos_ - (count_ + 7) / 8; }
  void seek_byte(std::size_t position) noexcept {
    pos_ = position;
    buf_ = 0;
    count_ = 0;
  }

 private:
  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
  std::uint64_t buf_ = 0;
  unsigned count_ = 0;
};

// Canonical Huffman code: a direct table for codes up to fast_bits long and puff's
// count/symbol arrays for the rare longer ones.
struct Huffman {
  static constexpr unsigned fast_bits = 10;
  static constexpr unsigned max_bits = 15;
  std::array<std::uint16_t, max_bits + 1> count{};
  std::array<std::uint16_t, 288> symbol{};
  std::array<std::uint16_t, 1u << fast_bits> fast{};  // (symbol << 4) | length; 0: slow path
  unsigned longest = 0;  // no code is longer, so reading further cannot find one

  // Returns 0 for a complete code, > 0 for an incomplete one, < 0 for an over-subscribed one.
  int build(const std::uint8_t* lengths, unsigned n) noexcept {
    count.fill(0);
    fast.fill(0);
    longest = 0;
    for (unsigned s = 0; s < n; ++s) {
      ++count[lengths[s]];
      longest = std::max<unsigned>(longest, lengths[s]);
    }
    if (count[0] == n) return 0;  // no codes: complete, but every decode fails
    int left = 1;
    for (unsigned len = 1; len <= max_bits; ++len) {
      left <<= 1;
      left -= count[len];
      if (left < 0) return left;
    }
    std::array<std::uint16_t, max_bits + 1> offset{};
    for (unsigned len = 1; len < max_bits; ++len) offset[len + 1] = offset[len] + count[len];
    for (unsigned s = 0; s < n; ++s) {
      if (lengths[s] != 0) symbol[offset[lengths[s]]++] = static_cast<std::uint16_t>(s);
    }
    // Codes are assigned MSB-first but arrive LSB-first, hence the bit reversal.
    std::array<std::uint32_t, max_bits + 1> next{};
    std::uint32_t code = 0;
    for (unsigned len = 1; len <= max_bits; ++len) {
      code = (code + count[len - 1] * (len > 1 ? 1u : 0u)) << 1;
      next[len] = code;
    }
    for (unsigned s = 0; s < n; ++s) {
      const unsigned len = lengths[s];
      if (len == 0 || len > fast_bits) continue;
      const std::uint32_t c = next[len]++;
      std::uint32_t reversed = 0;
      for (unsigned i = 0; i < len; ++i) reversed |= ((c >> i) & 1u) << (len - 1 - i);
      for (std::uint32_t i = reversed; i < (1u << fast_bits); i += 1u << len) {
        fast[i] = static_cast<std::uint16_t>((s << 4) | len);
      }
    }
    return left;
  }
};

inline constexpr int decode_truncated = -1;
inline constexpr int decode_invalid = -2;

inline int decode_symbol(BitReader& br, const Huffman& h) noexcept {
  br.ensure(Huffman::max_bits);
  const unsigned avail = br.available();
  const std::uint16_t entry = h.fast[br.peek(Huffman::fast_bits)];
  if (entry != 0) {
    const unsigned len = entry & 15u;
    if (len > avail) return decode_truncated;
    br.drop(len);
    return entry >> 4;
  }
  // puff's decode(): walk the lengths, comparing the code read so far with the first code of
  // each length.
  int code = 0;
  int first = 0;
  int index = 0;
  const std::uint32_t bits = br.peek(Huffman::max_bits);
  for (unsigned len = 1; len <= h.longest; ++len) {
    if (len > avail) return decode_truncated;
    code |= static_cast<int>((bits >> (len - 1)) & 1u);
    const int count = h.count[len];
    if (code - count < first) {
      br.drop(len);
      return h.symbol[static_cast<std::size_t>(index + (code - first))];
    }
    index += count;
    first += count;
    first <<= 1;
    code <<= 1;
  }
  return decode_invalid;
}

inline constexpr std::array<std::uint16_t, 29> length_base = {
    3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
    31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
inline constexpr std::array<std::uint8_t, 29> length_extra = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
inline constexpr std::array<std::uint16_t, 30> distance_base = {
    1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
inline constexpr std::array<std::uint8_t, 30> distance_extra = {
    0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

}  // namespace detail

/// Decodes the DEFLATE stream at the start of `input`; bytes after its final block are left
/// unread and reported through InflateResult::consumed. Fails with ErrorCode::truncated,
/// ErrorCode::corrupt (the message gives the byte offset in `input`), or
/// ErrorCode::invalid_value when the output would exceed `max_output` bytes. `source` names the
/// stream in messages.
inline Expected<InflateResult> try_inflate_prefix(std::span<const std::byte> input,
                                                  std::size_t max_output,
                                                  std::string_view source = "deflate stream") {
  using namespace detail;
  BitReader br(input);
  auto fail = [&](ErrorCode code, const std::string& why) {
    return make_error(code, std::string(source) + ": at byte " +
                                std::to_string(br.byte_position()) +
                                " of the deflate data: " + why);
  };
  auto truncated = [&](const char* what) {
    return fail(ErrorCode::truncated, std::string("input ends inside ") + what);
  };
  auto too_big = [&]() {
    return fail(ErrorCode::invalid_value,
                "decompressed data exceeds the limit of " + std::to_string(max_output) + " bytes");
  };

  // `out` is grown ahead of `used` (the bytes decoded so far) so that the hot loop writes through
  // a pointer instead of push_back; the first size is a guess for typical ratios that trusts
  // nothing in the input.
  std::vector<std::byte> out(std::min(max_output, std::min(input.size(), SIZE_MAX / 4) * 2 + 1024));
  std::size_t used = 0;
  auto make_room = [&](std::size_t need) {
    if (need > max_output - used) return false;
    if (out.size() - used < need) {
      const std::size_t doubled = out.size() > max_output / 2 ? max_output : out.size() * 2;
      out.resize(std::max(doubled, used + need));
    }
    return true;
  };

  Huffman lit;
  Huffman dist;
  bool final_block = false;
  do {
    if (!br.ensure(3)) return truncated("a block header");
    final_block = br.take(1) != 0;
    const std::uint32_t type = br.take(2);
    if (type == 0) {
      br.align_to_byte();
      std::size_t p = br.byte_position();
      if (input.size() - p < 4) return truncated("a stored block's length fields");
      const std::uint16_t len = load_le16(input, p);
      const std::uint16_t nlen = load_le16(input, p + 2);
      if (static_cast<std::uint16_t>(~nlen) != len) {
        return fail(ErrorCode::corrupt, "stored block length " + std::to_string(len) +
                                            " does not match its complement " +
                                            std::to_string(nlen));
      }
      p += 4;
      if (input.size() - p < len) {
        br.seek_byte(input.size());
        return truncated(("a stored block of " + std::to_string(len) + " bytes").c_str());
      }
      if (!make_room(len)) return too_big();
      std::copy(input.begin() + static_cast<std::ptrdiff_t>(p),
                input.begin() + static_cast<std::ptrdiff_t>(p + len),
                out.begin() + static_cast<std::ptrdiff_t>(used));
      used += len;
      br.seek_byte(p + len);
      continue;
    }
    if (type == 3) return fail(ErrorCode::corrupt, "invalid block type 3");

    if (type == 1) {
      std::array<std::uint8_t, 288> lengths{};
      std::fill(lengths.begin(), lengths.begin() + 144, std::uint8_t{8});
      std::fill(lengths.begin() + 144, lengths.begin() + 256, std::uint8_t{9});
      std::fill(lengths.begin() + 256, lengths.begin() + 280, std::uint8_t{7});
      std::fill(lengths.begin() + 280, lengths.end(), std::uint8_t{8});
      lit.build(lengths.data(), 288);
      // 30 codes of 5 bits leave codes 30 and 31 unassigned, so decoding them fails below.
      std::fill(lengths.begin(), lengths.begin() + 30, std::uint8_t{5});
      dist.build(lengths.data(), 30);
    } else {
      if (!br.ensure(14)) return truncated("a dynamic block header");
      const unsigned nlen = br.take(5) + 257;
      const unsigned ndist = br.take(5) + 1;
      const unsigned ncode = br.take(4) + 4;
      if (nlen > 286 || ndist > 30) {
        return fail(ErrorCode::corrupt, "dynamic block declares " + std::to_string(nlen) +
                                            " literal/length and " + std::to_string(ndist) +
                                            " distance codes (at most 286 and 30)");
      }
      static constexpr std::array<std::uint8_t, 19> order = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                             11, 4,  12, 3, 13, 2, 14, 1, 15};
      std::array<std::uint8_t, 320> lengths{};
      for (unsigned i = 0; i < ncode; ++i) {
        if (!br.ensure(3)) return truncated("the code length code");
        lengths[order[i]] = static_cast<std::uint8_t>(br.take(3));
      }
      Huffman lencode;
      if (lencode.build(lengths.data(), 19) != 0) {
        return fail(ErrorCode::corrupt, "the code length code is incomplete or over-subscribed");
      }
      unsigned index = 0;
      while (index < nlen + ndist) {
        const int sym = decode_symbol(br, lencode);
        if (sym == decode_truncated) return truncated("the code lengths");
        if (sym < 0) return fail(ErrorCode::corrupt, "invalid code length code");
        if (sym < 16) {
          lengths[index++] = static_cast<std::uint8_t>(sym);
          continue;
        }
        if (sym == 16 && index == 0) {
          return fail(ErrorCode::corrupt, "code length repeat with no previous length");
        }
        const std::uint8_t value = sym == 16 ? lengths[index - 1] : std::uint8_t{0};
        const unsigned extra = sym == 16 ? 2 : sym == 17 ? 3 : 7;
        if (!br.ensure(extra)) return truncated("a code length repeat count");
        const unsigned repeat = (sym == 18 ? 11 : 3) + br.take(extra);
        if (repeat > nlen + ndist - index) {
          return fail(ErrorCode::corrupt, "code length repeat of " + std::to_string(repeat) +
                                              " runs past the " + std::to_string(nlen + ndist) +
                                              " declared lengths");
        }
        for (unsigned i = 0; i < repeat; ++i) lengths[index++] = value;
      }
      if (lengths[256] == 0) return fail(ErrorCode::corrupt, "no end-of-block code");
      // An incomplete code is allowed only as a single code of length one (RFC 1951 3.2.7).
      int err = lit.build(lengths.data(), nlen);
      if (err < 0 || (err > 0 && nlen != lit.count[0] + lit.count[1])) {
        return fail(ErrorCode::corrupt, "invalid literal/length code lengths");
      }
      err = dist.build(lengths.data() + nlen, ndist);
      if (err < 0 || (err > 0 && ndist != dist.count[0] + dist.count[1])) {
        return fail(ErrorCode::corrupt, "invalid distance code lengths");
      }
    }

    for (;;) {
      int sym = decode_symbol(br, lit);
      if (sym == decode_truncated) return truncated("a compressed block");
      if (sym < 0) return fail(ErrorCode::corrupt, "invalid literal/length code");
      if (sym < 256) {
        if (used == out.size() && !make_room(1)) return too_big();
        out[used++] = static_cast<std::byte>(sym);
        continue;
      }
      if (sym == 256) break;
      sym -= 257;
      if (sym >= 29) {
        return fail(ErrorCode::corrupt, "invalid length symbol " + std::to_string(sym + 257));
      }
      if (!br.ensure(length_extra[sym])) return truncated("a match length");
      const std::size_t len = length_base[sym] + br.take(length_extra[sym]);
      const int dsym = decode_symbol(br, dist);
      if (dsym == decode_truncated) return truncated("a match distance");
      if (dsym < 0 || dsym >= 30) return fail(ErrorCode::corrupt, "invalid distance code");
      if (!br.ensure(distance_extra[dsym])) return truncated("a match distance");
      const std::size_t distance = distance_base[dsym] + br.take(distance_extra[dsym]);
      if (distance > used) {
        return fail(ErrorCode::corrupt, "match distance " + std::to_string(distance) +
                                            " reaches back before the start of the output (" +
                                            std::to_string(used) + " bytes so far)");
      }
      if (!make_room(len)) return too_big();
      std::byte* dst = out.data() + used;
      used += len;
      const std::byte* src = dst - distance;
      // Byte by byte on purpose: a match may overlap the bytes it produces.
      for (std::size_t i = 0; i < len; ++i) dst[i] = src[i];
    }
  } while (!final_block);

  br.align_to_byte();
  InflateResult result;
  result.consumed = br.byte_position();
  out.resize(used);
  if (out.capacity() - used > used / 8 + 4096) out.shrink_to_fit();  // don't hand back slack
  result.bytes = std::move(out);
  return result;
}

/// Decodes a raw DEFLATE stream that must fill `input` exactly (trailing bytes are an error).
/// See try_inflate_prefix for the error cases.
inline Expected<std::vector<std::byte>> try_inflate(std::span<const std::byte> input,
                                                    std::size_t max_output,
                                                    std::string_view source = "deflate stream") {
  auto result = try_inflate_prefix(input, max_output, source);
  if (!result) return result.error();
  if (result->consumed != input.size()) {
    return make_error(ErrorCode::corrupt,
                      std::string(source) + ": " + std::to_string(input.size() - result->consumed) +
                          " unexpected bytes after the final deflate block (which ends at byte " +
                          std::to_string(result->consumed) + ")");
  }
  return std::move(result->bytes);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_inflate.
inline std::vector<std::byte> inflate(std::span<const std::byte> input, std::size_t max_output,
                                      std::string_view source = "deflate stream") {
  return value_or_throw(try_inflate(input, max_output, source));
}
#endif

}  // namespace mote::io
// ----- end mote/io/inflate.hpp -----

namespace mote::io {

/// One central-directory record of a ZIP archive.
struct ZipEntryInfo {
  std::string name;
  std::uint16_t method = 0;  ///< 0 stored, 8 deflate
  std::uint16_t flags = 0;   ///< general purpose bit flags
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t local_header_offset = 0;
};

/// A decompressed ZIP entry.
struct ZipFile {
  std::string name;
  std::vector<std::byte> data;
};

namespace detail {

inline constexpr std::uint32_t zip_local_sig = 0x04034b50;
inline constexpr std::uint32_t zip_central_sig = 0x02014b50;
inline constexpr std::uint32_t zip_eocd_sig = 0x06054b50;
inline constexpr std::uint32_t zip64_eocd_sig = 0x06064b50;
inline constexpr std::uint32_t zip64_locator_sig = 0x07064b50;
inline constexpr std::size_t zip_eocd_size = 22;
inline constexpr std::size_t zip_central_size = 46;
inline constexpr std::size_t zip_local_size = 30;

inline std::string zip_where(std::string_view source, std::uint64_t offset) {
  return std::string(source) + ": at byte " + std::to_string(offset) + ": ";
}

}  // namespace detail

/// Lists the entries of the ZIP archive in `bytes` in central-directory order, without
/// decompressing anything. `source` names the archive in messages.
inline Expected<std::vector<ZipEntryInfo>> try_list_zip(std::span<const std::byte> bytes,
                                                        std::string_view source = "zip archive") {
  using namespace detail;
  const std::uint64_t size = bytes.size();
  auto fail = [&](ErrorCode code, std::uint64_t offset, const std::string& why) {
    return make_error(code, zip_where(source, offset) + why);
  };

  // The end-of-central-directory record sits at the end, followed only by its comment
  // (at most 65535 bytes), so the backward search is bounded.
  if (size < zip_eocd_size) {
    return make_error(ErrorCode::truncated,
                      std::string(source) + ": " + std::to_string(size) +
                          " bytes is too short for a ZIP archive (no end of central directory)");
  }
  std::uint64_t eocd = size;
  const std::uint64_t lowest = size - zip_eocd_size > 0xFFFF ? size - zip_eocd_size - 0xFFFF : 0;
  for (std::uint64_t at = size - zip_eocd_size + 1; at-- > lowest;) {
    if (load_le32(bytes, at) == zip_eocd_sig &&
        zip_eocd_size + load_le16(bytes, at + 20) <= size - at) {
      eocd = at;
      break;
    }
  }
  if (eocd == size) {
    return make_error(ErrorCode::corrupt,
                      std::string(source) +
                          ": not a ZIP archive (no end-of-central-directory signature "
                          "50 4b 05 06 in the last 65557 bytes)");
  }
  const std::uint32_t disk = load_le16(bytes, eocd + 4);
  const std::uint32_t cd_disk = load_le16(bytes, eocd + 6);
  std::uint64_t entries_here = load_le16(bytes, eocd + 8);
  std::uint64_t entries = load_le16(bytes, eocd + 10);
  std::uint64_t cd_size = load_le32(bytes, eocd + 12);
  std::uint64_t cd_offset = load_le32(bytes, eocd + 16);

  // A ZIP64 locator, when present, sits right before the EOCD and points at the ZIP64 record
  // whose 64-bit fields replace the EOCD's.
  if (eocd >= 20 && load_le32(bytes, eocd - 20) == zip64_locator_sig) {
    const std::uint64_t loc = eocd - 20;
    const std::uint64_t rec = load_le64(bytes, loc + 8);
    if (load_le32(bytes, loc + 4) != 0 || load_le32(bytes, loc + 16) > 1) {
      return fail(ErrorCode::unsupported, loc, "multi-disk ZIP64 archives are not supported");
    }
    if (!in_bounds(size, rec, 56)) {
      return fail(ErrorCode::corrupt, loc,
                  "ZIP64 locator points at byte " + std::to_string(rec) +
                      ", outside the archive of " + std::to_string(size) + " bytes");
    }
    if (load_le32(bytes, rec) != zip64_eocd_sig) {
      return fail(ErrorCode::corrupt, rec, "expected the ZIP64 end-of-central-directory signature");
    }
    if (load_le32(bytes, rec + 16) != 0 || load_le32(bytes, rec + 20) != 0) {
      return fail(ErrorCode::unsupported, rec, "multi-disk ZIP64 archives are not supported");
    }
    entries_here = load_le64(bytes, rec + 24);
    entries = load_le64(bytes, rec + 32);
    cd_size = load_le64(bytes, rec + 40);
    cd_offset = load_le64(bytes, rec + 48);
  } else if (disk != 0 || cd_disk != 0) {
    return fail(ErrorCode::unsupported, eocd, "multi-disk ZIP archives are not supported");
  }
  if (entries_here != entries) {
    return fail(ErrorCode::unsupported, eocd, "multi-disk ZIP archives are not supported");
  }
  if (!in_bounds(size, cd_offset, cd_size)) {
    return fail(ErrorCode::corrupt, eocd,
                "central directory (" + std::to_string(cd_size) + " bytes at byte " +
                    std::to_string(cd_offset) + ") lies outside the archive of " +
                    std::to_string(size) + " bytes");
  }
  if (entries > cd_size / zip_central_size) {
    return fail(ErrorCode::corrupt, eocd,
                std::to_string(entries) + " entries cannot fit in a central directory of " +
                    std::to_string(cd_size) + " bytes");
  }

  std::vector<ZipEntryInfo> list;
  list.reserve(static_cast<std::size_t>(entries));
  std::uint64_t p = cd_offset;
  const std::uint64_t cd_end = cd_offset + cd_size;
  for (std::uint64_t i = 0; i < entries; ++i) {
    if (cd_end - p < zip_central_size) {
      return fail(ErrorCode::corrupt, p,
                  "central directory ends inside entry " + std::to_string(i + 1) + " of " +
                      std::to_string(entries));
    }
    if (load_le32(bytes, p) != zip_central_sig) {
      return fail(ErrorCode::corrupt, p,
                  "expected a central directory entry signature (50 4b 01 02) for entry " +
                      std::to_string(i + 1));
    }
    ZipEntryInfo e;
    e.flags = load_le16(bytes, p + 8);
    e.method = load_le16(bytes, p + 10);
    e.crc32 = load_le32(bytes, p + 16);
    e.compressed_size = load_le32(bytes, p + 20);
    e.uncompressed_size = load_le32(bytes, p + 24);
    const std::uint64_t name_len = load_le16(bytes, p + 28);
    const std::uint64_t extra_len = load_le16(bytes, p + 30);
    const std::uint64_t comment_len = load_le16(bytes, p + 32);
    const std::uint32_t start_disk = load_le16(bytes, p + 34);
    e.local_header_offset = load_le32(bytes, p + 42);
    const std::uint64_t var = p + zip_central_size;
    if (cd_end - var < name_len + extra_len + comment_len) {
      return fail(ErrorCode::corrupt, p,
                  "central directory entry " + std::to_string(i + 1) +
                      " runs past the end of the central directory");
    }
    e.name.assign(reinterpret_cast<const char*>(bytes.data() + var),
                  static_cast<std::size_t>(name_len));
    const std::string entry = "entry '" + e.name + "': ";

    // ZIP64 extended information: 64-bit values for exactly those fields saturated above, in
    // the order uncompressed, compressed, offset, disk.
    std::uint64_t x = var + name_len;
    const std::uint64_t x_end = x + extra_len;
    while (x_end - x >= 4) {
      const std::uint32_t id = load_le16(bytes, x);
      const std::uint64_t len = load_le16(bytes, x + 2);
      if (x_end - x - 4 < len) {
        return fail(ErrorCode::corrupt, x, entry + "extra field runs past its declared length");
      }
      if (id == 0x0001) {
        std::uint64_t f = x + 4;
        const std::uint64_t f_end = f + len;
        auto take64 = [&](std::uint64_t& field) {
          if (f_end - f < 8) return false;
          field = load_le64(bytes, f);
          f += 8;
          return true;
        };
        bool ok = true;
        if (e.uncompressed_size == 0xFFFFFFFFu) ok = ok && take64(e.uncompressed_size);
        if (e.compressed_size == 0xFFFFFFFFu) ok = ok && take64(e.compressed_size);
        if (e.local_header_offset == 0xFFFFFFFFu) ok = ok && take64(e.local_header_offset);
        if (!ok) {
          return fail(ErrorCode::corrupt, x,
                      entry + "ZIP64 extra field of " + std::to_string(len) +
                          " bytes lacks the 64-bit sizes/offset its entry needs");
        }
      }
      x += 4 + len;
    }
    if (start_disk != 0 && start_disk != 0xFFFF) {
      return fail(ErrorCode::unsupported, p,
                  entry + "lies on another disk of a multi-disk archive");
    }
    list.push_back(std::move(e));
    p = x_end + comment_len;
  }
  return list;
}

/// Decompresses one entry listed by try_list_zip and verifies its CRC-32 and size. An entry
/// declaring more than `max_size` uncompressed bytes is ErrorCode::invalid_value.
inline Expected<std::vector<std::byte>> try_extract_zip_entry(
    std::span<const std::byte> bytes, const ZipEntryInfo& e,
    std::string_view source = "zip archive", std::size_t max_size = default_max_decompressed_size) {
  using namespace detail;
  const std::uint64_t size = bytes.size();
  const std::string entry = "entry '" + e.name + "': ";
  auto fail = [&](ErrorCode code, std::uint64_t offset, const std::string& why) {
    return make_error(code, zip_where(source, offset) + entry + why);
  };

  if ((e.flags & 0x0001u) != 0 || (e.flags & 0x0040u) != 0) {
    return fail(ErrorCode::unsupported, e.local_header_offset,
                "encrypted entries are not supported");
  }
  if (e.method != 0 && e.method != 8) {
    return fail(ErrorCode::unsupported, e.local_header_offset,
                "compression method " + std::to_string(e.method) +
                    " is not supported (only 0, stored, and 8, deflate)");
  }
  const std::uint64_t lh = e.local_header_offset;
  if (e.uncompressed_size > max_size) {
    return fail(ErrorCode::invalid_value, lh,
                "declares " + std::to_string(e.uncompressed_size) +
                    " uncompressed bytes, above the limit of " + std::to_string(max_size));
  }
  if (!in_bounds(size, lh, zip_local_size)) {
    return fail(
        ErrorCode::corrupt, lh,
        "local header offset lies outside the archive of " + std::to_string(size) + " bytes");
  }
  if (load_le32(bytes, lh) != zip_local_sig) {
    return fail(ErrorCode::corrupt, lh, "expected a local file header signature (50 4b 03 04)");
  }
  const std::uint64_t name_len = load_le16(bytes, lh + 26);
  const std::uint64_t extra_len = load_le16(bytes, lh + 28);
  const std::uint64_t data_at = lh + zip_local_size + name_len + extra_len;
  if (!in_bounds(size, lh + zip_local_size, name_len + extra_len)) {
    return fail(ErrorCode::truncated, lh, "local header name/extra fields run past the end");
  }
  const std::string_view local_name(
      reinterpret_cast<const char*>(bytes.data() + lh + zip_local_size),
      static_cast<std::size_t>(name_len));
  if (local_name != e.name) {
    return fail(ErrorCode::corrupt, lh,
                "local header names '" + std::string(local_name) +
                    "', the central directory names '" + e.name + "'");
  }
  if (!in_bounds(size, data_at, e.compressed_size)) {
    return fail(ErrorCode::truncated, data_at,
                std::to_string(e.compressed_size) + " bytes of data run past the end of the " +
                    std::to_string(size) + "-byte archive");
  }
  const auto usize = static_cast<std::size_t>(e.uncompressed_size);
  const auto payload =
      bytes.subspan(static_cast<std::size_t>(data_at), static_cast<std::size_t>(e.compressed_size));

  std::vector<std::byte> data;
  if (e.method == 0) {
    if (e.compressed_size != e.uncompressed_size) {
      return fail(ErrorCode::corrupt, lh,
                  "stored entry with compressed size " + std::to_string(e.compressed_size) +
                      " != uncompressed size " + std::to_string(e.uncompressed_size));
    }
    data.assign(payload.begin(), payload.end());
  } else {
    // The central directory's size bounds the output, so a lying entry cannot inflate without
    // limit; trailing bytes after the final block are ignored, as zlib-based readers do.
    auto inflated = try_inflate_prefix(payload, usize,
                                       zip_where(source, data_at) + entry + "deflate data (" +
                                           std::to_string(e.compressed_size) + " bytes)");
    if (!inflated) {
      ErrorInfo err = inflated.error();
      if (err.code == ErrorCode::invalid_value) {
        return fail(ErrorCode::corrupt, data_at,
                    "decompresses to more than the " + std::to_string(usize) +
                        " bytes the central directory declares");
      }
      return err;
    }
    data = std::move(inflated->bytes);
  }
  if (data.size() != usize) {
    return fail(ErrorCode::corrupt, data_at,
                "decompressed to " + std::to_string(data.size()) +
                    " bytes, the central directory declares " + std::to_string(usize));
  }
  const std::uint32_t crc = crc32(data);
  if (crc != e.crc32) {
    return fail(ErrorCode::corrupt, data_at,
                "CRC-32 mismatch (central directory says " + std::to_string(e.crc32) +
                    ", data gives " + std::to_string(crc) + ")");
  }
  return data;
}

/// Lists and decompresses every entry of the ZIP archive in `bytes`, in central-directory order;
/// see try_extract_zip_entry for `max_entry_size`.
inline Expected<std::vector<ZipFile>> try_read_zip(
    std::span<const std::byte> bytes, std::string_view source = "zip archive",
    std::size_t max_entry_size = default_max_decompressed_size) {
  auto list = try_list_zip(bytes, source);
  if (!list) return list.error();
  std::vector<ZipFile> files;
  files.reserve(list->size());
  for (const ZipEntryInfo& e : *list) {
    auto data = try_extract_zip_entry(bytes, e, source, max_entry_size);
    if (!data) return data.error();
    files.push_back(ZipFile{e.name, std::move(*data)});
  }
  return files;
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_read_zip.
inline std::vector<ZipFile> read_zip(std::span<const std::byte> bytes,
                                     std::string_view source = "zip archive",
                                     std::size_t max_entry_size = default_max_decompressed_size) {
  return value_or_throw(try_read_zip(bytes, source, max_entry_size));
}
#endif

}  // namespace mote::io
// ----- end mote/io/zip.hpp -----

namespace mote::io {

/// Named tensors in the order their archive stores them; names are unique.
/// Lookup is a linear scan: archives of small nets hold tens of tensors.
class TensorArchive {
 public:
  std::string source;  ///< the path or source name the tensors came from, for messages

  TensorArchive() = default;
  explicit TensorArchive(std::string source_name) : source(std::move(source_name)) {}

  /// The tensor called `name`, or nullptr.
  const TensorData* find(std::string_view name) const noexcept {
    for (const TensorData& t : tensors_) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }

  /// Appends `tensor`; a name already present is ErrorCode::corrupt.
  Status try_add(TensorData tensor) {
    if (find(tensor.name) != nullptr) {
      return make_error(ErrorCode::corrupt, source + ": duplicate tensor '" + tensor.name + "'");
    }
    tensors_.push_back(std::move(tensor));
    return {};
  }

  std::size_t size() const noexcept { return tensors_.size(); }
  bool empty() const noexcept { return tensors_.empty(); }
  const TensorData& operator[](std::size_t i) const noexcept { return tensors_[i]; }
  auto begin() const noexcept { return tensors_.begin(); }
  auto end() const noexcept { return tensors_.end(); }
  const std::vector<TensorData>& tensors() const noexcept { return tensors_; }

 private:
  std::vector<TensorData> tensors_;
};

/// Parses an .npz archive held in memory; `source_name` names it in messages and becomes
/// TensorArchive::source. Every entry must be a ".npy" file (ErrorCode::unsupported otherwise);
/// duplicate names are ErrorCode::corrupt; ZIP and .npy errors pass through with the entry named.
/// An entry declaring more than `max_entry_size` bytes is ErrorCode::invalid_value.
inline Expected<TensorArchive> try_read_npz(
    std::span<const std::byte> bytes, std::string source_name,
    std::size_t max_entry_size = default_max_decompressed_size) {
  auto entries = try_list_zip(bytes, source_name);
  if (!entries) return entries.error();
  TensorArchive archive(std::move(source_name));
  for (const ZipEntryInfo& e : *entries) {
    const std::string where = archive.source + ": entry '" + e.name + "'";
    constexpr std::string_view suffix = ".npy";
    if (e.name.size() <= suffix.size() ||
        std::string_view(e.name).substr(e.name.size() - suffix.size()) != suffix) {
      return make_error(ErrorCode::unsupported,
                        where + " is not a .npy array (an .npz may hold only .npy entries)");
    }
    std::string name = e.name.substr(0, e.name.size() - suffix.size());
    // Fail before decompressing anything more when the archive repeats a name.
    if (archive.find(name) != nullptr) {
      return make_error(ErrorCode::corrupt,
                        where + ": duplicate tensor name '" + name + "' in the archive");
    }
    auto data = try_extract_zip_entry(bytes, e, archive.source, max_entry_size);
    if (!data) return data.error();
    auto tensor = try_parse_npy(*data, std::move(name), where);
    if (!tensor) return tensor.error();
    if (Status st = archive.try_add(std::move(*tensor)); !st) return st.error();
  }
  return archive;
}

/// Reads an .npz file; see the in-memory overload.
inline Expected<TensorArchive> try_read_npz(
    const std::string& path, std::size_t max_entry_size = default_max_decompressed_size) {
  auto bytes = try_read_file_bytes(path);
  if (!bytes) return bytes.error();
  return try_read_npz(*bytes, path, max_entry_size);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_read_npz (in memory).
inline TensorArchive read_npz(std::span<const std::byte> bytes, std::string source_name,
                              std::size_t max_entry_size = default_max_decompressed_size) {
  return value_or_throw(try_read_npz(bytes, std::move(source_name), max_entry_size));
}

/// Throwing form of try_read_npz (file).
inline TensorArchive read_npz(const std::string& path,
                              std::size_t max_entry_size = default_max_decompressed_size) {
  return value_or_throw(try_read_npz(path, max_entry_size));
}
#endif

}  // namespace mote::io
// ----- end mote/io/npz.hpp -----

namespace mote {

/// The network's input: `Input<H, W, C>` (a feature map), `Input<L, C>` (a 1-D signal) or
/// `Input<N>` (a vector).
template <std::size_t... Dims>
struct Input {
  static_assert(sizeof...(Dims) >= 1 && sizeof...(Dims) <= 3,
                "Input<Dims...> takes 1 (N), 2 (L, C) or 3 (H, W, C) dimensions.");
  static_assert(((Dims > 0) && ...), "Input<Dims...>: every dimension must be at least 1.");
  using shape = Shape<Dims...>;
};

/// One weight tensor a network expects (see Sequential::parameters()).
struct ParameterInfo {
  std::string name;   ///< "<layer path>.<param>", e.g. "3.weight"
  std::string layer;  ///< the layer's description
  ParamSpec spec;     ///< PyTorch-convention shape
};

namespace detail {
template <class T>
inline constexpr bool is_input_v = false;
template <std::size_t... Dims>
inline constexpr bool is_input_v<Input<Dims...>> = true;

/// Tensors of an archive as TensorRefs (views: the archive must outlive them).
inline std::vector<TensorRef> tensor_refs(const io::TensorArchive& archive) {
  std::vector<TensorRef> refs;
  for (const io::TensorData& tensor : archive) {
    std::string dtype = tensor.dtype == io::DType::f32 ? "float32" : io::to_string(tensor.dtype);
    if (tensor.dtype == io::DType::other) dtype = tensor.descr;
    refs.push_back(TensorRef{tensor.name, tensor.shape, tensor.bytes.data(), std::move(dtype)});
  }
  return refs;
}
}  // namespace detail

/// A feed-forward network: `InputSpec` is `Input<...>`, `Specs...` are layer specs.
template <class InputSpec, class... Specs>
class Sequential {
  static_assert(detail::is_input_v<InputSpec>,
                "Sequential<Input<Dims...>, Layers...>: the first argument must be Input<...>.");
  using chain_type = Chain<typename InputSpec::shape, LayerPath<>, Specs...>;

 public:
  using input_shape = typename InputSpec::shape;
  using output_shape = typename chain_type::out_shape;
  using InputTensor = Tensor<input_shape>;
  using OutputTensor = Tensor<output_shape>;
  static constexpr std::size_t layer_count = sizeof...(Specs);
  /// Bytes of scratch forward() needs, a compile-time constant (see model/chain.hpp).
  static constexpr std::size_t workspace_bytes = chain_type::workspace_bytes;

  /// Owning, 64-byte aligned workspace for forward() (and forward_batch() of up to
  /// `max_batch` samples). One per concurrent caller.
  class Workspace {
   public:
    explicit Workspace(std::size_t max_batch = 1)
        : bytes_(workspace_bytes * max_batch == 0 ? 1 : workspace_bytes * max_batch), max_batch_(max_batch) {}
    std::span<std::byte> bytes() noexcept { return {bytes_.data(), workspace_bytes * max_batch_}; }
    std::size_t max_batch() const noexcept { return max_batch_; }

   private:
    AlignedBuffer<std::byte> bytes_;
    std::size_t max_batch_;
  };

  /// Runs the network. Allocation-free, thread-safe on a const network with one workspace per
  /// thread. `in` and `out` must not overlap the workspace.
  void forward(TensorView<input_shape, const float> in, TensorView<output_shape, float> out,
               Workspace& workspace) const noexcept {
    chain_.forward(in.data(), out.data(), workspace.bytes().data());
  }
  /// The same on raw memory: `workspace` must be 64-byte aligned and hold workspace_bytes
  /// (e.g. `alignas(64) std::array<std::byte, Net::workspace_bytes>`).
  void forward(std::span<const float, input_shape::size> in, std::span<float, output_shape::size> out,
               std::span<std::byte> workspace) const noexcept {
    assert(workspace.size() >= workspace_bytes);
    assert(reinterpret_cast<std::uintptr_t>(workspace.data()) % buffer_alignment == 0);
    chain_.forward(in.data(), out.data(), workspace.data());
  }

  /// Runs `in.size() / input_shape::size` samples stored one after the other (Dense layers
  /// then run as one GEMM). The workspace must have been made for at least that many samples.
  void forward_batch(std::span<const float> in, std::span<float> out, Workspace& workspace) const noexcept {
    const std::size_t batch = in.size() / input_shape::size;
    assert(in.size() == batch * input_shape::size && out.size() == batch * output_shape::size);
    assert(batch <= workspace.max_batch());
    chain_.forward_batch(in.data(), out.data(), batch, workspace.bytes().data());
  }

  /// Number of layers that quantise their input (integer layers), which calibrate() sets.
  static constexpr std::size_t quantizing_layer_count = chain_type::quantizing_layer_count;

  /// Post-training calibration of the integer layers' input quantisation from `inputs`
  /// (samples stored one after the other). Layers are calibrated in order: the inputs of
  /// layer n are observed with layers 0..n-1 already quantised as they will run, so each range
  /// includes the error of the layers before it. `method`: min_max, percentile (clip at
  /// `percentile` of the observed values) or mse (the range minimising quantisation error).
  /// Allocates (histograms, one buffer); forward() stays allocation-free. On failure (no
  /// samples, a partial sample, NaN/inf in the data) the network is unchanged.
  Status try_calibrate(std::span<const float> inputs, CalibrationMethod method = CalibrationMethod::min_max,
                       double percentile = 99.99) {
    if (inputs.empty())
      return make_error(ErrorCode::invalid_value, "calibrate: the calibration set is empty");
    if (inputs.size() % input_shape::size != 0)
      return make_error(ErrorCode::shape_mismatch,
                        "calibrate: " + std::to_string(inputs.size()) + " values are not a whole number of samples of " +
                            std::to_string(input_shape::size));
    if constexpr (quantizing_layer_count == 0) {
      return Status::ok();
    } else {
      const std::size_t samples = inputs.size() / input_shape::size;
      std::vector<std::optional<QuantParams>> previous;
      chain_.for_each_quantizing_layer([&](std::size_t, auto& layer) {
        previous.push_back(layer.input_quantization());
        layer.clear_input_quantization();
      });
      auto restore = [&] {
        chain_.for_each_quantizing_layer([&](std::size_t index, auto& layer) {
          if (previous[index]) (void)layer.set_input_quantization(*previous[index]);
          else layer.clear_input_quantization();
        });
      };
      Workspace workspace;
      std::vector<float> output(output_shape::size);
      for (std::size_t target = 0; target < quantizing_layer_count; ++target) {
        RangeObserver observer;
        Status observed = Status::ok();
        std::size_t observed_size = 0;
        chain_.for_each_quantizing_layer([&](std::size_t index, auto& layer) {
          if (index == target) observed_size = std::remove_cvref_t<decltype(layer)>::in_shape::size;
        });
        for (std::size_t s = 0; s < samples && observed; ++s)
          chain_.forward_observed(inputs.data() + s * input_shape::size, output.data(), workspace.bytes().data(),
                                  [&](std::size_t index, const float* layer_input) {
                                    if (index == target && observed) {
                                      observed = observer.observe(layer_input, observed_size);
                                      if (!observed)
                                        observed = make_error(observed.error().code,
                                                              "calibrate: sample " + std::to_string(s) + ": " +
                                                                  observed.error().message);
                                    }
                                  });
        if (!observed) {
          restore();
          return observed;
        }
        Status set = Status::ok();
        chain_.for_each_quantizing_layer([&](std::size_t index, auto& layer) {
          if (index != target) return;
          using Format = typename std::remove_cvref_t<decltype(layer)>::activation_format;
          Expected<QuantParams> params =
              observer.compute_params(method, Format::min_code, Format::max_code, Format::symmetric, percentile);
          set = params ? layer.set_input_quantization(*params) : params.status();
        });
        if (!set) {
          restore();
          return set;
        }
      }
      return Status::ok();
    }
  }
#if MOTE_HAS_EXCEPTIONS
  /// try_calibrate, throwing mote::Error on failure.
  void calibrate(std::span<const float> inputs, CalibrationMethod method = CalibrationMethod::min_max,
                 double percentile = 99.99) {
    throw_if_failed(try_calibrate(inputs, method, percentile));
  }
#endif

  /// Sets every weight from `tensors`, named per `names`; folds BatchNorm layers. On failure
  /// the network is unchanged and the Status names the source, tensor, layer and shapes.
  Status try_load(std::span<const TensorRef> tensors, std::string_view source_name,
                  const WeightNames& names = WeightNames::file_order()) {
    std::vector<detail::LayerSlot> slots;
    detail::collect_slots(chain_, slots);
    Status status = detail::bind_tensors(slots, tensors, source_name, names);
    if (status) chain_.fold_batch_norms();
    return status;
  }
  /// Loads from a parsed .npz archive.
  Status try_load(const io::TensorArchive& archive, const WeightNames& names = WeightNames::file_order()) {
    const std::vector<TensorRef> refs = detail::tensor_refs(archive);
    return try_load(refs, archive.source, names);
  }
  /// Reads and loads an .npz file (numpy.savez / savez_compressed).
  Status try_load_npz(const std::string& path, const WeightNames& names = WeightNames::file_order()) {
    auto archive = io::try_read_npz(path);
    if (!archive) return archive.error();
    return try_load(*archive, names);
  }
#if MOTE_HAS_EXCEPTIONS
  /// Throwing forms of the loaders (mote::Error).
  void load(std::span<const TensorRef> tensors, std::string_view source_name,
            const WeightNames& names = WeightNames::file_order()) {
    throw_if_failed(try_load(tensors, source_name, names));
  }
  void load(const io::TensorArchive& archive, const WeightNames& names = WeightNames::file_order()) {
    throw_if_failed(try_load(archive, names));
  }
  void load_npz(const std::string& path, const WeightNames& names = WeightNames::file_order()) {
    throw_if_failed(try_load_npz(path, names));
  }
#endif

  /// Bytes of weights held in memory (after BatchNorm folding).
  std::size_t weight_bytes() const noexcept {
    std::size_t total = 0;
    add_weight_bytes(chain_, total);
    return total;
  }

  /// One line per layer: position, description, output shape. Recurses into Residual bodies.
  static std::string summary() {
    std::string text = "Input " + input_shape::to_string() + "\n";
    describe_chain<chain_type>(text, "  ");
    text += "workspace: " + std::to_string(workspace_bytes) + " bytes\n";
    return text;
  }

  /// Every weight tensor the network expects, in load order, named "<layer path>.<param>"
  /// (the WeightNames::layer_index() names) with PyTorch-convention shapes.
  static std::vector<ParameterInfo> parameters() {
    std::vector<ParameterInfo> list;
    list_parameters<chain_type>(list, std::make_index_sequence<chain_type::layer_count>{});
    return list;
  }

  /// The layer at position I (for inspection and tests).
  template <std::size_t I>
  auto& layer() noexcept { return chain_.template layer<I>(); }
  template <std::size_t I>
  const auto& layer() const noexcept { return chain_.template layer<I>(); }

 private:
  template <class ChainT, std::size_t... I>
  static void list_parameters(std::vector<ParameterInfo>& list, std::index_sequence<I...>) {
    (list_layer_parameters<std::tuple_element_t<I, typename ChainT::layers_type>>(list), ...);
  }
  template <class L>
  static void list_layer_parameters(std::vector<ParameterInfo>& list) {
    if constexpr (WeightedLayer<L>)
      for (std::size_t p = 0; p < L::param_count; ++p)
        list.push_back(ParameterInfo{L::path::to_string() + "." + L::param_spec(p).name, L::describe(), L::param_spec(p)});
    if constexpr (requires { typename L::body_type; })
      list_parameters<typename L::body_type>(list, std::make_index_sequence<L::body_type::layer_count>{});
  }
  template <class ChainT>
  static void add_weight_bytes(const ChainT& chain, std::size_t& total) {
    chain.for_each_layer([&](const auto& layer) {
      if constexpr (requires { layer.weight_bytes(); }) total += layer.weight_bytes();
      if constexpr (requires { layer.body(); }) add_weight_bytes(layer.body(), total);
    });
  }
  template <class ChainT>
  static void describe_chain(std::string& text, const std::string& indent) {
    describe_layers<ChainT>(text, indent, std::make_index_sequence<ChainT::layer_count>{});
  }
  template <class ChainT, std::size_t... I>
  static void describe_layers(std::string& text, const std::string& indent, std::index_sequence<I...>) {
    (describe_layer<std::tuple_element_t<I, typename ChainT::layers_type>>(text, indent), ...);
  }
  template <class L>
  static void describe_layer(std::string& text, const std::string& indent) {
    text += indent + L::path::to_string() + ": " + L::describe() + " -> " + L::out_shape::to_string() + "\n";
    if constexpr (requires { typename L::body_type; }) describe_chain<typename L::body_type>(text, indent + "  ");
  }

  chain_type chain_;
};

}  // namespace mote
// ----- end mote/model/sequential.hpp -----
// ----- begin mote/io.hpp -----
// Everything mote reads from disk: .npz/.npy tensors, IDX datasets, and the gzip, ZIP and
// DEFLATE decoders they rest on. Standard library only.

// ----- begin mote/io/gzip.hpp -----
// gzip (RFC 1952) decoding: all header flags, CRC-32 and length checks, concatenated members.



namespace mote::io {

/// True when `bytes` starts with the gzip magic number 1f 8b.
inline bool is_gzip(std::span<const std::byte> bytes) noexcept {
  return bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b};
}

/// Decompresses gzip data (one member or several concatenated, as `cat a.gz b.gz` makes).
/// Header CRCs (FHCRC), the CRC-32 and the length of every member are verified; bytes after the
/// last member are an error. `source` names the data in messages; the result may hold at most
/// `max_output` bytes (ErrorCode::invalid_value beyond).
inline Expected<std::vector<std::byte>> try_gunzip(
    std::span<const std::byte> data, std::string_view source = "gzip data",
    std::size_t max_output = default_max_decompressed_size) {
  using detail::load_le16;
  using detail::load_le32;
  const std::string src(source);
  auto fail = [&](ErrorCode code, std::size_t offset, const std::string& why) {
    return make_error(code, src + ": at byte " + std::to_string(offset) + ": " + why);
  };

  std::vector<std::byte> out;
  std::size_t pos = 0;
  int member = 0;
  do {
    const std::size_t start = pos;
    // Judge the magic on whatever is there first, so that garbage shorter than a header is
    // called garbage rather than a truncated member.
    const std::size_t rest = data.size() - pos;
    const bool magic_ok =
        (rest == 0 && member == 0) || (rest >= 1 && data[pos] == std::byte{0x1f} &&
                                       (rest == 1 || data[pos + 1] == std::byte{0x8b}));
    if (!magic_ok) {
      return fail(ErrorCode::corrupt, pos,
                  member == 0 ? std::string("not gzip data (expected magic bytes 1f 8b)")
                              : "unexpected bytes after gzip member " + std::to_string(member));
    }
    if (rest < 10) {
      return fail(ErrorCode::truncated, pos,
                  "a gzip header needs 10 bytes, only " + std::to_string(rest) + " remain");
    }
    const unsigned method = std::to_integer<unsigned>(data[pos + 2]);
    const unsigned flags = std::to_integer<unsigned>(data[pos + 3]);
    if (method != 8) {
      return fail(ErrorCode::unsupported, pos + 2,
                  "compression method " + std::to_string(method) + " (only 8, deflate, exists)");
    }
    if ((flags & 0xE0u) != 0) {
      return fail(ErrorCode::corrupt, pos + 3,
                  "reserved header flag bits are set (flags " + std::to_string(flags) + ")");
    }
    pos += 10;
    if (flags & 0x04u) {  // FEXTRA
      if (data.size() - pos < 2)
        return fail(ErrorCode::truncated, pos, "input ends in FEXTRA length");
      const std::size_t xlen = load_le16(data, pos);
      pos += 2;
      if (data.size() - pos < xlen) {
        return fail(ErrorCode::truncated, pos,
                    "FEXTRA field of " + std::to_string(xlen) + " bytes runs past the end");
      }
      pos += xlen;
    }
    for (const unsigned flag : {0x08u, 0x10u}) {  // FNAME, FCOMMENT: zero-terminated strings
      if ((flags & flag) == 0) continue;
      while (pos < data.size() && data[pos] != std::byte{0}) ++pos;
      if (pos == data.size()) {
        return fail(ErrorCode::truncated, pos,
                    flag == 0x08u ? "unterminated file name" : "unterminated comment");
      }
      ++pos;
    }
    if (flags & 0x02u) {  // FHCRC: low 16 bits of the CRC-32 of the header so far
      if (data.size() - pos < 2) return fail(ErrorCode::truncated, pos, "input ends in header CRC");
      const std::uint32_t expected = load_le16(data, pos);
      const std::uint32_t actual = crc32(data.subspan(start, pos - start)) & 0xFFFFu;
      if (expected != actual) {
        return fail(ErrorCode::corrupt, pos,
                    "header CRC mismatch (stored " + std::to_string(expected) + ", computed " +
                        std::to_string(actual) + ")");
      }
      pos += 2;
    }

    auto inflated =
        try_inflate_prefix(data.subspan(pos), max_output - out.size(),
                           src + " (deflate data of gzip member " + std::to_string(member + 1) +
                               " starts at byte " + std::to_string(pos) + ")");
    if (!inflated) return inflated.error();
    pos += inflated->consumed;
    if (data.size() - pos < 8) {
      return fail(ErrorCode::truncated, pos,
                  "the 8-byte gzip trailer (CRC-32, length) is missing or cut short");
    }
    const std::uint32_t stored_crc = load_le32(data, pos);
    const std::uint32_t stored_size = load_le32(data, pos + 4);
    const std::uint32_t actual_crc = crc32(inflated->bytes);
    if (stored_crc != actual_crc) {
      return fail(ErrorCode::corrupt, pos,
                  "CRC-32 mismatch in gzip member " + std::to_string(member + 1) + " (stored " +
                      std::to_string(stored_crc) + ", computed " + std::to_string(actual_crc) +
                      ")");
    }
    const auto actual_size = static_cast<std::uint32_t>(inflated->bytes.size());
    if (stored_size != actual_size) {
      return fail(ErrorCode::corrupt, pos + 4,
                  "length mismatch in gzip member " + std::to_string(member + 1) +
                      " (stored size mod 2^32 is " + std::to_string(stored_size) +
                      ", decompressed " + std::to_string(inflated->bytes.size()) + " bytes)");
    }
    pos += 8;
    if (out.empty()) {
      out = std::move(inflated->bytes);
    } else {
      out.insert(out.end(), inflated->bytes.begin(), inflated->bytes.end());
    }
    ++member;
  } while (pos < data.size());
  return out;
}

/// Reads and decompresses a gzip file; see try_gunzip.
inline Expected<std::vector<std::byte>> try_read_gzip_file(
    const std::string& path, std::size_t max_output = default_max_decompressed_size) {
  auto bytes = try_read_file_bytes(path);
  if (!bytes) return bytes.error();
  return try_gunzip(*bytes, path, max_output);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_gunzip.
inline std::vector<std::byte> gunzip(std::span<const std::byte> data,
                                     std::string_view source = "gzip data",
                                     std::size_t max_output = default_max_decompressed_size) {
  return value_or_throw(try_gunzip(data, source, max_output));
}

/// Throwing form of try_read_gzip_file.
inline std::vector<std::byte> read_gzip_file(
    const std::string& path, std::size_t max_output = default_max_decompressed_size) {
  return value_or_throw(try_read_gzip_file(path, max_output));
}
#endif

}  // namespace mote::io
// ----- end mote/io/gzip.hpp -----
// ----- begin mote/io/idx.hpp -----
// The IDX format of MNIST and Fashion-MNIST: a big-endian header (two zero bytes, a type code,
// a dimension count, 32-bit dimensions) followed by the values. Only unsigned bytes (type 0x08)
// are read; gzip-compressed files are decompressed transparently.



namespace mote::io {

/// An IDX array of unsigned bytes: `values` holds the product of `dims` elements in C order.
struct IdxData {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> values;
};

namespace detail {

inline Expected<IdxData> parse_raw_idx(std::span<const std::byte> bytes, const std::string& src) {
  auto fail = [&](ErrorCode code, const std::string& why) {
    return make_error(code, src + ": " + why);
  };
  if (bytes.size() < 4) return fail(ErrorCode::truncated, "shorter than the 4-byte IDX magic");
  if (bytes[0] != std::byte{0} || bytes[1] != std::byte{0}) {
    return fail(ErrorCode::corrupt, "not an IDX file (bytes 0-1 must be zero)");
  }
  const unsigned type = std::to_integer<unsigned>(bytes[2]);
  const std::size_t ndims = std::to_integer<std::size_t>(bytes[3]);
  if (type != 0x08) {
    const bool known = type == 0x09 || type == 0x0B || type == 0x0C || type == 0x0D || type == 0x0E;
    return fail(known ? ErrorCode::unsupported : ErrorCode::corrupt,
                "element type code " + std::to_string(type) + " at byte 2" +
                    (known ? " is not supported (only 8, unsigned byte)" : " is not an IDX type"));
  }
  if (bytes.size() - 4 < 4 * ndims) {
    return fail(ErrorCode::truncated, "input ends inside the " + std::to_string(ndims) +
                                          " dimension sizes that start at byte 4");
  }
  IdxData out;
  out.dims.reserve(ndims);
  std::size_t count = 1;
  for (std::size_t i = 0; i < ndims; ++i) {
    const std::size_t d = detail::load_be32(bytes, 4 + 4 * i);
    if (d != 0 && count > SIZE_MAX / d) return fail(ErrorCode::corrupt, "dimensions overflow");
    count *= d;
    out.dims.push_back(d);
  }
  const std::size_t data_at = 4 + 4 * ndims;
  const std::size_t available = bytes.size() - data_at;
  if (count != available) {
    std::string dims = "[";
    for (std::size_t i = 0; i < ndims; ++i) dims += (i ? ", " : "") + std::to_string(out.dims[i]);
    return fail(count > available ? ErrorCode::truncated : ErrorCode::corrupt,
                "dimensions " + dims + "] need " + std::to_string(count) +
                    " bytes of data after byte " + std::to_string(data_at) + ", found " +
                    std::to_string(available));
  }
  out.values.resize(count);
  if (count != 0) std::memcpy(out.values.data(), bytes.data() + data_at, count);
  return out;
}

}  // namespace detail

/// Parses IDX data held in memory (gzip-compressed or raw); `source` names it in messages.
inline Expected<IdxData> try_parse_idx(std::span<const std::byte> bytes,
                                       std::string_view source = "idx data") {
  const std::string src(source);
  if (!is_gzip(bytes)) return detail::parse_raw_idx(bytes, src);
  // Decompress once only: gzip data can decompress to itself (gzip quines), so recursing on
  // the result could never end.
  auto raw = try_gunzip(bytes, source);
  if (!raw) return raw.error();
  return detail::parse_raw_idx(*raw, src + " (decompressed)");
}

/// Reads an IDX file, gunzipping it first when it starts with the gzip magic.
inline Expected<IdxData> try_read_idx(const std::string& path) {
  auto bytes = try_read_file_bytes(path);
  if (!bytes) return bytes.error();
  return try_parse_idx(*bytes, path);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_parse_idx.
inline IdxData parse_idx(std::span<const std::byte> bytes, std::string_view source = "idx data") {
  return value_or_throw(try_parse_idx(bytes, source));
}

/// Throwing form of try_read_idx.
inline IdxData read_idx(const std::string& path) { return value_or_throw(try_read_idx(path)); }
#endif

}  // namespace mote::io
// ----- end mote/io/idx.hpp -----
// ----- begin mote/io/onnx_tensor.hpp -----
// ONNX TensorProto (onnx/onnx.proto, proto2): the message ONNX uses for initializers, constant
// attributes and the input_N.pb / output_N.pb files of its backend tests.
//
// The elements of a TensorProto arrive either as `raw_data` (fixed-size little-endian elements,
// C order) or in a typed repeated field chosen by the data type: float_data (FLOAT, COMPLEX64),
// int32_data (INT32 and every narrower integer, BOOL, FLOAT16/BFLOAT16/FLOAT8 bit patterns: one
// element per int32), int64_data (INT64), double_data (DOUBLE, COMPLEX128), uint64_data (UINT32,
// UINT64); packed or not. Both forms are decoded to the same thing: TensorProto::bytes, the
// elements little-endian in C order, exactly as raw_data would have held them. Anything that
// does not add up (element count vs dims, two data fields, a field that cannot hold the data
// type, an int32_data value outside its type's range) is ErrorCode::corrupt; string tensors,
// 4-bit types, segments and external data are ErrorCode::unsupported.


// ----- begin mote/io/protobuf.hpp -----
// A reader of the protocol buffers wire format (https://protobuf.dev/programming-guides/encoding/),
// enough to decode ONNX files without libprotobuf or generated code.
//
// A message is a sequence of fields, each a tag (field number and wire type, one varint) followed
// by a payload whose size the wire type determines. `protobuf::Reader` is a cursor over a byte span
// that reads one such piece at a time; the caller knows the schema and decides, field by field,
// what to read and what to skip. Every read is bounds-checked and returns mote::Expected or
// mote::Status: input that ends too early gives ErrorCode::truncated, input that breaks the
// encoding (an 11-byte varint, wire type 7, field number 0, an unmatched group end, a packed run of
// floats whose length is not a multiple of 4) gives ErrorCode::corrupt. Messages name the input
// and the absolute byte offset. Nothing throws and no byte outside the span is touched.



namespace mote::io::protobuf {

/// How a field's payload is encoded (the low 3 bits of its tag).
enum class WireType : std::uint8_t {
  varint = 0,            ///< int32, int64, uint32, uint64, sint*, bool, enum
  fixed64 = 1,           ///< fixed64, sfixed64, double: 8 little-endian bytes
  length_delimited = 2,  ///< string, bytes, embedded messages, packed repeated scalars
  start_group = 3,       ///< proto2 groups (deprecated): fields up to the matching end_group
  end_group = 4,
  fixed32 = 5,  ///< fixed32, sfixed32, float: 4 little-endian bytes
};

/// Name of a wire type as the protobuf documentation spells it ("VARINT", "I32", ...).
inline const char* to_string(WireType wire_type) noexcept {
  switch (wire_type) {
    case WireType::varint: return "VARINT";
    case WireType::fixed64: return "I64";
    case WireType::length_delimited: return "LEN";
    case WireType::start_group: return "SGROUP";
    case WireType::end_group: return "EGROUP";
    case WireType::fixed32: return "I32";
  }
  return "unknown";
}

/// A field's key: its number in the schema and the wire type of the payload that follows.
struct FieldTag {
  std::uint32_t number = 0;
  WireType wire_type = WireType::varint;
};

/// A bounds-checked cursor over one serialized message (or any run of protobuf fields).
///
/// Typical use, for a schema known to the caller:
/// ```
/// protobuf::Reader reader(bytes, "model.onnx");
/// while (!reader.at_end()) {
///   auto tag = reader.read_tag();
///   if (!tag) return tag.error();
///   switch (tag->number) {
///     case 1: /* reader.read_int64(), reader.read_repeated_int64(*tag, "dims", out), ... */ break;
///     case 8: /* reader.read_string() */ break;
///     default: if (Status s = reader.skip_field(*tag); !s) return s.error();
///   }
/// }
/// ```
/// A failed read leaves the cursor where it was. The reader views the bytes it is given, which
/// must outlive it. Cheap to copy (a span, an offset and the name of the input);
/// read_message() returns a reader confined to one embedded message.
class Reader {
 public:
  /// Nesting depth (embedded messages and groups) beyond which input is rejected as corrupt, so
  /// that a recursive caller cannot be driven into a stack overflow. libprotobuf's default.
  static constexpr int max_depth = 100;

  /// A reader of `bytes`. `where` names the input in error messages; `base_offset` is the offset
  /// of `bytes` within that input, so that messages point at the right byte of nested messages.
  explicit Reader(std::span<const std::byte> bytes, std::string where = "protobuf message",
                  std::size_t base_offset = 0, int depth = 0)
      : bytes_(bytes), where_(std::move(where)), base_(base_offset), depth_(depth) {}
  /// A reader only views its input: binding one to a temporary vector would leave it dangling.
  explicit Reader(std::vector<std::byte>&& bytes, std::string where = "protobuf message",
                  std::size_t base_offset = 0, int depth = 0) = delete;

  /// True when every byte has been consumed.
  bool at_end() const noexcept { return pos_ == bytes_.size(); }
  /// Bytes not yet consumed.
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
  /// Offset of the cursor within the whole input (not just this message), for messages.
  std::size_t offset() const noexcept { return base_ + pos_; }
  /// Nesting depth of this reader: 0 for the top-level message.
  int depth() const noexcept { return depth_; }
  /// The name of the input given at construction.
  const std::string& where() const noexcept { return where_; }

  /// A base-128 varint of at most 10 bytes. Fails with ErrorCode::truncated when the input ends
  /// inside it and ErrorCode::corrupt when it does not fit in 64 bits.
  Expected<std::uint64_t> read_varint() {
    std::uint64_t value = 0;
    std::size_t at = pos_;
    for (int i = 0; i < 10; ++i) {
      if (at == bytes_.size())
        return error(ErrorCode::truncated, pos_, "input ends inside a varint");
      const auto byte = std::to_integer<std::uint8_t>(bytes_[at++]);
      // The 10th byte holds bit 63 only; anything more is not a 64-bit value.
      if (i == 9 && byte > 1) return error(ErrorCode::corrupt, pos_, "varint overflows 64 bits");
      value |= static_cast<std::uint64_t>(byte & 0x7Fu) << (7 * i);
      if ((byte & 0x80u) == 0) {
        pos_ = at;
        return value;
      }
    }
    return error(ErrorCode::corrupt, pos_, "varint longer than 10 bytes");
  }

  /// A field key. Fails with ErrorCode::corrupt for field number 0, a key above 32 bits, or wire
  /// types 6 and 7, which do not exist.
  Expected<FieldTag> read_tag() {
    const std::size_t at = pos_;
    auto key = read_varint();
    if (!key) return key.error();
    if (*key > 0xFFFFFFFFu) {
      pos_ = at;
      return error(ErrorCode::corrupt, at,
                   "field key " + std::to_string(*key) + " exceeds 32 bits");
    }
    const auto wire = static_cast<unsigned>(*key & 7u);
    const auto number = static_cast<std::uint32_t>(*key >> 3);
    if (wire > 5) {
      pos_ = at;
      return error(
          ErrorCode::corrupt, at,
          "field " + std::to_string(number) + " has invalid wire type " + std::to_string(wire));
    }
    if (number == 0) {
      pos_ = at;
      return error(ErrorCode::corrupt, at, "field number 0 is not allowed");
    }
    return FieldTag{number, static_cast<WireType>(wire)};
  }

  /// 4 little-endian bytes (wire type I32).
  Expected<std::uint32_t> read_fixed32() {
    if (remaining() < 4)
      return error(ErrorCode::truncated, pos_, "input ends inside a 4-byte value");
    const std::uint32_t value = io::detail::load_le32(bytes_, pos_);
    pos_ += 4;
    return value;
  }

  /// 8 little-endian bytes (wire type I64).
  Expected<std::uint64_t> read_fixed64() {
    if (remaining() < 8)
      return error(ErrorCode::truncated, pos_, "input ends inside an 8-byte value");
    const std::uint64_t value = io::detail::load_le64(bytes_, pos_);
    pos_ += 8;
    return value;
  }

  /// The payload of a length-delimited field (wire type LEN): a varint length, then that many
  /// bytes, returned as a view into the input.
  Expected<std::span<const std::byte>> read_bytes() {
    const std::size_t at = pos_;
    auto length = read_varint();
    if (!length) return length.error();
    if (*length > remaining()) {
      const std::size_t available = remaining();
      pos_ = at;
      return error(ErrorCode::truncated, at,
                   "length-delimited field announces " + std::to_string(*length) + " bytes, only " +
                       std::to_string(available) + " remain");
    }
    const auto payload = bytes_.subspan(pos_, static_cast<std::size_t>(*length));
    pos_ += payload.size();
    return payload;
  }

  /// A length-delimited payload as a string (protobuf `string` or `bytes`). UTF-8 is not checked.
  Expected<std::string> read_string() {
    auto payload = read_bytes();
    if (!payload) return payload.error();
    return std::string(reinterpret_cast<const char*>(payload->data()), payload->size());
  }

  /// An embedded message: a reader confined to the next length-delimited payload, one level
  /// deeper. Fails with ErrorCode::corrupt beyond max_depth.
  Expected<Reader> read_message() {
    if (depth_ >= max_depth) {
      return error(ErrorCode::corrupt, pos_,
                   "messages nested deeper than " + std::to_string(max_depth) + " levels");
    }
    auto payload = read_bytes();
    if (!payload) return payload.error();
    const std::size_t payload_offset = base_ + pos_ - payload->size();
    return Reader(*payload, where_, payload_offset, depth_ + 1);
  }

  /// Scalar fields as protobuf decodes them: int32 and uint32 keep the low 32 bits of the varint
  /// (negative int32 values are sent sign-extended to 10 bytes), bool is any non-zero varint,
  /// float and double are the bits of I32 and I64 payloads.
  Expected<std::int64_t> read_int64() { return map(read_varint(), as_int64); }
  Expected<std::uint64_t> read_uint64() { return read_varint(); }
  Expected<std::int32_t> read_int32() { return map(read_varint(), as_int32); }
  Expected<std::uint32_t> read_uint32() { return map(read_varint(), as_uint32); }
  Expected<bool> read_bool() { return map(read_varint(), as_bool); }
  Expected<float> read_float() { return map(read_fixed32(), as_float); }
  Expected<double> read_double() { return map(read_fixed64(), as_double); }

  /// Skips the payload of the field whose tag was just read, whatever its wire type: the way to
  /// ignore fields the caller does not know. A group is skipped up to its matching end tag; an
  /// end-group tag without a group is ErrorCode::corrupt.
  Status skip_field(FieldTag tag) { return skip_field(tag, depth_); }

  /// Checks that a known field arrived with the wire type its schema implies; the message names
  /// the field as `field_name`.
  Status expect_wire_type(FieldTag tag, WireType expected, std::string_view field_name) const {
    if (tag.wire_type == expected) return {};
    return wire_type_error(tag, std::string(to_string(expected)), field_name);
  }

  /// Reads one occurrence of a repeated scalar field into `out`, which it appends to: either a
  /// single element (wire type `element_wire_type`) or a packed run of them (wire type LEN).
  /// Writers may mix both forms for the same field, as the protobuf specification allows.
  /// `read_one` is called as `read_one(Reader&) -> Expected<T>` for each element.
  template <class T, class ReadOne>
  Status read_repeated(FieldTag tag, WireType element_wire_type, std::string_view field_name,
                       std::vector<T>& out, ReadOne&& read_one) {
    if (tag.wire_type == element_wire_type) {
      auto value = read_one(*this);
      if (!value) return value.error();
      out.push_back(std::move(*value));
      return {};
    }
    if (tag.wire_type != WireType::length_delimited) {
      return wire_type_error(tag, std::string(to_string(element_wire_type)) + " or packed LEN",
                             field_name);
    }
    const std::size_t at = pos_;
    auto packed = read_message();
    if (!packed) return packed.error();
    const std::size_t element_size = element_wire_type == WireType::fixed32   ? 4
                                     : element_wire_type == WireType::fixed64 ? 8
                                                                              : 0;
    if (element_size != 0) {
      if (packed->remaining() % element_size != 0) {
        pos_ = at;
        return error(ErrorCode::corrupt, at,
                     "packed field '" + std::string(field_name) + "' (number " +
                         std::to_string(tag.number) + ") holds " +
                         std::to_string(packed->remaining()) + " bytes, not a multiple of " +
                         std::to_string(element_size));
      }
      out.reserve(out.size() + packed->remaining() / element_size);
    }
    while (!packed->at_end()) {
      auto value = read_one(*packed);
      if (!value) {
        pos_ = at;
        return value.error();
      }
      out.push_back(std::move(*value));
    }
    return {};
  }

  /// read_repeated for the scalar types ONNX uses.
  Status read_repeated_int64(FieldTag tag, std::string_view field_name,
                             std::vector<std::int64_t>& out) {
    return read_repeated(tag, WireType::varint, field_name, out,
                         [](Reader& r) { return r.read_int64(); });
  }
  Status read_repeated_uint64(FieldTag tag, std::string_view field_name,
                              std::vector<std::uint64_t>& out) {
    return read_repeated(tag, WireType::varint, field_name, out,
                         [](Reader& r) { return r.read_uint64(); });
  }
  Status read_repeated_int32(FieldTag tag, std::string_view field_name,
                             std::vector<std::int32_t>& out) {
    return read_repeated(tag, WireType::varint, field_name, out,
                         [](Reader& r) { return r.read_int32(); });
  }
  Status read_repeated_float(FieldTag tag, std::string_view field_name, std::vector<float>& out) {
    return read_repeated(tag, WireType::fixed32, field_name, out,
                         [](Reader& r) { return r.read_float(); });
  }
  Status read_repeated_double(FieldTag tag, std::string_view field_name, std::vector<double>& out) {
    return read_repeated(tag, WireType::fixed64, field_name, out,
                         [](Reader& r) { return r.read_double(); });
  }

  /// An ErrorInfo of `code` naming the input and the absolute offset of `at` (a position in this
  /// reader's span), for callers that find the bytes well-formed but the content wrong.
  ErrorInfo error(ErrorCode code, std::size_t at, const std::string& why) const {
    return make_error(code, where_ + ": byte " + std::to_string(base_ + at) + ": " + why);
  }
  /// error() at the cursor.
  ErrorInfo error_here(ErrorCode code, const std::string& why) const {
    return error(code, pos_, why);
  }

 private:
  static std::int64_t as_int64(std::uint64_t v) noexcept { return static_cast<std::int64_t>(v); }
  static std::int32_t as_int32(std::uint64_t v) noexcept {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  }
  static std::uint32_t as_uint32(std::uint64_t v) noexcept { return static_cast<std::uint32_t>(v); }
  static bool as_bool(std::uint64_t v) noexcept { return v != 0; }
  static float as_float(std::uint32_t bits) noexcept { return std::bit_cast<float>(bits); }
  static double as_double(std::uint64_t bits) noexcept { return std::bit_cast<double>(bits); }

  template <class T, class F>
  static auto map(Expected<T>&& raw, F convert) -> Expected<decltype(convert(std::declval<T>()))> {
    if (!raw) return raw.error();
    return convert(*raw);
  }

  ErrorInfo wire_type_error(FieldTag tag, const std::string& expected,
                            std::string_view field_name) const {
    // The tag has been consumed already; point at the payload that follows it.
    return error(ErrorCode::corrupt, pos_,
                 "field '" + std::string(field_name) + "' (number " + std::to_string(tag.number) +
                     ") has wire type " + to_string(tag.wire_type) + ", expected " + expected);
  }

  Status skip_bytes(std::size_t count, const char* what) {
    if (remaining() < count) {
      return error(ErrorCode::truncated, pos_, std::string("input ends inside ") + what);
    }
    pos_ += count;
    return {};
  }

  Status skip_field(FieldTag tag, int depth) {
    switch (tag.wire_type) {
      case WireType::varint: return read_varint().status();
      case WireType::fixed64: return skip_bytes(8, "an 8-byte value");
      case WireType::fixed32: return skip_bytes(4, "a 4-byte value");
      case WireType::length_delimited: return read_bytes().status();
      case WireType::start_group: return skip_group(tag.number, depth + 1);
      case WireType::end_group:
        return error(ErrorCode::corrupt, pos_,
                     "end of group " + std::to_string(tag.number) + " without a start");
    }
    return error(ErrorCode::corrupt, pos_, "invalid wire type");
  }

  // Skips the fields of a group whose start tag was just read, and its end tag.
  Status skip_group(std::uint32_t number, int depth) {
    const std::size_t start = pos_;
    if (depth > max_depth) {
      return error(ErrorCode::corrupt, start,
                   "groups nested deeper than " + std::to_string(max_depth) + " levels");
    }
    for (;;) {
      if (at_end()) {
        pos_ = start;
        return error(ErrorCode::truncated, start,
                     "input ends inside group " + std::to_string(number));
      }
      auto tag = read_tag();
      if (!tag) {
        pos_ = start;
        return tag.error();
      }
      if (tag->wire_type == WireType::end_group) {
        if (tag->number == number) return {};
        const std::size_t at = pos_;
        pos_ = start;
        return error(ErrorCode::corrupt, at,
                     "group " + std::to_string(number) + " closed by the end of group " +
                         std::to_string(tag->number));
      }
      if (Status skipped = skip_field(*tag, depth); !skipped) {
        pos_ = start;
        return skipped;
      }
    }
  }

  std::span<const std::byte> bytes_;
  std::string where_;
  std::size_t base_ = 0;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace mote::io::protobuf
// ----- end mote/io/protobuf.hpp -----

namespace mote::io::onnx {

/// TensorProto.DataType: the element type of an ONNX tensor, with ONNX's numbering.
enum class DataType : std::int32_t {
  undefined = 0,
  float32 = 1,  ///< FLOAT
  uint8 = 2,
  int8 = 3,
  uint16 = 4,
  int16 = 5,
  int32 = 6,
  int64 = 7,
  string = 8,
  boolean = 9,   ///< BOOL
  float16 = 10,  ///< IEEE binary16
  float64 = 11,  ///< DOUBLE
  uint32 = 12,
  uint64 = 13,
  complex64 = 14,
  complex128 = 15,
  bfloat16 = 16,
  float8e4m3fn = 17,
  float8e4m3fnuz = 18,
  float8e5m2 = 19,
  float8e5m2fnuz = 20,
  uint4 = 21,
  int4 = 22,
  float4e2m1 = 23,
};

/// ONNX's name of a data type ("FLOAT", "UINT8", ...); "data type <n>" for numbers it does not
/// know.
inline std::string to_string(DataType type) {
  switch (type) {
    case DataType::undefined: return "UNDEFINED";
    case DataType::float32: return "FLOAT";
    case DataType::uint8: return "UINT8";
    case DataType::int8: return "INT8";
    case DataType::uint16: return "UINT16";
    case DataType::int16: return "INT16";
    case DataType::int32: return "INT32";
    case DataType::int64: return "INT64";
    case DataType::string: return "STRING";
    case DataType::boolean: return "BOOL";
    case DataType::float16: return "FLOAT16";
    case DataType::float64: return "DOUBLE";
    case DataType::uint32: return "UINT32";
    case DataType::uint64: return "UINT64";
    case DataType::complex64: return "COMPLEX64";
    case DataType::complex128: return "COMPLEX128";
    case DataType::bfloat16: return "BFLOAT16";
    case DataType::float8e4m3fn: return "FLOAT8E4M3FN";
    case DataType::float8e4m3fnuz: return "FLOAT8E4M3FNUZ";
    case DataType::float8e5m2: return "FLOAT8E5M2";
    case DataType::float8e5m2fnuz: return "FLOAT8E5M2FNUZ";
    case DataType::uint4: return "UINT4";
    case DataType::int4: return "INT4";
    case DataType::float4e2m1: return "FLOAT4E2M1";
  }
  return "data type " + std::to_string(static_cast<std::int32_t>(type));
}

/// Bytes per element of the data types mote decodes; 0 for the others (STRING, the 4-bit types,
/// UNDEFINED and numbers ONNX added after this list).
inline std::size_t element_size(DataType type) noexcept {
  switch (type) {
    case DataType::uint8:
    case DataType::int8:
    case DataType::boolean:
    case DataType::float8e4m3fn:
    case DataType::float8e4m3fnuz:
    case DataType::float8e5m2:
    case DataType::float8e5m2fnuz: return 1;
    case DataType::uint16:
    case DataType::int16:
    case DataType::float16:
    case DataType::bfloat16: return 2;
    case DataType::float32:
    case DataType::int32:
    case DataType::uint32: return 4;
    case DataType::int64:
    case DataType::uint64:
    case DataType::float64:
    case DataType::complex64: return 8;
    case DataType::complex128: return 16;
    default: return 0;
  }
}

/// The ONNX data type whose elements are the C++ type T; DataType::undefined when none is.
template <class T>
inline constexpr DataType data_type_of = DataType::undefined;
template <>
inline constexpr DataType data_type_of<float> = DataType::float32;
template <>
inline constexpr DataType data_type_of<double> = DataType::float64;
template <>
inline constexpr DataType data_type_of<std::uint8_t> = DataType::uint8;
template <>
inline constexpr DataType data_type_of<std::int8_t> = DataType::int8;
template <>
inline constexpr DataType data_type_of<std::uint16_t> = DataType::uint16;
template <>
inline constexpr DataType data_type_of<std::int16_t> = DataType::int16;
template <>
inline constexpr DataType data_type_of<std::int32_t> = DataType::int32;
template <>
inline constexpr DataType data_type_of<std::int64_t> = DataType::int64;
template <>
inline constexpr DataType data_type_of<std::uint32_t> = DataType::uint32;
template <>
inline constexpr DataType data_type_of<std::uint64_t> = DataType::uint64;

namespace detail {

// IEEE binary16 to float; exact, as every half value is a float.
inline float half_bits_to_float(std::uint16_t half) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
  const std::uint32_t exponent = (half >> 10) & 0x1Fu;
  std::uint32_t mantissa = half & 0x3FFu;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  if (exponent != 0) {
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }
  if (mantissa == 0) return std::bit_cast<float>(sign);
  // Subnormal half: shift the mantissa up to an implicit leading 1, lowering the exponent.
  std::uint32_t float_exponent = 113;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --float_exponent;
  }
  return std::bit_cast<float>(sign | (float_exponent << 23) | ((mantissa & 0x3FFu) << 13));
}

inline void append_le(std::vector<std::byte>& out, std::uint64_t bits, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) out.push_back(static_cast<std::byte>(bits >> (8 * i)));
}

}  // namespace detail

/// The decoded contents of one ONNX TensorProto.
struct TensorProto {
  std::string name;
  std::vector<std::int64_t> dims;  ///< C order; empty for a scalar; never negative
  DataType data_type = DataType::undefined;
  std::vector<std::byte> bytes;  ///< numel() * element_size() bytes: little-endian, C order

  /// Number of elements: 1 for a scalar, 0 when any dimension is 0.
  std::size_t numel() const noexcept {
    std::size_t n = 1;
    for (std::int64_t d : dims) n *= static_cast<std::size_t>(d);  // checked when decoded
    return n;
  }

  /// Bytes per element.
  std::size_t element_size() const noexcept { return onnx::element_size(data_type); }

  /// The dims as "[1, 3, 224, 224]"; "[]" for a scalar.
  std::string dims_string() const {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) {
      if (i != 0) s += ", ";
      s += std::to_string(dims[i]);
    }
    return s + "]";
  }

  /// "'name' (UINT8 [3])", how messages name this tensor.
  std::string describe() const {
    return "'" + name + "' (" + to_string(data_type) + " " + dims_string() + ")";
  }

  /// The elements as a vector of T, which must be the C++ type of data_type (data_type_of<T>):
  /// float for FLOAT, std::uint8_t for UINT8, ... Another type fails with
  /// ErrorCode::unsupported naming both; nothing is converted. Costs one copy.
  template <class T>
  Expected<std::vector<T>> try_as() const {
    static_assert(data_type_of<T> != DataType::undefined,
                  "TensorProto::as<T> reads float, double and the fixed-width integer types; "
                  "read FLOAT16 and BFLOAT16 with try_to_floats() and other types from bytes");
    if (data_type != data_type_of<T>) {
      return make_error(ErrorCode::unsupported, "tensor " + describe() + " cannot be read as " +
                                                    to_string(data_type_of<T>) + " elements");
    }
    std::vector<T> out(bytes.size() / sizeof(T));
    if constexpr (std::endian::native == std::endian::little) {
      if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    } else {
      using Bits = std::conditional_t<
          sizeof(T) == 1, std::uint8_t,
          std::conditional_t<sizeof(T) == 2, std::uint16_t,
                             std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
      for (std::size_t i = 0; i < out.size(); ++i) {
        Bits bits = 0;
        for (std::size_t b = 0; b < sizeof(T); ++b) {
          bits |= static_cast<Bits>(std::to_integer<Bits>(bytes[i * sizeof(T) + b]) << (8 * b));
        }
        out[i] = std::bit_cast<T>(bits);
      }
    }
    return out;
  }

  /// The elements as floats: FLOAT as is, FLOAT16 and BFLOAT16 widened (exactly). Other types
  /// fail with ErrorCode::unsupported (DOUBLE would round; integers need a scale).
  Expected<std::vector<float>> try_to_floats() const {
    if (data_type == DataType::float32) return try_as<float>();
    if (data_type != DataType::float16 && data_type != DataType::bfloat16) {
      return make_error(ErrorCode::unsupported,
                        "tensor " + describe() +
                            " cannot be read as floats (only FLOAT, FLOAT16 and BFLOAT16 can)");
    }
    std::vector<float> out(bytes.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::uint16_t bits = io::detail::load_le16(bytes, 2 * i);
      out[i] = data_type == DataType::float16
                   ? detail::half_bits_to_float(bits)
                   : std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
    }
    return out;
  }

#if MOTE_HAS_EXCEPTIONS
  /// Throwing form of try_as.
  template <class T>
  std::vector<T> as() const {
    return value_or_throw(try_as<T>());
  }
  /// Throwing form of try_to_floats.
  std::vector<float> to_floats() const { return value_or_throw(try_to_floats()); }
#endif
};

namespace detail {

// TensorProto field numbers (onnx.proto).
enum TensorProtoField : std::uint32_t {
  dims_field = 1,
  data_type_field = 2,
  segment_field = 3,
  float_data_field = 4,
  int32_data_field = 5,
  string_data_field = 6,
  int64_data_field = 7,
  name_field = 8,
  raw_data_field = 9,
  double_data_field = 10,
  uint64_data_field = 11,
  external_data_field = 13,
  data_location_field = 14,
};

// Range of the values one int32_data entry may hold for `type`: the type's own range, or its
// bit patterns for the float types stored there.
struct Int32DataRange {
  std::int64_t min = 0;
  std::int64_t max = -1;  // empty: the field cannot hold this type
};

inline Int32DataRange int32_data_range(DataType type) noexcept {
  switch (type) {
    case DataType::int32: return {INT32_MIN, INT32_MAX};
    case DataType::int16: return {INT16_MIN, INT16_MAX};
    case DataType::int8: return {INT8_MIN, INT8_MAX};
    case DataType::uint16:
    case DataType::float16:
    case DataType::bfloat16: return {0, UINT16_MAX};
    case DataType::uint8:
    case DataType::float8e4m3fn:
    case DataType::float8e4m3fnuz:
    case DataType::float8e5m2:
    case DataType::float8e5m2fnuz: return {0, UINT8_MAX};
    case DataType::boolean: return {0, 1};
    default: return {};
  }
}

// The key/value list of external_data; returns the "location" value (empty when absent).
inline Expected<std::string> read_external_location(protobuf::Reader entry) {
  std::string key;
  std::string value;
  while (!entry.at_end()) {
    auto tag = entry.read_tag();
    if (!tag) return tag.error();
    if ((tag->number == 1 || tag->number == 2) &&
        tag->wire_type == protobuf::WireType::length_delimited) {
      auto text = entry.read_string();
      if (!text) return text.error();
      (tag->number == 1 ? key : value) = std::move(*text);
    } else if (Status skipped = entry.skip_field(*tag); !skipped) {
      return skipped.error();
    }
  }
  return key == "location" ? value : std::string();
}

}  // namespace detail

/// Decodes one TensorProto from the fields `message` holds: a whole .pb file, or an embedded
/// message (e.g. a GraphProto initializer) handed over by protobuf::Reader::read_message().
/// Unknown fields are skipped; see the file comment for what fails and how.
inline Expected<TensorProto> try_read_tensor_proto(protobuf::Reader message) {
  using protobuf::WireType;
  const std::size_t message_offset = message.offset();
  TensorProto tensor;
  std::optional<std::int32_t> data_type;
  std::optional<std::span<const std::byte>> raw_data;
  std::vector<float> float_data;
  std::vector<std::int32_t> int32_data;
  std::vector<std::int64_t> int64_data;
  std::vector<double> double_data;
  std::vector<std::uint64_t> uint64_data;
  std::size_t string_count = 0;
  bool has_segment = false;
  std::int32_t data_location = 0;
  std::optional<std::string> external_location;

  while (!message.at_end()) {
    auto tag = message.read_tag();
    if (!tag) return tag.error();
    Status status;
    switch (tag->number) {
      case detail::dims_field:
        status = message.read_repeated_int64(*tag, "dims", tensor.dims);
        break;
      case detail::data_type_field:
        status = message.expect_wire_type(*tag, WireType::varint, "data_type");
        if (status) {
          auto value = message.read_int32();
          if (!value) return value.error();
          data_type = *value;
        }
        break;
      case detail::float_data_field:
        status = message.read_repeated_float(*tag, "float_data", float_data);
        break;
      case detail::int32_data_field:
        status = message.read_repeated_int32(*tag, "int32_data", int32_data);
        break;
      case detail::int64_data_field:
        status = message.read_repeated_int64(*tag, "int64_data", int64_data);
        break;
      case detail::double_data_field:
        status = message.read_repeated_double(*tag, "double_data", double_data);
        break;
      case detail::uint64_data_field:
        status = message.read_repeated_uint64(*tag, "uint64_data", uint64_data);
        break;
      case detail::name_field:
        status = message.expect_wire_type(*tag, WireType::length_delimited, "name");
        if (status) {
          auto value = message.read_string();
          if (!value) return value.error();
          tensor.name = std::move(*value);
        }
        break;
      case detail::raw_data_field:
        status = message.expect_wire_type(*tag, WireType::length_delimited, "raw_data");
        if (status) {
          auto value = message.read_bytes();
          if (!value) return value.error();
          raw_data = *value;  // proto2: a repeated optional field keeps its last value
        }
        break;
      case detail::string_data_field:
        ++string_count;
        status = message.skip_field(*tag);
        break;
      case detail::segment_field:
        has_segment = true;
        status = message.skip_field(*tag);
        break;
      case detail::data_location_field:
        status = message.expect_wire_type(*tag, WireType::varint, "data_location");
        if (status) {
          auto value = message.read_int32();
          if (!value) return value.error();
          data_location = *value;
        }
        break;
      case detail::external_data_field:
        status = message.expect_wire_type(*tag, WireType::length_delimited, "external_data");
        if (status) {
          auto entry = message.read_message();
          if (!entry) return entry.error();
          auto location = detail::read_external_location(std::move(*entry));
          if (!location) return location.error();
          if (!location->empty() || !external_location) external_location = std::move(*location);
        }
        break;
      default: status = message.skip_field(*tag);
    }
    if (!status) return status.error();
  }

  // Content checks. Messages name the tensor once its name is known, and the message's offset.
  const std::string prefix = message.where() + ": TensorProto '" + tensor.name + "' at byte " +
                             std::to_string(message_offset) + ": ";
  auto fail = [&](ErrorCode code, const std::string& why) {
    return make_error(code, prefix + why);
  };

  if (!data_type || *data_type == 0) return fail(ErrorCode::corrupt, "data_type is missing");
  tensor.data_type = static_cast<DataType>(*data_type);
  const std::string type_name = to_string(tensor.data_type);
  const std::size_t size = element_size(tensor.data_type);
  if (size == 0) {
    return fail(ErrorCode::unsupported,
                type_name + " tensors are not supported (mote reads fixed-size numbers)");
  }
  if (string_count != 0) {
    return fail(ErrorCode::corrupt, "string_data cannot hold " + type_name + " elements");
  }
  if (data_location == 1 || external_location) {
    return fail(ErrorCode::unsupported,
                "the data is stored outside the file (external_data location '" +
                    external_location.value_or("") + "'); mote reads embedded data only");
  }
  if (data_location != 0) {
    return fail(ErrorCode::corrupt, "data_location " + std::to_string(data_location) +
                                        " is neither DEFAULT (0) nor EXTERNAL (1)");
  }
  if (has_segment) {
    return fail(ErrorCode::unsupported, "tensors split into segments are not supported");
  }

  std::size_t numel = 1;
  bool overflow = false;
  for (std::size_t i = 0; i < tensor.dims.size(); ++i) {
    const std::int64_t d = tensor.dims[i];
    if (d < 0) {
      return fail(ErrorCode::corrupt, "dims " + tensor.dims_string() +
                                          " has a negative dimension at index " +
                                          std::to_string(i));
    }
    const auto extent = static_cast<std::uint64_t>(d);
    if (extent > SIZE_MAX || (extent != 0 && numel > SIZE_MAX / extent)) overflow = true;
    numel *= static_cast<std::size_t>(extent);
  }
  if (overflow || numel > SIZE_MAX / size) {
    return fail(ErrorCode::corrupt, "dims " + tensor.dims_string() + " overflow the address space");
  }
  const std::string shape = type_name + " " + tensor.dims_string();

  // Exactly one source of elements (an empty typed field counts as absent, like in protobuf).
  struct Source {
    const char* field;
    std::size_t count;
  };
  const Source sources[] = {
      {"float_data", float_data.size()},   {"int32_data", int32_data.size()},
      {"int64_data", int64_data.size()},   {"double_data", double_data.size()},
      {"uint64_data", uint64_data.size()}, {"raw_data", raw_data ? 1u : 0u}};
  const Source* source = nullptr;
  for (const Source& s : sources) {
    if (s.count == 0) continue;
    if (source != nullptr) {
      return fail(ErrorCode::corrupt, std::string("holds its elements both in ") + source->field +
                                          " and in " + s.field);
    }
    source = &s;
  }
  if (source == nullptr) {
    if (numel != 0) {
      return fail(ErrorCode::corrupt, shape + " has " + std::to_string(numel) +
                                          " elements but no data field holds them");
    }
    return tensor;
  }

  // Each typed field holds its own types, `per_element` values per element (complex: 2).
  auto check_count = [&](std::size_t count, std::size_t per_element) -> Status {
    if (count == numel * per_element) return {};
    return fail(ErrorCode::corrupt, std::string(source->field) + " holds " + std::to_string(count) +
                                        " values, " + shape + " needs " +
                                        std::to_string(numel * per_element));
  };
  auto wrong_field = [&](const char* holds) {
    return fail(ErrorCode::corrupt, std::string(source->field) + " cannot hold " + type_name +
                                        " elements (it holds " + holds + ")");
  };
  const DataType type = tensor.data_type;
  std::vector<std::byte>& out = tensor.bytes;
  if (raw_data) {
    if (raw_data->size() != numel * size) {
      return fail(ErrorCode::corrupt, "raw_data holds " + std::to_string(raw_data->size()) +
                                          " bytes, " + shape + " needs " +
                                          std::to_string(numel * size));
    }
    out.assign(raw_data->begin(), raw_data->end());
  } else if (!float_data.empty()) {
    if (type != DataType::float32 && type != DataType::complex64) {
      return wrong_field("FLOAT and COMPLEX64");
    }
    if (Status s = check_count(float_data.size(), type == DataType::complex64 ? 2 : 1); !s) {
      return s.error();
    }
    out.reserve(float_data.size() * 4);
    for (float v : float_data) detail::append_le(out, std::bit_cast<std::uint32_t>(v), 4);
  } else if (!double_data.empty()) {
    if (type != DataType::float64 && type != DataType::complex128) {
      return wrong_field("DOUBLE and COMPLEX128");
    }
    if (Status s = check_count(double_data.size(), type == DataType::complex128 ? 2 : 1); !s) {
      return s.error();
    }
    out.reserve(double_data.size() * 8);
    for (double v : double_data) detail::append_le(out, std::bit_cast<std::uint64_t>(v), 8);
  } else if (!int64_data.empty()) {
    if (type != DataType::int64) return wrong_field("INT64");
    if (Status s = check_count(int64_data.size(), 1); !s) return s.error();
    out.reserve(int64_data.size() * 8);
    for (std::int64_t v : int64_data) detail::append_le(out, static_cast<std::uint64_t>(v), 8);
  } else if (!uint64_data.empty()) {
    if (type != DataType::uint64 && type != DataType::uint32) {
      return wrong_field("UINT32 and UINT64");
    }
    if (Status s = check_count(uint64_data.size(), 1); !s) return s.error();
    out.reserve(uint64_data.size() * size);
    for (std::size_t i = 0; i < uint64_data.size(); ++i) {
      if (type == DataType::uint32 && uint64_data[i] > UINT32_MAX) {
        return fail(ErrorCode::corrupt, "uint64_data[" + std::to_string(i) +
                                            "] = " + std::to_string(uint64_data[i]) +
                                            " is outside the range of UINT32");
      }
      detail::append_le(out, uint64_data[i], size);
    }
  } else {
    const detail::Int32DataRange range = detail::int32_data_range(type);
    if (range.min > range.max) {
      return wrong_field(
          "INT32, INT16, INT8, UINT16, UINT8, BOOL and the bits of FLOAT16, "
          "BFLOAT16 and FLOAT8 types");
    }
    if (Status s = check_count(int32_data.size(), 1); !s) return s.error();
    out.reserve(int32_data.size() * size);
    for (std::size_t i = 0; i < int32_data.size(); ++i) {
      const std::int32_t v = int32_data[i];
      if (v < range.min || v > range.max) {
        return fail(ErrorCode::corrupt,
                    "int32_data[" + std::to_string(i) + "] = " + std::to_string(v) +
                        " is outside the range of " + type_name + " [" + std::to_string(range.min) +
                        ", " + std::to_string(range.max) + "]");
      }
      // Two's complement truncation keeps the low `size` bytes, i.e. the value itself.
      detail::append_le(out, static_cast<std::uint64_t>(static_cast<std::uint32_t>(v)), size);
    }
  }
  return tensor;
}

/// Decodes a serialized TensorProto held in `bytes` (e.g. the contents of an ONNX test's
/// input_0.pb); `where` names it in messages.
inline Expected<TensorProto> try_read_tensor_proto(std::span<const std::byte> bytes,
                                                   std::string where = "TensorProto") {
  return try_read_tensor_proto(protobuf::Reader(bytes, std::move(where)));
}

/// Reads and decodes a file holding one serialized TensorProto.
inline Expected<TensorProto> try_read_tensor_proto_file(const std::string& path) {
  auto bytes = try_read_file_bytes(path);
  if (!bytes) return bytes.error();
  return try_read_tensor_proto(*bytes, path);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_read_tensor_proto.
inline TensorProto read_tensor_proto(std::span<const std::byte> bytes,
                                     std::string where = "TensorProto") {
  return value_or_throw(try_read_tensor_proto(bytes, std::move(where)));
}

/// Throwing form of try_read_tensor_proto_file.
inline TensorProto read_tensor_proto_file(const std::string& path) {
  return value_or_throw(try_read_tensor_proto_file(path));
}
#endif

}  // namespace mote::io::onnx
// ----- end mote/io/onnx_tensor.hpp -----
// ----- end mote/io.hpp -----
// ----- end mote/mote.hpp -----
