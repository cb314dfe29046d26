// expect: mote's N:M kernels take groups of M = 4 or M = 8 consecutive inputs
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;

#ifdef MOTE_KO
using Net = Sequential<Input<16>, Dense<4, Weights<F32, Sparse<NM<2, 6>>>>>;
#else
using Net = Sequential<Input<16>, Dense<4, Weights<F32, Sparse<NM<2, 4>>>>>;
#endif

int main() {
  Net net;
  return static_cast<int>(net.weight_bytes() % 2);
}
