// expect: Alpha must be a number
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<8>, LeakyReLUAlpha<true>>;
#else
using Net = Sequential<Input<8>, LeakyReLUAlpha<1>>;
#endif

int main() {
  Net net;
  return static_cast<int>(Net::workspace_bytes % 2 + net.weight_bytes() % 2);
}
