// expect: must equal the kernel's first value
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<8, 8, 1>, MaxPool2D<2, Kernel<3, 2>>>;
#else
using Net = Sequential<Input<8, 8, 1>, MaxPool2D<3, Kernel<3, 2>>>;
#endif

int main() {
  Net net;
  return static_cast<int>(Net::workspace_bytes % 2 + net.weight_bytes() % 2);
}
