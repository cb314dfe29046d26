// expect: a window lies entirely in the padding
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<2, 2, 1>, MaxPool2D<2, Dilation<3>, Padding<1>>>;
#else
using Net = Sequential<Input<2, 2, 1>, MaxPool2D<2, Padding<1>>>;
#endif

int main() {
  Net net;
  return static_cast<int>(Net::workspace_bytes % 2 + net.weight_bytes() % 2);
}
