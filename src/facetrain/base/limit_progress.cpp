#include "facetrain/base/limit_progress.h"

#include <algorithm>

namespace facetrain {

std::optional<LimitProgress> limit_progress(int64_t step, int64_t max_steps, double session_seconds, double max_time_s) {
  std::optional<LimitProgress> best;
  auto consider = [&](double fraction, const char* limit) {
    fraction = std::clamp(fraction, 0.0, 1.0);
    if (!best || fraction > best->fraction) best = LimitProgress{fraction, limit};
  };
  if (max_steps > 0) consider(static_cast<double>(step) / static_cast<double>(max_steps), "steps");
  if (max_time_s > 0) consider(session_seconds / max_time_s, "time");
  return best;
}

}  // namespace facetrain
