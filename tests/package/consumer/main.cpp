// Consumer of mote (tests/package): includes the umbrella header and uses it.
#include <mote/mote.hpp>

#include <cstdio>

#if defined(MOTE_EXPECT_XSIMD) && MOTE_EXPECT_XSIMD && !defined(MOTE_HAS_XSIMD)
#error "mote was built with xsimd but mote::mote did not pass MOTE_HAS_XSIMD on"
#endif
#if defined(MOTE_EXPECT_XSIMD) && !MOTE_EXPECT_XSIMD && defined(MOTE_HAS_XSIMD)
#error "mote was built without xsimd but mote::mote defines MOTE_HAS_XSIMD"
#endif
#if defined(MOTE_EXPECT_HWY) && MOTE_EXPECT_HWY && !defined(MOTE_HAS_HWY)
#error "mote was built with Highway but mote::mote did not pass MOTE_HAS_HWY on"
#endif
#if defined(MOTE_EXPECT_HWY) && !MOTE_EXPECT_HWY && defined(MOTE_HAS_HWY)
#error "mote was built without Highway but mote::mote defines MOTE_HAS_HWY"
#endif

int main() {
  const mote::Status status = mote::make_error(mote::ErrorCode::io, "consumer: no such file");
  if (status.is_ok()) return 1;
#if defined(MOTE_HAS_XSIMD)
  std::puts("mote consumer: xsimd on");
#endif
#if defined(MOTE_HAS_HWY)
  std::puts("mote consumer: Highway on");
#endif
  std::printf("mote consumer: %s\n", status.message().c_str());
  return 0;
}
