// expect: Int7 weights are dense only
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;

#ifdef MOTE_KO
using Net = Sequential<Input<16>, Dense<4, Weights<Int7<>, Sparse<Block<16, 4>>>>>;
#else
using Net = Sequential<Input<16>, Dense<4, Weights<Int7<>>>>;
#endif

int main() {
  Net net;
  return static_cast<int>(net.weight_bytes() % 2);
}
