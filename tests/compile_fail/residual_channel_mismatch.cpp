// expect: Residual: the body must return the shape it receives
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<8, 8, 4>, Residual<Conv2D<8, Kernel<3>, Pad::same>>>;
#else
using Net = Sequential<Input<8, 8, 4>, Residual<Conv2D<4, Kernel<3>, Pad::same>>>;
#endif

int main() {
  Net net;
  return static_cast<int>(Net::workspace_bytes % 2 + net.weight_bytes() % 2);
}
