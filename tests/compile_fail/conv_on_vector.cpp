// expect: Conv2D needs an H x W x C input
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<10>, Conv2D<4, Kernel<3>>>;
#else
using Net = Sequential<Input<10, 1>, Conv1D<4, 3>>;
#endif

int main() {
  Net net;
  return static_cast<int>(Net::workspace_bytes % 2 + net.weight_bytes() % 2);
}
