#pragma once
// How far a run that several limits can stop has come: the fraction of the limit that will stop it
// first. Training stops at --max-steps (the run's total) or --max-time (this session's seconds),
// whichever comes first; its progress is the larger of the two fractions, so it reaches 1 exactly
// when the first limit does. No LibTorch.
#include <cstdint>
#include <optional>
#include <string>

namespace facetrain {

struct LimitProgress {
  double fraction = 0;  // in [0, 1]
  std::string limit;    // "steps" or "time": the limit that is furthest along
};

// max_steps <= 0 or max_time_s <= 0 means that limit is off; with neither (a run stopped only by a
// target loss or a signal) there is no known end: nullopt.
std::optional<LimitProgress> limit_progress(int64_t step, int64_t max_steps, double session_seconds, double max_time_s);

}  // namespace facetrain
