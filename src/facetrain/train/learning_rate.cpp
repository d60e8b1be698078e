#include "facetrain/train/learning_rate.h"

#include <algorithm>
#include <cmath>

namespace facetrain {

namespace {
constexpr double kPi = 3.14159265358979323846;
}

double run_fraction(const TrainConfig& config, int64_t steps_done, double elapsed_s) {
  if (config.max_steps > 0) return std::clamp(static_cast<double>(steps_done) / static_cast<double>(config.max_steps), 0.0, 1.0);
  if (config.max_time_s > 0) return std::clamp(elapsed_s / config.max_time_s, 0.0, 1.0);
  return 0.0;
}

double learning_rate_at(const OptimizerConfig& o, int64_t max_steps, int64_t step, double fraction) {
  const double warm_up = o.warmup_steps > 0 && step < o.warmup_steps
                             ? static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps)
                             : 1.0;
  if (o.lr_schedule != "cosine") return o.lr * warm_up;
  double t = std::clamp(fraction, 0.0, 1.0);
  if (max_steps > 0) {
    const int64_t decay_steps = std::max<int64_t>(1, max_steps - o.warmup_steps);
    t = std::clamp(static_cast<double>(step - o.warmup_steps) / static_cast<double>(decay_steps), 0.0, 1.0);
  }
  const double cosine = 0.5 * (1.0 + std::cos(kPi * t));
  return o.lr * warm_up * (o.lr_floor + (1.0 - o.lr_floor) * cosine);
}

bool random_warp_off_at(const TrainConfig& config, double fraction) {
  const double off = config.augment.random_warp_off_fraction;
  if (off <= 0 || (config.max_steps <= 0 && config.max_time_s <= 0)) return false;
  return fraction >= 1.0 - off;
}

bool adversarial_on_at(const TrainConfig& config, double fraction) {
  const AdversarialConfig& adversarial = config.adversarial;
  if (adversarial.weight <= 0) return false;
  if (adversarial.start_fraction <= 0) return true;
  if (config.max_steps <= 0 && config.max_time_s <= 0) return false;
  return fraction >= adversarial.start_fraction;
}

}  // namespace facetrain
