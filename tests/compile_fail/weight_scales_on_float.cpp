// expect: WeightScales<ScaleFit::mse> fits the ranges of integer weights
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<8>, Dense<4, WeightScales<ScaleFit::mse>>>;
#else
using Net = Sequential<Input<8>, Dense<4, Weights<Int4<0>>, WeightScales<ScaleFit::mse>>>;
#endif

int main() {
  Net net;
  return static_cast<int>(Net::workspace_bytes % 2 + net.weight_bytes() % 2);
}
