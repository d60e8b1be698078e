// Colour transfer of `facetrain swap` (src/facetrain/swap/color_transfer.h): each mode gives the
// face the target's weighted statistics, zero weights change nothing, and averaging the target's
// statistics over neighbouring frames takes out a frame-to-frame flicker.
#include "facetrain/swap/color_transfer.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace facetrain;

namespace {

constexpr int kSize = 48;
constexpr size_t kPixels = static_cast<size_t>(kSize) * kSize;

// A crop whose pixels are `mean` + correlated noise (a shared term plus per-channel terms).
CropImage noisy_crop(std::array<float, 3> mean, std::array<float, 3> spread, float shared, uint32_t seed) {
  CropImage crop;
  crop.size = kSize;
  crop.rgb.resize(kPixels * 3);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (size_t i = 0; i < kPixels; ++i) {
    const float common = normal(rng) * shared;
    for (int c = 0; c < 3; ++c) crop.rgb[i * 3 + c] = mean[c] + common + spread[c] * normal(rng);
  }
  return crop;
}

// A soft disc: weights 1 inside, ramping to 0 over 6 px, 0 in the corners.
std::vector<float> disc_weights() {
  std::vector<float> w(kPixels);
  const float c = (kSize - 1) / 2.f;
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x)
      w[static_cast<size_t>(y) * kSize + x] = std::clamp((20.f - std::hypot(x - c, y - c)) / 6.f, 0.f, 1.f);
  return w;
}

struct Moments {
  std::array<double, 3> mean{};
  std::array<double, 9> covariance{};
};

// Weighted mean and covariance of the crop's pixels, in display RGB or (lab) CIE Lab.
Moments weighted_moments(const CropImage& crop, const std::vector<float>& w, bool lab) {
  Moments m;
  double sum = 0;
  std::vector<std::array<double, 3>> px(kPixels);
  for (size_t i = 0; i < kPixels; ++i) {
    const std::array<double, 3> rgb{crop.rgb[i * 3], crop.rgb[i * 3 + 1], crop.rgb[i * 3 + 2]};
    px[i] = lab ? lab_from_display_rgb(rgb) : rgb;
    sum += w[i];
    for (int c = 0; c < 3; ++c) m.mean[c] += w[i] * px[i][c];
  }
  for (double& v : m.mean) v /= sum;
  for (size_t i = 0; i < kPixels; ++i)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) m.covariance[r * 3 + c] += w[i] * (px[i][r] - m.mean[r]) * (px[i][c] - m.mean[c]) / sum;
  return m;
}

// Weighted share of channel c's values <= x.
double weighted_cdf(const CropImage& crop, const std::vector<float>& w, int c, double x) {
  double below = 0, sum = 0;
  for (size_t i = 0; i < kPixels; ++i) {
    sum += w[i];
    if (crop.rgb[i * 3 + c] <= x) below += w[i];
  }
  return below / sum;
}

}  // namespace

TEST_CASE("swap colour: display RGB <-> Lab is the D65 CIE Lab and invertible beyond 0..1", "[unit][swap]") {
  const auto white = lab_from_display_rgb({1, 1, 1});
  CHECK(white[0] == Approx(100).margin(1e-9));
  CHECK(white[1] == Approx(0).margin(1e-9));
  CHECK(white[2] == Approx(0).margin(1e-9));
  CHECK(lab_from_display_rgb({0.5, 0.5, 0.5})[0] == Approx(53.389).margin(0.01));  // sRGB mid grey
  const auto red = lab_from_display_rgb({1, 0, 0});                                 // sRGB red
  CHECK(red[0] == Approx(53.24).margin(0.05));
  CHECK(red[1] == Approx(80.09).margin(0.05));
  CHECK(red[2] == Approx(67.20).margin(0.05));
  for (const std::array<double, 3> rgb : {std::array<double, 3>{0.2, 0.5, 0.9}, {1.7, 1.2, 3.0}, {-0.05, 0.01, 0.3},
                                          {0, 0, 0}, {0.02, 0.03, 0.01}}) {
    const auto back = display_rgb_from_lab(lab_from_display_rgb(rgb));
    for (int c = 0; c < 3; ++c) CHECK(back[c] == Approx(rgb[c]).margin(1e-9));
  }
  CHECK(lab_from_display_rgb({2, 2, 2})[0] > 100);  // super-whites stay above white
}

