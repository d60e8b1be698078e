// End-to-end learning check on CPU: the tiny preset, fed through augmentation and the losses,
// overfits four faces per identity within seconds.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>

#include "fake_faces.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/jobs/model_config.h"
#include "facetrain/train/augment.h"
#include "facetrain/train/losses.h"

using namespace facetrain;

namespace {

using test::face_masks;
using test::fake_faces;

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
