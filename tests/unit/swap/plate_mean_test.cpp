#include "facetrain/swap/plate_mean.h"
#include "../test_support.h"

#include <cmath>
#include <limits>

using facetrain::CropImage;
using facetrain::MeanMatch;
using facetrain::PlateMean;

namespace {

// A 2x2 crop from four RGB pixels.
CropImage crop_of(std::vector<float> rgb) { return CropImage{2, std::move(rgb)}; }

}  // namespace

TEST_CASE("the plate mean is matte-weighted and skips what cannot count", "[unit][swap]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const CropImage crop = crop_of({1, 2, 3, /**/ 3, 2, 1, /**/ 100, 100, 100, /**/ nan, 0, 0});
  const PlateMean m = facetrain::measure_plate_mean(crop, {1.f, 3.f, 0.f, 1.f});
  REQUIRE(m.usable());
  CHECK(m.weight_sum == 4.0);  // the NaN pixel is skipped, the zero-weight one too
  CHECK(m.mean[0] == Approx((1 + 9) / 4.0));
  CHECK(m.mean[2] == Approx((3 + 3) / 4.0));
  CHECK_FALSE(facetrain::measure_plate_mean(crop, {1.f, 1.f}).usable());          // size disagrees
  CHECK_FALSE(facetrain::measure_plate_mean(crop, {0.f, -1.f, 0.f, 0.5f}).usable());  // under one pixel
}

TEST_CASE("averaged plate means are uniform over the usable frames", "[unit][swap]") {
  PlateMean a, b, unusable;
  a.mean = {1, 2, 3};
  a.weight_sum = 10;
  b.mean = {3, 2, 1};
  b.weight_sum = 30;
  unusable.mean = {100, 100, 100};
  unusable.weight_sum = 0.5;
  const PlateMean avg = facetrain::average_plate_mean({a, b, unusable});
  CHECK(avg.mean[0] == Approx(2));
  CHECK(avg.mean[2] == Approx(2));
  CHECK_FALSE(facetrain::average_plate_mean({unusable}).usable());
}

TEST_CASE("a gain brings a linear face's mean onto the plate's and keeps black black", "[unit][swap]") {
  CropImage face = crop_of({0.5f, 0.2f, 0.0f, /**/ 1.5f, 0.6f, 0.0f, /**/ 0, 0, 0, /**/ 8, 8, 8});
  const std::vector<float> matte{1, 1, 1, 0};
  PlateMean target;
  target.mean = {1.0, 0.2, 0.3};
  target.weight_sum = 3;
  const auto gains = facetrain::match_plate_mean(face, matte, target, MeanMatch::gain);
  CHECK(gains[0] == Approx(1.0 / (2.0 / 3)));
  CHECK(gains[1] == Approx(0.2 / (0.8 / 3)));
  CHECK(gains[2] == 1.0);  // the face's blue mean is 0: nothing to scale
  const PlateMean after = facetrain::measure_plate_mean(face, matte);
  CHECK(after.mean[0] == Approx(1.0));
  CHECK(after.mean[1] == Approx(0.2));
  CHECK(face.rgb[6] == 0.f);                  // black stays black
  CHECK(face.rgb[9] == Approx(8 * gains[0]));  // outside the matte too: the whole face changes alike
}

TEST_CASE("an offset moves code values; both are bounded", "[unit][swap]") {
  CropImage face = crop_of({0.4f, 0.4f, 0.4f, /**/ 0.6f, 0.6f, 0.6f, /**/ 0.5f, 0.5f, 0.5f, /**/ 0.5f, 0.5f, 0.5f});
  const std::vector<float> matte(4, 1.f);
  PlateMean target;
  target.mean = {0.55, 0.2, 0.5};
  target.weight_sum = 4;
  const auto offsets = facetrain::match_plate_mean(face, matte, target, MeanMatch::offset);
  CHECK(offsets[0] == Approx(0.05));
  CHECK(offsets[1] == Approx(-0.25));  // -0.3 asked, the bound applied
  CHECK(offsets[2] == Approx(0.0).margin(1e-7));
  CHECK(face.rgb[0] == Approx(0.45));

  CropImage dark = crop_of({0.01f, 1, 1, 0.01f, 1, 1, 0.01f, 1, 1, 0.01f, 1, 1});
  target.mean = {1, 1, 1};
  CHECK(facetrain::match_plate_mean(dark, matte, target, MeanMatch::gain)[0] == 4.0);  // at most 4x

  PlateMean none;  // unusable target: nothing changes
  CropImage same = crop_of(std::vector<float>(12, 0.3f));
  facetrain::match_plate_mean(same, matte, none, MeanMatch::gain);
  CHECK(same.rgb == std::vector<float>(12, 0.3f));
}