TEST_CASE("swap colour rct: the weighted Lab mean and deviation become the target's", "[unit][swap]") {
  const std::vector<float> w = disc_weights();
  const CropImage target = noisy_crop({0.75f, 0.5f, 0.4f}, {0.03f, 0.02f, 0.025f}, 0.05f, 2);
  CropImage face = noisy_crop({0.4f, 0.45f, 0.55f}, {0.02f, 0.03f, 0.02f}, 0.03f, 1);
  transfer_color(face, target, w, ColorMode::rct);
  const Moments got = weighted_moments(face, w, true), want = weighted_moments(target, w, true);
  for (int c = 0; c < 3; ++c) {
    CAPTURE(c);
    CHECK(got.mean[c] == Approx(want.mean[c]).margin(1e-3));
    CHECK(std::sqrt(got.covariance[c * 4]) == Approx(std::sqrt(want.covariance[c * 4])).epsilon(1e-3));
  }
}

TEST_CASE("swap colour lct: the weighted mean and covariance become the target's", "[unit][swap]") {
  const std::vector<float> w = disc_weights();
  const CropImage target = noisy_crop({0.7f, 0.5f, 0.35f}, {0.06f, 0.03f, 0.05f}, 0.08f, 4);
  CropImage face = noisy_crop({0.35f, 0.4f, 0.5f}, {0.05f, 0.07f, 0.04f}, 0.02f, 3);
  const Moments before = weighted_moments(face, w, false);
  transfer_color(face, target, w, ColorMode::lct);
  const Moments got = weighted_moments(face, w, false), want = weighted_moments(target, w, false);
  for (int c = 0; c < 3; ++c) CHECK(got.mean[c] == Approx(want.mean[c]).margin(1e-5));
  for (int k = 0; k < 9; ++k) {
    CAPTURE(k, before.covariance[k]);
    // The 1e-5 regularisation of the face's covariance (variances here >= 2e-3) costs < 1 %.
    CHECK(got.covariance[k] == Approx(want.covariance[k]).epsilon(0.01).margin(2e-5));
  }
  // The off-diagonal terms really were different before (the test would otherwise be weak).
  CHECK(std::abs(before.covariance[1] - want.covariance[1]) > 3e-3);
}

TEST_CASE("swap colour hist: the weighted per-channel CDFs become the target's", "[unit][swap]") {
  const std::vector<float> w = disc_weights();
  // Target: per channel a two-humped distribution; face: a single wide one.
  CropImage target;
  target.size = kSize;
  target.rgb.resize(kPixels * 3);
  std::mt19937 rng(5);
  std::normal_distribution<float> low(0.3f, 0.04f), high(0.8f, 0.06f);
  std::uniform_real_distribution<float> pick(0.f, 1.f);
  for (size_t i = 0; i < kPixels * 3; ++i) target.rgb[i] = pick(rng) < 0.35f ? low(rng) : high(rng);
  CropImage face = noisy_crop({0.5f, 0.5f, 0.5f}, {0.1f, 0.15f, 0.08f}, 0.f, 6);
  transfer_color(face, target, w, ColorMode::hist);
  for (int c = 0; c < 3; ++c)
    for (double x : {0.25, 0.3, 0.35, 0.5, 0.7, 0.75, 0.8, 0.85, 0.95}) {
      CAPTURE(c, x);
      CHECK(weighted_cdf(face, w, c, x) == Approx(weighted_cdf(target, w, c, x)).margin(0.01));
    }
  // Monotonic: the face's order of values is kept.
  CropImage ramp = noisy_crop({0.5f, 0.5f, 0.5f}, {0.1f, 0.1f, 0.1f}, 0.f, 7);
  const CropImage original = ramp;
  transfer_color(ramp, target, w, ColorMode::hist);
  for (size_t i = 1; i < kPixels; ++i)
    if (original.rgb[i * 3] < original.rgb[(i - 1) * 3]) REQUIRE(ramp.rgb[i * 3] <= ramp.rgb[(i - 1) * 3]);
}

