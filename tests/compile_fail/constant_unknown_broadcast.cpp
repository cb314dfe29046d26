// expect: Broadcast must be mote::PerTensor
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<4, 4, 3>, AddConstant<Symmetric>>;
#else
using Net = Sequential<Input<4, 4, 3>, AddConstant<PerChannel>>;
#endif

int main() {
  Net net;
  return static_cast<int>(Net::workspace_bytes % 2 + net.weight_bytes() % 2);
}
