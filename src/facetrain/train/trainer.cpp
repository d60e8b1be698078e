#include "facetrain/train/trainer.h"

#include "facetrain/media/image_io.h"
#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/limit_progress.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sha256.h"
#include "facetrain/base/version.h"
#include "facetrain/checkpoint/checkpoint_store.h"
#include "facetrain/distributed/gradient_sync.h"
#include "facetrain/distributed/process_group.h"
#include "facetrain/model/autocast_guard.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/model/patch_discriminator.h"
#include "facetrain/model/torch_device.h"
#include "facetrain/train/augment.h"
#include "facetrain/train/face_pack.h"
#include "facetrain/train/gradient_clip.h"
#include "facetrain/train/learning_rate.h"
#include "facetrain/train/losses.h"
#include "facetrain/train/model_checkpoint.h"
#include "facetrain/train/run_directory.h"
#include "facetrain/train/tensor_file.h"
#include "facetrain/train/training_scores.h"
#include "facetrain/train/weight_average.h"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (fmt >= 11 keeps it here)
#include <torch/torch.h>

#include <algorithm>
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

// With a weight average, a checkpoint's model.pt holds the average (what swap and --base load) and
// this file the trained weights the optimizer goes on from.
constexpr const char* kTrainedWeightsFile = "trained_weights.pt";
// With the adversarial term (adversarial.weight > 0): the patch discriminator and its optimizer.
constexpr const char* kDiscriminatorFile = "discriminator.pt";
constexpr const char* kDiscriminatorOptimizerFile = "discriminator_optimizer.pt";
// The discriminator's Adam betas: the usual GAN choice (a short memory of the first moment).
constexpr double kDiscriminatorBeta1 = 0.5, kDiscriminatorBeta2 = 0.999;

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

// Fixed faces (validation, previews, the final scores) through the model without augmentation.
struct FixedForward {
  AugmentedBatch actor, double_;
  TrainingOutput out;
};

// One optimisation step's loss terms and learning rate, for the metrics line.
struct StepResult {
  LossTerms actor, double_;
  double lr = 0;
  // With the adversarial term on at this step (else undefined): the model's adversarial loss on the
  // actor's reconstructions (unweighted) and the discriminator's loss (real and reconstructed, halved).
  torch::Tensor adversarial, discriminator;

  // Every term of the metrics line, by its name there: actor_<term>, double_<term>, then
  // actor_adversarial and discriminator_loss when on. Every rank has the same names at a step.
  std::vector<std::pair<std::string, torch::Tensor>> named() const {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (auto& [name, value] : actor.named()) out.emplace_back("actor_" + name, value);
    for (auto& [name, value] : double_.named()) out.emplace_back("double_" + name, value);
    if (adversarial.defined()) out.emplace_back("actor_adversarial", adversarial);
    if (discriminator.defined()) out.emplace_back("discriminator_loss", discriminator);
    return out;
  }
};

// `facetrain train` in named phases. run() calls them in this order:
//   prepare()               device, process group, face sets -> packs, the ranks' agreement
//   resume_or_initialise()  model, optimizer, random streams: from a checkpoint, a --base, or fresh;
//                           gradient synchronisation; RUN's config and manifest
//   prepare_scores()        fixed validation and preview faces, identity references (issue 12)
//   then per step:          stop_reason(), step(), log() (with validate()), preview(), checkpoint()
//   finish()                the final checkpoint, preview and scores; the report
// The loss of a batch, masks included, is computed in one place: losses_for().
class Trainer {
 public:
  Trainer(const TrainJob& job, ProgressSink& progress, const FaceScorerFactory& open_scorer)
      : job_(job), config_(job.config), progress_(progress), open_scorer_(open_scorer) {}

  TrainReport run() {
    prepare();
    resume_or_initialise();
    prepare_scores();
    return train();
  }

 private:
  // --- phases ---------------------------------------------------------------------------------
  void prepare();
  void read_packs();
  void resume_or_initialise();
  bool load_training_state(const fs::path& directory);
  void start_gradient_sync();
  void write_run_records();
  void prepare_scores();
  TrainReport train();
  std::optional<StopReason> stop_reason();
  StepResult step();
  torch::Tensor train_discriminator(const AugmentedBatch& actor, const torch::Tensor& reconstruction);
  bool log(const StepResult& result, TrainReport& report);
  double validate();
  nlohmann::json preview_identity();
  void append_preview_identity();
  fs::path preview();
  fs::path checkpoint();
  TrainReport finish(TrainReport report);

  // --- the pieces the phases share ----------------------------------------------------------------
  AugmentedBatch unaugmented(const FacePack& pack, const torch::Tensor& index) const;
  LossTerms losses_for(const SwapOutput& out, const AugmentedBatch& batch) const;
  FixedForward forward_fixed(const torch::Tensor& actor_index, const torch::Tensor& double_index);
  torch::Tensor held_out(const FacePack& pack, int64_t count) const;
  std::vector<double> read_window(const StepResult& result);
  void reset_window();
  double session_seconds() const { return std::chrono::duration<double>(Clock::now() - session_start_).count(); }
  bool autocast_bf16() const { return cuda_ && config_.bf16; }
  // The weights previews, validation and the final scores use: the average when there is one.
  FaceSwapModel& scored_model() { return average_ ? average_->model() : *model_; }
  void follow_schedule();

  const TrainJob& job_;
  const TrainConfig& config_;
  ProgressSink& progress_;
  const FaceScorerFactory& open_scorer_;

  // prepare()
  c10::Device device_{c10::DeviceType::CPU};
  bool cuda_ = false;
  std::unique_ptr<dist::ProcessGroup> group_;
  int rank_ = 0, world_ = 1;
  bool writer_ = true;  // rank 0 alone owns RUN (lock, cache, checkpoints, metrics)
  std::optional<RunDirectory> run_;
  std::optional<CheckpointStore> store_;
  std::optional<CheckpointStore::Loaded> resumed_;  // rank 0: the checkpoint it resumes
  fs::path resume_directory_;                       // every rank: the checkpoint rank 0 chose
  int64_t resume_step_ = 0;
  FacePack actor_, double_;