TEST_CASE("swap colour: zero weights or none leave the face unchanged and values beyond 1.0 stay meaningful",
          "[unit][swap]") {
  const ColorMode mode = GENERATE(ColorMode::none, ColorMode::rct, ColorMode::lct, ColorMode::hist);
  CAPTURE(static_cast<int>(mode));
  const CropImage target = noisy_crop({0.7f, 0.5f, 0.4f}, {0.05f, 0.05f, 0.05f}, 0.f, 8);
  CropImage face = noisy_crop({0.4f, 0.4f, 0.5f}, {0.05f, 0.05f, 0.05f}, 0.f, 9);
  const CropImage before = face;
  transfer_color(face, target, std::vector<float>(kPixels, 0.f), mode);
  CHECK(face.rgb == before.rgb);
  std::vector<float> tiny(kPixels, 0.f);
  tiny[100] = 0.5f;  // half a pixel of weight: no statistics
  transfer_color(face, target, tiny, mode);
  CHECK(face.rgb == before.rgb);
  if (mode == ColorMode::none) {
    transfer_color(face, target, disc_weights(), mode);
    CHECK(face.rgb == before.rgb);
    return;
  }
  // A super-white target (a float plate's encoded values up to ~1.6): nothing is clamped to 1.
  const CropImage bright = noisy_crop({1.4f, 1.3f, 1.2f}, {0.08f, 0.08f, 0.08f}, 0.f, 10);
  transfer_color(face, bright, disc_weights(), mode);
  const Moments got = weighted_moments(face, disc_weights(), false);
  for (int c = 0; c < 3; ++c) CHECK(got.mean[c] == Approx(1.4 - 0.1 * c).margin(0.03));
}

TEST_CASE("swap colour: averaging the plate's statistics over +-5 frames takes out a flicker", "[unit][swap]") {
  const ColorMode mode = GENERATE(ColorMode::rct, ColorMode::lct, ColorMode::hist);
  CAPTURE(static_cast<int>(mode));
  const std::vector<float> w = disc_weights();
  // The plate's face flickers: every other frame is 0.1 brighter. The predicted face is steady.
  constexpr int kFrames = 24, kWindow = 5;
  std::vector<CropImage> plate;
  for (int f = 0; f < kFrames; ++f) {
    const float level = f % 2 ? 0.6f : 0.5f;
    plate.push_back(noisy_crop({level, level - 0.1f, level - 0.15f}, {0.03f, 0.03f, 0.03f}, 0.02f, 100 + f));
  }
  auto output_mean = [&](int f, int window) {
    CropImage face = noisy_crop({0.4f, 0.4f, 0.45f}, {0.04f, 0.04f, 0.04f}, 0.02f, 200 + f);
    const ColorStatistics own = measure_color(face, w, mode);
    std::vector<ColorStatistics> neighbours;
    for (int g = std::max(0, f - window); g <= std::min(kFrames - 1, f + window); ++g)
      neighbours.push_back(measure_color(plate[g], w, mode));
    apply_color_transfer(face, own, average_color(neighbours));
    const Moments m = weighted_moments(face, w, false);
    return (m.mean[0] + m.mean[1] + m.mean[2]) / 3;
  };
  // Flicker: mean frame-to-frame change of the face's mean over frames whose windows are whole.
  auto flicker = [&](int window) {
    double sum = 0;
    int count = 0;
    for (int f = kWindow; f + 1 < kFrames - kWindow; ++f, ++count) sum += std::abs(output_mean(f + 1, window) - output_mean(f, window));
    return sum / count;
  };
  const double per_frame = flicker(0), smoothed = flicker(kWindow);
  INFO("flicker per frame " << per_frame << ", smoothed over +-5 frames " << smoothed << ", factor " << per_frame / smoothed);
  CHECK(per_frame > 0.08);              // the plate's 0.1 step comes through per frame
  CHECK(per_frame / smoothed > 8.0);    // 11 frames, 6 of one level and 5 of the other: ideally 11x
}
