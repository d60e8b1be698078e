// facetrain_bench: the training step's speed, for scripts/bench.sh's `train` section.
//
//   facetrain_bench --device cuda --presets df-256,liae-256 --batch-sizes 8,16,32,64 [--steps 30]
//                   [--warmup 5] [--data-steps 20] [--peak-matmul 8192] [--threads N]
//                   [--profile FILE] [--profile-steps N]
//
// Per preset and batch size (faces per identity; a step trains 2 x batch images, as `facetrain
// train` does), on synthetic uint8 faces resident on the device (the sampling, augmentation, bf16
// autocast forward, float32 losses, backward, gradient clipping and AdamW step of the trainer):
//   step_ms      median-free mean over `steps` timed steps after `warmup` (one device sync at each end)
//   images_per_s 2 x batch / step time
//   data_ms      sampling + augmentation alone, timed in a separate pass with a device sync around
//                each of `data-steps` iterations (so it is the data path's own latency)
//   cpu_s_per_step, images_per_cpu_s  the process's CPU time (user + system) over the timed steps
//   peak_mem_gib CUDA caching allocator's peak allocated bytes for that configuration (null on CPU)
//   tflops       3 x analytic forward FLOPs per image (model_config.h) x images/s
//   mfu          tflops / the bf16 peak measured in the same run by an N^3 bf16 matmul (null on CPU)
// A configuration that runs out of device memory is reported with "oom": true.
// --threads N sets LibTorch's intra-op threads (default: its own choice, OMP_NUM_THREADS).
// --profile FILE (one preset and batch size): after the timing, `profile-steps` steps under
// LibTorch's profiler (Kineto, CPU activity), the ops' self time per step written as JSON like
// bench/peers/facetrain_peer.py's torch.profiler list (scripts/bench.sh's `peers` section).
// Prints one JSON document on stdout; progress on stderr. Exit 64 on bad arguments, 69 when
// --device cuda has no CUDA device.
#include <torch/torch.h>

#ifdef FACETRAIN_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <torch/csrc/autograd/profiler_kineto.h>

#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "facetrain/model/autocast_guard.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/jobs/model_config.h"
#include "facetrain/train/augment.h"
#include "facetrain/train/gradient_clip.h"
#include "facetrain/train/losses.h"
#include "facetrain/jobs/train_config.h"

using namespace facetrain;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string device = "cpu";
  std::vector<std::string> presets = {"tiny"};
  std::vector<int64_t> batch_sizes = {4};
  int steps = 10;
  int warmup = 3;
  int data_steps = 10;
  int64_t peak_matmul = 8192;
  int threads = 0;
  std::string profile;
  int profile_steps = 2;
};

[[noreturn]] void usage(const std::string& message) {
  std::cerr << "facetrain_bench: ERROR: " << message
            << "\nusage: facetrain_bench [--device cpu|cuda] [--presets A,B] [--batch-sizes 8,16] [--steps N]"
               " [--warmup N] [--data-steps N] [--peak-matmul N] [--threads N] [--profile FILE] [--profile-steps N]\n";
  std::exit(64);
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

int64_t positive(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used == text.size() && value > 0) return value;
  } catch (const std::exception&) {
  }
  usage(flag + " needs a positive integer, got '" + text + "'");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--device") {
      if (value != "cpu" && value != "cuda") usage("--device is cpu or cuda");
      o.device = value;
    } else if (flag == "--presets") {
      o.presets = split(value);
    } else if (flag == "--batch-sizes") {
      o.batch_sizes.clear();
      for (const auto& b : split(value)) o.batch_sizes.push_back(positive(flag, b));
    } else if (flag == "--steps") {
      o.steps = static_cast<int>(positive(flag, value));
    } else if (flag == "--warmup") {
      o.warmup = static_cast<int>(positive(flag, value));
    } else if (flag == "--data-steps") {
      o.data_steps = static_cast<int>(positive(flag, value));
    } else if (flag == "--peak-matmul") {
      o.peak_matmul = positive(flag, value);
    } else if (flag == "--threads") {
      o.threads = static_cast<int>(positive(flag, value));
    } else if (flag == "--profile") {
      o.profile = value;
    } else if (flag == "--profile-steps") {
      o.profile_steps = static_cast<int>(positive(flag, value));
    } else {
      usage("unknown argument " + flag);
    }
  }
  if (o.presets.empty() || o.batch_sizes.empty()) usage("--presets and --batch-sizes need at least one value");
  if (!o.profile.empty() && (o.presets.size() != 1 || o.batch_sizes.size() != 1))
    usage("--profile needs one preset and one batch size");
  for (const auto& p : o.presets) {
    try {
      model_preset(p);
    } catch (const std::exception& e) {
      usage(e.what());
    }
  }
  return o;
}

