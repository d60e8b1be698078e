// End-to-end learning check on CPU: the tiny preset, fed through augmentation and the losses,
// overfits four faces per identity within seconds.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>

#include "facetrain/model/face_swap_model.h"
#include "facetrain/jobs/model_config.h"
#include "facetrain/train/augment.h"
#include "facetrain/train/losses.h"

using namespace facetrain;

namespace {

// "Random-ish" faces: a smooth random colour field with a bright ellipse and two dark spots.
torch::Tensor fake_faces(int64_t count, int64_t size, int64_t seed) {
  torch::manual_seed(seed);
  auto field = torch::nn::functional::interpolate(
      torch::rand({count, 3, 5, 5}), torch::nn::functional::InterpolateFuncOptions()
                                        .size(std::vector<int64_t>{size, size})
                                        .mode(torch::kBicubic)
                                        .align_corners(false));
  auto ys = torch::linspace(-1, 1, size).view({1, 1, size, 1});
  auto xs = torch::linspace(-1, 1, size).view({1, 1, 1, size});
  auto centre = torch::rand({count, 2, 1, 1}) * 0.3 - 0.15;
  auto cx = centre.narrow(1, 0, 1), cy = centre.narrow(1, 1, 1);
  auto ellipse = ((xs - cx).square() / 0.36 + (ys - cy).square() / 0.6 < 1.0).to(torch::kFloat32);
  auto eyes = torch::exp(-(((xs - cx).abs() - 0.25).square() + (ys - cy + 0.2).square()) / 0.004);
  auto face = (field * 0.5 + ellipse * 0.4 - eyes * 0.5).clamp(0, 1);
  return (face * 255).round().to(torch::kUInt8);
}

torch::Tensor face_masks(int64_t count, int64_t size) {
  auto ys = torch::linspace(-1, 1, size).view({1, 1, size, 1});
  auto xs = torch::linspace(-1, 1, size).view({1, 1, 1, size});
  auto m = (xs.square() / 0.5 + ys.square() / 0.7 < 1.0).to(torch::kUInt8) * 255;
  return m.expand({count, 1, size, size}).contiguous();
}

}  // namespace

TEST_CASE("tiny model overfits four faces per identity on CPU", "[unit][model][train]") {
  torch::manual_seed(1234);
  FaceSwapModel model(model_preset("tiny"));
  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(5e-4).betas({0.5, 0.999}));

  const int64_t size = model.config().resolution_px;
  auto actor = fake_faces(4, size, 1), dbl = fake_faces(4, size, 2);
  auto masks = face_masks(4, size);
  AugmentConfig light;  // DFL-like but gentle, so four faces can be memorised quickly
  light.random_warp = true;
  light.warp_strength = 0.5;
  light.rotation_deg = 3.0;
  light.scale = 0.02;
  light.shift = 0.02;
  light.color = false;
  Augmenter augment_actor(light, 1, torch::kCPU), augment_double(light, 2, torch::kCPU);
  LossConfig loss_config;

  const int steps = 120;
  std::vector<float> totals;
  const auto start = std::chrono::steady_clock::now();
  for (int step = 0; step < steps; ++step) {
    const auto a = augment_actor(actor, masks);
    const auto d = augment_double(dbl, masks);
    const auto out = model.forward_training(a.input, d.input);
    const auto la = reconstruction_loss(out.actor.rgb, out.actor.mask, a.target, a.target_mask, {}, loss_config);
    const auto ld = reconstruction_loss(out.double_.rgb, out.double_.mask, d.target, d.target_mask, {}, loss_config);
    auto total = la.total + ld.total;
    optimizer.zero_grad();
    total.backward();
    optimizer.step();
    totals.push_back(total.item<float>());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto mean_of = [&](size_t first, size_t count) {
    double s = 0;
    for (size_t i = first; i < first + count; ++i) s += totals[i];
    return s / double(count);
  };
  const double first = mean_of(0, 5), last = mean_of(totals.size() - 5, 5);
  WARN("tiny overfit: loss " << first << " -> " << last << " in " << steps << " steps, " << seconds << " s ("
                             << steps * 8 / seconds << " img/s)");
  CHECK(std::isfinite(last));
  CHECK(last < 0.5 * first);
}
