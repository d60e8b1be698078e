#include "facetrain/train/weight_average.h"

#include <torch/torch.h>

#include <algorithm>

namespace facetrain {

WeightAverage::WeightAverage(const FaceSwapModel& live, double decay) : average_(live.config()), decay_(decay) {
  average_.to(live.device(), live.channels_last());
  average_.train(false);
  reset_to(live);
}

double WeightAverage::decay_at(double decay, int64_t step) {
  const double warm_up = static_cast<double>(1 + step) / static_cast<double>(10 + step);
  return std::min(decay, warm_up);
}

void WeightAverage::update(const FaceSwapModel& live, int64_t step) {
  torch::NoGradGuard no_grad;
  const auto averaged = average_.parameters();
  const auto current = live.parameters();
  // One fused call over every tensor: per-tensor lerps would launch a few hundred kernels per step.
  at::_foreach_lerp_(averaged, current, 1.0 - decay_at(decay_, step));
}

void WeightAverage::reset_to(const FaceSwapModel& live) {
  torch::NoGradGuard no_grad;
  const auto averaged = average_.parameters();
  const auto current = live.parameters();
  for (size_t i = 0; i < averaged.size(); ++i) averaged[i].copy_(current[i]);
}

}  // namespace facetrain
