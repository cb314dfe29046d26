// Eigen 3.4: fixed-size matrices for the small MLPs (W1, W2), dynamic for W3, and, as Eigen has
// no convolution, im2col + GEMM for W4, array expressions for W5's depthwise layer and a GEMM for
// its pointwise layer. Bias and activation are separate Eigen expressions (Eigen fuses nothing
// into a product). Single-threaded: the bench is not built with OpenMP, and setNbThreads(1).

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false "iteration ... invokes undefined behavior" in Eigen's GEMV loops.
#pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"
#endif

#include <Eigen/Core>
#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>

#include "harness.hpp"

namespace mote_bench {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Array = Eigen::ArrayXXf;  // column-major: one column per pixel = channels-last
template <int Rows, int Cols>
using FixedRowMatrix = Eigen::Matrix<float, Rows, Cols, Eigen::RowMajor>;
template <int N>
using FixedVector = Eigen::Matrix<float, N, 1>;

/// A Linear layer of fixed size: W [Out, In] row-major, as PyTorch stores it. Eigen refuses
/// fixed-size objects over 128 KiB (W1's first layer), which are then Maps of fixed size over an
/// aligned heap buffer.
template <int In, int Out>
class FixedDense {
  using Weight = FixedRowMatrix<Out, In>;
  static constexpr bool inline_storage = Out * In * sizeof(float) <= EIGEN_STACK_ALLOCATION_LIMIT;
  using Storage = std::conditional_t<inline_storage, Weight, Eigen::VectorXf>;

 public:
  explicit FixedDense(const WeightedLayer& layer)
      : weight_(load(layer.weight.values.data())),
        bias_(Eigen::Map<const FixedVector<Out>>(layer.bias.values.data())) {}
  decltype(auto) weight() const {
    if constexpr (inline_storage)
      return (weight_);
    else
      return Eigen::Map<const Weight, Eigen::AlignedMax>(weight_.data());
  }
  const FixedVector<Out>& bias() const { return bias_; }

 private:
  static Storage load(const float* values) {
    if constexpr (inline_storage)
      return Eigen::Map<const Weight>(values);
    else
      return Eigen::Map<const Eigen::VectorXf>(values, Out * In);
  }
  Storage weight_;
  FixedVector<Out> bias_;
};

/// MLPs In-H1-H2-Out with fixed sizes throughout (the runner lives on the heap).
template <int In, int H1, int H2, int Out, bool Tanh>
class MlpRunner final : public Runner {
 public:
  explicit MlpRunner(const Workload& w)
      : l1_(w.layers[0]),
        l2_(w.layers[1]),
        l3_(w.layers[2]),
        x_(Eigen::Map<const FixedVector<In>>(w.input.data())) {}
  void run() override {
    h1_.noalias() = l1_.weight() * x_;
    activate(h1_, l1_.bias());
    h2_.noalias() = l2_.weight() * h1_;
    activate(h2_, l2_.bias());
    y_.noalias() = l3_.weight() * h2_;
    y_ += l3_.bias();
  }
  std::span<const float> output() const override {
    return {y_.data(), static_cast<std::size_t>(Out)};
  }

 private:
  template <int N>
  static void activate(FixedVector<N>& h, const FixedVector<N>& bias) {
    if constexpr (Tanh)
      h = (h + bias).array().tanh().matrix();
    else
      h = (h + bias).cwiseMax(0.0f);
  }
  FixedDense<In, H1> l1_;
  FixedDense<H1, H2> l2_;
  FixedDense<H2, Out> l3_;
  FixedVector<In> x_;
  FixedVector<H1> h1_;
  FixedVector<H2> h2_;
  FixedVector<Out> y_;
};

/// W3: Y = W X + b with X one column per batch element (dynamic sizes; GEMV for batch 1).
class DenseRunner final : public Runner {
 public:
  explicit DenseRunner(const Workload& w) {
    const WeightedLayer& layer = w.layers[0];
    const auto out = static_cast<Eigen::Index>(layer.weight.shape[0]);
    const auto in = static_cast<Eigen::Index>(layer.weight.shape[1]);
    const auto batch = static_cast<Eigen::Index>(w.batch);
    weight_ = Eigen::Map<const RowMatrix>(layer.weight.values.data(), out, in);
    bias_ = Eigen::Map<const Eigen::VectorXf>(layer.bias.values.data(), out);
    x_ = Eigen::Map<const Eigen::MatrixXf>(w.input.data(), in, batch);
    y_.resize(out, batch);
  }
  void run() override {
    y_.noalias() = weight_ * x_;
    y_.colwise() += bias_;
  }
  std::span<const float> output() const override {
    return {y_.data(), static_cast<std::size_t>(y_.size())};
  }

