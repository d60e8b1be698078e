#include "facetrain/train/gradient_clip.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

using facetrain::clip_gradients;

namespace {

std::vector<torch::Tensor> parameters_with_gradients(double gradient_scale) {
  torch::manual_seed(7);
  std::vector<torch::Tensor> params = {torch::randn({4, 3}, torch::requires_grad()),
                                       torch::randn({5}, torch::requires_grad())};
  auto loss = (params[0].pow(3).sum() + params[1].pow(2).sum()) * gradient_scale;
  loss.backward();
  return params;
}

}  // namespace

TEST_CASE("on-device gradient clipping matches LibTorch's clip_grad_norm_", "[unit][train]") {
  for (double max_norm : {0.5, 1.0, 1e6}) {
    CAPTURE(max_norm);
    auto ours = parameters_with_gradients(3.0);
    auto reference = parameters_with_gradients(3.0);
    const double norm_before = clip_gradients(ours, max_norm).item<double>();
    const double reference_norm = torch::nn::utils::clip_grad_norm_(reference, max_norm);
    CHECK(norm_before == Approx(reference_norm).epsilon(1e-5));
    for (size_t i = 0; i < ours.size(); ++i) CHECK(torch::allclose(ours[i].grad(), reference[i].grad(), 1e-5, 1e-6));
  }
  // A parameter without a gradient is left alone.
  std::vector<torch::Tensor> none = {torch::zeros({2}, torch::requires_grad())};
  CHECK(clip_gradients(none, 1.0).item<double>() == 0.0);
}
