#include "facetrain/train/trainer.h"

#include "facetrain/media/image_io.h"
#include "facetrain/base/error.h"
#include "facetrain/base/limit_progress.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sha256.h"
#include "facetrain/base/version.h"
#include "facetrain/checkpoint/checkpoint_store.h"
#include "facetrain/dist/gradient_sync.h"
#include "facetrain/dist/process_group.h"
#include "facetrain/model/autocast_guard.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/module/face_scorer_loader.h"
#include "facetrain/train/augment.h"
#include "facetrain/train/face_pack.h"
#include "facetrain/train/gradient_clip.h"
#include "facetrain/train/losses.h"
#include "facetrain/train/model_checkpoint.h"
#include "facetrain/train/run_directory.h"
#include "facetrain/train/tensor_file.h"
#include "facetrain/train/training_scores.h"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (fmt >= 11 keeps it here)
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>

namespace facetrain {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::string torch_version() {
  return fmt::format("{}.{}.{}", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH);
}

constexpr int64_t kGradientBucketBytes = 25 << 20;

// CUDA: the device of this local rank (one process per GPU; see cuda_device_index).
c10::Device training_device(const std::string& name, const LaunchEnvironment& launch) {
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw UnavailableError("--device cuda: no CUDA device is available (this build or machine has none)");
    const int index = cuda_device_index(launch, static_cast<int>(torch::cuda::device_count()));
    if (index != launch.local_rank)
      log_info("local rank {} trains on CUDA device {} of the {} this task sees (one task per GPU share, {} launcher)",
               launch.local_rank, index, torch::cuda::device_count(), launch.launcher);
    return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index));
  }
  return c10::Device(c10::DeviceType::CPU);
}

// Every rank must train the same thing: each publishes (name, value) pairs; a mismatch with rank
// 0 ends every rank with ConfigError (78) naming what differs and where.
void agree_on_setup(dist::ProcessGroup& group, const std::vector<std::pair<std::string, std::string>>& facts) {
  nlohmann::json mine = nlohmann::json::array();
  for (const auto& [name, value] : facts) mine.push_back({name, value});
  const auto all = group.exchange("setup", mine.dump());
  const auto reference = nlohmann::json::parse(all[0]);
  std::vector<std::string> differences;
  for (size_t r = 1; r < all.size(); ++r) {
    const auto theirs = nlohmann::json::parse(all[r]);
    for (size_t k = 0; k < reference.size() && k < theirs.size(); ++k)
      if (theirs[k][1] != reference[k][1])
        differences.push_back(fmt::format("{}: rank 0 has '{}', rank {} has '{}'", reference[k][0].get<std::string>(),
                                          reference[k][1].get<std::string>(), r, theirs[k][1].get<std::string>()));
  }
  if (!differences.empty())
    throw ConfigError(fmt::format("the ranks do not agree on what to train ({}); run every rank with the same "
                                  "command, face sets and facetrain", fmt::join(differences, "; ")));
}

// Indices of one batch, drawn from one seeded stream (CPU generator: the same on every device).
class Sampler {
 public:
  explicit Sampler(uint64_t seed) : generator_(at::detail::createCPUGenerator(seed)) {}
  torch::Tensor draw(int64_t population, int64_t count, c10::Device device) {
    auto indices = torch::randint(population, {count}, generator_, torch::TensorOptions().dtype(torch::kLong));
    // CUDA: through a pinned buffer, asynchronously; a copy from pageable memory would make the
    // host wait for the device every step (tests/torch/gpu_training_test.cpp checks the step).
    if (device.is_cuda()) return indices.pin_memory().to(device, /*non_blocking=*/true);
    return indices.to(device);
  }
  torch::Tensor get_state() const { return generator_.get_state(); }
  void set_state(const torch::Tensor& state) { generator_.set_state(state); }

 private:
  at::Generator generator_;
};

void save_named(const NamedTensors& tensors, const fs::path& path) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, tensor] : tensors) archive.write(name, tensor.detach().to(torch::kCPU));
  save_archive(archive, path);
}

