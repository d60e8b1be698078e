// Issue 27: the tiny model trained a short while on CPU with the default peak learning rate. With ICNR
// its held-out output carries no more energy at the pixel shuffles' periods than the faces themselves;
// with plain Xavier it starts with a strong grid that training wears down only slowly. Traced (seed 1,
// 64 px, lr 5e-5, the mean of both identities) after 1, 26, 51, 76, 101, 126, 151, 176 steps:
// ICNR 2.7, 1.18, 1.03, 1.02, 1.02, 0.98, 0.95, 0.90; Xavier 25, 7.0, 2.2, 1.95, 1.56, 1.33, 1.17, 1.13.
// At the 60 steps below: ICNR 1.07, Xavier 2.02 (35 s for both on one thread). At tiny's own rate
// since (3e-4) Xavier's grid is worn down within the 60 steps too (ICNR 1.07, Xavier 1.10), so the
// test trains at the GPU presets' 5e-5, where the grid outlasts them: a measure that cannot see it fails.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>

#include "fake_faces.h"
#include "facetrain/jobs/model_config.h"
#include "facetrain/jobs/train_config.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/train/augment.h"
#include "facetrain/train/losses.h"
#include "facetrain/train/training_scores.h"

using namespace facetrain;

namespace {

constexpr int kSteps = 60;
constexpr double kBound = 1.2;  // the output's periodic energy at most 1.2x the faces' own

// The mean of both identities' held-out checkerboard ratios (training_scores.h).
double held_out_checkerboard(FaceSwapModel& model, const torch::Tensor& actor, const torch::Tensor& dbl,
                             const torch::Tensor& masks) {
  torch::NoGradGuard no_grad;
  const auto a = actor.to(torch::kFloat32).div(255), d = dbl.to(torch::kFloat32).div(255);
  const auto m = masks.to(torch::kFloat32).div(255);
  const auto out = model.forward_training(a, d);
  const double actor_ratio = reconstruction_metrics(out.actor.rgb, a, m, "").value("checkerboard_ratio", 1e9);
  const double double_ratio = reconstruction_metrics(out.double_.rgb, d, m, "").value("checkerboard_ratio", 1e9);
  return (actor_ratio + double_ratio) / 2;
}

// Trains the tiny model from seed 1 on 8 grainy faces per identity with the default recipe's
// optimiser at 5e-5, loss and augmentation (random warp on; no warm-up, to keep it short) and scores 8
// other faces per identity.
double train_tiny(UpsampleInit init) {
  ModelConfig config = model_preset("tiny");
  config.upsample_init = init;
  torch::manual_seed(1);
  FaceSwapModel model(config);
  const OptimizerConfig recipe;
  const double lr = preset_recipe("df-256").lr;
  torch::optim::AdamW optimizer(model.parameters(),
                                torch::optim::AdamWOptions(lr).betas({recipe.beta1, recipe.beta2}).weight_decay(0));
  const int64_t size = config.resolution_px;
  const auto actor = test::fake_faces(8, size, 11, 0.03), dbl = test::fake_faces(8, size, 12, 0.03);
  const auto held_actor = test::fake_faces(8, size, 21, 0.03), held_double = test::fake_faces(8, size, 22, 0.03);
  const auto masks = test::face_masks(8, size);
  Augmenter augment_actor(AugmentConfig{}, 3, torch::kCPU), augment_double(AugmentConfig{}, 4, torch::kCPU);
  const LossConfig loss_config;
  for (int step = 0; step < kSteps; ++step) {
    const auto a = augment_actor(actor, masks);
    const auto d = augment_double(dbl, masks);
    const auto out = model.forward_training(a.input, d.input);
    auto total = reconstruction_loss(out.actor.rgb, out.actor.mask, a.target, a.target_mask, {}, loss_config).total +
                 reconstruction_loss(out.double_.rgb, out.double_.mask, d.target, d.target_mask, {}, loss_config).total;
    optimizer.zero_grad();
    total.backward();
    optimizer.step();
  }
  return held_out_checkerboard(model, held_actor, held_double, masks);
}

}  // namespace

TEST_CASE("checkerboard: the tiny model trained with ICNR stays at the faces' level, with Xavier it does not",
          "[unit][model][train]") {
  const auto start = std::chrono::steady_clock::now();
  const double icnr = train_tiny(UpsampleInit::icnr);
  const double xavier = train_tiny(UpsampleInit::xavier);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("held-out checkerboard ratio after " << kSteps << " steps: icnr " << icnr << ", xavier " << xavier << " ("
                                            << seconds << " s)");
  CHECK(icnr <= kBound);
  CHECK(xavier > kBound);
}
