// The sharpness measure (issue 27): the Laplacian energy inside the face of an output over its target's.
#include "facetrain/quality/sharpness.h"
#include "../test_support.h"

#include <cmath>
#include <vector>

using namespace facetrain;

namespace {

constexpr int kSide = 48;

// Fine detail (a texture with a 3-4 pixel period) over a smooth field.
std::vector<float> detailed_face() {
  std::vector<float> v(static_cast<size_t>(kSide) * kSide * 3);
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide; ++x)
      for (int c = 0; c < 3; ++c)
        v[(static_cast<size_t>(y) * kSide + x) * 3 + c] =
            static_cast<float>(0.5 + 0.2 * std::sin(0.1 * x + c) + 0.1 * std::sin(1.9 * x) * std::cos(1.7 * y));
  return v;
}

// A 3x3 box blur (edges kept): what an autoencoder that has not learnt the detail gives back.
std::vector<float> box_blurred(const std::vector<float>& v) {
  std::vector<float> out = v;
  for (int y = 1; y + 1 < kSide; ++y)
    for (int x = 1; x + 1 < kSide; ++x)
      for (int c = 0; c < 3; ++c) {
        double sum = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) sum += v[(static_cast<size_t>(y + dy) * kSide + x + dx) * 3 + c];
        out[(static_cast<size_t>(y) * kSide + x) * 3 + c] = static_cast<float>(sum / 9);
      }
  return out;
}

}  // namespace

TEST_CASE("sharpness: a face against itself is 1, blurred below, grainier above", "[quality]") {
  const auto face = detailed_face();
  CHECK(sharpness_ratio(face, face, kSide, kSide) == Approx(1.0));
  const double blurred = sharpness_ratio(box_blurred(face), face, kSide, kSide);
  CHECK(blurred < 0.5);
  const double twice = sharpness_ratio(box_blurred(box_blurred(face)), face, kSide, kSide);
  CHECK(twice < blurred);
  auto grainy = face;
  for (size_t i = 0; i < grainy.size(); i += 7) grainy[i] += 0.05f;
  CHECK(sharpness_ratio(grainy, face, kSide, kSide) > 1.0);
}

TEST_CASE("sharpness: only the masked pixels count", "[quality]") {
  const auto face = detailed_face();
  auto spoiled = box_blurred(face);
  std::vector<float> left_half(static_cast<size_t>(kSide) * kSide, 0.0f);
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide / 2; ++x) left_half[static_cast<size_t>(y) * kSide + x] = 1.0f;
  // The output is the face where the mask is, blurred where it is not: the blur is not seen.
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide / 2 + 1; ++x)
      for (int c = 0; c < 3; ++c) spoiled[(static_cast<size_t>(y) * kSide + x) * 3 + c] = face[(static_cast<size_t>(y) * kSide + x) * 3 + c];
  CHECK(sharpness_ratio(spoiled, face, kSide, kSide, left_half) == Approx(1.0));
  CHECK(sharpness_ratio(spoiled, face, kSide, kSide) < 0.9);
}

TEST_CASE("sharpness: sizes that do not fit give no energy and no ratio", "[quality]") {
  const auto face = detailed_face();
  CHECK(laplacian_energy(face, kSide + 1, kSide) == 0.0);
  CHECK(laplacian_energy(face, kSide, kSide, std::vector<float>(3, 1.0f)) == 0.0);
  CHECK(std::isnan(sharpness_ratio(face, std::vector<float>(face.size(), 0.5f), kSide, kSide)));
}