// Returns the SHA-256 of the base's model.pt (verified when resolved), for the run's manifest.
std::string load_base_model(FaceSwapModel& model, const fs::path& base, const std::string& parts) {
  const VerifiedCheckpoint verified = resolve_checkpoint(base);
  const fs::path& checkpoint = verified.directory;
  const NamedTensors wanted = model.named_parameters();
  NamedTensors loaded = load_named(checkpoint / "model.pt", wanted);
  std::map<std::string, torch::Tensor> by_name(loaded.begin(), loaded.end());
  std::vector<std::string> problems;
  NamedTensors selected;
  for (const auto& [name, tensor] : wanted) {
    const bool wanted_part = parts == "all" || name.rfind("encoder", 0) == 0 || name.rfind("inter", 0) == 0;
    if (!wanted_part) continue;
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      problems.push_back(fmt::format("{} is missing", name));
    } else if (it->second.sizes() != tensor.sizes()) {
      problems.push_back(fmt::format("{} is {} in the base, {} in this model", name, fmt::join(it->second.sizes(), "x"),
                                     fmt::join(tensor.sizes(), "x")));
    } else {
      selected.emplace_back(name, it->second);
    }
  }
  if (!problems.empty()) {
    const size_t shown = std::min<size_t>(problems.size(), 5);
    throw ConfigError(fmt::format("--base {}: does not fit this model ({} tensors): {}{}", base.string(), problems.size(),
                                  fmt::join(problems.begin(), problems.begin() + static_cast<std::ptrdiff_t>(shown), "; "),
                                  problems.size() > shown ? "; ..." : ""));
  }
  if (parts == "all") {
    model.load_named_parameters(selected, checkpoint.string());
  } else {
    torch::NoGradGuard no_grad;
    std::map<std::string, torch::Tensor> own;
    for (auto& [name, tensor] : model.named_parameters()) own.emplace(name, tensor);
    for (const auto& [name, tensor] : selected) own.at(name).copy_(tensor);
  }
  log_info("base model: {} ({} tensors, parts: {})", checkpoint.string(), selected.size(), parts);
  return verified.file_sha256("model.pt");
}

// Linear warm-up to the peak learning rate, then constant.
double learning_rate_at(const OptimizerConfig& o, int64_t step) {
  if (o.warmup_steps <= 0 || step >= o.warmup_steps) return o.lr;
  return o.lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& o, std::vector<torch::Tensor> params) {
  if (o.type == "adam")
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(o.lr).betas({o.beta1, o.beta2}).weight_decay(o.weight_decay));
  return std::make_unique<torch::optim::AdamW>(
      params, torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).weight_decay(o.weight_decay));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, const std::string& type, double lr) {
  for (auto& group : optimizer.param_groups()) {
    if (type == "adam") static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    else static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
}

// [B,3,R,R] float in [0,1] -> a horizontal strip of tiles, uint8 HWC.
torch::Tensor to_tiles(const torch::Tensor& images) {
  auto x = images.detach().to(torch::kCPU, torch::kFloat32).clamp(0, 1).mul(255).round().to(torch::kUInt8);
  return x.permute({0, 2, 3, 1}).contiguous();  // [B,R,R,3]
}

}  // namespace

