// The checkerboard measure (issue 27): the spectral energy at a pixel shuffle's periods against the
// spectrum around it, on synthetic faces with and without a faint grid.
#include "facetrain/quality/checkerboard.h"
#include "../test_support.h"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace facetrain;

namespace {

constexpr int kSide = 64;

// A smooth colour field with a little white noise (a sensor's grain: the flat floor a real face's
// spectrum has at high frequencies). Deterministic (a 32-bit LCG).
std::vector<float> grainy_face(unsigned seed) {
  std::vector<float> v(static_cast<size_t>(kSide) * kSide * 3);
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide; ++x)
      for (int c = 0; c < 3; ++c) {
        seed = seed * 1664525u + 1013904223u;
        const double noise = 0.02 * (static_cast<double>(seed >> 8) / 8388608.0 - 1.0);
        v[(static_cast<size_t>(y) * kSide + x) * 3 + c] =
            static_cast<float>(0.5 + 0.3 * std::sin(0.21 * x + 0.13 * y + c) + 0.1 * std::cos(0.05 * x * y / 8.0) + noise);
      }
  return v;
}

// Adds `amplitude` where x and y are both multiples of `period`: a grid a pixel shuffle leaves
// when its sub-filters differ.
std::vector<float> with_grid(std::vector<float> v, int period, float amplitude) {
  for (int y = 0; y < kSide; y += period)
    for (int x = 0; x < kSide; x += period)
      for (int c = 0; c < 3; ++c) v[(static_cast<size_t>(y) * kSide + x) * 3 + c] += amplitude;
  return v;
}

// A soft ellipse, like a face-hull mask.
std::vector<float> face_mask() {
  std::vector<float> m(static_cast<size_t>(kSide) * kSide);
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide; ++x) {
      const double dx = (x - 31.5) / 24.0, dy = (y - 33.0) / 28.0;
      m[static_cast<size_t>(y) * kSide + x] = static_cast<float>(std::clamp(4.0 * (1.0 - dx * dx - dy * dy), 0.0, 1.0));
    }
  return m;
}

}  // namespace

TEST_CASE("checkerboard: a natural image measures about 1, and 1 against itself", "[unit][quality]") {
  const auto face = grainy_face(1), other = grainy_face(2);
  const double alone = periodic_energy(face, kSide, kSide).ratio();
  INFO("natural image: " << alone);
  CHECK(alone > 0.6);
  CHECK(alone < 1.6);
  CHECK(checkerboard_ratio(face, face, kSide, kSide, face_mask()) == Approx(1.0));
  const double grain_only = checkerboard_ratio(other, face, kSide, kSide, face_mask());
  INFO("another grain: " << grain_only);
  CHECK(grain_only > 0.7);
  CHECK(grain_only < 1.4);
}

TEST_CASE("checkerboard: a faint 2-pixel grid raises the measure clearly", "[unit][quality]") {
  const auto face = grainy_face(1), mask = face_mask();
  // 0.01 is a quarter of the grain's spread and below one 8-bit code value's worth of contrast
  // across a block: the kind of pattern a preview sheet shows only on a flat cheek.
  const auto gridded = with_grid(face, 2, 0.01f);
  const double faint = checkerboard_ratio(gridded, face, kSide, kSide, mask);
  const double strong = checkerboard_ratio(with_grid(face, 2, 0.04f), face, kSide, kSide, mask);
  INFO("faint grid " << faint << ", strong grid " << strong);
  CHECK(faint > 2.0);
  CHECK(strong > faint);
  // Without the mask (a Hann window then) too, and one level (period 2 only) sees it as well.
  CHECK(checkerboard_ratio(gridded, face, kSide, kSide, {}) > 2.0);
  CHECK(checkerboard_ratio(gridded, face, kSide, kSide, mask, 1) > 2.0);
}

TEST_CASE("checkerboard: a 4-pixel pattern counts at two levels, not at one", "[unit][quality]") {
  const auto face = grainy_face(1), mask = face_mask();
  // A pattern of period 4 and nothing at 1/2 cycle per pixel: what the second shuffle of a stack
  // (the decoder's last upscale block, seen through the RGB head) can leave.
  auto patterned = face;
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide; ++x)
      for (int c = 0; c < 3; ++c)
        patterned[(static_cast<size_t>(y) * kSide + x) * 3 + c] +=
            static_cast<float>(0.01 * std::cos(0.5 * M_PI * x) * std::cos(0.5 * M_PI * y));
  const double two_levels = checkerboard_ratio(patterned, face, kSide, kSide, mask, 2);
  const double one_level = checkerboard_ratio(patterned, face, kSide, kSide, mask, 1);
  INFO("4-pixel pattern: two levels " << two_levels << ", one level " << one_level);
  CHECK(two_levels > 2.0);
  CHECK(one_level < 1.2);
  // A 4-pixel grid of dots has harmonics at every multiple of 1/4: both see it.
  CHECK(checkerboard_ratio(with_grid(face, 4, 0.02f), face, kSide, kSide, mask, 2) > 2.0);
}

TEST_CASE("checkerboard: sums over faces, and NaN where the inputs do not fit", "[unit][quality]") {
  const auto a = grainy_face(1), b = grainy_face(2);
  PeriodicEnergy sum = periodic_energy(a, kSide, kSide);
  sum += periodic_energy(b, kSide, kSide);
  CHECK(sum.peak_bins == 2 * periodic_energy(a, kSide, kSide).peak_bins);
  CHECK(std::isfinite(sum.ratio()));
  CHECK(std::isnan(periodic_energy(a, kSide, kSide - 1).ratio()));
  CHECK(std::isnan(periodic_energy(a, kSide, kSide, std::vector<float>(10, 1.0f)).ratio()));
  CHECK(std::isnan(periodic_energy(std::vector<float>(16 * 16 * 3, 0.5f), 16, 16).ratio()));  // too small
  CHECK(std::isnan(periodic_energy(a, kSide, kSide, {}, 0).ratio()));
  CHECK(std::isnan(PeriodicEnergy{}.ratio()));
}
