#include "facetrain/quality/temporal_stability.h"
#include "../test_support.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace {

facetrain::FloatImage image(int w, int h, int channels, const std::function<float(int, int, int)>& value) {
  facetrain::FloatImage im;
  im.width = w;
  im.height = h;
  im.channels = channels;
  im.pixels.resize(static_cast<size_t>(w) * h * channels);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        im.pixels[(static_cast<size_t>(y) * w + x) * channels + c] = c < 3 ? value(x, y, c) : 1.0f;
  return im;
}

// A textured plate at time t (the texture moves), in scene-linear values up to 1 + amplitude.
facetrain::FloatImage plate_at(int w, int h, double t, int channels = 3, double amplitude = 0.8) {
  return image(w, h, channels, [t, amplitude](int x, int y, int c) {
    return static_cast<float>(1.0 + amplitude * std::sin(0.21 * x + 0.13 * y + 0.9 * c + t));
  });
}

// A soft disc matte centred in the frame.
std::vector<float> disc(int w, int h, double radius) {
  std::vector<float> a(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double r = std::hypot(x - w / 2.0, y - h / 2.0);
      a[static_cast<size_t>(y) * w + x] = static_cast<float>(std::clamp(radius - r + 0.5, 0.0, 1.0));
    }
  return a;
}

// out = base + offset inside the matte (alpha >= 0.5).
facetrain::FloatImage step_inside(const facetrain::FloatImage& base, const std::vector<float>& alpha, float offset) {
  auto out = base;
  for (size_t i = 0; i < alpha.size(); ++i)
    if (alpha[i] >= 0.5f)
      for (int c = 0; c < 3; ++c) out.pixels[i * out.channels + c] += offset;
  return out;
}

}  // namespace

TEST_CASE("flicker ratio: 1 when the output is the plate, 2 when it changes twice as much", "[unit][quality]") {
  const int w = 64, h = 48;
  const auto p0 = plate_at(w, h, 0.0), p1 = plate_at(w, h, 0.4);
  const auto a0 = disc(w, h, 15), a1 = disc(w, h, 16);
  CHECK(facetrain::flicker_ratio(p0, p1, p0, p1, a0, a1) == 1.0);
  // The output moves from p0 by twice the plate's change.
  auto o1 = p0;
  for (size_t i = 0; i < o1.pixels.size(); ++i) o1.pixels[i] = p0.pixels[i] + 2 * (p1.pixels[i] - p0.pixels[i]);
  CHECK(facetrain::flicker_ratio(p0, p1, p0, o1, a0, a1) == Approx(2.0).epsilon(0.002));
  // A still output on a moving plate: 0 (less change than the plate).
  CHECK(facetrain::flicker_ratio(p0, p1, p0, p0, a0, a1) < 0.01);
  // Outside the mattes nothing counts: a change there does not move the ratio.
  auto o1_out = p1;
  o1_out.pixels[0] += 5.0f;  // pixel (0, 0): matte 0 in both frames
  CHECK(facetrain::flicker_ratio(p0, p1, p0, o1_out, a0, a1) == 1.0);
}

TEST_CASE("flicker ratio: a steady difference from the plate is no flicker", "[unit][quality]") {
  const int w = 48, h = 40;
  const auto p0 = plate_at(w, h, 0.0), p1 = plate_at(w, h, 0.1);  // a slow move: about 0.05 a frame
  const auto a = disc(w, h, 12);
  // The swapped face is another colour than the plate's in both frames, by the same amount: only
  // the frame-to-frame change of the output counts, so this is exactly the plate's change.
  const std::vector<float> everywhere(a.size(), 1.0f);
  const auto o0 = step_inside(p0, everywhere, 0.25f), o1 = step_inside(p1, everywhere, 0.25f);
  CHECK(facetrain::flicker_ratio(p0, p1, o0, o1, a, a) == Approx(1.0).epsilon(1e-6));
  // The same offset appearing between the two frames is flicker.
  CHECK(facetrain::flicker_ratio(p0, p1, p0, o1, a, a) > 2.0);
}

