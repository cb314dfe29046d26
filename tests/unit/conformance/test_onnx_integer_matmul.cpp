// Conformance of mote's int8 dense kernels with the ONNX backend node tests of MatMulInteger
// and QLinearMatMul (Debian libonnx-testdata), on the scalar reference, every SIMD ISA this CPU
// supports and isa::Dynamic (which honours MOTE_FORCE_ISA).
//
// Method: exact integer arithmetic through the real kernels. MatMulInteger is
// Y[m, n] = sum_k (A[m, k] - a_zp)(B[k, n] - b_zp) in int32. mote's kernel computes, per output
// row r of its weights, acc_r = sum_k (w_rk - zw_r)(u_k - zu) exactly in integers and returns
// fma(float(acc_r), input_scale * weight_scale_r, bias_r). So:
//  * weights = B transposed (N rows x K columns); uint8 B is stored as the int8 codes B - 128 with
//    zero point b_zp - 128 (differences unchanged); int8 B as is. Scale 1, so the format is
//    Int8<PerChannel, Asymmetric> (one zero point per column of B, a scalar one repeated) and,
//    when b_zp is one number, also Int8<PerTensor, Asymmetric>.
//  * each row A[m, :] is one sample, in the kernel's unsigned code domain u (A itself for uint8,
//    A + 128 for int8, zero point likewise). The kernel quantises float inputs with
//    mote::quantize(x) = round(x / scale) + zero point, so a sample is fed as the floats
//    x = u - a_zp (exact small integers) with Int8InputQuant{{1, a_zp}, 0, 255}: the codes the
//    kernel multiplies are then exactly u. Bias 0.
//  * the output fma(float(acc), 1, 0) is float(acc), exact because |acc| < 2^24 in every test
//    here (REQUIREd below; the largest |acc| of these tests is 31402).
// The kernels run once with batch M (the batched GEMM path; one call per run of rows sharing
// a zero point, i.e. all M rows when a_zp is a scalar, as in the data) and once per row with
// batch 1 (GEMV). The accumulators must equal an independent int64 evaluation of the ONNX
// definition and, for MatMulInteger, output_0 exactly.
//
// QLinearMatMul: y = saturate(round(acc * a_scale * b_scale / y_scale) + y_zp). acc as above,
// then mote::requantize(acc, make_fixed_point_multiplier(double(a_scale) * double(b_scale) /
// double(y_scale)), y_zp, code range of y's type): gemmlowp/TFLite fixed point, rounding half
// away from zero, where ONNX rounds half to even. The two can differ by one code only on an
// exact tie; no output of these tests is near one (the scaled values are at least 0.0546 away
// from a half-integer; checked below to be over 0.01), so every code is compared exactly. The 3-D test batches
// over the leading dimension (one weight matrix per batch index, or one shared when b is 2-D).

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../kernels/kernel_test_support.hpp"
#include "mote/io/onnx_tensor.hpp"
#include "mote/mote.hpp"
#include "integer_codes.hpp"
#include "onnx_node_test.hpp"

using mote::io::onnx::DataType;
using mote::io::onnx::TensorProto;
using mote::kernels::Int8InputQuant;
using mote_onnx_test::Codes;
using mote_onnx_test::exact_float_limit;
using mote_onnx_test::load_node_test;
using mote_onnx_test::read_codes;
using mote_onnx_test::read_scales;
using mote_onnx_test::zero_codes;
using mote_onnx_test::NodeTest;

