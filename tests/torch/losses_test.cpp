// DSSIM, reconstruction loss terms and the eyes/mouth priority map.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>

#include "facetrain/base/error.h"
#include "facetrain/train/losses.h"

using namespace facetrain;

namespace {

constexpr double kPi = 3.14159265358979323846;

torch::Tensor smooth(int64_t batch, int64_t channels, int64_t size, int64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::functional::interpolate(
      torch::rand({batch, channels, 8, 8}),
      torch::nn::functional::InterpolateFuncOptions()
          .size(std::vector<int64_t>{size, size})
          .mode(torch::kBilinear)
          .align_corners(false));
}

// 68 landmarks far from the features (at the chin), then eyes and lips as regular polygons.
torch::Tensor synthetic_landmarks(double scale, double dx = 0.0) {
  auto lm = torch::full({68, 2}, 0.0);
  for (int i = 0; i < 68; ++i) {
    lm[i][0] = (32.0 + dx) * scale;
    lm[i][1] = 62.0 * scale;
  }
  auto polygon = [&](int first, int count, double cx, double cy, double rx, double ry) {
    for (int i = 0; i < count; ++i) {
      const double a = 2.0 * kPi * i / count;
      lm[first + i][0] = (cx + dx + rx * std::cos(a)) * scale;
      lm[first + i][1] = (cy + ry * std::sin(a)) * scale;
    }
  };
  polygon(36, 6, 20, 24, 4, 2);   // left eye
  polygon(42, 6, 44, 24, 4, 2);   // right eye
  polygon(48, 12, 32, 46, 8, 3);  // outer lips
  polygon(60, 8, 32, 46, 5, 1);   // inner lips (not part of the map's polygons)
  return lm;
}

float at_px(const torch::Tensor& map, int64_t b, double x, double y) {
  return map[b][0][int64_t(std::lround(y))][int64_t(std::lround(x))].item<float>();
}

}  // namespace

TEST_CASE("DSSIM is ~0 for identical images and grows with difference", "[unit][losses]") {
  auto a = smooth(2, 3, 64, 1);
  auto b = smooth(2, 3, 64, 2);
  CHECK(dssim(a, a, 5).item<float>() == Approx(0.0f).margin(1e-6));
  const float ab = dssim(a, b, 5).item<float>();
  CHECK(ab > 0.05f);
  CHECK(ab <= 1.0f);
  CHECK(dssim(b, a, 5).item<float>() == Approx(ab).epsilon(1e-5));
  const float slight = dssim(a, (a + 0.05 * torch::randn_like(a)).clamp(0, 1), 5).item<float>();
  CHECK(slight > 0.0f);
  CHECK(slight < ab);
  CHECK(dssim_window_px(64) == 5);
  CHECK(dssim_window_px(256) == 22);
  CHECK(dssim_window_px(512) == 44);
  CHECK_THROWS_AS(dssim(a, a, 100), InternalError);
  CHECK_THROWS_AS(dssim(a, a.narrow(1, 0, 1), 5), InternalError);
}

TEST_CASE("multi-window DSSIM at 256 px averages two windows", "[unit][losses]") {
  auto a = smooth(1, 3, 256, 3);
  auto b = smooth(1, 3, 256, 4);
  const float multi = multi_window_dssim(a, b).item<float>();
  const float wide = dssim(a, b, 22).item<float>();
  const float narrow = dssim(a, b, 11).item<float>();
  CHECK(multi == Approx(0.5f * (wide + narrow)).epsilon(1e-4));
  CHECK(multi_window_dssim(a, a).item<float>() == Approx(0.0f).margin(1e-6));
  // Below the threshold, a single window.
  auto c = smooth(1, 3, 128, 5);
  auto d = smooth(1, 3, 128, 6);
  CHECK(multi_window_dssim(c, d).item<float>() == Approx(dssim(c, d, dssim_window_px(128)).item<float>()));
}

