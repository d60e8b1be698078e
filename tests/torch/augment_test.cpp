// On-device augmentation: identity, determinism, exact resume, geometry of affine/flip/warp.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "facetrain/base/error.h"
#include "facetrain/train/augment.h"

using namespace facetrain;

namespace {

struct Batch {
  torch::Tensor images, masks, landmarks;
};

Batch make_batch(int64_t batch, int64_t size, int64_t seed) {
  torch::manual_seed(seed);
  auto smooth = torch::nn::functional::interpolate(
      torch::rand({batch, 4, 6, 6}), torch::nn::functional::InterpolateFuncOptions()
                                         .size(std::vector<int64_t>{size, size})
                                         .mode(torch::kBilinear)
                                         .align_corners(false));
  auto u8 = (smooth * 255.0).round().to(torch::kUInt8);
  return {u8.narrow(1, 0, 3).contiguous(), u8.narrow(1, 3, 1).contiguous(), torch::rand({batch, 68, 2}) * (size - 1)};
}

AugmentConfig all_off() {
  AugmentConfig c;
  c.flip = false;
  c.affine = false;
  c.random_warp = false;
  c.color = false;
  return c;
}

bool same(const AugmentedBatch& a, const AugmentedBatch& b) {
  return torch::equal(a.input, b.input) && torch::equal(a.target, b.target) &&
         torch::equal(a.target_mask, b.target_mask) && torch::equal(a.landmarks, b.landmarks);
}

// An image with one bright Gaussian spot at (x, y) in every channel.
torch::Tensor spot_image(int64_t size, double x, double y) {
  auto ys = torch::arange(size, torch::kFloat32).view({size, 1});
  auto xs = torch::arange(size, torch::kFloat32).view({1, size});
  auto spot = torch::exp(-((xs - x).square() + (ys - y).square()) / (2.0 * 2.0 * 2.0));
  return (spot * 255.0).round().to(torch::kUInt8).expand({1, 3, size, size}).contiguous();
}

std::pair<double, double> brightest(const torch::Tensor& image) {
  // Intensity-weighted centroid of the spot (sub-pixel).
  auto v = image[0][0];
  auto w = torch::relu(v - 0.3 * v.max());
  const int64_t size = v.size(0);
  auto xs = torch::arange(size, torch::kFloat32).view({1, size});
  auto ys = torch::arange(size, torch::kFloat32).view({size, 1});
  const double total = w.sum().item<double>();
  return {(w * xs).sum().item<double>() / total, (w * ys).sum().item<double>() / total};
}

}  // namespace

TEST_CASE("augmentation with everything off returns the input exactly", "[unit][augment]") {
  auto batch = make_batch(3, 32, 1);
  Augmenter aug(all_off(), 42, torch::kCPU);
  const auto out = aug(batch.images, batch.masks, batch.landmarks);
  const auto expected = batch.images.to(torch::kFloat32) / 255.0;
  CHECK(torch::equal(out.input, expected));
  CHECK(torch::equal(out.target, expected));
  CHECK(torch::equal(out.target_mask, batch.masks.to(torch::kFloat32) / 255.0));
  CHECK(torch::equal(out.landmarks, batch.landmarks));
  CHECK(out.input.scalar_type() == torch::kFloat32);

  // Switched on but with zero magnitudes: still the identity.
  AugmentConfig zero;
  zero.rotation_deg = zero.scale = zero.shift = 0.0;
  zero.warp_strength = 0.0;
  zero.brightness = zero.contrast = zero.channel_gain = 0.0;
  Augmenter zero_aug(zero, 42, torch::kCPU);
  const auto z = zero_aug(batch.images, batch.masks, batch.landmarks);
  CHECK(torch::equal(z.input, expected));
  CHECK(torch::equal(z.target, expected));
  CHECK(torch::equal(z.landmarks, batch.landmarks));
  // No landmarks given: none returned.
  CHECK_FALSE(aug(batch.images, batch.masks).landmarks.defined());
}

TEST_CASE("same seed gives the same batches; restored state continues exactly", "[unit][augment]") {
  auto batch = make_batch(4, 32, 2);
  AugmentConfig config;
  config.flip = true;
  config.color_on_target = true;
  Augmenter a(config, 7, torch::kCPU);
  Augmenter b(config, 7, torch::kCPU);
  Augmenter other(config, 8, torch::kCPU);
  const auto a1 = a(batch.images, batch.masks, batch.landmarks);
  const auto b1 = b(batch.images, batch.masks, batch.landmarks);
  CHECK(same(a1, b1));
  CHECK_FALSE(torch::equal(a1.input, other(batch.images, batch.masks, batch.landmarks).input));
  CHECK(a1.input.min().item<float>() >= 0.0f);
  CHECK(a1.input.max().item<float>() <= 1.0f);
  CHECK_FALSE(torch::equal(a1.input, a1.target));  // the warp touches the input only

  const auto state = a.get_state().clone();
  const auto a2 = a(batch.images, batch.masks, batch.landmarks);
  const auto a3 = a(batch.images, batch.masks, batch.landmarks);
  CHECK_FALSE(same(a2, a3));
  other.set_state(state);  // a different seed, restored from a's state
  CHECK(same(other(batch.images, batch.masks, batch.landmarks), a2));
  CHECK(same(other(batch.images, batch.masks, batch.landmarks), a3));
}

