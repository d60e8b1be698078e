#pragma once
// An exponential moving average of the model's weights (issue 27, optimizer.ema_decay): the copy that
// previews, validation, the final scores and `swap` use, because the averaged weights are sharper and
// steadier than the last step's. The average is a second FaceSwapModel of the same shape on the same
// device; after every optimizer step, ema = d * ema + (1 - d) * live, with d = decay_at(decay, step).
//
// Under data parallelism every rank holds identical live weights after each step (the gradients were
// all-reduced before it) and applies the same update to an identical average, so the averages stay
// identical with no communication of their own.
#include "facetrain/model/face_swap_model.h"

#include <cstdint>

namespace facetrain {

class WeightAverage {
 public:
  // decay in (0, 1). The average starts as a copy of `live`.
  WeightAverage(const FaceSwapModel& live, double decay);

  // The decay used after step `step` (0-based count of steps done before it): the configured decay,
  // but at most (1 + step) / (10 + step), so that in a short run the average is not held back by the
  // random initial weights (the warm-up of TensorFlow's ExponentialMovingAverage with num_updates).
  // A pure function of the step, which checkpoints record: a resumed run averages exactly as an
  // uninterrupted one.
  static double decay_at(double decay, int64_t step);

  // ema <- lerp(ema, live, 1 - decay_at(decay, step)), on the device, without autograd.
  void update(const FaceSwapModel& live, int64_t step);
  // The average := the live weights (a run that turns the average on, or one without a saved average).
  void reset_to(const FaceSwapModel& live);

  FaceSwapModel& model() { return average_; }
  const FaceSwapModel& model() const { return average_; }

 private:
  FaceSwapModel average_;
  double decay_;
};

}  // namespace facetrain
