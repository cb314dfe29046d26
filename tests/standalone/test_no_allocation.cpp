// forward() must not touch the heap. This binary replaces every global allocation function
// with a counting one (which is why it is a separate executable) and runs networks of every
// layer kind.

#include <catch2/catch.hpp>

// GCC sees free() on memory from operator new, not knowing that both are ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include <mote/mote.hpp>

namespace {
std::atomic<long> allocations{0};

void* counted(std::size_t size, std::size_t alignment = alignof(std::max_align_t)) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (size == 0) size = 1;
  void* p = alignment <= alignof(std::max_align_t) ? std::malloc(size)
                                                    : std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t size) { return counted(size); }
void* operator new[](std::size_t size) { return counted(size); }
void* operator new(std::size_t size, std::align_val_t a) { return counted(size, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return counted(size, static_cast<std::size_t>(a)); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return std::malloc(size ? size : 1); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return std::malloc(size ? size : 1); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace mote;

namespace {
template <class Net>
long allocations_during_forward() {
  auto net = std::make_unique<Net>();
  auto in = std::make_unique<typename Net::InputTensor>();
  auto out = std::make_unique<typename Net::OutputTensor>();
  typename Net::Workspace workspace;
  for (std::size_t i = 0; i < in->size; ++i) (*in)[i] = static_cast<float>(i % 7) * 0.1f;
  const long before = allocations.load();
  for (int repeat = 0; repeat < 3; ++repeat) net->forward(*in, *out, workspace);
  return allocations.load() - before;
}
}  // namespace

TEST_CASE("The counting allocator sees allocations (the test is not vacuous)", "[allocation]") {
  const long before = allocations.load();
  // The vector's buffer escapes through a volatile pointer, so it cannot be elided.
  static float* volatile escaped = nullptr;
  std::vector<float> values(100);
  escaped = values.data();
  CHECK(escaped != nullptr);
  CHECK(allocations.load() - before >= 1);
}

TEST_CASE("forward() performs zero heap allocations", "[allocation]") {
  using Mlp = Sequential<Input<784>, Dense<256>, ReLU, Dense<128>, ReLU, Dense<10>, Softmax>;
  using Cnn = Sequential<Input<28, 28, 1>, Conv2D<16, Kernel<3>, Pad::same>, ReLU, MaxPool2D<2>,
                         Conv2D<32, Kernel<3>, Pad::same>, BatchNorm, ReLU, AvgPool2D<2>, Flatten, Dense<10>>;
  using Mobile = Sequential<Input<16, 16, 8>, DepthwiseConv2D<Kernel<3>, Pad::same>, ReLU6,
                            Conv2D<16, Kernel<1>>, HardSwish,
                            Residual<Conv2D<16, Kernel<3>, Pad::same>, GELU, DepthwiseConv2D<Kernel<3>, Pad::same>>,
                            Sigmoid, Tanh, LeakyReLU, GlobalAveragePool2D, Dense<4>>;
  using Signal = Sequential<Input<32, 2>, Conv1D<4, 5, Pad::same>, ReLU, Flatten, Dense<3>>;
  CHECK(allocations_during_forward<Mlp>() == 0);
  CHECK(allocations_during_forward<Cnn>() == 0);
  CHECK(allocations_during_forward<Mobile>() == 0);
  CHECK(allocations_during_forward<Signal>() == 0);
}
