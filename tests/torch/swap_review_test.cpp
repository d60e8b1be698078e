// The --review side-by-side (src/facetrain/swap/review_frame.h): layout, area-average scaling, display encoding.
#include "facetrain/swap/review_frame.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace facetrain;

namespace {

FloatImage uniform(int w, int h, float value) {
  FloatImage image;
  image.width = w;
  image.height = h;
  image.pixels.assign(static_cast<size_t>(w) * h * 3, value);
  return image;
}

}  // namespace

TEST_CASE("review layout: plate size when three fit in 1920, else scaled, even for H.264", "[swap][review]") {
  CHECK(review_layout(400, 300, 1920, false).panel_width == 400);
  CHECK(review_layout(400, 300, 1920, false).panel_height == 300);
  CHECK(review_layout(640, 360, 1920, false).panel_width == 640);  // exactly fits
  const ReviewLayout uhd = review_layout(4096, 2160, 1920, false);
  CHECK(uhd.panel_width == 640);
  CHECK(uhd.panel_height == 338);  // 2160 * 640 / 4096 = 337.5, rounded
  const ReviewLayout odd = review_layout(401, 301, 1920, true);
  CHECK(odd.panel_width == 400);
  CHECK(odd.panel_height == 300);
}

TEST_CASE("review frame: plate | swap | matte, area-averaged down, sRGB for scene-linear plates", "[swap][review]") {
  // 6x2 plate scaled into 2x1 panels (max width 6): each output pixel averages a 3x2 block.
  FloatImage plate = uniform(6, 2, 0.f);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) plate.pixels[(y * 6 + x) * 3 + c] = 1.f;  // left half white
  const FloatImage swapped = uniform(6, 2, 0.5f);
  std::vector<float> matte(12, 0.f);
  matte[0] = 1.f;  // one of the left block's six pixels
  const ReviewLayout layout = review_layout(6, 2, 6, false);
  REQUIRE(layout.panel_width == 2);
  REQUIRE(layout.panel_height == 1);
  const Rgb8Image review = make_review_frame(plate, swapped, matte, false, layout);
  REQUIRE(review.width == 6);
  REQUIRE(review.height == 1);
  const uint8_t* p = review.row(0);
  CHECK(int(p[0]) == 255);   // plate: left block white
  CHECK(int(p[3]) == 0);     // right block black
  CHECK(int(p[6]) == 128);   // swap: 0.5 -> 128
  CHECK(int(p[12]) == 43);   // matte: 1/6 of the block -> 42.5 -> 43
  CHECK(int(p[15]) == 0);

  // Scene-linear: 0.18 is shown through the sRGB encoding (0.4614 -> 118); above 1.0 clamps.
  const FloatImage linear = uniform(2, 1, 0.18f);
  const FloatImage bright = uniform(2, 1, 4.f);
  const Rgb8Image shown = make_review_frame(linear, bright, std::vector<float>(2, 0.f), true, review_layout(2, 1, 1920, false));
  CHECK(int(shown.row(0)[0]) == 118);
  CHECK(int(shown.row(0)[6]) == 255);
}