// User + system CPU seconds of this process (all its threads).
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void sync(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

bool is_out_of_memory(const std::exception& e) {
  return std::string(e.what()).find("out of memory") != std::string::npos;
}

void release_cached_memory(const c10::Device& device) {
#ifdef FACETRAIN_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  (void)device;
}

void reset_peak_memory(const c10::Device& device) {
#ifdef FACETRAIN_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#endif
  (void)device;
}

nlohmann::json peak_memory_gib(const c10::Device& device) {
#ifdef FACETRAIN_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0 * 1024.0);  // [0]: aggregate
  }
#endif
  (void)device;
  return nullptr;
}

// bf16 matrix-multiply rate of this device (TFLOP/s): median of 10 timed N^3 products after 3 warm-ups,
// on random (not zero) operands.
double measure_bf16_peak_tflops(const c10::Device& device, int64_t n) {
  const auto options = torch::TensorOptions().device(device).dtype(torch::kBFloat16);
  auto a = torch::randn({n, n}, options), b = torch::randn({n, n}, options);
  auto c = torch::empty({n, n}, options);
  for (int i = 0; i < 3; ++i) torch::matmul_out(c, a, b);
  sync(device);
  std::vector<double> seconds;
  for (int i = 0; i < 10; ++i) {
    const auto t0 = Clock::now();
    torch::matmul_out(c, a, b);
    sync(device);
    seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = (seconds[4] + seconds[5]) / 2;
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / median / 1e12;
}

// Synthetic faces on the device: smooth colour fields (uint8), an elliptic mask and a landmark
// layout around the eyes and mouth, so that every loss term and augmentation path does real work.
struct Faces {
  torch::Tensor images, masks, landmarks;
};

Faces synthetic_faces(int64_t count, int64_t size, const c10::Device& device) {
  auto field = torch::nn::functional::interpolate(
      torch::rand({count, 3, 8, 8}), torch::nn::functional::InterpolateFuncOptions()
                                          .size(std::vector<int64_t>{size, size})
                                          .mode(torch::kBilinear)
                                          .align_corners(false));
  auto ys = torch::linspace(-1, 1, size).view({1, 1, size, 1});
  auto xs = torch::linspace(-1, 1, size).view({1, 1, 1, size});
  auto mask = (xs.square() / 0.5 + ys.square() / 0.7 < 1.0).to(torch::kUInt8).mul(255).expand({count, 1, size, size});
  auto landmarks = (torch::rand({count, 68, 2}) * 0.5 + 0.25) * static_cast<double>(size - 1);
  return {(field * 255).round().to(torch::kUInt8).to(device), mask.contiguous().to(device), landmarks.to(device)};
}

struct StepParts {
  ModelConfig model_config;
  TrainConfig train;
  c10::Device device;
  FaceSwapModel model;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  Augmenter augment_actor, augment_double;
  Faces actor, double_;
  at::Generator sampler = at::detail::createCPUGenerator(7);

  StepParts(const std::string& preset, int64_t batch, const c10::Device& dev)
      : model_config(model_preset(preset)),
        device(dev),
        model((torch::manual_seed(1), model_config)),
        augment_actor(train.augment, 3, dev),
        augment_double(train.augment, 4, dev),
        actor(synthetic_faces(std::max<int64_t>(64, 2 * batch), model_config.resolution_px, dev)),
        double_(synthetic_faces(std::max<int64_t>(64, 2 * batch), model_config.resolution_px, dev)) {
    train.model = model_config;
    model.to(device, device.is_cuda() && train.channels_last);
    const auto& o = train.optimizer;
    optimizer = std::make_unique<torch::optim::AdamW>(
        model.parameters(), torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).weight_decay(o.weight_decay));
  }

  // The trainer's index draw: a CPU generator (the same stream on every device), copied to the device.
  torch::Tensor draw(int64_t population, int64_t count) {
    auto indices = torch::randint(population, {count}, sampler, torch::TensorOptions().dtype(torch::kLong));
    if (device.is_cuda()) return indices.pin_memory().to(device, /*non_blocking=*/true);
    return indices;
  }

  std::pair<AugmentedBatch, AugmentedBatch> data(int64_t batch) {
    auto ia = draw(actor.images.size(0), batch);
    auto id = draw(double_.images.size(0), batch);
    return {augment_actor(actor.images.index_select(0, ia), actor.masks.index_select(0, ia), actor.landmarks.index_select(0, ia)),
            augment_double(double_.images.index_select(0, id), double_.masks.index_select(0, id),
                           double_.landmarks.index_select(0, id))};
  }

  // Each phase under a profiler label (facetrain::data, ...), so --profile attributes the op list.
  void step(int64_t batch) {
    const bool cuda = device.is_cuda();
    std::optional<at::RecordFunction> phase;
    auto label = [&](const char* name) {
      phase.reset();
      phase.emplace(at::RecordScope::USER_SCOPE);
      if (phase->isActive()) phase->before(name);
    };
    label("facetrain::data");
    auto [a, d] = data(batch);
    label("facetrain::forward");
    TrainingOutput out;
    {
      AutocastGuard autocast(device, cuda && train.bf16);
      auto input_a = cuda && train.channels_last ? a.input.contiguous(at::MemoryFormat::ChannelsLast) : a.input;
      auto input_d = cuda && train.channels_last ? d.input.contiguous(at::MemoryFormat::ChannelsLast) : d.input;
      out = model.forward_training(input_a, input_d);
    }
    const int r = model_config.resolution_px;
    auto loss_of = [&](const SwapOutput& o, const AugmentedBatch& b) {
      const auto eyes_mouth = train.loss.eyes_mouth_weight > 0 ? eyes_mouth_weight_map(b.landmarks, r, r) : torch::Tensor();
      return reconstruction_loss(o.rgb.to(torch::kFloat32), o.mask.to(torch::kFloat32), b.target, b.target_mask,
                                 eyes_mouth, train.loss);
    };
    label("facetrain::losses");
    torch::Tensor total = loss_of(out.actor, a).total + loss_of(out.double_, d).total;
    label("facetrain::backward");
    optimizer->zero_grad();
    total.backward();
    label("facetrain::clip_gradients");
    if (train.optimizer.clip_grad_norm > 0) clip_gradients(model.parameters(), train.optimizer.clip_grad_norm);
    label("facetrain::optimizer_step");
    optimizer->step();
    phase.reset();
  }
};