namespace {

/// One 2-D product (A - a_zp)(B - b_zp), M x K times K x N, in the kernel's domains.
struct IntegerMatMul {
  std::size_t m = 0, k = 0, n = 0;
  std::vector<std::int32_t> a_u;     ///< M x K codes in [0, 255]
  std::vector<std::int32_t> a_zp_u;  ///< M entries (a scalar zero point repeated)
  std::vector<std::int8_t> w;        ///< N x K: B transposed, as int8 codes
  std::vector<std::int32_t> w_zp;    ///< N entries, int8 domain
  bool per_tensor_b = true;          ///< one zero point for all of B
  std::vector<std::int64_t> exact;   ///< M x N: the ONNX definition evaluated in int64
};

/// Builds the product of a[a_offset ..] (M x K) and b[b_offset ..] (K x N). a_zp holds one
/// entry or M (per row of A), b_zp one or N (per column of B).
IntegerMatMul make_problem(const Codes& a, std::size_t a_offset, const Codes& a_zp, const Codes& b,
                           std::size_t b_offset, const Codes& b_zp, std::size_t m, std::size_t k,
                           std::size_t n) {
  REQUIRE(a_zp.is_signed == a.is_signed);
  REQUIRE(b_zp.is_signed == b.is_signed);
  REQUIRE((a_zp.values.size() == 1 || a_zp.values.size() == m));
  REQUIRE((b_zp.values.size() == 1 || b_zp.values.size() == n));
  REQUIRE(a.values.size() >= a_offset + m * k);
  REQUIRE(b.values.size() >= b_offset + k * n);
  IntegerMatMul p;
  p.m = m;
  p.k = k;
  p.n = n;
  const std::int32_t a_shift = a.is_signed ? 128 : 0;   // to u in [0, 255]
  const std::int32_t b_shift = b.is_signed ? 0 : -128;  // to int8 codes
  for (std::size_t i = 0; i < m * k; ++i) p.a_u.push_back(a.values[a_offset + i] + a_shift);
  for (std::size_t r = 0; r < m; ++r) {
    p.a_zp_u.push_back(a_zp.values[a_zp.values.size() == 1 ? 0 : r] + a_shift);
  }
  for (std::size_t c = 0; c < n; ++c) {
    for (std::size_t i = 0; i < k; ++i) {
      p.w.push_back(static_cast<std::int8_t>(b.values[b_offset + i * n + c] + b_shift));
    }
    p.w_zp.push_back(b_zp.values[b_zp.values.size() == 1 ? 0 : c] + b_shift);
  }
  p.per_tensor_b = b_zp.values.size() == 1;
  // The definition, from the operands as given (not from the shifted codes).
  for (std::size_t r = 0; r < m; ++r) {
    const std::int64_t za = a_zp.values[a_zp.values.size() == 1 ? 0 : r];
    for (std::size_t c = 0; c < n; ++c) {
      const std::int64_t zb = b_zp.values[b_zp.values.size() == 1 ? 0 : c];
      std::int64_t sum = 0;
      for (std::size_t i = 0; i < k; ++i) {
        sum += (a.values[a_offset + r * k + i] - za) * (b.values[b_offset + i * n + c] - zb);
      }
      INFO("accumulator (" << r << ", " << c << ") = " << sum);
      REQUIRE(std::llabs(sum) < exact_float_limit);  // float(acc) is exact
      p.exact.push_back(sum);
    }
  }
  return p;
}

/// The M x N accumulators of `p` computed by mote's int8 dense kernel of ISA `tag`, with
/// weights in `Format`: batched (one call for each run of rows sharing a zero point) or one
/// call per row.
template <class Format, class Tag>
std::vector<std::int64_t> kernel_product(Tag tag, const IntegerMatMul& p, bool batched) {
  mote::WeightMatrix<Format, mote::DenseStorage> weights(p.n, p.k);
  std::vector<mote::QuantParams> params;
  if constexpr (Format::per_channel) {
    for (std::int32_t zp : p.w_zp) params.push_back(mote::QuantParams{1.0f, zp});
  } else {
    REQUIRE(p.per_tensor_b);
    params.push_back(mote::QuantParams{1.0f, p.w_zp[0]});
  }
  const mote::Status assigned =
      weights.try_assign_quantized(p.w.data(), params.data(), params.size(), "B");
  if (!assigned) FAIL(assigned.message());

  std::vector<float> x(p.m * p.k);
  for (std::size_t r = 0; r < p.m; ++r) {
    for (std::size_t i = 0; i < p.k; ++i) {
      x[r * p.k + i] = static_cast<float>(p.a_u[r * p.k + i] - p.a_zp_u[r]);
    }
  }
  const std::vector<float> bias(p.n, 0.0f);
  std::vector<float> y(p.m * p.n, std::numeric_limits<float>::quiet_NaN());
  const std::size_t per_sample =
      std::max(mote::kernels::int8_dense_scratch_bytes(weights.padded_rows(), weights.padded_cols()),
               mote::kernels::int8_dense_reference_scratch_bytes(weights.padded_rows(),
                                                                  weights.padded_cols()));
  mote::AlignedBuffer<std::byte> scratch(p.m * per_sample);
  for (std::size_t first = 0; first < p.m;) {
    std::size_t count = 1;
    while (batched && first + count < p.m && p.a_zp_u[first + count] == p.a_zp_u[first]) ++count;
    const Int8InputQuant quant{mote::QuantParams{1.0f, p.a_zp_u[first]}, 0, 255};
    mote::kernels::dense_int8(tag, weights, bias.data(), x.data() + first * p.k,
                              y.data() + first * p.n, count, quant, mote::activation::Identity{},
                              scratch.data());
    first += count;
  }

  std::vector<std::int64_t> acc(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    INFO("kernel output " << i << " = " << y[i]);
    REQUIRE(std::isfinite(y[i]));
    REQUIRE(std::fabs(y[i]) < static_cast<float>(exact_float_limit));
    REQUIRE(y[i] == std::trunc(y[i]));
    acc[i] = static_cast<std::int64_t>(y[i]);
  }
  return acc;
}

/// Calls check(accumulators, label) with the product computed by every ISA (scalar reference,
/// each SIMD ISA of this CPU, isa::Dynamic), weight format and batching.
template <class Check>
void for_each_kernel_product(const IntegerMatMul& p, Check&& check) {
  std::size_t isas = 0;
  auto run = [&](auto tag, const std::string& isa) {
    ++isas;
    for (bool batched : {true, false}) {
      std::string label = isa;
      label += batched ? ", batch M" : ", batch 1 per row";
      check(kernel_product<mote::Int8<mote::PerChannel, mote::Asymmetric>>(tag, p, batched),
            label + ", per-channel weights");
      if (p.per_tensor_b) {
        check(kernel_product<mote::Int8<mote::PerTensor, mote::Asymmetric>>(tag, p, batched),
              label + ", per-tensor weights");
      }
    }
  };
  run(mote::isa::Scalar{}, "scalar reference");
  mote_test::for_each_simd_isa(run);
  std::string dynamic = "isa::Dynamic (";
  dynamic += mote::arch::to_string(mote::arch::selected_isa());
  dynamic += ")";
  run(mote::isa::Dynamic{}, dynamic);
  CHECK(isas >= 2);
}

void check_matmul_integer(const std::string& test_name) {
  const NodeTest test = load_node_test(test_name);
  REQUIRE(test.node().op_type == "MatMulInteger");
  const TensorProto* a = test.operator_input(0);
  const TensorProto* b = test.operator_input(1);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  REQUIRE(a->dims.size() == 2);  // the data's case; N-D MatMulInteger would batch as below
  REQUIRE(b->dims.size() == 2);
  const auto m = static_cast<std::size_t>(a->dims[0]);
  const auto k = static_cast<std::size_t>(a->dims[1]);
  const auto n = static_cast<std::size_t>(b->dims[1]);
  REQUIRE(static_cast<std::size_t>(b->dims[0]) == k);
  const Codes a_codes = read_codes(*a);
  const Codes b_codes = read_codes(*b);
  const Codes a_zp = test.operator_input(2) != nullptr ? read_codes(*test.operator_input(2))
                                                       : zero_codes(a_codes);
  const Codes b_zp = test.operator_input(3) != nullptr ? read_codes(*test.operator_input(3))
                                                       : zero_codes(b_codes);
  const TensorProto& y = test.operator_output(0);
  REQUIRE(y.data_type == DataType::int32);
  REQUIRE(y.dims == std::vector<std::int64_t>{a->dims[0], b->dims[1]});
  const std::vector<std::int32_t> expected = y.as<std::int32_t>();

  const IntegerMatMul p = make_problem(a_codes, 0, a_zp, b_codes, 0, b_zp, m, k, n);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(test_name << ": the int64 definition at " << i);
    REQUIRE(p.exact[i] == expected[i]);
  }
  for_each_kernel_product(p, [&](const std::vector<std::int64_t>& acc, const std::string& label) {
    for (std::size_t i = 0; i < expected.size(); ++i) {
      INFO(test_name << ", " << label << ": Y[" << i / n << ", " << i % n << "]");
      CHECK(acc[i] == expected[i]);
    }
  });
}