  // resume_or_initialise()
  std::optional<FaceSwapModel> model_;
  std::optional<WeightAverage> average_;  // optimizer.ema_decay > 0
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::optional<Sampler> sampler_;
  std::optional<Augmenter> augment_actor_, augment_double_;
  std::unique_ptr<dist::GradientSynchronizer> gradient_sync_;
  // The adversarial term (adversarial.weight > 0): created with the model, trained only while on.
  std::optional<PatchDiscriminator> discriminator_;
  std::unique_ptr<torch::optim::Optimizer> discriminator_optimizer_;
  std::unique_ptr<dist::GradientSynchronizer> discriminator_sync_;
  int64_t step_ = 0, first_step_ = 0;
  double elapsed_before_ = 0;
  std::deque<double> validation_history_;
  std::string base_sha256_;
  ModelCost cost_;

  // prepare_scores()
  torch::Tensor preview_actor_, preview_double_, validation_actor_, validation_double_, identity_double_;
  std::unique_ptr<FaceScorer> scorer_;
  std::optional<IdentityReference> identity_reference_;
  nlohmann::json identity_check_;  // how the references separate the identities (the done event)

  // train()
  Clock::time_point session_start_;
  nlohmann::json last_reconstruction_ = nlohmann::json::object();
  double validation_average_ = 0;
  int64_t last_metrics_step_ = -1;
  int64_t nan_step_ = -1;      // FACETRAIN_FAULT_NAN_STEP: a test hook that poisons one step's loss
  torch::Tensor window_loss_;  // the loss summed on the device since the last metrics line
  int64_t window_steps_ = 0;
  double run_fraction_ = 0;     // how far through the run the next step is (every rank the same)
  bool random_warp_off_ = false;
  bool adversarial_on_ = false;
  double window_comm_s_ = 0;   // exposed communication (gradient waits, stop agreement), this window
  Clock::time_point window_start_;
};

// --- prepare ------------------------------------------------------------------------------------

void Trainer::prepare() {
  validate_train_config(config_);
  if (job_.grad_compression != "none" && job_.grad_compression != "bf16")
    throw ConfigError(fmt::format("--grad-compression {}: use none or bf16", job_.grad_compression));
  // CUDA: the device of this local rank (one process per GPU; see cuda_device_index).
  device_ = select_device(config_.device, [&](int count) { return cuda_device_index(job_.launch, count); });
  cuda_ = device_.is_cuda();
  if (cuda_ && device_.index() != job_.launch.local_rank)
    log_info("local rank {} trains on CUDA device {} of the {} this task sees (one task per GPU share, {} launcher)",
             job_.launch.local_rank, static_cast<int>(device_.index()), torch::cuda::device_count(), job_.launch.launcher);
  if (config_.deterministic && !cuda_) at::globalContext().setDeterministicAlgorithms(true, false);
  if (cuda_) at::globalContext().setBenchmarkCuDNN(true);

  // Data parallel (docs/design.md §6): rank 0 alone owns RUN (lock, cache, checkpoints, metrics).
  if (job_.launch.distributed()) group_ = std::make_unique<dist::ProcessGroup>(job_.launch, cuda_, job_.dist_timeout_s);
  rank_ = group_ ? group_->rank() : 0;
  world_ = group_ ? group_->world_size() : 1;
  writer_ = rank_ == 0;
  store_.emplace(job_.run_directory / "checkpoints", config_.keep_checkpoints);
  read_packs();
  if (actor_.face_type != double_.face_type)
    throw ConfigError(fmt::format("the actor's face set {} holds '{}' crops, the double's {} holds '{}': extract both "
                                  "with the same --face-type", job_.actor_faceset.string(), actor_.face_type,
                                  job_.double_faceset.string(), double_.face_type));
  log_info("faces: actor {} ({} held out), double {} ({} held out), packed at {} px", actor_.size(),
           actor_.size() - actor_.train_count, double_.size(), double_.size() - double_.train_count,
           config_.model.resolution_px);
  if (group_) {
    agree_on_setup(*group_, {{"facetrain version", version_string()},
                             {"LibTorch version", torch_version()},
                             {"configuration (sha256 of the effective config.yaml)", sha256_hex(train_config_to_yaml(config_))},
                             {"actor face set (content sha256)", actor_.content_sha256},
                             {"double face set (content sha256)", double_.content_sha256},
                             {"resumed checkpoint", resume_directory_.string()}});
  }
  actor_ = actor_.to(device_);
  double_ = double_.to(device_);
}