TEST_CASE("reconstruction loss: zero for a perfect prediction, masked terms ignore the background", "[unit][losses]") {
  auto target = smooth(2, 3, 64, 7);
  auto mask = torch::zeros({2, 1, 64, 64});
  mask.narrow(2, 16, 32).narrow(3, 16, 32).fill_(1.0);  // face: the central square
  auto em = torch::zeros({2, 1, 64, 64});
  em.narrow(2, 20, 8).narrow(3, 20, 8).fill_(1.0);
  LossConfig config;
  config.l1_weight = 1.0;

  const auto perfect = reconstruction_loss(target, mask, target, mask, em, config);
  CHECK(perfect.total.item<float>() == Approx(0.0f).margin(1e-5));
  CHECK(perfect.total.dim() == 0);
  CHECK(perfect.named().size() == 6);
  CHECK(perfect.named().back().first == "total");

  // Wrong only far outside the face (the corners): masked RGB terms stay ~0.
  auto background_off = target.clone();
  background_off.narrow(2, 0, 4).narrow(3, 0, 4).fill_(1.0);
  const auto masked = reconstruction_loss(background_off, mask, target, mask, em, config);
  CHECK(masked.mse.item<float>() == Approx(0.0f).margin(1e-7));
  CHECK(masked.l1.item<float>() == Approx(0.0f).margin(1e-7));
  CHECK(masked.dssim.item<float>() == Approx(0.0f).margin(1e-6));
  config.masked = false;
  const auto unmasked = reconstruction_loss(background_off, mask, target, mask, em, config);
  CHECK(unmasked.mse.item<float>() > 1e-4f);
  CHECK(unmasked.dssim.item<float>() > 1e-4f);
  config.masked = true;

  // Wrong inside the face: every RGB term positive; wrong in the eye box: eyes_mouth positive.
  auto face_off = target.clone();
  face_off.narrow(2, 20, 8).narrow(3, 20, 8).add_(0.3).clamp_(0, 1);
  const auto off = reconstruction_loss(face_off, mask, target, mask, em, config);
  CHECK(off.dssim.item<float>() > 0.0f);
  CHECK(off.mse.item<float>() > 0.0f);
  CHECK(off.eyes_mouth.item<float>() > 0.0f);
  const auto no_em = reconstruction_loss(face_off, mask, target, mask, torch::Tensor(), config);
  CHECK(no_em.eyes_mouth.item<float>() == 0.0f);
  CHECK(no_em.total.item<float>() < off.total.item<float>());

  // Mask loss is the MSE of the masks.
  const auto mask_off = reconstruction_loss(target, torch::zeros_like(mask), target, mask, em, config);
  CHECK(mask_off.mask.item<float>() == Approx(mask.mean().item<float>()).epsilon(1e-5));
  CHECK(mask_off.total.item<float>() == Approx(10.0f * mask.mean().item<float>()).epsilon(1e-4));

  // Lower-precision predictions are accepted (computed in float32).
  const auto half = reconstruction_loss(target.to(torch::kBFloat16), mask, target, mask, em, config);
  CHECK(half.total.scalar_type() == torch::kFloat32);
  CHECK_THROWS_AS(reconstruction_loss(target, mask, target.narrow(2, 0, 32), mask, em, config), InternalError);
}

TEST_CASE("eyes/mouth weight map covers eyes and lips, not the rest", "[unit][losses]") {
  // Batch of two faces: the second shifted right by 6 px.
  auto lm = torch::stack({synthetic_landmarks(1.0), synthetic_landmarks(1.0, 6.0)});
  const auto map = eyes_mouth_weight_map(lm, 64, 64);
  REQUIRE(map.sizes() == torch::IntArrayRef({2, 1, 64, 64}));
  for (int b = 0; b < 2; ++b) {
    INFO("sample " << b);
    const double dx = b == 0 ? 0.0 : 6.0;
    CHECK(at_px(map, b, 20 + dx, 24) == 1.0f);  // left eye centre
    CHECK(at_px(map, b, 44 + dx, 24) == 1.0f);  // right eye centre
    CHECK(at_px(map, b, 32 + dx, 46) == 1.0f);  // mouth centre
    CHECK(at_px(map, b, 39 + dx, 46) == 1.0f);  // inside the lips, near the corner
    CHECK(at_px(map, b, 25 + dx, 24) == 1.0f);  // just outside the eye: dilated (R/32 = 2 px)
    CHECK(at_px(map, b, 32 + dx, 24) == 0.0f);  // between the eyes
    CHECK(at_px(map, b, 32 + dx, 10) == 0.0f);  // forehead
    CHECK(at_px(map, b, 32 + dx, 35) == 0.0f);  // nose
    CHECK(at_px(map, b, 10 + dx, 46) == 0.0f);  // cheek
  }
  // Area: the polygons (two hexagons 4x2, a 12-gon 8x3) plus ~2 px dilation: a few % of the image.
  const float covered = map[0].mean().item<float>();
  CHECK(covered > 0.03f);
  CHECK(covered < 0.15f);
  CHECK(at_px(map, 0, 17, 24) == 1.0f);  // sample 0's eye edge (16 + 2 px dilation)...
  CHECK(at_px(map, 1, 17, 24) == 0.0f);  // ...is not covered for sample 1, whose eye moved right

  // At 256 px (rasterised at 128 and resized) the same face scaled by 4 covers the same places.
  const auto big = eyes_mouth_weight_map(synthetic_landmarks(4.0).unsqueeze(0), 256, 256);
  REQUIRE(big.sizes() == torch::IntArrayRef({1, 1, 256, 256}));
  CHECK(at_px(big, 0, 80, 96) == Approx(1.0f));
  CHECK(at_px(big, 0, 128, 184) == Approx(1.0f));
  CHECK(at_px(big, 0, 128, 96) == Approx(0.0f));
  CHECK(big.mean().item<float>() == Approx(covered).epsilon(0.25));
  CHECK_THROWS_AS(eyes_mouth_weight_map(torch::zeros({1, 5, 2}), 64, 64), InternalError);
}
