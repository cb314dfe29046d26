// expect: DepthwiseConv2D: int4 weights are not implemented for depthwise convolutions
// ok/ko pair: this file must compile as is (int8 depthwise) and fail with the sentence above
// under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<8, 8, 2>, DepthwiseConv2D<Kernel<3>, Weights<Int4<32>>>>;
#else
using Net = Sequential<Input<8, 8, 2>, DepthwiseConv2D<Kernel<3>, Weights<Int8<>>>>;
#endif

int main() {
  Net net;
  return static_cast<int>(Net::workspace_bytes % 2 + net.weight_bytes() % 2);
}
