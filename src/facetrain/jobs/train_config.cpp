#include "facetrain/jobs/train_config.h"

#include "facetrain/base/error.h"
#include "facetrain/config/config_map.h"

#include <fmt/format.h>

#include <limits>
#include <utility>

namespace facetrain {

namespace {
constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max() / 4;
}

PresetRecipe preset_recipe(std::string_view name) {
  // tiny, the default preset: the member defaults of TrainConfig (the CPU bench's winner, lr 3e-4
  // after 20 warm-up steps, batch 8, weight average 0.999; against the recipe before it, 5e-5, 200,
  // 16, none, in the same 6-minute run: held-out SSIM 0.64 / 0.68 against 0.57 / 0.62; docs/train.md).
  if (name == "tiny") {
    const TrainConfig defaults;
    return {defaults.optimizer.lr, defaults.optimizer.warmup_steps, defaults.optimizer.ema_decay, defaults.batch_size};
  }
  model_preset(name);  // throws for an unknown name
  return {5e-5, 200, 0, 16};
}

void apply_preset(TrainConfig& c, std::string_view name) {
  c.model = model_preset(name);
  const PresetRecipe recipe = preset_recipe(name);
  c.preset = std::string(name);
  c.optimizer.lr = recipe.lr;
  c.optimizer.warmup_steps = recipe.warmup_steps;
  c.optimizer.ema_decay = recipe.ema_decay;
  c.batch_size = recipe.batch_size;
}

void apply_config_file(TrainConfig& c, const std::filesystem::path& path, FilePreset preset) {
  ConfigMap file = ConfigMap::load_file(path);
  if (file.has("preset")) {
    const std::string name = file.get_string("preset", c.preset, model_preset_names());
    if (preset == FilePreset::apply) apply_preset(c, name);
  }
  {
    ConfigMap m = file.get_map("model");
    if (m.has("architecture"))
      c.model.architecture = parse_architecture(m.get_string("architecture", "", {"df", "liae"}));
    // The ranges are the model's own (model_config.h), so the reader and validate_model_config agree.
    auto dims = [&m](const char* key, int current, ModelFieldRange range) {
      return static_cast<int>(m.get_int(key, current, range.low, range.high));
    };
    c.model.resolution_px = dims("resolution", c.model.resolution_px, kResolutionRange);
    c.model.ae_dims = dims("ae_dims", c.model.ae_dims, kAeDimsRange);
    c.model.e_dims = dims("e_dims", c.model.e_dims, kEDimsRange);
    c.model.d_dims = dims("d_dims", c.model.d_dims, kDDimsRange);
    c.model.d_mask_dims = dims("d_mask_dims", c.model.d_mask_dims, kDMaskDimsRange);
    if (m.has("upsample_init"))
      c.model.upsample_init = parse_upsample_init(m.get_string("upsample_init", "", {"icnr", "xavier"}));
    c.model.pixel_norm_latent = m.get_bool("pixel_norm_latent", c.model.pixel_norm_latent);
    c.model.double_resolution = m.get_bool("double_resolution", c.model.double_resolution);
    m.finish();
    try {
      validate_model_config(c.model);
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("{}: {}", m.where(), e.what()));
    }
  }
  c.batch_size = file.get_int("batch_size", c.batch_size, 1, 4096);
  c.max_steps = file.get_int("max_steps", c.max_steps, 0, kMaxInt);
  c.max_time_s = file.get_double("max_time_s", c.max_time_s, 0, 1e9);
  c.target_loss = file.get_double("target_loss", c.target_loss, 0, 100);
  c.target_loss_window = file.get_int("target_loss_window", c.target_loss_window, 1, 1000);
  c.seed = static_cast<uint64_t>(file.get_int("seed", static_cast<int64_t>(c.seed), 0, kMaxInt));
  c.device = file.get_string("device", c.device, {"cpu", "cuda"});
  c.deterministic = file.get_bool("deterministic", c.deterministic);
  c.bf16 = file.get_bool("bf16", c.bf16);
  c.channels_last = file.get_bool("channels_last", c.channels_last);
  c.checkpoint_every = file.get_int("checkpoint_every", c.checkpoint_every, 1, kMaxInt);
  c.keep_checkpoints = file.get_int("keep_checkpoints", c.keep_checkpoints, 2, 1000);
  c.preview_every = file.get_int("preview_every", c.preview_every, 1, kMaxInt);
  c.log_every = file.get_int("log_every", c.log_every, 1, 100000);
  c.validate_every = file.get_int("validate_every", c.validate_every, 1, kMaxInt);
  c.validation_fraction = file.get_double("validation_fraction", c.validation_fraction, 0.0, 0.5);
  c.min_fit_confidence = file.get_double("min_fit_confidence", c.min_fit_confidence, 0.0, 1.0);
  c.preview_faces = file.get_int("preview_faces", c.preview_faces, 1, 16);
  {
    ConfigMap o = file.get_map("optimizer");
    c.optimizer.type = o.get_string("type", c.optimizer.type, {"adam", "adamw"});
    c.optimizer.lr = o.get_double("lr", c.optimizer.lr, 1e-8, 1.0);
    c.optimizer.beta1 = o.get_double("beta1", c.optimizer.beta1, 0.0, 0.9999);
    c.optimizer.beta2 = o.get_double("beta2", c.optimizer.beta2, 0.0, 0.99999);
    c.optimizer.weight_decay = o.get_double("weight_decay", c.optimizer.weight_decay, 0.0, 1.0);
    c.optimizer.warmup_steps = o.get_int("warmup_steps", c.optimizer.warmup_steps, 0, kMaxInt);
    c.optimizer.clip_grad_norm = o.get_double("clip_grad_norm", c.optimizer.clip_grad_norm, 0.0, 1e6);
    c.optimizer.lr_schedule = o.get_string("lr_schedule", c.optimizer.lr_schedule, {"constant", "cosine"});
    c.optimizer.lr_floor = o.get_double("lr_floor", c.optimizer.lr_floor, 0.0, 1.0);
    c.optimizer.ema_decay = o.get_double("ema_decay", c.optimizer.ema_decay, 0.0, 0.99999);
    o.finish();
  }
  {
    ConfigMap l = file.get_map("loss");
    c.loss.dssim_weight = l.get_double("dssim_weight", c.loss.dssim_weight, 0, 1e4);
    c.loss.mse_weight = l.get_double("mse_weight", c.loss.mse_weight, 0, 1e4);
    c.loss.l1_weight = l.get_double("l1_weight", c.loss.l1_weight, 0, 1e4);
    c.loss.eyes_mouth_weight = l.get_double("eyes_mouth_weight", c.loss.eyes_mouth_weight, 0, 1e4);
    c.loss.mask_weight = l.get_double("mask_weight", c.loss.mask_weight, 0, 1e4);
    c.loss.masked = l.get_bool("masked", c.loss.masked);
    c.loss.multi_window_from_px = static_cast<int>(l.get_int("multi_window_from_px", c.loss.multi_window_from_px, 16, 4096));
    l.finish();
  }
  {
    ConfigMap a = file.get_map("augment");
    c.augment.flip = a.get_bool("flip", c.augment.flip);
    c.augment.flip_probability = a.get_double("flip_probability", c.augment.flip_probability, 0, 1);
    c.augment.affine = a.get_bool("affine", c.augment.affine);
    c.augment.rotation_deg = a.get_double("rotation_deg", c.augment.rotation_deg, 0, 45);
    c.augment.scale = a.get_double("scale", c.augment.scale, 0, 0.5);
    c.augment.shift = a.get_double("shift", c.augment.shift, 0, 0.5);
    c.augment.random_warp = a.get_bool("random_warp", c.augment.random_warp);
    c.augment.warp_grid = static_cast<int>(a.get_int("warp_grid", c.augment.warp_grid, 2, 32));
    c.augment.warp_strength = a.get_double("warp_strength", c.augment.warp_strength, 0, 4);
    c.augment.random_warp_off_fraction =
        a.get_double("random_warp_off_fraction", c.augment.random_warp_off_fraction, 0, 1);
    c.augment.color = a.get_bool("color", c.augment.color);
    c.augment.color_on_target = a.get_bool("color_on_target", c.augment.color_on_target);
    c.augment.brightness = a.get_double("brightness", c.augment.brightness, 0, 1);
    c.augment.contrast = a.get_double("contrast", c.augment.contrast, 0, 1);
    c.augment.channel_gain = a.get_double("channel_gain", c.augment.channel_gain, 0, 1);
    a.finish();
  }
  {
    ConfigMap g = file.get_map("adversarial");
    c.adversarial.weight = g.get_double("weight", c.adversarial.weight, 0, 10);
    c.adversarial.start_fraction = g.get_double("start_fraction", c.adversarial.start_fraction, 0, 1);
    c.adversarial.lr = g.get_double("lr", c.adversarial.lr, 1e-8, 1.0);
    c.adversarial.dims = static_cast<int>(g.get_int("dims", c.adversarial.dims, 4, 256));
    c.adversarial.patch_px = static_cast<int>(g.get_int("patch_px", c.adversarial.patch_px, 0, 512));
    g.finish();
  }
  file.finish();
}

