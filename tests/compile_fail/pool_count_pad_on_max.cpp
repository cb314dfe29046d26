// expect: CountPad applies to AvgPool2D/AvgPool1D only
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<8, 8, 2>, MaxPool2D<3, Stride<2>, Padding<1>, CountPad>>;
#else
using Net = Sequential<Input<8, 8, 2>, AvgPool2D<3, Stride<2>, Padding<1>, CountPad>>;
#endif

int main() {
  Net net;
  return static_cast<int>(Net::workspace_bytes % 2 + net.weight_bytes() % 2);
}
