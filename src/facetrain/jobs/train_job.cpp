#include "facetrain/jobs/train_job.h"

namespace facetrain {

void record_session(TrainReport& report, int64_t step, int64_t first_step, double seconds, int world_size) {
  report.steps = step;
  report.steps_this_session = step - first_step;
  report.seconds = seconds;
  report.device_hours = seconds * world_size / 3600.0;
}

}  // namespace facetrain