// Both face sets are read before RUN is created: one with no usable face (65, naming it) leaves no
// trace. The network learns one encoding (docs/design.md §7): face sets whose crops were made differently
// are refused before anything is written. Rank 0 publishes how its preparation went (and which
// checkpoint it resumes) before the others read the face-pack cache it wrote; a failure there ends
// every rank with its code.
void Trainer::read_packs() {
  constexpr double kPreparationTimeoutS = 3600;
  const fs::path pack_cache = job_.run_directory / "cache";
  auto read_facesets = [&] {
    auto faces = std::make_pair(read_usable_faces(job_.actor_faceset, config_.min_fit_confidence),
                                read_usable_faces(job_.double_faceset, config_.min_fit_confidence));
    for (const auto* usable : {&faces.first, &faces.second})
      if (usable->low_fit_confidence > 0)
        log_info("{}: {} face(s) left out, their landmark fit confidence below {} (min_fit_confidence)",
                 usable->set.directory.string(), usable->low_fit_confidence, config_.min_fit_confidence);
    const NetworkEncodingRecord& a = faces.first.set.manifest.encoding;
    const NetworkEncodingRecord& d = faces.second.set.manifest.encoding;
    if (!same_network_values(a, d))
      throw ConfigError(fmt::format("the actor's face set {} holds crops in the encoding {}, the double's {} in {}: "
                                    "the network must see one encoding; extract both with the same --encoding (and "
                                    "OpenColorIO config)",
                                    job_.actor_faceset.string(), a.describe(), job_.double_faceset.string(), d.describe()));
    return faces;
  };
  auto load_packs = [&](const std::pair<UsableFaces, UsableFaces>& faces) {
    const int resolution = config_.model.resolution_px;
    actor_ = load_face_pack(faces.first, resolution, config_.validation_fraction, pack_cache, "actor");
    double_ = load_face_pack(faces.second, resolution, config_.validation_fraction, pack_cache, "double");
  };
  if (!writer_) {
    const auto prepared = nlohmann::json::parse(group_->fetch("prepared", std::max(kPreparationTimeoutS, job_.dist_timeout_s)));
    if (prepared.value("code", 0) != 0)
      throw Error(static_cast<ExitCode>(prepared.value("code", 70)),
                  fmt::format("rank 0 failed: {}", prepared.value("message", std::string())));
    resume_directory_ = prepared.value("resume", std::string());
    resume_step_ = prepared.value("step", int64_t{0});
    load_packs(read_facesets());
    return;
  }
  try {
    const auto faces = read_facesets();
    run_.emplace(job_.run_directory);
    load_packs(faces);
    resumed_ = job_.resume ? store_->newest_valid() : std::nullopt;
  } catch (const Error& e) {
    if (group_) group_->publish("prepared", nlohmann::json{{"code", static_cast<int>(e.code())}, {"message", e.what()}}.dump());
    throw;
  }
  if (resumed_) {
    resume_directory_ = resumed_->directory;
    resume_step_ = resumed_->step;
  }
  if (group_)
    group_->publish("prepared", nlohmann::json{{"code", 0}, {"resume", resume_directory_.string()}, {"step", resume_step_}}.dump());
}

// --- resume or initialise -------------------------------------------------------------------------

void Trainer::resume_or_initialise() {
  torch::manual_seed(config_.seed);
  model_.emplace(config_.model);
  model_->to(device_, cuda_ && config_.channels_last);
  if (config_.optimizer.ema_decay > 0) average_.emplace(*model_, config_.optimizer.ema_decay);
  optimizer_ = make_optimizer(config_.optimizer, model_->parameters());
  if (config_.adversarial.weight > 0) {
    // Drawn after the model's weights, from the same seeded stream: a run without it starts as before.
    const AdversarialConfig& g = config_.adversarial;
    discriminator_.emplace(config_.model.resolution_px, g.dims, g.patch_px);
    discriminator_->to(device_, cuda_ && config_.channels_last);
    discriminator_optimizer_ = std::make_unique<torch::optim::Adam>(
        discriminator_->parameters(), torch::optim::AdamOptions(g.lr).betas({kDiscriminatorBeta1, kDiscriminatorBeta2}));
    int64_t parameters = 0;
    for (const auto& p : discriminator_->parameters()) parameters += p.numel();
    if (writer_)
      log_info("adversarial term: weight {} from {:.0f} % of the run, a patch discriminator of {} level(s) judging "
               "{} px patches ({} parameters, rate {})", g.weight, 100 * g.start_fraction, discriminator_->shape().levels,
               discriminator_->shape().receptive_field_px, parameters, g.lr);
    if (writer_ && g.start_fraction > 0 && config_.max_steps <= 0 && config_.max_time_s <= 0)
      log_warning("adversarial.start_fraction {} never comes without --max-steps or --max-time: the adversarial term "
                  "stays off (start_fraction 0 turns it on from the first step)", g.start_fraction);
  }
  sampler_.emplace(config_.seed ^ 0x5a4d504cULL);
  augment_actor_.emplace(config_.augment, config_.seed * 2 + 1, device_);
  augment_double_.emplace(config_.augment, config_.seed * 2 + 2, device_);

  bool average_loaded = false;
  if (resumed_) {
    const CheckpointState state = checkpoint_state_from_json(resumed_->state, resumed_->directory);
    if (state.model_description != describe(config_.model))
      throw ConfigError(fmt::format("{}: the run was trained as '{}', this configuration asks for '{}' "
                                    "(use another -o, or --resume never to start over)",
                                    job_.run_directory.string(), state.model_description, describe(config_.model)));
    average_loaded = load_training_state(resumed_->directory);
    step_ = resumed_->step;
    elapsed_before_ = state.elapsed_s;
    validation_history_.assign(state.validation_history.begin(), state.validation_history.end());
    base_sha256_ = state.base_model_sha256;
    run_->truncate_metrics_after(step_);
    log_info("resumed from {} at step {}", resumed_->directory.string(), step_);
  } else if (!writer_ && !resume_directory_.empty()) {
    average_loaded = load_training_state(resume_directory_);  // the checkpoint rank 0 chose (RUN on a shared file system)
    step_ = resume_step_;
  } else {
    if (!job_.base_checkpoint.empty()) base_sha256_ = load_base_model(*model_, job_.base_checkpoint, job_.base_parts);
    if (run_) run_->truncate_metrics_after(0);
  }
  first_step_ = step_;
  if (group_) start_gradient_sync();
  // A fresh run, a --base, or a checkpoint saved without an average: the average starts at the weights.
  if (average_ && !average_loaded) average_->reset_to(*model_);
  cost_ = estimate_model_cost(config_.model);
  if (writer_) write_run_records();
}

