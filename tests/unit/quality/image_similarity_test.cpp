#include "facetrain/quality/image_similarity.h"
#include "../test_support.h"

#include <cmath>
#include <vector>

namespace {

// Smooth colour patterns, the same formulas as the scikit-image reference values below were made
// from (numpy, float64, then cast to float32; 0.7 * x * y / w evaluated left to right).
std::vector<float> pattern_a(int w, int h) {
  std::vector<float> v(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        v[(static_cast<size_t>(y) * w + x) * 3 + c] = static_cast<float>(0.5 + 0.4 * std::sin(0.3 * x + 0.2 * y + c));
  return v;
}

std::vector<float> pattern_b(int w, int h) {
  std::vector<float> v(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        v[(static_cast<size_t>(y) * w + x) * 3 + c] = static_cast<float>(
            0.5 + 0.35 * std::sin(0.31 * x + 0.18 * y + c + 0.1) + 0.05 * std::cos(0.7 * x * y / w));
  return v;
}

// Deterministic noise in [-amplitude, amplitude] (a 32-bit LCG).
std::vector<float> with_noise(std::vector<float> v, float amplitude, unsigned seed = 12345) {
  for (float& p : v) {
    seed = seed * 1664525u + 1013904223u;
    p += amplitude * (static_cast<float>(seed >> 8) / 8388608.0f - 1.0f);
  }
  return v;
}

}  // namespace

TEST_CASE("identical images: SSIM and MS-SSIM 1, PSNR infinite", "[unit][quality]") {
  const auto a = with_noise(pattern_a(256, 260), 0.1f);
  const auto s = facetrain::reconstruction_scores(a, a, 256, 260);
  CHECK(s.ssim == Approx(1.0).margin(1e-12));
  CHECK(s.ms_ssim == Approx(1.0).margin(1e-12));
  CHECK(std::isinf(s.psnr_db));
  CHECK(s.psnr_db > 0);
  CHECK(facetrain::ssim(a, a, 256, 260) == s.ssim);
  CHECK(facetrain::ms_ssim(a, a, 256, 260) == s.ms_ssim);
}

TEST_CASE("PSNR of a known MSE", "[unit][quality]") {
  const std::vector<float> a(16 * 12 * 3, 0.5f);
  std::vector<float> b(a.size(), 0.6f);
  const double d = static_cast<double>(0.6f) - static_cast<double>(0.5f);  // the values the images hold
  const double mse = d * d;
  CHECK(facetrain::psnr_db(a, b, 16, 12) == Approx(10 * std::log10(1.0 / mse)).epsilon(1e-12));
  CHECK(facetrain::psnr_db(a, b, 16, 12) == Approx(20.0).margin(1e-5));
  CHECK(facetrain::psnr_db(a, b, 16, 12, {}, 2.0) == Approx(10 * std::log10(4.0 / mse)).epsilon(1e-12));
  // One channel of half the pixels off by 0.3: MSE 0.09 / 6 = 0.015.
  std::vector<float> c = a;
  for (size_t i = 0; i < c.size() / 2; i += 3) c[i] += 0.3f;
  CHECK(facetrain::psnr_db(a, c, 16, 12) == Approx(10 * std::log10(1.0 / 0.015)).epsilon(1e-5));
}

TEST_CASE("SSIM and PSNR match scikit-image's values for a fixed pair", "[unit][quality]") {
  // skimage 0.26 structural_similarity(a, b, channel_axis=-1, data_range=R, gaussian_weights=True,
  // sigma=1.5, use_sample_covariance=False) and peak_signal_noise_ratio(a, b, data_range=1.0),
  // on float64 copies of the float32 images. tests/tools/ssim_reference.py makes these numbers
  // (.venv/bin/python tests/tools/ssim_reference.py).
  const auto a = pattern_a(40, 30);
  const auto b = pattern_b(40, 30);
  CHECK(facetrain::ssim(a, b, 40, 30) == Approx(0.9223535219255158).margin(1e-9));
  CHECK(facetrain::ssim(a, b, 40, 30, {}, 2.0) == Approx(0.930406352616063).margin(1e-9));
  CHECK(facetrain::psnr_db(a, b, 40, 30) == Approx(21.982336187589326).margin(1e-9));
  CHECK(facetrain::ssim(b, a, 40, 30) == Approx(facetrain::ssim(a, b, 40, 30)).margin(1e-12));
}

TEST_CASE("a mask leaves a damaged region out", "[unit][quality]") {
  const int w = 64, h = 48;
  const auto a = with_noise(pattern_a(w, h), 0.05f);
  auto b = a;
  std::vector<float> mask(static_cast<size_t>(w) * h, 1.0f);
  for (int y = 10; y < 30; ++y)
    for (int x = 20; x < 44; ++x) {
      for (int c = 0; c < 3; ++c) b[(static_cast<size_t>(y) * w + x) * 3 + c] = 0.0f;  // the damage
    }
  // The SSIM window (radius 5) reaches 5 pixels beyond the damage: the mask leaves that out too.
  for (int y = 10 - 5; y < 30 + 5; ++y)
    for (int x = 20 - 5; x < 44 + 5; ++x) mask[static_cast<size_t>(y) * w + x] = 0.0f;
  const double plain_ssim = facetrain::ssim(a, b, w, h);
  CHECK(plain_ssim < 0.8);
  CHECK(std::isfinite(facetrain::psnr_db(a, b, w, h)));
  CHECK(facetrain::ssim(a, b, w, h, mask) == Approx(1.0).margin(1e-12));
  CHECK(std::isinf(facetrain::psnr_db(a, b, w, h, mask)));
  // Weights count in proportion: half weight on the damage halves its share of the MSE.
  std::vector<float> half(mask.size(), 1.0f);
  for (int y = 10; y < 30; ++y)
    for (int x = 20; x < 44; ++x) half[static_cast<size_t>(y) * w + x] = 0.5f;
  double sum = 0, weights = 0;
  for (size_t i = 0; i < half.size(); ++i) {
    for (int c = 0; c < 3; ++c) {
      const double d = static_cast<double>(a[i * 3 + c]) - b[i * 3 + c];
      sum += half[i] * d * d;
    }
    weights += 3 * half[i];
  }
  CHECK(facetrain::psnr_db(a, b, w, h, half) == Approx(10 * std::log10(weights / sum)).epsilon(1e-9));
  // Only the damage: the masked SSIM is lower than the whole image's.
  std::vector<float> only(mask.size());
  for (size_t i = 0; i < only.size(); ++i) only[i] = 1.0f - mask[i];
  CHECK(facetrain::ssim(a, b, w, h, only) < plain_ssim);
  // Nothing left to average: NaN.
  CHECK(std::isnan(facetrain::ssim(a, b, w, h, std::vector<float>(mask.size(), 0.0f))));
  CHECK(std::isnan(facetrain::psnr_db(a, b, w, h, std::vector<float>(mask.size(), 0.0f))));
}

// MS-SSIM has no reference number here: scikit-image has none. Its values are checked against a
// numpy implementation written in tests/e2e/quality_agreement.sh from Wang, Simoncelli & Bovik 2003
// (our own code, not a second library's), on real frames; this case checks only its shape.
TEST_CASE("MS-SSIM is NaN below 256 pixels and falls with the damage above", "[unit][quality]") {
  const auto a = pattern_a(300, 256);
  CHECK(std::isnan(facetrain::ms_ssim(a, a, 300, 255 /* wrong size too */)));
  const auto small_a = pattern_a(300, 255);
  CHECK(std::isnan(facetrain::ms_ssim(small_a, small_a, 300, 255)));
  const auto small_scores = facetrain::reconstruction_scores(small_a, with_noise(small_a, 0.1f), 300, 255);
  CHECK(std::isnan(small_scores.ms_ssim));
  CHECK(small_scores.ssim < 1.0);  // single-scale SSIM is still there
  const double light = facetrain::ms_ssim(a, with_noise(a, 0.05f), 300, 256);
  const double heavy = facetrain::ms_ssim(a, with_noise(a, 0.2f), 300, 256);
  CHECK(light < 1.0);
  CHECK(heavy < light);
  CHECK(heavy > 0.0);
  // Fine noise hurts the finest scale most: MS-SSIM forgives it more than single-scale SSIM does.
  CHECK(light > facetrain::ssim(a, with_noise(a, 0.05f), 300, 256));
}

TEST_CASE("mismatched sizes give NaN, not a score", "[unit][quality]") {
  const auto a = pattern_a(20, 20);
  const auto b = pattern_a(20, 21);
  CHECK(std::isnan(facetrain::psnr_db(a, b, 20, 20)));
  CHECK(std::isnan(facetrain::ssim(a, b, 20, 20)));
  CHECK(std::isnan(facetrain::ssim(a, a, 20, 20, std::vector<float>(10, 1.0f))));
  CHECK(std::isnan(facetrain::ssim(a, a, 20, 20, {}, 0.0)));
  const auto tiny = pattern_a(10, 20);  // narrower than the 11-pixel window
  CHECK(std::isnan(facetrain::ssim(tiny, tiny, 10, 20)));
}