void validate_train_config(const TrainConfig& c) {
  validate_model_config(c.model);
  if (c.keep_checkpoints < 2) throw ConfigError("keep_checkpoints: at least 2, so a damaged newest checkpoint has a fallback");
}

std::string train_config_to_yaml(const TrainConfig& c) {
  std::string y;
  y += fmt::format("preset: {}\n", c.preset);
  y += fmt::format("model:\n  architecture: {}\n  resolution: {}\n  ae_dims: {}\n  e_dims: {}\n  d_dims: {}\n  d_mask_dims: {}\n"
                   "  pixel_norm_latent: {}\n  double_resolution: {}\n  upsample_init: {}\n",
                   to_string(c.model.architecture), c.model.resolution_px, c.model.ae_dims, c.model.e_dims,
                   c.model.d_dims, c.model.d_mask_dims, c.model.pixel_norm_latent, c.model.double_resolution,
                   to_string(c.model.upsample_init));
  y += fmt::format("batch_size: {}\nmax_steps: {}\nmax_time_s: {}\ntarget_loss: {}\ntarget_loss_window: {}\n", c.batch_size,
                   c.max_steps, c.max_time_s, c.target_loss, c.target_loss_window);
  y += fmt::format("seed: {}\ndevice: {}\ndeterministic: {}\nbf16: {}\nchannels_last: {}\n", c.seed, c.device,
                   c.deterministic, c.bf16, c.channels_last);
  y += fmt::format("checkpoint_every: {}\nkeep_checkpoints: {}\npreview_every: {}\nlog_every: {}\nvalidate_every: {}\n",
                   c.checkpoint_every, c.keep_checkpoints, c.preview_every, c.log_every, c.validate_every);
  y += fmt::format("validation_fraction: {}\npreview_faces: {}\nmin_fit_confidence: {}\n", c.validation_fraction,
                   c.preview_faces, c.min_fit_confidence);
  const auto& o = c.optimizer;
  y += fmt::format("optimizer:\n  type: {}\n  lr: {}\n  beta1: {}\n  beta2: {}\n  weight_decay: {}\n  warmup_steps: {}\n  clip_grad_norm: {}\n"
                   "  lr_schedule: {}\n  lr_floor: {}\n  ema_decay: {}\n",
                   o.type, o.lr, o.beta1, o.beta2, o.weight_decay, o.warmup_steps, o.clip_grad_norm, o.lr_schedule,
                   o.lr_floor, o.ema_decay);
  const auto& l = c.loss;
  y += fmt::format("loss:\n  dssim_weight: {}\n  mse_weight: {}\n  l1_weight: {}\n  eyes_mouth_weight: {}\n  mask_weight: {}\n  masked: {}\n  multi_window_from_px: {}\n",
                   l.dssim_weight, l.mse_weight, l.l1_weight, l.eyes_mouth_weight, l.mask_weight, l.masked,
                   l.multi_window_from_px);
  const auto& a = c.augment;
  y += fmt::format("augment:\n  flip: {}\n  flip_probability: {}\n  affine: {}\n  rotation_deg: {}\n  scale: {}\n  shift: {}\n"
                   "  random_warp: {}\n  random_warp_off_fraction: {}\n  warp_grid: {}\n  warp_strength: {}\n  color: {}\n  color_on_target: {}\n"
                   "  brightness: {}\n  contrast: {}\n  channel_gain: {}\n",
                   a.flip, a.flip_probability, a.affine, a.rotation_deg, a.scale, a.shift, a.random_warp, a.random_warp_off_fraction, a.warp_grid,
                   a.warp_strength, a.color, a.color_on_target, a.brightness, a.contrast, a.channel_gain);
  const auto& g = c.adversarial;
  y += fmt::format("adversarial:\n  weight: {}\n  start_fraction: {}\n  lr: {}\n  dims: {}\n  patch_px: {}\n", g.weight,
                   g.start_fraction, g.lr, g.dims, g.patch_px);
  return y;
}