// Returns whether the weight average was restored (the checkpoint has one and this run keeps one).
bool Trainer::load_training_state(const fs::path& directory) {
  const fs::path model_file = directory / "model.pt", trained_file = directory / kTrainedWeightsFile;
  const bool saved_average = fs::exists(trained_file);  // then model.pt holds the average
  const fs::path& trained = saved_average ? trained_file : model_file;
  model_->load_named_parameters(load_named(trained, model_->named_parameters()), trained.string());
  if (average_ && saved_average)
    average_->model().load_named_parameters(load_named(model_file, average_->model().named_parameters()),
                                            model_file.string());
  torch::load(*optimizer_, (directory / "optimizer.pt").string());
  if (discriminator_) {
    const fs::path saved = directory / kDiscriminatorFile;
    if (fs::exists(saved)) {
      discriminator_->load_named_parameters(load_named(saved, discriminator_->named_parameters()), saved.string());
      torch::load(*discriminator_optimizer_, (directory / kDiscriminatorOptimizerFile).string());
    } else if (writer_) {
      log_info("{} has no discriminator: the adversarial term's discriminator starts afresh", directory.string());
    }
  }
  std::vector<torch::Tensor> rng;
  torch::load(rng, (directory / "rng.pt").string());
  if (rng.size() != 3) throw InputDataError(fmt::format("{}: rng.pt holds {} states, expected 3", directory.string(), rng.size()));
  sampler_->set_state(rng[0]);
  augment_actor_->set_state(rng[1]);
  augment_double_->set_state(rng[2]);
  return average_ && saved_average;
}

void Trainer::start_gradient_sync() {
  dist::broadcast_parameters(*group_, model_->parameters(), 0);
  // FACETRAIN_DDP_BUCKET_MB: bucket size for tuning and tests (default 25 MB, as PyTorch DDP).
  const char* bucket_env = std::getenv("FACETRAIN_DDP_BUCKET_MB");
  const double bucket_mb = bucket_env ? std::atof(bucket_env) : 0.0;
  const int64_t bucket_bytes = bucket_mb > 0 ? static_cast<int64_t>(bucket_mb * (1 << 20)) : kGradientBucketBytes;
  gradient_sync_ = std::make_unique<dist::GradientSynchronizer>(*group_, model_->parameters(), bucket_bytes,
                                                                job_.grad_compression == "bf16");
  if (discriminator_) {  // its own gradients, all-reduced in its own step
    dist::broadcast_parameters(*group_, discriminator_->parameters(), 0);
    discriminator_sync_ = std::make_unique<dist::GradientSynchronizer>(*group_, discriminator_->parameters(), bucket_bytes,
                                                                       job_.grad_compression == "bf16");
  }
  log_info("data parallel: rank {} of {} ({}), batch {} per rank and identity, global {}; {} gradient bucket(s), "
           "{:.1f} MB per step", rank_, world_, group_->backend_name(), config_.batch_size, config_.batch_size * world_,
           gradient_sync_->stats().buckets, gradient_sync_->stats().bytes_per_step / 1e6);
}

void Trainer::write_run_records() {
  const std::string config_yaml = train_config_to_yaml(config_);
  const fs::path previous_config = job_.run_directory / "config.yaml";
  if (resume_step_ > 0 && fs::exists(previous_config)) {
    // A resumed run goes on with the configuration given now; one that differs from the run's (other
    // flags, a --config forgotten, a newer facetrain whose preset recipe changed) is said, key by key.
    std::vector<std::string> changed = config_differences(read_file(previous_config), config_yaml);
    auto stop_rule = [](const std::string& d) {  // where to stop may change from session to session
      for (const char* key : {"max_steps:", "max_time_s:", "target_loss:"})
        if (d.rfind(key, 0) == 0) return true;
      return false;
    };
    // A key the run's config.yaml lacks (written by an older facetrain) at the value this one gives it
    // by default is not a change: the run trained with that behaviour before the key existed.
    TrainConfig defaults;
    apply_preset(defaults, config_.preset);
    const std::vector<std::string> new_at_default = config_differences("", train_config_to_yaml(defaults));
    auto key_added_at_default = [&](const std::string& d) {
      return std::find(new_at_default.begin(), new_at_default.end(), d) != new_at_default.end();
    };
    changed.erase(std::remove_if(changed.begin(), changed.end(),
                                 [&](const std::string& d) { return stop_rule(d) || key_added_at_default(d); }),
                  changed.end());
    if (!changed.empty())
      log_warning("resuming {} at step {} with a configuration other than its config.yaml: {} (to keep the run's, "
                  "pass --config {})", job_.run_directory.string(), resume_step_, fmt::join(changed, ", "),
                  previous_config.string());
  }
  run_->write_config(config_yaml);
  run_->write_manifest({{"format_version", 1},
                        {"facetrain", version_string()},
                        {"libtorch", torch_version()},
                        {"cuda", cuda_ ? "available" : "none"},
                        {"device", device_.str()},
                        {"world_size", world_},
                        {"distributed_backend", group_ ? group_->backend_name() : "none"},
                        {"launcher", job_.launch.launcher},
                        {"seed", config_.seed},
                        {"model", describe(config_.model)},
                        {"face_type", actor_.face_type},
                        {"encoding", network_encoding_to_json(actor_.encoding)},
                        {"model_parameters", cost_.parameter_count},
                        {"forward_gflop_per_image", cost_.forward_flops_per_image / 1e9},
                        {"actor_faceset", {{"path", job_.actor_faceset.string()}, {"content_sha256", actor_.content_sha256}}},
                        {"double_faceset", {{"path", job_.double_faceset.string()}, {"content_sha256", double_.content_sha256}}},
                        {"base_model", job_.base_checkpoint.string()},
                        {"base_model_sha256", base_sha256_}});
}

// --- fixed faces and quality scores ----------------------------------------------------------------

// Fixed preview and validation sets (held_out_faces, face_pack.h): faces spread evenly over the
// held-out slice, so preview rows show different frames.
torch::Tensor Trainer::held_out(const FacePack& pack, int64_t count) const {
  return held_out_faces(pack, count).to(device_);
}