 private:
  RowMatrix weight_;
  Eigen::VectorXf bias_;
  Eigen::MatrixXf x_, y_;
};

/// Conv2d weight [O, I, k, k] as the GEMM right-hand side [(ky, kx, i), O].
RowMatrix conv_gemm_weight(const Param& weight) {
  const auto rows = static_cast<Eigen::Index>(weight.shape[0]);
  const auto cols = static_cast<Eigen::Index>(weight.values.size() / weight.shape[0]);
  const std::vector<float> ohwi = conv_weight_ohwi(weight);
  return Eigen::Map<const RowMatrix>(ohwi.data(), rows, cols).transpose();
}
Eigen::RowVectorXf row_vector(const Param& p) {
  return Eigen::Map<const Eigen::RowVectorXf>(p.values.data(),
                                              static_cast<Eigen::Index>(p.values.size()));
}

/// im2col for a k x k, stride 1, 'same' (zero) padded convolution of an h x w x c map: one row
/// per output pixel, columns in (ky, kx, channel) order.
void im2col(const RowMatrix& in, Eigen::Index h, Eigen::Index w, Eigen::Index k,
            RowMatrix& patches) {
  const Eigen::Index c = in.cols(), pad = k / 2;
  for (Eigen::Index y = 0; y < h; ++y)
    for (Eigen::Index x = 0; x < w; ++x) {
      float* row = patches.row(y * w + x).data();
      for (Eigen::Index ky = 0; ky < k; ++ky)
        for (Eigen::Index kx = 0; kx < k; ++kx, row += c) {
          const Eigen::Index iy = y + ky - pad, ix = x + kx - pad;
          if (iy < 0 || iy >= h || ix < 0 || ix >= w)
            std::fill(row, row + c, 0.0f);
          else
            std::copy_n(in.row(iy * w + ix).data(), c, row);
        }
    }
}

/// 2x2 stride-2 max pooling of an h x w map (rows = pixels, columns = channels).
void max_pool2(const RowMatrix& in, Eigen::Index h, Eigen::Index w, RowMatrix& out) {
  const Eigen::Index c = in.cols(), ow = w / 2;
  using Strided = Eigen::Map<const Array, 0, Eigen::OuterStride<>>;  // every other pixel of a row
  for (Eigen::Index oy = 0; oy < h / 2; ++oy) {
    const float* top = in.row(2 * oy * w).data();
    const float* bottom = in.row((2 * oy + 1) * w).data();
    const Eigen::OuterStride<> two(2 * c);
    Eigen::Map<Array>(out.row(oy * ow).data(), c, ow) =
        Strided(top, c, ow, two)
            .max(Strided(top + c, c, ow, two))
            .max(Strided(bottom, c, ow, two).max(Strided(bottom + c, c, ow, two)));
  }
}

/// W4: conv (im2col + GEMM) + ReLU, pool, conv + ReLU, pool, Linear.
class CnnRunner final : public Runner {
 public:
  explicit CnnRunner(const Workload& w)
      : input_(Eigen::Map<const RowMatrix>(w.input.data(), 28 * 28, 1)),
        k1_(conv_gemm_weight(w.layers[0].weight)),
        b1_(row_vector(w.layers[0].bias)),
        k2_(conv_gemm_weight(w.layers[1].weight)),
        b2_(row_vector(w.layers[1].bias)),
        patches1_(28 * 28, 9),
        conv1_(28 * 28, 16),
        pool1_(14 * 14, 16),
        patches2_(14 * 14, 9 * 16),
        conv2_(14 * 14, 32),
        pool2_(7 * 7, 32) {
    // The Linear layer's columns follow PyTorch's (C, H, W) flatten; ours is (H, W, C).
    const std::vector<float> hwc = dense_weight_hwc_columns(w.layers[2].weight, 32, 7 * 7);
    dense_ = Eigen::Map<const RowMatrix>(hwc.data(), 10, 32 * 7 * 7);
    dense_bias_ = Eigen::Map<const Eigen::VectorXf>(w.layers[2].bias.values.data(), 10);
  }
  void run() override {
    im2col(input_, 28, 28, 3, patches1_);
    conv1_.noalias() = patches1_ * k1_;
    conv1_ = (conv1_.rowwise() + b1_).cwiseMax(0.0f);
    max_pool2(conv1_, 28, 28, pool1_);
    im2col(pool1_, 14, 14, 3, patches2_);
    conv2_.noalias() = patches2_ * k2_;
    conv2_ = (conv2_.rowwise() + b2_).cwiseMax(0.0f);
    max_pool2(conv2_, 14, 14, pool2_);
    y_.noalias() = dense_ * Eigen::Map<const Eigen::VectorXf>(pool2_.data(), pool2_.size());
    y_ += dense_bias_;
  }
  std::span<const float> output() const override {
    return {y_.data(), static_cast<std::size_t>(y_.size())};
  }
  std::string label() const override { return "im2col + GEMM"; }

