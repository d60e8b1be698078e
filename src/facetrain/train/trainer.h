#pragma once
// `facetrain train`: fine-tunes a face-swap model on the actor's and the double's face sets.
// Torch-free: the CLI fills a TrainJob and calls run_train through the LibTorch module
// (src/facetrain/module/torch_module.h); the module implements it (trainer.cpp).
#include "facetrain/base/launch_environment.h"
#include "facetrain/base/progress.h"
#include "facetrain/train/train_config.h"

#include <nlohmann/json.hpp>

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

// Throws ConfigError (78) for bad configs and base-model shape mismatches, InputDataError (65) for
// unusable face sets and for a non-finite loss (naming the step and the term), UnavailableError (69)
// for a missing CUDA device, OutputError (73) when the run directory is held by another train.
// Distributed: ConfigError (78) when ranks disagree on config, face sets or version; TemporaryError
// (75) naming the lost rank when a peer dies or freezes. Rank 0 alone writes RUN.
TrainReport run_train(const TrainJob& job, ProgressSink& progress);

}  // namespace facetrain