// Runs `steps` under LibTorch's profiler (CPU activity) and writes each op's self time per step:
// an event's duration less its direct children's on the same thread, summed by name, as
// torch.profiler's key_averages() does in Python.
void write_profile(const Options& o, StepParts& parts, int64_t batch, const std::string& preset) {
  namespace prof = torch::autograd::profiler;
  const torch::profiler::impl::ProfilerConfig config(torch::profiler::impl::ProfilerState::KINETO);
  const std::set<torch::profiler::impl::ActivityType> activities{torch::profiler::impl::ActivityType::CPU};
  prof::prepareProfiler(config, activities);
  prof::enableProfiler(config, activities);
  for (int i = 0; i < o.profile_steps; ++i) parts.step(batch);
  sync(parts.device);
  const auto result = prof::disableProfiler();
  struct Span {
    uint64_t start, end, thread;
    std::string name;
  };
  std::vector<Span> spans;
  for (const auto& e : result->events())
    if (e.deviceType() == c10::DeviceType::CPU && !e.isAsync() && e.durationNs() > 0)
      spans.push_back({e.startNs(), e.endNs(), e.startThreadId(), e.name()});
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.thread != b.thread ? a.thread < b.thread : a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  struct Total {
    double self_ns = 0, total_ns = 0;
    int64_t count = 0;
  };
  std::map<std::string, Total> by_name;
  std::vector<std::pair<size_t, uint64_t>> open;  // (span, children's time)
  auto close = [&](size_t n) {
    while (open.size() > n) {
      const auto [k, children] = open.back();
      open.pop_back();
      const double duration = double(spans[k].end - spans[k].start);
      auto& t = by_name[spans[k].name];
      t.self_ns += duration - double(children);
      t.total_ns += duration;
      ++t.count;
      if (!open.empty()) open.back().second += spans[k].end - spans[k].start;
    }
  };
  for (size_t k = 0; k < spans.size(); ++k) {
    if (!open.empty() && spans[open.back().first].thread != spans[k].thread) close(0);
    while (!open.empty() && spans[open.back().first].end <= spans[k].start) close(open.size() - 1);
    open.emplace_back(k, 0);
  }
  close(0);
  std::vector<std::pair<std::string, Total>> rows(by_name.begin(), by_name.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.self_ns > b.second.self_ns; });
  nlohmann::json ops = nlohmann::json::array();
  double whole_ms = 0;
  const double steps = o.profile_steps;
  for (const auto& [name, t] : rows) {
    whole_ms += t.self_ns / 1e6 / steps;
    if (ops.size() < 40 || name.rfind("facetrain::", 0) == 0)  // the phases always
      ops.push_back({{"name", name}, {"count", t.count / o.profile_steps}, {"self_ms", t.self_ns / 1e6 / steps},
                     {"total_ms", t.total_ns / 1e6 / steps}});
  }
  std::ofstream(o.profile) << nlohmann::json{{"side", "facetrain"}, {"preset", preset}, {"batch_size", batch},
                                             {"steps", o.profile_steps}, {"self_ms_sum", whole_ms}, {"ops", ops}}
                                  .dump(1)
                           << "\n";
}

