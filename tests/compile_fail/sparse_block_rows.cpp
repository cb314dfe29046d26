// expect: R \(rows per block\) must be 1, 2, 4, 8 or a multiple of 8
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;

#ifdef MOTE_KO
using Net = Sequential<Input<16>, Dense<4, Weights<F32, Sparse<Block<3, 1>>>>>;
#else
using Net = Sequential<Input<16>, Dense<4, Weights<F32, Sparse<Block<4, 1>>>>>;
#endif

int main() {
  Net net;
  return static_cast<int>(net.weight_bytes() % 2);
}
