#pragma once
// The effective configuration of a training run: defaults < --config FILE < flags. Every key is
// documented with its default and range in examples/configs/train.yaml; a test keeps them in sync.
#include "facetrain/jobs/model_config.h"
#include "facetrain/jobs/adversarial_config.h"
#include "facetrain/jobs/augment_config.h"
#include "facetrain/jobs/loss_config.h"
#include "facetrain/faceset/faceset.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace facetrain {

// The member defaults are the default preset's (tiny's): preset_recipe("tiny") reads its lr,
// warmup_steps, ema_decay and batch_size from here; the other presets have their own (below).
struct OptimizerConfig {
  std::string type = "adamw";     // adam | adamw
  double lr = 3e-4;               // peak learning rate after warm-up
  double beta1 = 0.5;
  double beta2 = 0.999;
  double weight_decay = 0.0;
  int64_t warmup_steps = 20;
  double clip_grad_norm = 1.0;    // 0 = off
  // After warm-up (issue 27): constant | cosine from lr down to lr * lr_floor at the end of the run
  // (max_steps, else the max_time_s limit; without either, constant). train/learning_rate.h.
  // Off by default: in the CPU bench (docs/train.md) it did not win at 4-6 minutes.
  std::string lr_schedule = "constant";
  double lr_floor = 0.1;          // fraction of lr the cosine ends at
  // The weights previews, validation and swap use: an exponential moving average of the trained
  // ones with this decay (train/weight_average.h); 0 = off (the last step's weights).
  double ema_decay = 0.999;
};

struct TrainConfig {
  std::string preset = "tiny";
  ModelConfig model;              // from the preset, then overridden per key
  int64_t batch_size = 8;         // per process
  int64_t max_steps = 0;          // 0 = no step limit
  double max_time_s = 0;          // 0 = no time limit
  double target_loss = 0;         // stop when the held-out loss (moving average) reaches it; 0 = off
  int64_t target_loss_window = 5; // validation evaluations averaged for the target test
  uint64_t seed = 1;
  std::string device = "cpu";     // cpu | cuda
  bool deterministic = true;      // CPU: bit-exact resume
  bool bf16 = true;               // CUDA autocast
  bool channels_last = true;      // CUDA
  int64_t checkpoint_every = 500;
  int64_t keep_checkpoints = 3;   // >= 2
  int64_t preview_every = 250;
  int64_t log_every = 25;         // losses are read from the device every N steps
  int64_t validate_every = 100;
  double validation_fraction = 0.05;
  // Faces whose landmark fit confidence (extract records it per face) is below this are left out:
  // their alignment is a guess (a hand over most of the face, a profile). 0 keeps every face.
  double min_fit_confidence = kLowFitConfidence;
  int64_t preview_faces = 4;
  OptimizerConfig optimizer;
  LossConfig loss;
  AugmentConfig augment;
  AdversarialConfig adversarial;
};

// What a preset sets besides the model's shape: the training recipe measured for it (issue 27,
// docs/train.md). tiny's was measured on CPU (scripts/bench.sh --sections quality); the GPU presets
// keep DeepFaceLab's (5e-5, a long warm-up, batch 16, no average) until a GPU measures theirs.
struct PresetRecipe {
  double lr = 0;
  int64_t warmup_steps = 0;
  double ema_decay = 0;
  int64_t batch_size = 0;
};
PresetRecipe preset_recipe(std::string_view name);

// Sets `config.preset`, its model (model_preset) and its recipe; throws ConfigError for an unknown name.
void apply_preset(TrainConfig& config, std::string_view name);

// Whether a config file's `preset` key is applied (the default) or only checked: a --preset flag
// given on the command line beats the file's.
enum class FilePreset { apply, check_only };

// Applies a YAML file over `config` (strict: unknown, duplicate, mistyped or out-of-range keys are
// ConfigError naming file, line and key). The preset key is applied first (apply_preset), so file keys
// override it.
void apply_config_file(TrainConfig& config, const std::filesystem::path& path, FilePreset preset = FilePreset::apply);
// Checks cross-key rules; throws ConfigError naming the keys.
void validate_train_config(const TrainConfig& config);
// The effective configuration as YAML (written to RUN/config.yaml; readable by apply_config_file).
std::string train_config_to_yaml(const TrainConfig& config);

// What changed between two train_config_to_yaml texts, a "key: before -> after" per key (nested keys
// as "optimizer.lr"), in the order of `after`; keys only one side has are "key: (none) -> x" or
// "key: x -> (none)". A resumed run warns with it when its recipe is not the one it was started with.
std::vector<std::string> config_differences(const std::string& before, const std::string& after);

}  // namespace facetrain
