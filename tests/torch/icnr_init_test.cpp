// ICNR (issue 27): right after construction, every convolution that feeds a pixel shuffle makes the
// shuffle a nearest-neighbour upsample, whatever its input, so training starts without the
// checkerboard that plain Xavier leaves in sub-pixel convolutions.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "facetrain/jobs/model_config.h"
#include "facetrain/model/face_swap_model.h"

using namespace facetrain;

namespace {

constexpr int64_t kShuffle = 2;

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

struct ShuffleConv {
  std::string name;
  torch::Tensor weight, bias;
};

// The convolutions before a pixel shuffle, by their parameter names: the inters' and decoders'
// upscale blocks and the RGB head (the mask head is a 1x1 convolution at full resolution).
std::vector<ShuffleConv> shuffle_convs(const FaceSwapModel& model) {
  std::map<std::string, torch::Tensor> by_name;
  for (const auto& [name, tensor] : model.named_parameters()) by_name.emplace(name, tensor);
  std::vector<ShuffleConv> out;
  for (const auto& [name, tensor] : by_name) {
    const bool upscale = name.find("up") != std::string::npos && ends_with(name, ".conv.weight");
    const bool rgb_head = ends_with(name, "rgb_head.weight");
    if (!upscale && !rgb_head) continue;
    const std::string stem = name.substr(0, name.size() - std::string("weight").size());
    out.push_back({name, tensor.detach(), by_name.at(stem + "bias").detach()});
  }
  return out;
}

// The largest difference between the shuffled output of one random input and the same output with
// each 2x2 block replaced by its top-left value; 0 for a nearest-neighbour upsample.
double block_spread(const ShuffleConv& conv, int64_t seed) {
  torch::manual_seed(seed);
  const int64_t kernel = conv.weight.size(2);
  const auto input = torch::randn({2, conv.weight.size(1), 6, 6});
  const auto shuffled = torch::pixel_shuffle(
      torch::conv2d(input, conv.weight, conv.bias, /*stride=*/1, /*padding=*/kernel / 2), kShuffle);
  const auto top_left = shuffled.slice(2, 0, shuffled.size(2), kShuffle).slice(3, 0, shuffled.size(3), kShuffle);
  const auto nearest = top_left.repeat_interleave(kShuffle, 2).repeat_interleave(kShuffle, 3);
  return (shuffled - nearest).abs().max().item<double>() / shuffled.abs().max().item<double>();
}

ModelConfig tiny_with(Architecture architecture, UpsampleInit init) {
  ModelConfig config = model_preset("tiny");
  config.architecture = architecture;
  config.upsample_init = init;
  return config;
}

}  // namespace

TEST_CASE("ICNR: every shuffled convolution starts as a nearest-neighbour upsample", "[unit][model]") {
  for (const auto architecture : {Architecture::df, Architecture::liae}) {
    torch::manual_seed(27);
    const FaceSwapModel model(tiny_with(architecture, UpsampleInit::icnr));
    const auto convs = shuffle_convs(model);
    // df: inter.upscale + 2 decoders x (3 ups + 4 mask ups + rgb head); liae: 2 inters + 1 decoder.
    CHECK(convs.size() == (architecture == Architecture::df ? 17u : 10u));
    for (const auto& conv : convs) {
      INFO(conv.name);
      CHECK(block_spread(conv, 1) < 1e-6);
      CHECK(block_spread(conv, 2) < 1e-6);
    }
  }
}

TEST_CASE("ICNR: plain Xavier leaves every shuffled convolution uneven within its blocks", "[unit][model]") {
  torch::manual_seed(27);
  const FaceSwapModel model(tiny_with(Architecture::df, UpsampleInit::xavier));
  const auto convs = shuffle_convs(model);
  REQUIRE(convs.size() == 17u);
  for (const auto& conv : convs) {
    INFO(conv.name);
    CHECK(block_spread(conv, 1) > 0.05);
  }
}

TEST_CASE("ICNR: the model's RGB output is constant within each 2x2 block at initialisation", "[unit][model]") {
  torch::manual_seed(27);
  FaceSwapModel model(tiny_with(Architecture::df, UpsampleInit::icnr));
  torch::NoGradGuard no_grad;
  const auto rgb = model.reconstruct_actor(torch::rand({2, 3, 64, 64})).rgb;
  const auto top_left = rgb.slice(2, 0, 64, kShuffle).slice(3, 0, 64, kShuffle);
  const auto nearest = top_left.repeat_interleave(kShuffle, 2).repeat_interleave(kShuffle, 3);
  CHECK((rgb - nearest).abs().max().item<double>() < 1e-6);
  // Each weight keeps Xavier's spread (the full convolution's bound), so activations keep their scale.
  const auto convs = shuffle_convs(model);
  for (const auto& conv : convs) {
    const double fan_in = static_cast<double>(conv.weight.size(1) * conv.weight.size(2) * conv.weight.size(3));
    const double fan_out = static_cast<double>(conv.weight.size(0) * conv.weight.size(2) * conv.weight.size(3));
    const double bound = std::sqrt(6.0 / (fan_in + fan_out));
    INFO(conv.name);
    CHECK(conv.weight.abs().max().item<double>() <= bound);
    CHECK(conv.weight.abs().max().item<double>() > 0.8 * bound);
  }
}
