// expect: int8 takes Sparse<Block<R, C>> with R dividing 16 and C dividing 4
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;

#ifdef MOTE_KO
using Net = Sequential<Input<16>, Dense<4, Weights<Int8<>, Sparse<Unstructured>>>>;
#else
using Net = Sequential<Input<16>, Dense<4, Weights<Int8<>, Sparse<Block<16, 4>>>>>;
#endif

int main() {
  Net net;
  return static_cast<int>(net.weight_bytes() % 2);
}