/// Leading (batch) element count of a tensor of rank >= 2.
std::size_t leading_count(const std::vector<std::int64_t>& dims) {
  std::size_t count = 1;
  for (std::size_t d = 0; d + 2 < dims.size(); ++d) count *= static_cast<std::size_t>(dims[d]);
  return count;
}

void check_qlinear_matmul(const std::string& test_name) {
  const NodeTest test = load_node_test(test_name);
  REQUIRE(test.node().op_type == "QLinearMatMul");
  for (std::size_t position = 0; position < 8; ++position) {
    REQUIRE(test.operator_input(position) != nullptr);  // all eight inputs are required
  }
  const TensorProto& a = *test.operator_input(0);
  const TensorProto& b = *test.operator_input(3);
  REQUIRE(a.dims.size() >= 2);
  REQUIRE(b.dims.size() >= 2);
  const auto m = static_cast<std::size_t>(a.dims[a.dims.size() - 2]);
  const auto k = static_cast<std::size_t>(a.dims[a.dims.size() - 1]);
  const auto n = static_cast<std::size_t>(b.dims[b.dims.size() - 1]);
  REQUIRE(static_cast<std::size_t>(b.dims[b.dims.size() - 2]) == k);
  // Batch dimensions: equal, or one operand 2-D (broadcast over the other's).
  const std::size_t a_batches = leading_count(a.dims);
  const std::size_t b_batches = leading_count(b.dims);
  std::vector<std::int64_t> out_dims = a.dims.size() >= b.dims.size() ? a.dims : b.dims;
  if (a.dims.size() > 2 && b.dims.size() > 2) {
    REQUIRE(std::equal(a.dims.begin(), a.dims.end() - 2, b.dims.begin(), b.dims.end() - 2));
  }
  out_dims[out_dims.size() - 2] = static_cast<std::int64_t>(m);
  out_dims[out_dims.size() - 1] = static_cast<std::int64_t>(n);
  const std::size_t batches = std::max(a_batches, b_batches);

  const Codes a_codes = read_codes(a);
  const Codes b_codes = read_codes(b);
  const std::vector<float> a_scale = read_scales(*test.operator_input(1), m);
  const Codes a_zp = read_codes(*test.operator_input(2));
  const std::vector<float> b_scale = read_scales(*test.operator_input(4), n);
  const Codes b_zp = read_codes(*test.operator_input(5));
  const std::vector<float> y_scale = read_scales(*test.operator_input(6), 1);
  const TensorProto& y_zp_tensor = *test.operator_input(7);
  const Codes y_zp = read_codes(y_zp_tensor);
  REQUIRE(y_zp.values.size() == 1);
  const std::int32_t low = y_zp.is_signed ? -128 : 0;
  const std::int32_t high = y_zp.is_signed ? 127 : 255;

  const TensorProto& y = test.operator_output(0);
  REQUIRE(y.data_type == y_zp_tensor.data_type);
  REQUIRE(y.dims == out_dims);
  const Codes expected = read_codes(y);
  REQUIRE(expected.values.size() == batches * m * n);

  double nearest_tie = std::numeric_limits<double>::infinity();
  for (std::size_t batch = 0; batch < batches; ++batch) {
    const std::size_t a_offset = (a_batches == 1 ? 0 : batch) * m * k;
    const std::size_t b_offset = (b_batches == 1 ? 0 : batch) * k * n;
    const IntegerMatMul p = make_problem(a_codes, a_offset, a_zp, b_codes, b_offset, b_zp, m, k, n);

    // Requantisation parameters of each output, and the distance of the exactly scaled value
    // from a rounding tie (where gemmlowp and ONNX may round differently).
    std::vector<mote::FixedPointMultiplier> multipliers(m * n);
    for (std::size_t r = 0; r < m; ++r) {
      for (std::size_t c = 0; c < n; ++c) {
        const double real = static_cast<double>(a_scale[a_scale.size() == 1 ? 0 : r]) *
                            static_cast<double>(b_scale[b_scale.size() == 1 ? 0 : c]) /
                            static_cast<double>(y_scale[0]);
        multipliers[r * n + c] = mote::make_fixed_point_multiplier(real);
        const double scaled = static_cast<double>(p.exact[r * n + c]) * real;
        nearest_tie = std::min(nearest_tie, std::fabs(scaled - std::floor(scaled) - 0.5));
      }
    }
    const std::int32_t* expected_batch = expected.values.data() + batch * m * n;
    for_each_kernel_product(p, [&](const std::vector<std::int64_t>& acc, const std::string& label) {
      for (std::size_t i = 0; i < m * n; ++i) {
        INFO(test_name << ", " << label << ": batch " << batch << ", y[" << i / n << ", " << i % n
                       << "], accumulator " << acc[i] << " (definition " << p.exact[i] << ")");
        REQUIRE(acc[i] == p.exact[i]);
        const std::int32_t code =
            mote::requantize(static_cast<std::int32_t>(acc[i]), multipliers[i], y_zp.values[0], low, high);
        CHECK(code == expected_batch[i]);
      }
    });
  }
  // The exact comparison above holds without a tie allowance: no output is near a tie.
  INFO(test_name << ": nearest distance of acc * a_scale * b_scale / y_scale to a half-integer: "
                 << nearest_tie);
  CHECK(nearest_tie > 0.01);
}

}  // namespace

