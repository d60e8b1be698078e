#include "facetrain/media/srgb.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

// unit_to_8bit is std::lround(v * 255) clamped to [0, 255], NaN to 0, at every value tried: a sweep
// of [0, 1] and the floats either side of each code's half-way point, where rounding goes wrong first.
TEST_CASE("unit_to_8bit rounds as lround(v * 255), clamped", "[unit][media]") {
  auto expected = [](float v) -> long {
    if (!(v > 0.f)) return 0;
    if (!(v < 1.f)) return 255;
    return std::lround(v * 255.f);
  };
  long mismatches = 0;
  for (int i = 0; i <= 1000000; ++i) {
    const float v = static_cast<float>(i) / 1000000.f;
    mismatches += facetrain::unit_to_8bit(v) != expected(v);
  }
  for (int code = 0; code < 255; ++code) {
    float v = (static_cast<float>(code) + 0.5f) / 255.f;
    for (int k = 0; k < 8; ++k) v = std::nextafter(v, 0.f);
    for (int k = 0; k < 16; ++k, v = std::nextafter(v, 1.f)) mismatches += facetrain::unit_to_8bit(v) != expected(v);
  }
  CHECK(mismatches == 0);
  CHECK(facetrain::unit_to_8bit(-0.25f) == 0);
  CHECK(facetrain::unit_to_8bit(std::numeric_limits<float>::quiet_NaN()) == 0);
  CHECK(facetrain::unit_to_8bit(1.f) == 255);
  CHECK(facetrain::unit_to_8bit(7.f) == 255);
  CHECK(facetrain::unit_to_8bit(0.5f) == 128);  // 127.5 goes up, as lround
}