// Quality scores (issue 12), rank 0: reconstruction at every validation; identity of swapped
// held-out faces at every preview, against references made here from the training faces.
void Trainer::prepare_scores() {
  preview_actor_ = held_out(actor_, config_.preview_faces);
  preview_double_ = held_out(double_, config_.preview_faces);
  validation_actor_ = held_out(actor_, 64);
  validation_double_ = held_out(double_, 64);
  identity_double_ = held_out(double_, 16);
  if (!writer_ || !job_.quality_scores) return;
  scorer_ = open_scorer_(job_.identity_model, actor_.landmark_points);
  if (!scorer_->has_identity()) return;
  const auto started = Clock::now();
  identity_reference_ = make_identity_reference(*scorer_, actor_, double_, 64);
  // Each face set's held-out faces against both references: the actor's near the actor, the double's far.
  const auto identity_actor = held_out(actor_, 16);
  identity_check_ = identity_metrics(face_descriptors(*scorer_, actor_.images.index_select(0, identity_actor),
                                                      actor_.landmarks.index_select(0, identity_actor)),
                                     *identity_reference_, "actor_faces_");
  identity_check_.update(identity_metrics(face_descriptors(*scorer_, double_.images.index_select(0, identity_double_),
                                                           double_.landmarks.index_select(0, identity_double_)),
                                          *identity_reference_, "double_faces_"));
  log_info("identity references from {} actor and {} double faces ({:.1f} s): held-out actor faces {:.3f} from the "
           "actor, {:.3f} from the double; held-out double faces {:.3f} from the actor, {:.3f} from the double",
           identity_reference_->actor_faces, identity_reference_->double_faces,
           std::chrono::duration<double>(Clock::now() - started).count(), identity_check_.value("actor_faces_to_actor", 0.0),
           identity_check_.value("actor_faces_to_double", 0.0), identity_check_.value("double_faces_to_actor", 0.0),
           identity_check_.value("double_faces_to_double", 0.0));
  progress_.event("identity_reference", identity_check_);
}

AugmentedBatch Trainer::unaugmented(const FacePack& pack, const torch::Tensor& index) const {
  AugmentedBatch b;
  b.target = pack.images.index_select(0, index).to(torch::kFloat32).div(255);
  b.input = b.target;
  b.target_mask = pack.masks.index_select(0, index).to(torch::kFloat32).div(255);
  b.landmarks = pack.landmarks.index_select(0, index);
  if (cuda_ && config_.channels_last) b.input = b.input.contiguous(at::MemoryFormat::ChannelsLast);
  return b;
}

// The loss of one identity's batch against its targets and target masks: the one place the
// training loss is weighted and masked.
LossTerms Trainer::losses_for(const SwapOutput& out, const AugmentedBatch& batch) const {
  const int resolution = config_.model.resolution_px;
  const auto eyes_mouth = config_.loss.eyes_mouth_weight > 0 ? eyes_mouth_weight_map(batch.landmarks, resolution, resolution)
                                                            : torch::Tensor();
  return reconstruction_loss(out.rgb.to(torch::kFloat32), out.mask.to(torch::kFloat32), batch.target, batch.target_mask,
                             eyes_mouth, config_.loss);
}

// Callers hold a NoGradGuard and an AutocastGuard.
FixedForward Trainer::forward_fixed(const torch::Tensor& actor_index, const torch::Tensor& double_index) {
  FixedForward f{unaugmented(actor_, actor_index), unaugmented(double_, double_index), {}};
  f.out = scored_model().forward_training(f.actor.input, f.double_.input);
  return f;
}

// --- the loop -------------------------------------------------------------------------------------

TrainReport Trainer::train() {
  session_start_ = Clock::now();
  const char* nan_step_env = std::getenv("FACETRAIN_FAULT_NAN_STEP");
  nan_step_ = nan_step_env ? std::atoll(nan_step_env) : -1;
  TrainReport report;
  if (writer_) progress_.begin("train", config_.max_steps > 0 ? config_.max_steps : -1);
  log_info("training {} on {} ({:.2f} GFLOP/image forward, {:.1f} M parameters), batch {} per identity", describe(config_.model),
           device_.str(), cost_.forward_flops_per_image / 1e9, cost_.parameter_count / 1e6, config_.batch_size);
  model_->train(true);
  validation_average_ = validation_history_.empty() ? 0.0 : validation_history_.back();
  reset_window();
  while (true) {
    if (const auto reason = stop_reason()) {
      report.reason = *reason;
      break;
    }
    const StepResult result = step();
    const bool checkpoint_now = step_ % config_.checkpoint_every == 0;
    const bool log_now = step_ % config_.log_every == 0 || step_ == config_.max_steps;
    if ((log_now || checkpoint_now) && log(result, report)) break;  // the target loss is reached
    if (writer_ && step_ % config_.preview_every == 0) {
      report.last_preview = preview();
      if (identity_reference_ && last_metrics_step_ != step_) append_preview_identity();
    }
    if (writer_ && checkpoint_now) report.last_checkpoint = checkpoint();
  }
  if (writer_) progress_.end();
  return finish(std::move(report));
}

// Whether to stop before the next step. Every rank stops at the same step: a signal or the time
// limit seen by any rank counts. Reading the agreed flags syncs the host with the device: on CUDA
// only every 8 steps, so the host can keep queueing kernels ahead.
std::optional<StopReason> Trainer::stop_reason() {
  if (config_.max_steps > 0 && step_ >= config_.max_steps) return StopReason::max_steps;
  bool out_of_time = config_.max_time_s > 0 && session_seconds() >= config_.max_time_s;
  bool stop_signal = progress_.stop_requested();
  // By steps the fraction is the same on every rank; by time each rank's clock differs, so rank 0's
  // is agreed on with the stop flags and held between agreements.
  const double fraction = run_fraction(config_, step_, elapsed_before_ + session_seconds());
  const bool by_time = config_.max_steps <= 0;
  if (!group_ || !by_time) run_fraction_ = fraction;
  const int64_t stop_agreement_every = cuda_ ? 8 : 1;
  if (group_ && step_ % stop_agreement_every != 0) {
    out_of_time = stop_signal = false;  // acted on only at agreement steps, so all ranks stop together
  } else if (group_) {
    const auto start = Clock::now();
    auto flags = torch::tensor({out_of_time ? 1.0f : 0.0f, stop_signal ? 1.0f : 0.0f,
                                rank_ == 0 ? static_cast<float>(fraction) : 0.0f}).to(device_);
    group_->allreduce_sum(flags);
    flags = flags.to(torch::kCPU);
    out_of_time = flags[0].item<float>() > 0;
    stop_signal = flags[1].item<float>() > 0;
    if (by_time) run_fraction_ = flags[2].item<float>();
    window_comm_s_ += std::chrono::duration<double>(Clock::now() - start).count();
  }
  if (out_of_time) return StopReason::max_time;
  if (stop_signal) return StopReason::signal;
  return std::nullopt;
}

