// FaceSwapModel and ModelConfig: FLOP/parameter targets, forward shapes, state round trip.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "facetrain/base/error.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/jobs/model_config.h"

using namespace facetrain;

namespace {

// SAEHD -ud at 256 px with default dims, forward GFLOP per image (research/anchors-performance.md §2).
constexpr double kSaehdDfUd256Flops = 60.9e9;
constexpr double kSaehdLiaeUd256Flops = 72.2e9;

int64_t count_parameters(const FaceSwapModel& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

torch::Tensor smooth_images(int64_t batch, int64_t size, int64_t seed) {
  torch::manual_seed(seed);
  auto coarse = torch::rand({batch, 3, 4, 4});
  return torch::nn::functional::interpolate(
      coarse, torch::nn::functional::InterpolateFuncOptions()
                  .size(std::vector<int64_t>{size, size})
                  .mode(torch::kBilinear)
                  .align_corners(false));
}

void check_output(const SwapOutput& out, int64_t batch, int64_t size) {
  REQUIRE(out.rgb.sizes() == torch::IntArrayRef({batch, 3, size, size}));
  REQUIRE(out.mask.sizes() == torch::IntArrayRef({batch, 1, size, size}));
  CHECK(out.rgb.min().item<float>() >= 0.0f);
  CHECK(out.rgb.max().item<float>() <= 1.0f);
  CHECK(out.mask.min().item<float>() >= 0.0f);
  CHECK(out.mask.max().item<float>() <= 1.0f);
  CHECK(torch::isfinite(out.rgb).all().item<bool>());
}

}  // namespace

TEST_CASE("df-256 and liae-256 presets match SAEHD forward FLOPs within 10%", "[unit][model]") {
  const auto df = estimate_model_cost(model_preset("df-256"));
  const auto liae = estimate_model_cost(model_preset("liae-256"));
  CHECK(df.forward_flops_per_image == Approx(kSaehdDfUd256Flops).epsilon(0.10));
  CHECK(liae.forward_flops_per_image == Approx(kSaehdLiaeUd256Flops).epsilon(0.10));
  // The encoder is SAEHD's exactly (5.19 GFLOP), and the decoder dominates (~90%).
  CHECK(df.encoder_flops == Approx(5.19e9).epsilon(0.01));
  CHECK(df.decoder_flops / df.forward_flops_per_image > 0.85);
  // SAEHD parameter counts: 82.8 M (df-ud) and 145.3 M (liae-ud).
  CHECK(double(df.parameter_count) == Approx(82.8e6).epsilon(0.05));
  CHECK(double(liae.parameter_count) == Approx(145.3e6).epsilon(0.05));
}

TEST_CASE("liae-512 costs four times liae-256 and tiny is small", "[unit][model]") {
  const auto c256 = estimate_model_cost(model_preset("liae-256"));
  const auto c512 = estimate_model_cost(model_preset("liae-512"));
  CHECK(model_preset("liae-512").resolution_px == 512);
  CHECK(c512.forward_flops_per_image == Approx(4.0 * c256.forward_flops_per_image).epsilon(0.01));
  CHECK(c512.parameter_count > c256.parameter_count);
  const auto tiny = estimate_model_cost(model_preset("tiny"));
  CHECK(model_preset("tiny").resolution_px == 64);
  CHECK(tiny.forward_flops_per_image < 1e9);
  CHECK(tiny.forward_flops_per_image > 0);
}

TEST_CASE("invalid model configs and unknown presets are ConfigErrors", "[unit][model]") {
  ModelConfig c;
  c.resolution_px = 100;
  CHECK_THROWS_AS(validate_model_config(c), ConfigError);
  c.resolution_px = 1024;
  CHECK_THROWS_AS(validate_model_config(c), ConfigError);
  c = ModelConfig{};
  c.ae_dims = 0;
  CHECK_THROWS_AS(FaceSwapModel(c), ConfigError);
  CHECK_THROWS_AS(model_preset("huge"), ConfigError);
  CHECK_THROWS_AS(parse_architecture("dfl"), ConfigError);
  CHECK(parse_architecture("df") == Architecture::df);
  for (const auto& name : model_preset_names()) CHECK_NOTHROW(validate_model_config(model_preset(name)));
}

TEST_CASE("analytic parameter count equals the built tiny networks", "[unit][model]") {
  FaceSwapModel df_tiny(model_preset("tiny"));
  CHECK(count_parameters(df_tiny) == estimate_model_cost(df_tiny.config()).parameter_count);
  ModelConfig liae_tiny = model_preset("tiny");
  liae_tiny.architecture = Architecture::liae;
  FaceSwapModel model(liae_tiny);
  CHECK(count_parameters(model) == estimate_model_cost(liae_tiny).parameter_count);
}

TEST_CASE("tiny df and liae forward shapes, and forward_training equals the single passes", "[unit][model]") {
  torch::NoGradGuard no_grad;
  for (auto arch : {Architecture::df, Architecture::liae}) {
    INFO(to_string(arch));
    ModelConfig c = model_preset("tiny");
    c.architecture = arch;
    torch::manual_seed(1);
    FaceSwapModel model(c);
    auto actor = smooth_images(2, 64, 2);
    auto dbl = smooth_images(2, 64, 3);
    const auto a = model.reconstruct_actor(actor);
    const auto d = model.reconstruct_double(dbl);
    const auto s = model.swap_double_to_actor(dbl);
    check_output(a, 2, 64);
    check_output(d, 2, 64);
    check_output(s, 2, 64);
    const auto both = model.forward_training(actor, dbl);
    CHECK(torch::allclose(both.actor.rgb, a.rgb, 1e-4, 1e-5));
    CHECK(torch::allclose(both.actor.mask, a.mask, 1e-4, 1e-5));
    CHECK(torch::allclose(both.double_.rgb, d.rgb, 1e-4, 1e-5));
    CHECK(torch::allclose(both.double_.mask, d.mask, 1e-4, 1e-5));
    // The swap uses the actor's side: it differs from the double's own reconstruction.
    CHECK_FALSE(torch::allclose(s.rgb, d.rgb, 1e-4, 1e-5));
    CHECK_THROWS_AS(model.reconstruct_actor(torch::rand({2, 3, 32, 32})), InternalError);
  }
}

TEST_CASE("channels_last gives the same outputs as NCHW", "[unit][model]") {
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  FaceSwapModel model(model_preset("tiny"));
  auto x = smooth_images(2, 64, 6);
  const auto reference = model.forward_training(x, x.flip({3}));
  model.to(torch::kCPU, /*channels_last=*/true);
  CHECK(model.channels_last());
  const auto nhwc = model.forward_training(x, x.flip({3}));
  CHECK(torch::allclose(nhwc.actor.rgb, reference.actor.rgb, 1e-4, 1e-5));
  CHECK(torch::allclose(nhwc.double_.mask, reference.double_.mask, 1e-4, 1e-5));
}

// One test per preset: building a 256 px model (83 M / 145 M parameters) takes seconds on CPU.
// liae-512 is covered by its FLOP count only, to keep the suite fast.
TEST_CASE("df-256 forward shapes at batch 2 and parameter count", "[unit][model]") {
  torch::NoGradGuard no_grad;
  FaceSwapModel model(model_preset("df-256"));
  CHECK(count_parameters(model) == estimate_model_cost(model.config()).parameter_count);
  auto x = smooth_images(2, 256, 7);
  const auto out = model.forward_training(x, x.flip({3}));
  check_output(out.actor, 2, 256);
  check_output(out.double_, 2, 256);
}

TEST_CASE("liae-256 forward shapes at batch 2 and parameter count", "[unit][model]") {
  torch::NoGradGuard no_grad;
  FaceSwapModel model(model_preset("liae-256"));
  CHECK(count_parameters(model) == estimate_model_cost(model.config()).parameter_count);
  auto x = smooth_images(2, 256, 8);
  const auto out = model.forward_training(x, x.flip({3}));
  check_output(out.actor, 2, 256);
  check_output(out.double_, 2, 256);
}

TEST_CASE("named parameters round-trip and reject mismatched state", "[unit][model]") {
  torch::NoGradGuard no_grad;
  ModelConfig c = model_preset("tiny");
  c.architecture = Architecture::liae;
  torch::manual_seed(11);
  FaceSwapModel source(c);
  torch::manual_seed(12);
  FaceSwapModel target(c);
  auto x = smooth_images(1, 64, 13);
  CHECK_FALSE(torch::allclose(source.swap_double_to_actor(x).rgb, target.swap_double_to_actor(x).rgb));
  auto state = source.named_parameters();
  REQUIRE(state.front().first == "encoder.down0.weight");
  target.load_named_parameters(state, "ckpt/model.pt");
  CHECK(torch::equal(source.swap_double_to_actor(x).rgb, target.swap_double_to_actor(x).rgb));

  auto missing = state;
  missing.pop_back();
  CHECK_THROWS_AS(target.load_named_parameters(missing, "ckpt/model.pt"), InputDataError);
  auto wrong_shape = state;
  wrong_shape.front().second = torch::zeros({1, 2, 3});
  CHECK_THROWS_WITH(target.load_named_parameters(wrong_shape, "ckpt/model.pt"),
                    Catch::Contains("ckpt/model.pt") && Catch::Contains("encoder.down0.weight"));
  auto extra = state;
  extra.emplace_back("decoder.unknown", torch::zeros({1}));
  CHECK_THROWS_AS(target.load_named_parameters(extra, "ckpt/model.pt"), InputDataError);
  // A df state does not load into a liae model.
  FaceSwapModel df_model(model_preset("tiny"));
  CHECK_THROWS_AS(target.load_named_parameters(df_model.named_parameters(), "df.pt"), InputDataError);
}