TEST_CASE("random warp changes the input only, affine moves target, mask and landmarks together",
          "[unit][augment]") {
  auto batch = make_batch(2, 48, 3);
  const auto plain = batch.images.to(torch::kFloat32) / 255.0;

  AugmentConfig warp_only = all_off();
  warp_only.random_warp = true;
  const auto w = Augmenter(warp_only, 1, torch::kCPU)(batch.images, batch.masks, batch.landmarks);
  CHECK(torch::equal(w.target, plain));
  CHECK(torch::equal(w.landmarks, batch.landmarks));
  const float warp_change = (w.input - plain).abs().mean().item<float>();
  CHECK(warp_change > 1e-3f);
  CHECK(warp_change < 0.1f);  // a coarse, smooth displacement, not noise

  // Affine: the mask has the same content as image channel 0, so after the same affine they agree
  // (up to bicubic vs bilinear resampling of a smooth image).
  AugmentConfig affine_only = all_off();
  affine_only.affine = true;
  affine_only.rotation_deg = 10.0;
  affine_only.scale = 0.05;
  affine_only.shift = 0.05;
  auto masks_like_red = batch.images.narrow(1, 0, 1).contiguous();
  const auto a = Augmenter(affine_only, 2, torch::kCPU)(batch.images, masks_like_red, batch.landmarks);
  CHECK(torch::equal(a.input, a.target));
  CHECK((a.target - plain).abs().mean().item<float>() > 1e-3f);
  const float same_affine = (a.target.narrow(1, 0, 1) - a.target_mask).abs().mean().item<float>();
  CHECK(same_affine < 0.006f);
  // A different draw (another seed) moves the mask elsewhere: the check above can fail.
  const auto other = Augmenter(affine_only, 3, torch::kCPU)(batch.images, masks_like_red, batch.landmarks);
  CHECK((a.target.narrow(1, 0, 1) - other.target_mask).abs().mean().item<float>() > 4 * same_affine);
  CHECK_FALSE(torch::equal(a.landmarks, batch.landmarks));
}

TEST_CASE("landmarks follow the affine and the flip", "[unit][augment]") {
  const int64_t size = 64;
  const double x = 20.0, y = 40.0;
  auto image = spot_image(size, x, y);
  auto mask = torch::zeros({1, 1, size, size}, torch::kUInt8);
  auto landmarks = torch::full({1, 68, 2}, 0.0f);
  landmarks[0][30][0] = x;
  landmarks[0][30][1] = y;

  AugmentConfig config = all_off();
  config.affine = true;
  config.rotation_deg = 10.0;
  config.scale = 0.05;
  config.shift = 0.05;
  config.flip = true;
  config.flip_probability = 1.0;
  Augmenter aug(config, 99, torch::kCPU);
  for (int trial = 0; trial < 4; ++trial) {
    INFO("trial " << trial);
    const auto out = aug(image, mask, landmarks);
    const auto [sx, sy] = brightest(out.target);
    CHECK(out.landmarks[0][30][0].item<double>() == Approx(sx).margin(0.5));
    CHECK(out.landmarks[0][30][1].item<double>() == Approx(sy).margin(0.5));
    CHECK(sx > 32.0);  // mirrored: the spot moved to the right half
  }

  // Flip alone is exact.
  AugmentConfig flip_only = all_off();
  flip_only.flip = true;
  flip_only.flip_probability = 1.0;
  const auto f = Augmenter(flip_only, 5, torch::kCPU)(image, mask, landmarks);
  CHECK(torch::equal(f.target, image.flip({3}).to(torch::kFloat32) / 255.0));
  CHECK(f.landmarks[0][30][0].item<double>() == Approx(size - 1 - x));
}

TEST_CASE("colour jitter on the input only or on both", "[unit][augment]") {
  auto batch = make_batch(2, 32, 4);
  const auto plain = batch.images.to(torch::kFloat32) / 255.0;
  AugmentConfig color = all_off();
  color.color = true;
  color.brightness = 0.2;
  const auto input_only = Augmenter(color, 3, torch::kCPU)(batch.images, batch.masks);
  CHECK(torch::equal(input_only.target, plain));
  CHECK_FALSE(torch::equal(input_only.input, plain));
  color.color_on_target = true;
  const auto both = Augmenter(color, 3, torch::kCPU)(batch.images, batch.masks);
  CHECK(torch::equal(both.input, both.target));
  CHECK(torch::equal(both.input, input_only.input));  // same draws, same jitter
}

TEST_CASE("augmenter rejects bad inputs and settings", "[unit][augment]") {
  auto batch = make_batch(2, 32, 5);
  Augmenter aug(AugmentConfig{}, 1, torch::kCPU);
  CHECK_THROWS_AS(aug(batch.images.to(torch::kFloat32), batch.masks), InternalError);
  CHECK_THROWS_AS(aug(batch.images, batch.masks.narrow(0, 0, 1)), InternalError);
  CHECK_THROWS_AS(aug(batch.images.narrow(2, 0, 16), batch.masks), InternalError);
  CHECK_THROWS_AS(aug(batch.images, batch.masks, torch::zeros({2, 5, 2})), InternalError);
  AugmentConfig bad;
  bad.warp_grid = 1;
  CHECK_THROWS_AS(Augmenter(bad, 1, torch::kCPU), ConfigError);
}
