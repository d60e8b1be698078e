#pragma once
// What `facetrain train` is asked to do and what it reports, as plain data: the CLI fills a TrainJob
// and the LibTorch module's run_train (facetrain/train/trainer.h) carries it out.
#include "facetrain/base/launch_environment.h"
#include "facetrain/jobs/train_config.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace facetrain {

struct TrainJob {
  std::filesystem::path actor_faceset;
  std::filesystem::path double_faceset;
  std::filesystem::path run_directory;
  std::filesystem::path base_checkpoint;    // empty: fresh weights
  std::string base_parts = "all";           // all | encoder (encoder and inters only)
  bool resume = true;                       // --resume auto|never
  TrainConfig config;
  // Data-parallel training (docs/design.md §6): this process's place; world_size 1 trains alone.
  LaunchEnvironment launch;
  double dist_timeout_s = 600;              // a lost or frozen rank ends every rank within this
  std::string grad_compression = "none";    // none | bf16 (CUDA only)
  bool quality_scores = true;               // reconstruction and identity scores (issue 12), rank 0
  std::string identity_model;               // dlib's face-recognition model; "" = default_identity_model_path()
};

enum class StopReason { max_steps, max_time, target_loss, signal };
inline const char* to_string(StopReason reason) {
  switch (reason) {
    case StopReason::max_steps: return "max_steps";
    case StopReason::max_time: return "max_time";
    case StopReason::target_loss: return "target_loss";
    case StopReason::signal: return "signal";
  }
  return "unknown";
}

struct TrainReport {
  StopReason reason = StopReason::max_steps;
  int64_t steps = 0;                 // the run's total, resumed steps included
  int64_t steps_this_session = 0;
  double seconds = 0;                // wall time of this session
  double device_hours = 0;           // seconds x devices / 3600
  double last_loss = 0;              // training loss, last logged
  double validation_loss = 0;        // moving average of the held-out loss
  double seconds_to_target = -1;     // wall time at which target_loss was reached (this session)
  std::filesystem::path last_checkpoint;
  std::filesystem::path last_preview;
  // The final model's scores (empty with --no-quality): validation_{actor,double}_{ssim,ms_ssim,psnr_db},
  // identity_{to_actor,to_double,closer_to_actor,same_as_actor} (the double's held-out faces swapped),
  // {actor,double}_faces_{...} (each face set's own held-out faces against the references).
  nlohmann::json quality = nlohmann::json::object();
};

// The session's totals, the same on every rank of a data-parallel run: steps (the run's and this
// session's), wall time, and device_hours = seconds x world_size / 3600 (every rank's device).
void record_session(TrainReport& report, int64_t step, int64_t first_step, double seconds, int world_size);

}  // namespace facetrain