// One optimisation step on one global batch drawn from one stream; this rank takes rows
// [rank * b, (rank + 1) * b).
StepResult Trainer::step() {
  follow_schedule();
  const int64_t global_batch = config_.batch_size * world_;
  const BatchSlice slice{global_batch, rank_ * config_.batch_size};
  auto index_a = sampler_->draw(actor_.train_count, global_batch, device_);
  auto index_d = sampler_->draw(double_.train_count, global_batch, device_);
  if (world_ > 1) {
    index_a = index_a.narrow(0, slice.offset, config_.batch_size);
    index_d = index_d.narrow(0, slice.offset, config_.batch_size);
  }
  const AugmentedBatch a = (*augment_actor_)(actor_.images.index_select(0, index_a), actor_.masks.index_select(0, index_a),
                                             actor_.landmarks.index_select(0, index_a), slice);
  const AugmentedBatch d = (*augment_double_)(double_.images.index_select(0, index_d), double_.masks.index_select(0, index_d),
                                              double_.landmarks.index_select(0, index_d), slice);
  TrainingOutput out;
  {
    AutocastGuard autocast(device_, autocast_bf16());
    auto input_a = cuda_ && config_.channels_last ? a.input.contiguous(at::MemoryFormat::ChannelsLast) : a.input;
    auto input_d = cuda_ && config_.channels_last ? d.input.contiguous(at::MemoryFormat::ChannelsLast) : d.input;
    out = model_->forward_training(input_a, input_d);
  }
  StepResult result{losses_for(out.actor, a), losses_for(out.double_, d), 0, {}, {}};
  torch::Tensor total = result.actor.total + result.double_.total;
  if (adversarial_on_) {
    // The actor's reconstructions should pass for real faces, inside the face: the discriminator is
    // frozen for this backward (its gradients belong to its own step).
    discriminator_->set_trainable(false);
    AutocastGuard autocast(device_, autocast_bf16());
    const auto logits = discriminator_->logits(out.actor.rgb * a.target_mask).to(torch::kFloat32);
    result.adversarial = torch::binary_cross_entropy_with_logits(logits, torch::ones_like(logits));
    total = total + config_.adversarial.weight * result.adversarial;
  }
  if (step_ == nan_step_) total = total * std::numeric_limits<float>::quiet_NaN();
  optimizer_->zero_grad();
  if (gradient_sync_) gradient_sync_->begin_step();
  total.backward();
  if (gradient_sync_) {
    gradient_sync_->finish();  // every rank now holds the global batch's gradient
    window_comm_s_ += gradient_sync_->stats().exposed_wait_seconds;
  }
  if (config_.optimizer.clip_grad_norm > 0) clip_gradients(model_->parameters(), config_.optimizer.clip_grad_norm);
  result.lr = learning_rate_at(config_.optimizer, config_.max_steps, step_, run_fraction_);
  set_learning_rate(*optimizer_, config_.optimizer.type, result.lr);
  // A non-finite loss must never reach the weights: checked on the device, read every log_every steps.
  window_loss_ = window_loss_ + total.detach();
  ++window_steps_;
  optimizer_->step();
  // Every rank updates its average from identical weights: no communication of its own.
  if (average_) average_->update(*model_, step_);
  if (adversarial_on_) result.discriminator = train_discriminator(a, out.actor.rgb);
  ++step_;
  if (writer_) {
    // Against whichever limit will stop this run first: --max-steps, --max-time, or both.
    if (const auto toward = limit_progress(step_, config_.max_steps, session_seconds(), config_.max_time_s))
      progress_.update_fraction(step_, toward->fraction, toward->limit);
    else
      progress_.update(step_);
  }
  return result;
}

// The discriminator's step, after the model's, on the same faces: the actor's real faces against the
// reconstructions the model made of them this step, both inside the face mask. Under data parallelism
// its gradients are all-reduced by their own synchroniser, so every rank's discriminator stays the same.
torch::Tensor Trainer::train_discriminator(const AugmentedBatch& actor, const torch::Tensor& reconstruction) {
  discriminator_->set_trainable(true);
  discriminator_optimizer_->zero_grad();
  if (discriminator_sync_) discriminator_sync_->begin_step();
  torch::Tensor loss;
  {
    AutocastGuard autocast(device_, autocast_bf16());
    const auto both = torch::cat({actor.target * actor.target_mask,
                                  reconstruction.detach().to(torch::kFloat32) * actor.target_mask}, 0);
    const auto logits = discriminator_->logits(both).to(torch::kFloat32);
    const int64_t n = actor.target.size(0);
    const auto real = logits.narrow(0, 0, n), fake = logits.narrow(0, n, n);
    loss = (torch::binary_cross_entropy_with_logits(real, torch::ones_like(real)) +
            torch::binary_cross_entropy_with_logits(fake, torch::zeros_like(fake))) / 2;
  }
  loss.backward();
  if (discriminator_sync_) {
    discriminator_sync_->finish();
    window_comm_s_ += discriminator_sync_->stats().exposed_wait_seconds;
  }
  if (config_.optimizer.clip_grad_norm > 0) clip_gradients(discriminator_->parameters(), config_.optimizer.clip_grad_norm);
  discriminator_optimizer_->step();
  return loss.detach();
}

