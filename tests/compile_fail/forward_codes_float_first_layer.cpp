// expect: forward_codes: the network's first layer must take int8 codes
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

#include <array>
#include <cstdint>

using namespace mote;
#ifdef MOTE_KO
using Net = Sequential<Input<8>, Dense<4>, ReLU, Dense<2, Weights<Int8<>>>>;
#else
using Net = Sequential<Input<8>, Dense<4, Weights<Int8<>>>, ReLU, Dense<2>>;
#endif

int main() {
  Net net;
  Net::Workspace workspace;
  std::array<std::uint8_t, 8> codes{};
  std::array<float, 2> out{};
  return net.forward_codes(codes, out, workspace).is_ok() ? 0 : 1;
}