 private:
  RowMatrix input_, k1_;
  Eigen::RowVectorXf b1_;
  RowMatrix k2_;
  Eigen::RowVectorXf b2_;
  RowMatrix patches1_, conv1_, pool1_, patches2_, conv2_, pool2_, dense_;
  Eigen::VectorXf dense_bias_, y_{10};
};

/// W5: depthwise 3x3 'same' as array expressions over pixel rows (a column per pixel, the
/// channels down each column), ReLU6; pointwise 1x1 as a GEMM, ReLU6.
class MobileNetBlockRunner final : public Runner {
  static constexpr Eigen::Index h = 56, w = 56, c = 32, out_c = 64;

 public:
  explicit MobileNetBlockRunner(const Workload& wl)
      : input_(Eigen::Map<const Array>(wl.input.data(), c, h * w)),
        taps_(c, 9),
        dw_bias_(c),
        depthwise_(h * w, c),
        pw_bias_(row_vector(wl.layers[1].bias)),
        output_(h * w, out_c) {
    const Param& dw = wl.layers[0].weight;  // [C, 1, 3, 3]
    for (Eigen::Index ch = 0; ch < c; ++ch)
      for (Eigen::Index t = 0; t < 9; ++t)
        taps_(ch, t) = dw.values[static_cast<std::size_t>(ch * 9 + t)];
    dw_bias_ = Eigen::Map<const Eigen::ArrayXf>(wl.layers[0].bias.values.data(), c);
    const Param& pw = wl.layers[1].weight;  // [64, 32, 1, 1]
    pointwise_ = Eigen::Map<const RowMatrix>(pw.values.data(), out_c, c).transpose();
  }
  void run() override {
    for (Eigen::Index y = 0; y < h; ++y) {
      Eigen::Map<Array> out_row(depthwise_.row(y * w).data(), c, w);
      out_row.colwise() = dw_bias_;
      for (Eigen::Index ky = 0; ky < 3; ++ky) {
        const Eigen::Index iy = y + ky - 1;
        if (iy < 0 || iy >= h) continue;
        for (Eigen::Index kx = 0; kx < 3; ++kx) {
          const Eigen::Index dx = kx - 1, x0 = std::max<Eigen::Index>(0, -dx),
                             x1 = std::min(w, w - dx);
          out_row.middleCols(x0, x1 - x0) +=
              input_.middleCols(iy * w + x0 + dx, x1 - x0).colwise() * taps_.col(ky * 3 + kx);
        }
      }
      out_row = out_row.max(0.0f).min(6.0f);
    }
    output_.noalias() = depthwise_ * pointwise_;
    output_ = (output_.rowwise() + pw_bias_).cwiseMax(0.0f).cwiseMin(6.0f);
  }
  std::span<const float> output() const override {
    return {output_.data(), static_cast<std::size_t>(output_.size())};
  }
  std::string label() const override { return "depthwise as array expressions + GEMM"; }

 private:
  Array input_, taps_;
  Eigen::ArrayXf dw_bias_;
  RowMatrix depthwise_, pointwise_;
  Eigen::RowVectorXf pw_bias_;
  RowMatrix output_;
};

std::unique_ptr<Runner> make(const Workload& w) {
  Eigen::setNbThreads(1);
  switch (w.id) {
    case WorkloadId::W1: return std::make_unique<MlpRunner<784, 256, 128, 10, false>>(w);
    case WorkloadId::W2: return std::make_unique<MlpRunner<64, 64, 64, 8, true>>(w);
    case WorkloadId::W3b1:
    case WorkloadId::W3b64: return std::make_unique<DenseRunner>(w);
    case WorkloadId::W4: return std::make_unique<CnnRunner>(w);
    case WorkloadId::W5: return std::make_unique<MobileNetBlockRunner>(w);
  }
  return nullptr;
}

}  // namespace

Impl eigen_impl() {
  return {"eigen",
          std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
              std::to_string(EIGEN_MINOR_VERSION),
          [](WorkloadId) { return true; }, &make};
}

}  // namespace mote_bench