// The run's late phases, by run fraction: the sharpening phase (the last random_warp_off_fraction
// trains without the random warp) and the adversarial term (from adversarial.start_fraction).
void Trainer::follow_schedule() {
  const bool warp_off = random_warp_off_at(config_, run_fraction_);
  if (warp_off != random_warp_off_) {
    random_warp_off_ = warp_off;
    augment_actor_->set_random_warp_off(warp_off);
    augment_double_->set_random_warp_off(warp_off);
    if (writer_) log_info("step {}: random warp {}", step_, warp_off ? "off for the rest of the run" : "on");
  }
  const bool adversarial = discriminator_ && adversarial_on_at(config_, run_fraction_);
  if (adversarial != adversarial_on_) {
    adversarial_on_ = adversarial;
    if (writer_)
      log_info("step {}: adversarial term {}", step_,
               adversarial ? fmt::format("on (weight {})", config_.adversarial.weight) : std::string("off"));
  }
}

void Trainer::reset_window() {
  window_loss_ = torch::zeros({}, torch::TensorOptions().device(device_));
  window_steps_ = 0;
  window_comm_s_ = 0;
  window_start_ = Clock::now();
}

// The window's loss sum and the last step's terms, averaged over ranks ([0] = loss sum, then
// result.named()'s terms). A non-finite loss stops training before any checkpoint.
std::vector<double> Trainer::read_window(const StepResult& result) {
  const auto terms = result.named();
  std::vector<torch::Tensor> parts{window_loss_.to(torch::kFloat32)};
  for (const auto& [name, value] : terms) parts.push_back(value.detach().to(torch::kFloat32));
  auto values = torch::stack(parts);
  if (group_) {
    group_->allreduce_sum(values);
    values.div_(static_cast<double>(world_));
  }
  values = values.to(torch::kCPU, torch::kFloat64);
  std::vector<double> read(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
  const double mean_loss = window_steps_ > 0 ? read[0] / static_cast<double>(window_steps_) : 0.0;
  if (std::isfinite(mean_loss)) return read;
  size_t k = 1;
  for (const auto& [name, value] : terms)
    if (!std::isfinite(read[k++]))
      throw InputDataError(fmt::format("step {}: the loss term '{}' is not finite; training stopped, "
                                       "no checkpoint written after step {}", step_, name, step_ - window_steps_));
  throw InputDataError(fmt::format("step {}: the total loss is not finite (between steps {} and {}); training stopped, "
                                   "no checkpoint written after step {}", step_, step_ - window_steps_ + 1, step_,
                                   step_ - window_steps_));
}

// --- log and validate -------------------------------------------------------------------------------

// The metrics line of the window that ends at this step (rank 0 writes it), with the held-out loss
// when it is due. Returns whether the target loss is reached (rank 0 decides for every rank).
bool Trainer::log(const StepResult& result, TrainReport& report) {
  const bool log_now = step_ % config_.log_every == 0 || step_ == config_.max_steps;
  const std::vector<double> read = read_window(result);
  const double mean_loss = window_steps_ > 0 ? read[0] / static_cast<double>(window_steps_) : 0.0;
  const double seconds = std::chrono::duration<double>(Clock::now() - window_start_).count();
  const int64_t global_batch = config_.batch_size * world_;
  nlohmann::json line = {{"step", step_},
                         {"loss", mean_loss},
                         {"lr", result.lr},
                         {"images_per_s", seconds > 0 ? 2.0 * global_batch * window_steps_ / seconds : 0.0},
                         {"elapsed_s", elapsed_before_ + session_seconds()}};
  size_t k = 1;
  for (const auto& [name, value] : result.named()) line[name] = read[k++];
  if (group_ && window_steps_ > 0) {
    line["world_size"] = world_;
    line["step_s"] = seconds / static_cast<double>(window_steps_);
    line["comm_exposed_s"] = window_comm_s_ / static_cast<double>(window_steps_);
  }
  if (writer_ && (step_ % config_.validate_every == 0 || (config_.target_loss > 0 && log_now))) {
    validation_average_ = validate();
    line["validation_loss"] = validation_average_;
    line.update(last_reconstruction_);
  }
  bool target_reached = writer_ && config_.target_loss > 0 &&
                        static_cast<int64_t>(validation_history_.size()) >= config_.target_loss_window &&
                        validation_average_ <= config_.target_loss;
  if (group_) {  // rank 0's held-out loss decides for every rank
    auto decided = torch::tensor({validation_average_, target_reached ? 1.0 : 0.0},
                                 torch::TensorOptions().dtype(torch::kFloat64)).to(device_);
    group_->broadcast(decided, 0);
    decided = decided.to(torch::kCPU);
    validation_average_ = decided[0].item<double>();
    target_reached = decided[1].item<double>() > 0;
  }
  if (writer_ && identity_reference_ && step_ % config_.preview_every == 0) line.update(preview_identity());
  if (writer_) {
    run_->append_metrics(line);
    progress_.event("metrics", line);
    last_metrics_step_ = step_;
  }
  report.last_loss = mean_loss;
  reset_window();
  if (!target_reached) return false;
  report.reason = StopReason::target_loss;
  report.seconds_to_target = session_seconds();
  log_info("target loss {} reached at step {} (held-out moving average {:.5f})", config_.target_loss, step_,
           validation_average_);
  return true;
}

// The held-out loss, as a moving average over target_loss_window validations; with the quality
// scores, the reconstruction scores of the same faces (last_reconstruction_).
double Trainer::validate() {
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(device_, autocast_bf16());
  const FixedForward f = forward_fixed(validation_actor_, validation_double_);
  const double loss = (losses_for(f.out.actor, f.actor).total.item<double>() +
                       losses_for(f.out.double_, f.double_).total.item<double>()) / 2;
  if (job_.quality_scores) {
    last_reconstruction_ = reconstruction_metrics(f.out.actor.rgb.to(torch::kFloat32), f.actor.target,
                                                  f.actor.target_mask, "validation_actor_");
    last_reconstruction_.update(reconstruction_metrics(f.out.double_.rgb.to(torch::kFloat32), f.double_.target,
                                                       f.double_.target_mask, "validation_double_"));
  }
  validation_history_.push_back(loss);
  while (static_cast<int64_t>(validation_history_.size()) > config_.target_loss_window) validation_history_.pop_front();
  double sum = 0;
  for (double v : validation_history_) sum += v;
  return sum / static_cast<double>(validation_history_.size());
}

// --- preview --------------------------------------------------------------------------------------

// The double's held-out faces through the actor's decoder, against the identity references.
nlohmann::json Trainer::preview_identity() {
  if (!identity_reference_) return nlohmann::json::object();
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(device_, autocast_bf16());
  const AugmentedBatch d = unaugmented(double_, identity_double_);
  const SwapOutput swapped = scored_model().swap_double_to_actor(d.input);
  const auto swapped_rgb = swapped.rgb.to(torch::kFloat32);
  nlohmann::json metrics = identity_metrics(face_descriptors(*scorer_, swapped_rgb, d.landmarks), *identity_reference_,
                                            "identity_");
  metrics.update(expression_metrics(*scorer_, swapped_rgb, d.target, d.landmarks, "swap_"));
  return metrics;
}

// A preview step without a metrics line: the identity scores get a line of their own.
void Trainer::append_preview_identity() {
  nlohmann::json line = {{"step", step_}, {"elapsed_s", elapsed_before_ + session_seconds()}};
  line.update(preview_identity());
  run_->append_metrics(line);
  progress_.event("metrics", line);
  last_metrics_step_ = step_;
}

// The preview sheet: one row per fixed face; columns actor in | actor out | double in | double out |
// double -> actor.
fs::path Trainer::preview() {
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(device_, autocast_bf16());
  const FixedForward f = forward_fixed(preview_actor_, preview_double_);
  const SwapOutput swapped = scored_model().swap_double_to_actor(f.double_.input);
  const int64_t rows = std::min(f.actor.target.size(0), f.double_.target.size(0));
  std::vector<torch::Tensor> columns = {to_tiles(f.actor.target), to_tiles(f.out.actor.rgb), to_tiles(f.double_.target),
                                        to_tiles(f.out.double_.rgb), to_tiles(swapped.rgb)};
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
  const fs::path path = run_->previews() / fmt::format("{}.png", CheckpointStore::step_name(step_));
  write_png(path, image);
  run_->add_preview(step_, path);  // TensorBoard image, report.html rewritten
  progress_.event("preview", {{"step", step_}, {"path", path.string()}});
  return path;
}

// --- checkpoint -----------------------------------------------------------------------------------

fs::path Trainer::checkpoint() {
  for (const auto& p : model_->parameters())
    if (!torch::isfinite(p).all().item<bool>())
      throw InputDataError(fmt::format("step {}: a model parameter is not finite; checkpoint not written", step_));
  if (discriminator_)
    for (const auto& p : discriminator_->parameters())
      if (!torch::isfinite(p).all().item<bool>())
        throw InputDataError(fmt::format("step {}: a discriminator parameter is not finite; checkpoint not written", step_));
  CheckpointState state;
  state.model = config_.model;
  state.face_type = actor_.face_type;
  state.encoding = actor_.encoding;
  state.elapsed_s = elapsed_before_ + session_seconds();
  state.validation_history.assign(validation_history_.begin(), validation_history_.end());
  state.base_model_sha256 = base_sha256_;
  state.facetrain_version = version_string();
  state.identity_reference = identity_reference_;
  const fs::path dir = store_->save(step_, checkpoint_state_to_json(state), [&](const fs::path& tmp) {
    save_named(scored_model().named_parameters(), tmp / "model.pt");
    if (average_) save_named(model_->named_parameters(), tmp / kTrainedWeightsFile);
    save_optimizer(*optimizer_, tmp / "optimizer.pt");
    if (discriminator_) {
      save_named(discriminator_->named_parameters(), tmp / kDiscriminatorFile);
      save_optimizer(*discriminator_optimizer_, tmp / kDiscriminatorOptimizerFile);
    }
    save_tensors({sampler_->get_state(), augment_actor_->get_state(), augment_double_->get_state()}, tmp / "rng.pt");
  });
  progress_.event("checkpoint", {{"step", step_}, {"path", dir.string()}});
  log_info("checkpoint {}", dir.string());
  return dir;
}

// --- finish ---------------------------------------------------------------------------------------

// Rank 0 writes the final checkpoint and preview and scores the final model; every rank waits for
// it, so that each one's exit status says whether the run ended well.
TrainReport Trainer::finish(TrainReport report) {
  if (!writer_) {
    auto done = torch::zeros({1}, torch::TensorOptions().device(device_));
    group_->allreduce_sum(done);
    record_session(report, step_, first_step_, session_seconds(), world_);
    report.validation_loss = validation_average_;
    return report;
  }
  if (step_ > first_step_ || !resumed_) {
    if (report.last_checkpoint.empty() || report.last_checkpoint.filename() != CheckpointStore::step_name(step_))
      report.last_checkpoint = checkpoint();
    report.last_preview = preview();
  } else if (resumed_) {
    report.last_checkpoint = resumed_->directory;
  }
  record_session(report, step_, first_step_, session_seconds(), world_);
  report.validation_loss = validation_history_.empty() ? validate() : validation_average_;
  if (job_.quality_scores) {  // the final model's scores, for the done event
    {
      torch::NoGradGuard no_grad;
      AutocastGuard autocast(device_, autocast_bf16());
      const FixedForward f = forward_fixed(validation_actor_, validation_double_);
      report.quality = reconstruction_metrics(f.out.actor.rgb.to(torch::kFloat32), f.actor.target, f.actor.target_mask,
                                              "validation_actor_");
      report.quality.update(reconstruction_metrics(f.out.double_.rgb.to(torch::kFloat32), f.double_.target,
                                                   f.double_.target_mask, "validation_double_"));
    }
    report.quality.update(preview_identity());
    report.quality.update(identity_check_);
  }
  if (group_) {
    auto done = torch::zeros({1}, torch::TensorOptions().device(device_));
    group_->allreduce_sum(done);
  }
  return report;
}

}  // namespace

TrainReport run_train(const TrainJob& job, ProgressSink& progress, const FaceScorerFactory& open_scorer) {
  return Trainer(job, progress, open_scorer).run();
}

}  // namespace facetrain
