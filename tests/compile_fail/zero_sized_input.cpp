// expect: Input<Dims...>: every dimension must be at least 1
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<28, 0, 1>, Flatten, Dense<10>>;
#else
using Net = Sequential<Input<28, 28, 1>, Flatten, Dense<10>>;
#endif

int main() {
  Net net;
  return static_cast<int>(Net::workspace_bytes % 2 + net.weight_bytes() % 2);
}