TEST_CASE("flicker ratio on a static plate, RGBA images, and the NaN cases", "[unit][quality]") {
  const int w = 40, h = 30;
  const auto still = plate_at(w, h, 0.0, 4);
  const auto a = disc(w, h, 10);
  // A locked-off plate and an output that does not change either: exactly 1.
  CHECK(facetrain::flicker_ratio(still, still, still, still, a, a) == 1.0);
  // A locked-off plate and an output that flickers by 0.01: change / epsilon + 1 = about 100.
  const auto flicker = step_inside(still, std::vector<float>(a.size(), 1.0f), 0.01f);
  const double r = facetrain::flicker_ratio(still, still, still, flicker, a, a);
  CHECK(r == Approx((0.01 + facetrain::kStabilityEpsilon) / facetrain::kStabilityEpsilon).epsilon(1e-3));
  CHECK(r > 50);
  // RGBA: alpha channels that differ are not part of the score.
  auto p1 = plate_at(w, h, 0.3, 4);
  for (size_t i = 3; i < p1.pixels.size(); i += 4) p1.pixels[i] = 0.0f;
  CHECK(facetrain::flicker_ratio(still, p1, plate_at(w, h, 0.0, 3), plate_at(w, h, 0.3, 3), a, a) == 1.0);
  // NaN: no pixel in either matte; sizes that differ; mattes of the wrong size.
  const std::vector<float> empty(a.size(), 0.0f);
  CHECK(std::isnan(facetrain::flicker_ratio(still, p1, still, p1, empty, empty)));
  CHECK(std::isnan(facetrain::flicker_ratio(still, plate_at(w + 1, h, 0.3), still, p1, a, a)));
  CHECK(std::isnan(facetrain::flicker_ratio(still, p1, still, p1, a, std::vector<float>(a.size() - 1, 1.0f))));
}

TEST_CASE("seam ratio: 1 for an untouched plate, clearly above 1 with a step along the matte", "[unit][quality]") {
  const int w = 64, h = 48;
  const auto plate = plate_at(w, h, 0.0, 3, 0.2);  // skin-like texture: gradients of about 0.05 a pixel
  const auto alpha = disc(w, h, 14);
  CHECK(facetrain::seam_ratio(plate, plate, alpha) == 1.0);
  // A colour step of 0.1 at the matte's edge.
  const double seam = facetrain::seam_ratio(plate, step_inside(plate, alpha, 0.1f), alpha);
  CHECK(seam > 1.3);
  // Even on a strongly textured plate (gradients of about 0.2 a pixel) a step of 0.3 shows.
  const auto busy = plate_at(w, h, 0.0);
  CHECK(facetrain::seam_ratio(busy, step_inside(busy, alpha, 0.3f), alpha) > 1.15);
  // A bigger step, a bigger seam.
  CHECK(facetrain::seam_ratio(plate, step_inside(plate, alpha, 0.2f), alpha) > seam);
  // A change well inside the matte, away from its boundary, is no seam.
  auto inner = step_inside(plate, disc(w, h, 6), 0.3f);
  CHECK(facetrain::seam_ratio(plate, inner, alpha) == 1.0);
  // A flat plate (no edges of its own) with a step: far above 1.
  const auto flat = image(w, h, 3, [](int, int, int) { return 0.5f; });
  CHECK(facetrain::seam_ratio(flat, step_inside(flat, alpha, 0.1f), alpha) > 100);
  CHECK(facetrain::seam_ratio(flat, flat, alpha) == 1.0);
}

TEST_CASE("seam ratio: the band is where the matte crosses 0.5", "[unit][quality]") {
  const int w = 60, h = 20;
  const auto plate = plate_at(w, h, 0.0, 3, 0.2);
  // A soft matte: a ramp from 0 at the left edge to 1 at the right; it crosses 0.5 at x = 30.
  std::vector<float> ramp(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) ramp[static_cast<size_t>(y) * w + x] = static_cast<float>(x) / (w - 1);
  // A step at the 0.5 crossing is a seam...
  CHECK(facetrain::seam_ratio(plate, step_inside(plate, ramp, 0.2f), ramp) > 1.3);
  // ...a step at alpha 0.9 (outside the band) is not.
  std::vector<float> high(ramp.size());
  for (size_t i = 0; i < ramp.size(); ++i) high[i] = ramp[i] >= 0.9f ? 1.0f : 0.0f;
  CHECK(facetrain::seam_ratio(plate, step_inside(plate, high, 0.2f), ramp) == 1.0);
}

TEST_CASE("seam ratio is NaN without a matte boundary or with sizes that differ", "[unit][quality]") {
  const int w = 32, h = 24;
  const auto plate = plate_at(w, h, 0.0);
  CHECK(std::isnan(facetrain::seam_ratio(plate, plate, std::vector<float>(w * h, 1.0f))));
  CHECK(std::isnan(facetrain::seam_ratio(plate, plate, std::vector<float>(w * h, 0.0f))));
  CHECK(std::isnan(facetrain::seam_ratio(plate, plate_at(w, h + 1, 0.0), disc(w, h, 8))));
  CHECK(std::isnan(facetrain::seam_ratio(plate, plate, disc(w, h + 1, 8))));
  auto two_channel = plate;
  two_channel.channels = 2;
  CHECK(std::isnan(facetrain::seam_ratio(two_channel, plate, disc(w, h, 8))));
}