nlohmann::json measure(const Options& o, const std::string& preset, int64_t batch, const c10::Device& device,
                       std::optional<double> peak_tflops) {
  const ModelCost cost = estimate_model_cost(model_preset(preset));
  nlohmann::json row = {{"preset", preset}, {"batch_size", batch}, {"device", device.str()},
                        {"forward_gflop_per_image", cost.forward_flops_per_image / 1e9}};
  release_cached_memory(device);
  reset_peak_memory(device);
  try {
    StepParts parts(preset, batch, device);
    for (int i = 0; i < o.warmup; ++i) parts.step(batch);
    sync(device);
    const auto t0 = Clock::now();
    const double cpu0 = process_cpu_seconds();
    for (int i = 0; i < o.steps; ++i) parts.step(batch);
    sync(device);
    const double step_s = std::chrono::duration<double>(Clock::now() - t0).count() / o.steps;
    const double cpu_step_s = (process_cpu_seconds() - cpu0) / o.steps;
    // The data path alone (sampling + augmentation), each iteration fenced by device syncs.
    double data_s = 0;
    for (int i = 0; i < o.data_steps; ++i) {
      sync(device);
      const auto d0 = Clock::now();
      auto batches = parts.data(batch);
      sync(device);
      data_s += std::chrono::duration<double>(Clock::now() - d0).count();
    }
    data_s /= o.data_steps;
    const double images_per_s = 2.0 * static_cast<double>(batch) / step_s;
    const double tflops = 3.0 * cost.forward_flops_per_image * images_per_s / 1e12;
    row["oom"] = false;
    row["steps"] = o.steps;
    row["step_ms"] = step_s * 1e3;
    row["images_per_s"] = images_per_s;
    row["data_ms"] = data_s * 1e3;
    row["data_share"] = data_s / step_s;
    row["peak_mem_gib"] = peak_memory_gib(device);
    row["tflops"] = tflops;
    row["mfu"] = peak_tflops ? nlohmann::json(tflops / *peak_tflops) : nlohmann::json(nullptr);
    row["threads"] = at::get_num_threads();
    row["cpu_s_per_step"] = cpu_step_s;  // the process's user + system time: less sensitive than wall
    row["images_per_cpu_s"] = 2.0 * static_cast<double>(batch) / cpu_step_s;  // time to other load
    if (!o.profile.empty()) write_profile(o, parts, batch, preset);
  } catch (const std::exception& e) {
    if (!is_out_of_memory(e)) throw;
    row["oom"] = true;
    for (const char* key : {"step_ms", "images_per_s", "data_ms", "data_share", "peak_mem_gib", "tflops", "mfu"})
      row[key] = nullptr;
  }
  release_cached_memory(device);
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    if (o.threads > 0) at::set_num_threads(o.threads);
    c10::Device device(c10::DeviceType::CPU);
    nlohmann::json doc;
    std::optional<double> peak;
    if (o.device == "cuda") {
      if (!torch::cuda::is_available()) {
        std::cerr << "facetrain_bench: ERROR: --device cuda: no CUDA device is available (this build or machine has none)\n";
        return 69;
      }
      device = c10::Device(c10::DeviceType::CUDA, 0);
      at::globalContext().setBenchmarkCuDNN(true);
      std::cerr << "facetrain_bench: measuring the bf16 matmul peak (" << o.peak_matmul << "^3)\n";
      peak = measure_bf16_peak_tflops(device, o.peak_matmul);
      doc["peak_bf16_tflops"] = *peak;
      doc["peak_matmul_n"] = o.peak_matmul;
    } else {
      doc["peak_bf16_tflops"] = nullptr;
    }
    doc["device"] = device.str();
    doc["torch_version"] = TORCH_VERSION;
    doc["results"] = nlohmann::json::array();
    for (const auto& preset : o.presets) {
      for (int64_t batch : o.batch_sizes) {
        std::cerr << "facetrain_bench: " << preset << " batch " << batch << "\n";
        auto row = measure(o, preset, batch, device, peak);
        if (!row["oom"].get<bool>())
          std::fprintf(stderr, "facetrain_bench:   %.1f images/s, %.2f ms/step, data %.2f ms, %.1f TFLOP/s\n",
                       row["images_per_s"].get<double>(), row["step_ms"].get<double>(), row["data_ms"].get<double>(),
                       row["tflops"].get<double>());
        else
          std::cerr << "facetrain_bench:   out of memory\n";
        doc["results"].push_back(row);
      }
    }
    std::cout << doc.dump(1) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "facetrain_bench: ERROR: " << e.what() << "\n";
    return 70;
  }
}
