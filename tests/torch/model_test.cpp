// FaceSwapModel and ModelConfig: FLOP/parameter targets, forward shapes, state round trip.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

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

// SAEHD's -U and -D switched off (issue 27): every variant of df and liae, built small (96 px: the
// bottleneck is 3 px with -D and 6 px without, so r/16 and r/32 cannot be confused), has the
// analytic parameter count and the output shapes.
TEST_CASE("SAEHD without -U or -D: parameter counts and output shapes of df and liae", "[unit][model]") {
  torch::NoGradGuard no_grad;
  for (auto arch : {Architecture::df, Architecture::liae}) {
    for (bool u : {true, false}) {
      for (bool d : {true, false}) {
        ModelConfig c = model_preset("tiny");
        c.architecture = arch;
        c.resolution_px = 96;
        c.ae_dims = 32;
        c.pixel_norm_latent = u;
        c.double_resolution = d;
        INFO(describe(c));
        torch::manual_seed(21);
        FaceSwapModel model(c);
        CHECK(count_parameters(model) == estimate_model_cost(c).parameter_count);
        auto x = smooth_images(1, 96, 22);
        const auto out = model.forward_training(x, x.flip({3}));
        check_output(out.actor, 1, 96);
        check_output(out.double_, 1, 96);
        check_output(model.swap_double_to_actor(x), 1, 96);
      }
    }
  }
}

// The layers keep their names without -D; only shapes differ: the RGB head is a 1x1 convolution to
// 3 channels (no shuffle) and the mask branch has three upscales. Without -U nothing changes but the
// forward: the same seed draws the same weights.
TEST_CASE("SAEHD without -D renames no layer and without -U draws the same weights", "[unit][model]") {
  torch::NoGradGuard no_grad;
  ModelConfig ud = model_preset("tiny");
  ModelConfig no_d = ud, no_u = ud;
  no_d.double_resolution = false;
  no_u.pixel_norm_latent = false;
  torch::manual_seed(31);
  FaceSwapModel with_ud(ud);
  torch::manual_seed(31);
  FaceSwapModel without_u(no_u);
  FaceSwapModel without_d(no_d);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, t] : without_d.named_parameters()) shapes[name] = t.sizes().vec();
  const auto ud_state = with_ud.named_parameters();
  for (const auto& [name, t] : ud_state) {
    INFO(name);
    if (name.find("mask_up3.") != std::string::npos) {
      CHECK(shapes.count(name) == 0);
      continue;
    }
    REQUIRE(shapes.count(name) == 1);
  }
  CHECK(shapes.size() + 4 == ud_state.size());  // mask_up3's weight and bias, per decoder
  CHECK(shapes.at("decoder_actor.rgb_head.weight") == std::vector<int64_t>{3, 32, 1, 1});
  CHECK(shapes.at("decoder_actor.mask_head.weight") == std::vector<int64_t>{1, 16, 1, 1});
  CHECK(shapes.at("inter.dense2.weight") == std::vector<int64_t>{4 * 4 * 64, 64});  // 64/16 px
  CHECK(with_ud.named_parameters().size() == without_u.named_parameters().size());
  const auto no_u_state = without_u.named_parameters();
  for (size_t i = 0; i < ud_state.size(); ++i) CHECK(torch::equal(ud_state[i].second, no_u_state[i].second));
  auto x = smooth_images(2, 64, 32);
  CHECK_FALSE(torch::allclose(with_ud.reconstruct_actor(x).rgb, without_u.reconstruct_actor(x).rgb));
  // A -ud state does not load into a model without -D.
  CHECK_THROWS_AS(without_d.load_named_parameters(ud_state, "ud.pt"), InputDataError);
}

// The network's cost follows the options: no -D puts the decoder's convolutions at twice the side
// (about 4x its FLOPs); -U costs nothing that is counted.
TEST_CASE("estimate_model_cost follows -U and -D", "[unit][model]") {
  for (const char* preset : {"tiny", "df-256", "liae-256"}) {
    INFO(preset);
    ModelConfig c = model_preset(preset);
    const auto ud = estimate_model_cost(c);
    c.pixel_norm_latent = false;
    const auto no_u = estimate_model_cost(c);
    CHECK(no_u.parameter_count == ud.parameter_count);
    CHECK(no_u.forward_flops_per_image == ud.forward_flops_per_image);
    c.pixel_norm_latent = true;
    c.double_resolution = false;
    const auto no_d = estimate_model_cost(c);
    CHECK(no_d.encoder_flops == ud.encoder_flops);
    CHECK(no_d.decoder_flops / ud.decoder_flops == Approx(4.0).epsilon(0.15));
    CHECK(no_d.parameter_count > ud.parameter_count);  // dense2 is 4x wider
  }
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