namespace {
// "key" -> "value" of a train_config_to_yaml text, nested keys joined with '.', in order.
std::vector<std::pair<std::string, std::string>> flat_keys(const std::string& yaml) {
  std::vector<std::pair<std::string, std::string>> keys;
  std::string section;
  size_t start = 0;
  while (start < yaml.size()) {
    size_t end = yaml.find('\n', start);
    if (end == std::string::npos) end = yaml.size();
    const std::string line = yaml.substr(start, end - start);
    start = end + 1;
    const size_t colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == std::string::npos) continue;
    const bool nested = line[0] == ' ';
    const size_t key_start = line.find_first_not_of(' ');
    const std::string key = line.substr(key_start, colon - key_start);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));  // all spaces: npos erases all
    if (!nested && value.empty()) {
      section = key;
      continue;
    }
    if (!nested) section.clear();
    keys.emplace_back(section.empty() ? key : section + "." + key, value);
  }
  return keys;
}
}  // namespace

std::vector<std::string> config_differences(const std::string& before, const std::string& after) {
  const auto old_keys = flat_keys(before), new_keys = flat_keys(after);
  auto find = [](const auto& keys, const std::string& key) -> const std::string* {
    for (const auto& [k, v] : keys)
      if (k == key) return &v;
    return nullptr;
  };
  std::vector<std::string> out;
  for (const auto& [key, value] : new_keys) {
    const std::string* was = find(old_keys, key);
    if (!was) out.push_back(fmt::format("{}: (none) -> {}", key, value));
    else if (*was != value) out.push_back(fmt::format("{}: {} -> {}", key, *was, value));
  }
  for (const auto& [key, value] : old_keys)
    if (!find(new_keys, key)) out.push_back(fmt::format("{}: {} -> (none)", key, value));
  return out;
}

}  // namespace facetrain
