// expect: mote has no weight storage for this Weights<Format, Layout> combination
// ok/ko pair: this file must compile as is and fail with the sentence above under -DMOTE_KO.
#include <mote/mote.hpp>

using namespace mote;

// A number format mote has no storage or kernels for.
struct Posit8 {
  using storage_type = unsigned char;
  using accumulator_type = float;
  static constexpr const char* name = "posit8";
  static constexpr std::size_t bits_per_weight = 8;
};

#ifdef MOTE_KO
using Net = Sequential<Input<16>, Dense<4, Weights<Posit8>>>;
#else
using Net = Sequential<Input<16>, Dense<4, Weights<F32>>>;
#endif

int main() {
  Net net;
  return static_cast<int>(net.weight_bytes() % 2);
}
