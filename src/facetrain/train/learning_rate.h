#pragma once
// The learning rate of each step and how far through its run a step is (issue 27): pure functions of
// what a checkpoint records (the step count and the training time, state.json's elapsed_s), so a
// resumed run continues its schedule where it stopped.
#include "facetrain/jobs/train_config.h"

#include <cstdint>

namespace facetrain {

// How far through the run the next step is, in [0, 1]: by steps when max_steps is set, else by
// training time over max_time_s (the time of every session, so a resumed run goes on from where it
// stopped; a run resumed past max_time_s stays at 1), else 0 (no end is known).
double run_fraction(const TrainConfig& config, int64_t steps_done, double elapsed_s);

// The learning rate of step `step` (0-based): a linear warm-up from lr / warmup_steps to lr, then
// constant or a cosine from lr down to lr * lr_floor. With max_steps the cosine runs from the end of
// the warm-up to max_steps; without, it follows `fraction` (run_fraction's time fraction), and with
// neither limit (fraction 0) it stays at lr.
double learning_rate_at(const OptimizerConfig& optimizer, int64_t max_steps, int64_t step, double fraction);

// Whether the step at `fraction` of the run trains without the random warp (its last
// random_warp_off_fraction; never when no end is known).
bool random_warp_off_at(const TrainConfig& config, double fraction);

// Whether the step at `fraction` of the run trains with the adversarial term: adversarial.weight > 0
// and the fraction at least adversarial.start_fraction (a start of 0: from the first step, whether or
// not an end is known; a later start: never when no end is known).
bool adversarial_on_at(const TrainConfig& config, double fraction);

}  // namespace facetrain
