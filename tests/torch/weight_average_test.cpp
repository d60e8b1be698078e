// The moving average of the weights (issue 27): its decay's warm-up and one update's arithmetic.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "facetrain/jobs/model_config.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/train/weight_average.h"

using namespace facetrain;

TEST_CASE("weight average: the decay warms up, then holds the configured value", "[unit][train]") {
  CHECK(WeightAverage::decay_at(0.999, 0) == Approx(0.1));
  CHECK(WeightAverage::decay_at(0.999, 90) == Approx(91.0 / 100.0));
  CHECK(WeightAverage::decay_at(0.999, 100000) == Approx(0.999));
  CHECK(WeightAverage::decay_at(0.5, 1000) == Approx(0.5));
}

TEST_CASE("weight average: starts as the live weights and moves toward them by 1 - decay", "[unit][train]") {
  torch::manual_seed(3);
  FaceSwapModel live(model_preset("tiny"));
  WeightAverage average(live, 0.9);
  const auto before = live.parameters();
  std::vector<torch::Tensor> start;
  for (const auto& p : before) start.push_back(p.detach().clone());
  for (size_t i = 0; i < before.size(); ++i) REQUIRE(torch::equal(average.model().parameters()[i], before[i]));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : live.parameters()) p.add_(1.0);
  }
  const int64_t step = 1000;  // past the warm-up: the decay is 0.9
  average.update(live, step);
  const auto averaged = average.model().parameters();
  for (size_t i = 0; i < averaged.size(); ++i) {
    INFO("tensor " << i);
    CHECK(torch::allclose(averaged[i], start[i] + 0.1, 1e-5, 1e-6));
  }
  average.reset_to(live);
  for (size_t i = 0; i < averaged.size(); ++i) CHECK(torch::equal(average.model().parameters()[i], live.parameters()[i]));
}