TrainReport run_train(const TrainJob& job, ProgressSink& progress) {
  const TrainConfig& config = job.config;
  validate_train_config(config);
  if (job.grad_compression != "none" && job.grad_compression != "bf16")
    throw ConfigError(fmt::format("--grad-compression {}: use none or bf16", job.grad_compression));
  const c10::Device device = training_device(config.device, job.launch);
  const bool cuda = device.is_cuda();
  if (config.deterministic && !cuda) at::globalContext().setDeterministicAlgorithms(true, false);
  if (cuda) at::globalContext().setBenchmarkCuDNN(true);

  // Data parallel (docs/design.md §6): rank 0 alone owns RUN (lock, cache, checkpoints, metrics).
  std::unique_ptr<dist::ProcessGroup> group;
  if (job.launch.distributed()) group = std::make_unique<dist::ProcessGroup>(job.launch, cuda, job.dist_timeout_s);
  const int rank = group ? group->rank() : 0;
  const int world = group ? group->world_size() : 1;
  const bool writer = rank == 0;
  // Rank 0 publishes how its preparation went (and which checkpoint it resumes) before the
  // others read the face-pack cache it wrote; a failure there ends every rank with its code.
  constexpr double kPreparationTimeoutS = 3600;
  const fs::path pack_cache = job.run_directory / "cache";

  std::optional<RunDirectory> run;
  const int resolution = config.model.resolution_px;
  CheckpointStore store(job.run_directory / "checkpoints", config.keep_checkpoints);
  std::optional<CheckpointStore::Loaded> resumed;
  fs::path resume_directory;
  int64_t resume_step = 0;
  // Both face sets are read before RUN is created: one with no usable face (65, naming it) leaves no trace.
  // The network learns one encoding (docs/design.md §7): face sets whose crops were made differently are
  // refused before anything is written.
  auto read_facesets = [&] {
    auto faces = std::make_pair(read_usable_faces(job.actor_faceset), read_usable_faces(job.double_faceset));
    const NetworkEncodingRecord& a = faces.first.set.manifest.encoding;
    const NetworkEncodingRecord& d = faces.second.set.manifest.encoding;
    if (!same_network_values(a, d))
      throw ConfigError(fmt::format("the actor's face set {} holds crops in the encoding {}, the double's {} in {}: "
                                    "the network must see one encoding; extract both with the same --encoding (and "
                                    "OpenColorIO config)",
                                    job.actor_faceset.string(), a.describe(), job.double_faceset.string(), d.describe()));
    return faces;
  };
  auto load_packs = [&](const std::pair<UsableFaces, UsableFaces>& faces) {
    FacePack a = load_face_pack(faces.first, resolution, config.validation_fraction, pack_cache, "actor");
    FacePack d = load_face_pack(faces.second, resolution, config.validation_fraction, pack_cache, "double");
    return std::make_pair(std::move(a), std::move(d));
  };
  std::pair<FacePack, FacePack> packs;
  if (writer) {
    try {
      const auto faces = read_facesets();
      run.emplace(job.run_directory);
      packs = load_packs(faces);
      resumed = job.resume ? store.newest_valid() : std::nullopt;
    } catch (const Error& e) {
      if (group) group->publish("prepared", nlohmann::json{{"code", static_cast<int>(e.code())}, {"message", e.what()}}.dump());
      throw;
    }
    if (resumed) {
      resume_directory = resumed->directory;
      resume_step = resumed->step;
    }
    if (group)
      group->publish("prepared", nlohmann::json{{"code", 0}, {"resume", resume_directory.string()}, {"step", resume_step}}.dump());
  } else {
    const auto prepared = nlohmann::json::parse(group->fetch("prepared", std::max(kPreparationTimeoutS, job.dist_timeout_s)));
    if (prepared.value("code", 0) != 0)
      throw Error(static_cast<ExitCode>(prepared.value("code", 70)),
                  fmt::format("rank 0 failed: {}", prepared.value("message", std::string())));
    resume_directory = prepared.value("resume", std::string());
    resume_step = prepared.value("step", int64_t{0});
    packs = load_packs(read_facesets());
  }
  FacePack actor = std::move(packs.first);
  FacePack dbl = std::move(packs.second);
  if (actor.face_type != dbl.face_type)
    throw ConfigError(fmt::format("the actor's face set {} holds '{}' crops, the double's {} holds '{}': extract both "
                                  "with the same --face-type", job.actor_faceset.string(), actor.face_type,
                                  job.double_faceset.string(), dbl.face_type));
  log_info("faces: actor {} ({} held out), double {} ({} held out), packed at {} px", actor.size(),
           actor.size() - actor.train_count, dbl.size(), dbl.size() - dbl.train_count, resolution);
  if (group) {
    agree_on_setup(*group, {{"facetrain version", version_string()},
                            {"LibTorch version", torch_version()},
                            {"configuration (sha256 of the effective config.yaml)", sha256_hex(train_config_to_yaml(config))},
                            {"actor face set (content sha256)", actor.content_sha256},
                            {"double face set (content sha256)", dbl.content_sha256},
                            {"resumed checkpoint", resume_directory.string()}});
  }
  actor = actor.to(device);
  dbl = dbl.to(device);

  torch::manual_seed(config.seed);
  FaceSwapModel model(config.model);
  model.to(device, cuda && config.channels_last);
  auto optimizer = make_optimizer(config.optimizer, model.parameters());
  Sampler sampler(config.seed ^ 0x5a4d504cULL);
  Augmenter augment_actor(config.augment, config.seed * 2 + 1, device);
  Augmenter augment_double(config.augment, config.seed * 2 + 2, device);

  int64_t step = 0;
  double elapsed_before = 0;
  std::deque<double> validation_history;
  std::string base_sha256;
  auto load_training_state = [&](const fs::path& directory) {
    model.load_named_parameters(load_named(directory / "model.pt", model.named_parameters()), (directory / "model.pt").string());
    torch::load(*optimizer, (directory / "optimizer.pt").string());
    std::vector<torch::Tensor> rng;
    torch::load(rng, (directory / "rng.pt").string());
    if (rng.size() != 3) throw InputDataError(fmt::format("{}: rng.pt holds {} states, expected 3", directory.string(), rng.size()));
    sampler.set_state(rng[0]);
    augment_actor.set_state(rng[1]);
    augment_double.set_state(rng[2]);
  };
  if (resumed) {
    const auto& state = resumed->state;
    if (state.value("model", "") != describe(config.model))
      throw ConfigError(fmt::format("{}: the run was trained as '{}', this configuration asks for '{}' "
                                    "(use another -o, or --resume never to start over)",
                                    job.run_directory.string(), state.value("model", ""), describe(config.model)));
    load_training_state(resumed->directory);
    step = resumed->step;
    elapsed_before = state.value("elapsed_s", 0.0);
    for (const auto& v : state.value("validation_history", nlohmann::json::array())) validation_history.push_back(v.get<double>());
    base_sha256 = state.value("base_model_sha256", "");
    run->truncate_metrics_after(step);
    log_info("resumed from {} at step {}", resumed->directory.string(), step);
  } else if (!writer && !resume_directory.empty()) {
    load_training_state(resume_directory);  // the checkpoint rank 0 chose (RUN on a shared file system)
    step = resume_step;
  } else {
    if (!job.base_checkpoint.empty()) {
      base_sha256 = load_base_model(model, job.base_checkpoint, job.base_parts);
    }
    if (run) run->truncate_metrics_after(0);
  }
  std::unique_ptr<dist::GradientSynchronizer> gradient_sync;
  if (group) {
    dist::broadcast_parameters(*group, model.parameters(), 0);
    // FACETRAIN_DDP_BUCKET_MB: bucket size for tuning and tests (default 25 MB, as PyTorch DDP).
    const char* bucket_env = std::getenv("FACETRAIN_DDP_BUCKET_MB");
    const double bucket_mb = bucket_env ? std::atof(bucket_env) : 0.0;
    const int64_t bucket_bytes = bucket_mb > 0 ? static_cast<int64_t>(bucket_mb * (1 << 20)) : kGradientBucketBytes;
    gradient_sync = std::make_unique<dist::GradientSynchronizer>(*group, model.parameters(), bucket_bytes,
                                                                 job.grad_compression == "bf16");
    log_info("data parallel: rank {} of {} ({}), batch {} per rank and identity, global {}; {} gradient bucket(s), "
             "{:.1f} MB per step", rank, world, group->backend_name(), config.batch_size, config.batch_size * world,
             gradient_sync->stats().buckets, gradient_sync->stats().bytes_per_step / 1e6);
  }

  const ModelCost cost = estimate_model_cost(config.model);
  if (writer) run->write_config(train_config_to_yaml(config));
  if (writer) run->write_manifest({{"format_version", 1},
                      {"facetrain", version_string()},
                      {"libtorch", torch_version()},
                      {"cuda", cuda ? "available" : "none"},
                      {"device", device.str()},
                      {"world_size", world},
                      {"distributed_backend", group ? group->backend_name() : "none"},
                      {"launcher", job.launch.launcher},
                      {"seed", config.seed},
                      {"model", describe(config.model)},
                      {"face_type", actor.face_type},
                      {"encoding", network_encoding_to_json(actor.encoding)},
                      {"model_parameters", cost.parameter_count},
                      {"forward_gflop_per_image", cost.forward_flops_per_image / 1e9},
                      {"actor_faceset", {{"path", job.actor_faceset.string()}, {"content_sha256", actor.content_sha256}}},
                      {"double_faceset", {{"path", job.double_faceset.string()}, {"content_sha256", dbl.content_sha256}}},
                      {"base_model", job.base_checkpoint.string()},
                      {"base_model_sha256", base_sha256}});

  // Fixed preview and validation sets: faces spread evenly over the held-out slice (or over the
  // whole set when it is too small to hold faces out), so preview rows show different frames.
  auto held_out = [&](const FacePack& pack, int64_t count) {
    const int64_t first = pack.train_count < pack.size() ? pack.train_count : 0;
    const int64_t available = pack.size() - first;
    const int64_t n = std::min(count, available);
    auto spread = torch::linspace(static_cast<double>(first), static_cast<double>(pack.size() - 1), n,
                                  torch::TensorOptions().dtype(torch::kFloat64));
    return spread.round().to(torch::kLong).to(device);
  };
  const auto preview_actor = held_out(actor, config.preview_faces);
  const auto preview_double = held_out(dbl, config.preview_faces);
  const auto validation_actor = held_out(actor, 64);
  const auto validation_double = held_out(dbl, 64);

  // --- quality scores (issue 12), rank 0: reconstruction at every validation; identity of swapped
  // held-out faces at every preview, against references made here from the training faces
  std::unique_ptr<FaceScorer> scorer;
  std::optional<IdentityReference> identity_reference;
  nlohmann::json identity_check;  // how the references separate the identities (the done event)
  const auto identity_double = held_out(dbl, 16);
  if (writer && job.quality_scores) {
    scorer = open_face_scorer(job.identity_model);
    if (scorer->has_identity()) {
      const auto started = Clock::now();
      identity_reference = make_identity_reference(*scorer, actor, dbl, 64);
      // Each face set's held-out faces against both references: the actor's near the actor, the double's far.
      const auto identity_actor = held_out(actor, 16);
      identity_check = identity_metrics(face_descriptors(*scorer, actor.images.index_select(0, identity_actor),
                                                         actor.landmarks.index_select(0, identity_actor)),
                                        *identity_reference, "actor_faces_");
      identity_check.update(identity_metrics(face_descriptors(*scorer, dbl.images.index_select(0, identity_double),
                                                              dbl.landmarks.index_select(0, identity_double)),
                                             *identity_reference, "double_faces_"));
      log_info("identity references from {} actor and {} double faces ({:.1f} s): held-out actor faces {:.3f} from the "
               "actor, {:.3f} from the double; held-out double faces {:.3f} from the actor, {:.3f} from the double",
               identity_reference->actor_faces, identity_reference->double_faces,
               std::chrono::duration<double>(Clock::now() - started).count(), identity_check.value("actor_faces_to_actor", 0.0),
               identity_check.value("actor_faces_to_double", 0.0), identity_check.value("double_faces_to_actor", 0.0),
               identity_check.value("double_faces_to_double", 0.0));
      progress.event("identity_reference", identity_check);
    }
  }
  nlohmann::json last_reconstruction = nlohmann::json::object();

  const auto session_start = Clock::now();
  auto session_seconds = [&] { return std::chrono::duration<double>(Clock::now() - session_start).count(); };

  auto unaugmented = [&](const FacePack& pack, const torch::Tensor& index) {
    AugmentedBatch b;
    b.target = pack.images.index_select(0, index).to(torch::kFloat32).div(255);
    b.input = b.target;
    b.target_mask = pack.masks.index_select(0, index).to(torch::kFloat32).div(255);
    b.landmarks = pack.landmarks.index_select(0, index);
    if (cuda && config.channels_last) {
      b.input = b.input.contiguous(at::MemoryFormat::ChannelsLast);
    }
    return b;
  };

  auto losses_for = [&](const SwapOutput& out, const AugmentedBatch& b) {
    const auto eyes_mouth = config.loss.eyes_mouth_weight > 0 ? eyes_mouth_weight_map(b.landmarks, resolution, resolution)
                                                             : torch::Tensor();
    return reconstruction_loss(out.rgb.to(torch::kFloat32), out.mask.to(torch::kFloat32), b.target, b.target_mask,
                               eyes_mouth, config.loss);
  };

  // Fixed faces (validation, previews) through the model without augmentation. Callers hold a
  // NoGradGuard and an AutocastGuard.
  struct FixedForward {
    AugmentedBatch actor, double_;
    TrainingOutput out;
  };
  auto forward_fixed = [&](const torch::Tensor& actor_index, const torch::Tensor& double_index) {
    FixedForward f{unaugmented(actor, actor_index), unaugmented(dbl, double_index), {}};
    f.out = model.forward_training(f.actor.input, f.double_.input);
    return f;
  };

  auto validate = [&]() {
    torch::NoGradGuard no_grad;
    AutocastGuard autocast(device, cuda && config.bf16);
    const FixedForward f = forward_fixed(validation_actor, validation_double);
    const auto& a = f.actor;
    const auto& d = f.double_;
    const auto& out = f.out;
    const double loss = (losses_for(out.actor, a).total.item<double>() + losses_for(out.double_, d).total.item<double>()) / 2;
    if (job.quality_scores) {
      last_reconstruction = reconstruction_metrics(out.actor.rgb.to(torch::kFloat32), a.target, a.target_mask, "validation_actor_");
      last_reconstruction.update(
          reconstruction_metrics(out.double_.rgb.to(torch::kFloat32), d.target, d.target_mask, "validation_double_"));
    }
    validation_history.push_back(loss);
    while (static_cast<int64_t>(validation_history.size()) > config.target_loss_window) validation_history.pop_front();
    double sum = 0;
    for (double v : validation_history) sum += v;
    return sum / static_cast<double>(validation_history.size());
  };

  // The double's held-out faces through the actor's decoder, against the identity references.
  auto preview_identity = [&]() -> nlohmann::json {
    if (!identity_reference) return nlohmann::json::object();
    torch::NoGradGuard no_grad;
    AutocastGuard autocast(device, cuda && config.bf16);
    const AugmentedBatch d = unaugmented(dbl, identity_double);
    const SwapOutput swapped = model.swap_double_to_actor(d.input);
    return identity_metrics(face_descriptors(*scorer, swapped.rgb.to(torch::kFloat32), d.landmarks), *identity_reference,
                            "identity_");
  };
  int64_t last_metrics_step = -1;

  auto write_preview = [&]() {
    torch::NoGradGuard no_grad;
    AutocastGuard autocast(device, cuda && config.bf16);
    const FixedForward f = forward_fixed(preview_actor, preview_double);
    const auto& a = f.actor;
    const auto& d = f.double_;
    const auto& out = f.out;
    const SwapOutput swapped = model.swap_double_to_actor(d.input);
    const int64_t rows = std::min(a.target.size(0), d.target.size(0));
    // Columns: actor in | actor out | double in | double out | double -> actor.
    std::vector<torch::Tensor> columns = {to_tiles(a.target), to_tiles(out.actor.rgb), to_tiles(d.target),
                                          to_tiles(out.double_.rgb), to_tiles(swapped.rgb)};
    std::vector<torch::Tensor> row_images;
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<torch::Tensor> tiles;
      for (auto& c : columns) tiles.push_back(c[r]);
      row_images.push_back(torch::cat(tiles, 1));  // [R, 5R, 3]
    }
    const auto sheet = torch::cat(row_images, 0).contiguous();
    Rgb8Image image;
    image.height = static_cast<int>(sheet.size(0));
    image.width = static_cast<int>(sheet.size(1));
    image.pixels.assign(sheet.data_ptr<uint8_t>(), sheet.data_ptr<uint8_t>() + sheet.numel());
    const fs::path path = run->previews() / fmt::format("{}.png", CheckpointStore::step_name(step));
    write_png(path, image);
    run->add_preview(step, path);  // TensorBoard image, report.html rewritten
    progress.event("preview", {{"step", step}, {"path", path.string()}});
    return path;
  };

  auto save_checkpoint = [&]() {
    for (const auto& p : model.parameters())
      if (!torch::isfinite(p).all().item<bool>())
        throw InputDataError(fmt::format("step {}: a model parameter is not finite; checkpoint not written", step));
    const ModelConfig& m = config.model;
    nlohmann::json state = {{"model", describe(config.model)},
                            {"model_config", {{"architecture", std::string(to_string(m.architecture))},
                                              {"resolution", m.resolution_px}, {"ae_dims", m.ae_dims},
                                              {"e_dims", m.e_dims}, {"d_dims", m.d_dims},
                                              {"d_mask_dims", m.d_mask_dims}}},
                            {"face_type", actor.face_type},
                            {"encoding", network_encoding_to_json(actor.encoding)},
                            {"elapsed_s", elapsed_before + session_seconds()},
                            {"validation_history", std::vector<double>(validation_history.begin(), validation_history.end())},
                            {"base_model_sha256", base_sha256},
                            {"facetrain", version_string()}};
    if (identity_reference) state["identity_reference"] = identity_reference_to_json(*identity_reference);
    const fs::path dir = store.save(step, state, [&](const fs::path& tmp) {
      save_named(model.named_parameters(), tmp / "model.pt");
      save_optimizer(*optimizer, tmp / "optimizer.pt");
      save_tensors({sampler.get_state(), augment_actor.get_state(), augment_double.get_state()}, tmp / "rng.pt");
    });
    progress.event("checkpoint", {{"step", step}, {"path", dir.string()}});
    log_info("checkpoint {}", dir.string());
    return dir;
  };

  torch::Tensor window_loss = torch::zeros({}, torch::TensorOptions().device(device));
  int64_t window_steps = 0;
  double window_comm_s = 0;  // exposed communication (gradient waits, stop agreement), this window
  // The window's loss sum and the last step's terms, averaged over ranks ([0] = loss sum, then the
  // actor's and the double's named terms). A non-finite loss stops training before any checkpoint.
  auto read_window = [&](const LossTerms& loss_a, const LossTerms& loss_d) {
    std::vector<torch::Tensor> parts{window_loss.to(torch::kFloat32)};
    for (const auto* terms : {&loss_a, &loss_d})
      for (const auto& [name, value] : terms->named()) parts.push_back(value.detach().to(torch::kFloat32));
    auto values = torch::stack(parts);
    if (group) {
      group->allreduce_sum(values);
      values.div_(static_cast<double>(world));
    }
    values = values.to(torch::kCPU, torch::kFloat64);
    std::vector<double> read(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
    const double mean_loss = window_steps > 0 ? read[0] / static_cast<double>(window_steps) : 0.0;
    if (std::isfinite(mean_loss)) return read;
    size_t k = 1;
    for (const auto& [who, terms] : {std::pair<const char*, const LossTerms*>{"actor", &loss_a}, {"double", &loss_d}})
      for (const auto& [name, value] : terms->named())
        if (!std::isfinite(read[k++]))
          throw InputDataError(fmt::format("step {}: the {} loss term '{}' is not finite; training stopped, "
                                           "no checkpoint written after step {}", step, who, name, step - window_steps));
    throw InputDataError(fmt::format("step {}: the total loss is not finite (between steps {} and {}); training stopped, "
                                     "no checkpoint written after step {}", step, step - window_steps + 1, step,
                                     step - window_steps));
  };

  const char* nan_step_env = std::getenv("FACETRAIN_FAULT_NAN_STEP");  // test hook: poison one step's loss
  const int64_t nan_step = nan_step_env ? std::atoll(nan_step_env) : -1;

  TrainReport report;
  if (writer) progress.begin("train", config.max_steps > 0 ? config.max_steps : -1);
  log_info("training {} on {} ({:.2f} GFLOP/image forward, {:.1f} M parameters), batch {} per identity", describe(config.model),
           device.str(), cost.forward_flops_per_image / 1e9, cost.parameter_count / 1e6, config.batch_size);
  model.train(true);
  double validation_average = validation_history.empty() ? 0.0 : validation_history.back();
  auto window_start = Clock::now();
  const int64_t first_step = step;
  const int64_t global_batch = config.batch_size * world;
  const BatchSlice slice{global_batch, rank * config.batch_size};
  // Reading the agreed stop flags syncs the host with the device: on CUDA only every 8 steps, so
  // the host can keep queueing kernels ahead.
  const int64_t stop_agreement_every = cuda ? 8 : 1;

  while (true) {
    if (config.max_steps > 0 && step >= config.max_steps) { report.reason = StopReason::max_steps; break; }
    bool out_of_time = config.max_time_s > 0 && session_seconds() >= config.max_time_s;
    bool stop_signal = progress.stop_requested();
    if (group && step % stop_agreement_every != 0) {
      out_of_time = stop_signal = false;  // acted on only at agreement steps, so all ranks stop together
    } else if (group) {
      // Every rank stops at the same step: a signal or the time limit seen by any rank counts.
      const auto start = Clock::now();
      auto flags = torch::tensor({out_of_time ? 1.0f : 0.0f, stop_signal ? 1.0f : 0.0f}).to(device);
      group->allreduce_sum(flags);
      flags = flags.to(torch::kCPU);
      out_of_time = flags[0].item<float>() > 0;
      stop_signal = flags[1].item<float>() > 0;
      window_comm_s += std::chrono::duration<double>(Clock::now() - start).count();
    }
    if (out_of_time) { report.reason = StopReason::max_time; break; }
    if (stop_signal) { report.reason = StopReason::signal; break; }

    // One global batch from one stream; this rank takes rows [rank * b, (rank + 1) * b).
    auto index_a = sampler.draw(actor.train_count, global_batch, device);
    auto index_d = sampler.draw(dbl.train_count, global_batch, device);
    if (world > 1) {
      index_a = index_a.narrow(0, slice.offset, config.batch_size);
      index_d = index_d.narrow(0, slice.offset, config.batch_size);
    }
    const AugmentedBatch a = augment_actor(actor.images.index_select(0, index_a), actor.masks.index_select(0, index_a),
                                           actor.landmarks.index_select(0, index_a), slice);
    const AugmentedBatch d = augment_double(dbl.images.index_select(0, index_d), dbl.masks.index_select(0, index_d),
                                            dbl.landmarks.index_select(0, index_d), slice);
    TrainingOutput out;
    {
      AutocastGuard autocast(device, cuda && config.bf16);
      auto input_a = cuda && config.channels_last ? a.input.contiguous(at::MemoryFormat::ChannelsLast) : a.input;
      auto input_d = cuda && config.channels_last ? d.input.contiguous(at::MemoryFormat::ChannelsLast) : d.input;
      out = model.forward_training(input_a, input_d);
    }
    const LossTerms loss_a = losses_for(out.actor, a);
    const LossTerms loss_d = losses_for(out.double_, d);
    torch::Tensor total = loss_a.total + loss_d.total;
    if (step == nan_step) total = total * std::numeric_limits<float>::quiet_NaN();
    optimizer->zero_grad();
    if (gradient_sync) gradient_sync->begin_step();
    total.backward();
    if (gradient_sync) {
      gradient_sync->finish();  // every rank now holds the global batch's gradient
      window_comm_s += gradient_sync->stats().exposed_wait_seconds;
    }
    if (config.optimizer.clip_grad_norm > 0)
      clip_gradients(model.parameters(), config.optimizer.clip_grad_norm);
    const double lr = learning_rate_at(config.optimizer, step);
    set_learning_rate(*optimizer, config.optimizer.type, lr);
    // A non-finite loss must never reach the weights: checked on the device, read every log_every steps.
    window_loss = window_loss + total.detach();
    ++window_steps;
    optimizer->step();
    ++step;
    if (writer) {
      // Against whichever limit will stop this run first: --max-steps, --max-time, or both.
      if (const auto toward = limit_progress(step, config.max_steps, session_seconds(), config.max_time_s))
        progress.update_fraction(step, toward->fraction, toward->limit);
      else
        progress.update(step);
    }

    const bool log_now = step % config.log_every == 0 || step == config.max_steps;
    const bool checkpoint_now = step % config.checkpoint_every == 0;
    if (log_now || checkpoint_now) {
      const std::vector<double> read = read_window(loss_a, loss_d);
      const double mean_loss = window_steps > 0 ? read[0] / static_cast<double>(window_steps) : 0.0;
      const double seconds = std::chrono::duration<double>(Clock::now() - window_start).count();
      nlohmann::json line = {{"step", step},
                             {"loss", mean_loss},
                             {"lr", lr},
                             {"images_per_s", seconds > 0 ? 2.0 * global_batch * window_steps / seconds : 0.0},
                             {"elapsed_s", elapsed_before + session_seconds()}};
      size_t k = 1;
      for (const auto& [name, value] : loss_a.named()) line["actor_" + name] = read[k++];
      for (const auto& [name, value] : loss_d.named()) line["double_" + name] = read[k++];
      if (group && window_steps > 0) {
        line["world_size"] = world;
        line["step_s"] = seconds / static_cast<double>(window_steps);
        line["comm_exposed_s"] = window_comm_s / static_cast<double>(window_steps);
      }
      if (writer && (step % config.validate_every == 0 || (config.target_loss > 0 && log_now))) {
        validation_average = validate();
        line["validation_loss"] = validation_average;
        line.update(last_reconstruction);
      }
      bool target_reached = writer && config.target_loss > 0 &&
                            static_cast<int64_t>(validation_history.size()) >= config.target_loss_window &&
                            validation_average <= config.target_loss;
      if (group) {  // rank 0's held-out loss decides for every rank
        auto decided = torch::tensor({validation_average, target_reached ? 1.0 : 0.0},
                                     torch::TensorOptions().dtype(torch::kFloat64)).to(device);
        group->broadcast(decided, 0);
        decided = decided.to(torch::kCPU);
        validation_average = decided[0].item<double>();
        target_reached = decided[1].item<double>() > 0;
      }
      if (writer && identity_reference && step % config.preview_every == 0) {
        line.update(preview_identity());
      }
      if (writer) {
        run->append_metrics(line);
        progress.event("metrics", line);
        last_metrics_step = step;
      }
      report.last_loss = mean_loss;
      window_loss = torch::zeros({}, torch::TensorOptions().device(device));
      window_steps = 0;
      window_comm_s = 0;
      window_start = Clock::now();
      if (target_reached) {
        report.reason = StopReason::target_loss;
        report.seconds_to_target = session_seconds();
        log_info("target loss {} reached at step {} (held-out moving average {:.5f})", config.target_loss, step,
                 validation_average);
        break;
      }
    }
    if (writer && step % config.preview_every == 0) {
      report.last_preview = write_preview();
      if (identity_reference && last_metrics_step != step) {  // a preview step without a metrics line
        nlohmann::json line = {{"step", step}, {"elapsed_s", elapsed_before + session_seconds()}};
        line.update(preview_identity());
        run->append_metrics(line);
        progress.event("metrics", line);
        last_metrics_step = step;
      }
    }
    if (writer && checkpoint_now) report.last_checkpoint = save_checkpoint();
  }
  if (writer) progress.end();

  if (!writer) {
    // Rank 0 writes the final checkpoint and preview; wait for it so that every rank's exit
    // status says whether the run ended well.
    auto done = torch::zeros({1}, torch::TensorOptions().device(device));
    group->allreduce_sum(done);
    report.steps = step;
    report.steps_this_session = step - first_step;
    report.seconds = session_seconds();
    report.device_hours = report.seconds / 3600.0;
    report.validation_loss = validation_average;
    return report;
  }
  if (step > first_step || !resumed) {
    if (report.last_checkpoint.empty() || report.last_checkpoint.filename() != CheckpointStore::step_name(step))
      report.last_checkpoint = save_checkpoint();
    report.last_preview = write_preview();
  } else if (resumed) {
    report.last_checkpoint = resumed->directory;
  }
  report.steps = step;
  report.steps_this_session = step - first_step;
  report.seconds = session_seconds();
  report.device_hours = report.seconds * world / 3600.0;
  report.validation_loss = validation_history.empty() ? validate() : validation_average;
  if (job.quality_scores) {  // the final model's scores, for the done event
    {
      torch::NoGradGuard no_grad;
      AutocastGuard autocast(device, cuda && config.bf16);
      const FixedForward f = forward_fixed(validation_actor, validation_double);
      report.quality = reconstruction_metrics(f.out.actor.rgb.to(torch::kFloat32), f.actor.target, f.actor.target_mask,
                                              "validation_actor_");
      report.quality.update(reconstruction_metrics(f.out.double_.rgb.to(torch::kFloat32), f.double_.target,
                                                   f.double_.target_mask, "validation_double_"));
    }
    report.quality.update(preview_identity());
    report.quality.update(identity_check);
  }
  if (group) {
    auto done = torch::zeros({1}, torch::TensorOptions().device(device));
    group->allreduce_sum(done);
  }
  return report;
}

}  // namespace facetrain
