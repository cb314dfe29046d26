// expect: DepthwiseConv2D: Multiplier<M> needs M >= 1
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<8, 8, 2>, DepthwiseConv2D<Kernel<3>, Multiplier<0>>>;
#else
using Net = Sequential<Input<8, 8, 2>, DepthwiseConv2D<Kernel<3>, Multiplier<2>>>;
#endif

int main() {
  Net net;
  return static_cast<int>(Net::workspace_bytes % 2 + net.weight_bytes() % 2);
}
