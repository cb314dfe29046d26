#pragma once
// Skip connections. `Residual<Layers...>` computes y = x + body(x), where body is the chain
// `Layers...` bound to x's shape; the body must return the shape it receives. Nest it in a
// network like any layer:
//   Sequential<Input<8, 8, 16>, Residual<Conv2D<16, Kernel<3>, Pad::same>, ReLU,
//                                        Conv2D<16, Kernel<3>, Pad::same>>, ReLU, ...>
// Weights of body layers are named by nested paths ("1.0", "1.2"), mirroring a PyTorch
// nn.Sequential inside a module at index 1.

#include <cstddef>
#include <string>

#include "mote/kernels/dispatch.hpp"
#include "mote/layers/layer.hpp"
#include "mote/model/chain.hpp"

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