// The data of the node tests is all UINT8 with one zero point per operand; this covers the
// other forms the operators allow with the same mapping: INT8 A (u = a + 128) and B (codes as
// is), a zero point per row of A (separate kernel calls) and per column of B (per-channel
// weights), and extreme codes, against the int64 definition.
TEST_CASE("ONNX integer matmul mapping: int8 operands and per-row/per-column zero points",
          "[onnx][int8]") {
  const std::size_t m = 5, k = 7, n = 19;  // N > 16: two weight panels
  for (bool a_signed : {false, true}) {
    for (bool b_signed : {false, true}) {
      for (bool vector_zero_points : {false, true}) {
        const std::int32_t a_low = a_signed ? -128 : 0, b_low = b_signed ? -128 : 0;
        Codes a{{}, a_signed}, b{{}, b_signed}, a_zp{{}, a_signed}, b_zp{{}, b_signed};
        for (std::size_t i = 0; i < m * k; ++i) {
          a.values.push_back(a_low + static_cast<std::int32_t>((i * 97 + 13) % 256));
        }
        for (std::size_t i = 0; i < k * n; ++i) {
          b.values.push_back(b_low + static_cast<std::int32_t>((i * 61 + 200) % 256));
        }
        b.values[0] = b_low;  // the extreme codes
        b.values[1] = b_low + 255;
        for (std::size_t r = 0; r < (vector_zero_points ? m : 1); ++r) {
          a_zp.values.push_back(a_low + static_cast<std::int32_t>((r * 53 + 7) % 256));
        }
        for (std::size_t c = 0; c < (vector_zero_points ? n : 1); ++c) {
          b_zp.values.push_back(b_low + static_cast<std::int32_t>((c * 31 + 250) % 256));
        }
        const IntegerMatMul p = make_problem(a, 0, a_zp, b, 0, b_zp, m, k, n);
        for_each_kernel_product(p, [&](const std::vector<std::int64_t>& acc, const std::string& label) {
          INFO(label << ": A " << (a_signed ? "INT8" : "UINT8") << ", B " << (b_signed ? "INT8" : "UINT8")
                     << (vector_zero_points ? ", per-row/per-column zero points" : ""));
          CHECK(acc == p.exact);
        });
      }
    }
  }
}

TEST_CASE("ONNX MatMulInteger node test through the int8 dense kernels", "[onnx][int8]") {
  check_matmul_integer("test_matmulinteger");
}

TEST_CASE("ONNX QLinearMatMul node tests through the int8 dense kernels", "[onnx][int8]") {
  SECTION("test_qlinearmatmul_2D") { check_qlinear_matmul("test_qlinearmatmul_2D"); }
  SECTION("test_qlinearmatmul_3D") { check_qlinear_matmul("test_qlinearmatmul_3D"); }
}
