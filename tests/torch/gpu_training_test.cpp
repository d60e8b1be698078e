// CUDA checks of the training step (ctest label gpu; run by scripts/gpu-smoke.sh on the GPU machine).
// Without a CUDA device each case warns "SKIP" and returns, unless FACETRAIN_REQUIRE_GPU=1, which
// turns the skip into a failure (so a GPU run cannot pass vacuously).
#include <catch2/catch.hpp>
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#ifdef FACETRAIN_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "facetrain/distributed/gradient_sync.h"
#include "facetrain/distributed/process_group.h"
#include "facetrain/model/autocast_guard.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/train/augment.h"
#include "facetrain/train/gradient_clip.h"
#include "facetrain/train/losses.h"
#include "facetrain/jobs/train_config.h"
#include "tests/unit/test_support.h"

using namespace facetrain;

namespace {

bool gpu_required() {
  const char* v = std::getenv("FACETRAIN_REQUIRE_GPU");
  return v && std::string(v) == "1";
}

// True when the case can run; otherwise the case is skipped (FACETRAIN_SKIP: ctest reports Skipped)
// or, with FACETRAIN_REQUIRE_GPU=1, fails.
bool cuda_or_skip() {
  if (torch::cuda::is_available()) return true;
  if (gpu_required()) FAIL("FACETRAIN_REQUIRE_GPU=1, but this build or machine has no CUDA device");
  FACETRAIN_SKIP("no CUDA device (this build or machine has none)");
  return false;
}

const c10::Device kCuda(c10::DeviceType::CUDA, 0);

// Smooth random faces (uint8), an elliptic mask and landmarks spread over the face.
struct Faces {
  torch::Tensor images, masks, landmarks;
};
Faces synthetic_faces(int64_t count, int64_t size, int64_t seed) {
  torch::manual_seed(seed);
  auto field = torch::nn::functional::interpolate(
      torch::rand({count, 3, 6, 6}), torch::nn::functional::InterpolateFuncOptions()
                                         .size(std::vector<int64_t>{size, size})
                                         .mode(torch::kBilinear)
                                         .align_corners(false));
  auto ys = torch::linspace(-1, 1, size).view({1, 1, size, 1});
  auto xs = torch::linspace(-1, 1, size).view({1, 1, 1, size});
  auto masks = (xs.square() / 0.5 + ys.square() / 0.7 < 1.0).to(torch::kUInt8).mul(255).expand({count, 1, size, size});
  auto landmarks = (torch::rand({count, 68, 2}) * 0.5 + 0.25) * static_cast<double>(size - 1);
  return {(field * 255).round().to(torch::kUInt8), masks.contiguous(), landmarks};
}

LossTerms loss_of(const SwapOutput& out, const AugmentedBatch& b, const LossConfig& config, int resolution) {
  const auto eyes_mouth = config.eyes_mouth_weight > 0 ? eyes_mouth_weight_map(b.landmarks, resolution, resolution)
                                                       : torch::Tensor();
  return reconstruction_loss(out.rgb.to(torch::kFloat32), out.mask.to(torch::kFloat32), b.target, b.target_mask,
                             eyes_mouth, config);
}

}  // namespace

TEST_CASE("gpu: df-256 forward and backward on CUDA under bf16 autocast", "[gpu]") {
  if (!cuda_or_skip()) return;
  torch::manual_seed(1);
  FaceSwapModel model(model_preset("df-256"));
  model.to(kCuda, /*channels_last=*/true);
  const TrainConfig defaults;
  const Faces faces = synthetic_faces(8, 256, 2);
  Augmenter augment(defaults.augment, 3, kCuda);
  const auto a = augment(faces.images.narrow(0, 0, 4).to(kCuda), faces.masks.narrow(0, 0, 4).to(kCuda),
                         faces.landmarks.narrow(0, 0, 4).to(kCuda));
  const auto d = augment(faces.images.narrow(0, 4, 4).to(kCuda), faces.masks.narrow(0, 4, 4).to(kCuda),
                         faces.landmarks.narrow(0, 4, 4).to(kCuda));
  TrainingOutput out;
  {
    AutocastGuard bf16(kCuda, true);
    REQUIRE(bf16.active());
    out = model.forward_training(a.input.contiguous(at::MemoryFormat::ChannelsLast),
                                 d.input.contiguous(at::MemoryFormat::ChannelsLast));
  }
  // Convolutions and the dense layers ran as bf16 (autocast's lower-precision list): so are their outputs.
  CHECK(out.actor.rgb.scalar_type() == torch::kBFloat16);
  CHECK(out.double_.mask.scalar_type() == torch::kBFloat16);
  CHECK(out.actor.rgb.sizes() == torch::IntArrayRef({4, 3, 256, 256}));
  const auto total = loss_of(out.actor, a, defaults.loss, 256).total + loss_of(out.double_, d, defaults.loss, 256).total;
  CHECK(total.scalar_type() == torch::kFloat32);
  const double loss = total.item<double>();
  CHECK(std::isfinite(loss));
  CHECK(loss > 0);
  total.backward();
  int64_t with_gradient = 0;
  for (const auto& p : model.parameters()) {
    CHECK(p.scalar_type() == torch::kFloat32);  // master weights stay float32
    REQUIRE(p.grad().defined());
    CHECK(p.grad().scalar_type() == torch::kFloat32);
    CHECK(torch::isfinite(p.grad()).all().item<bool>());
    if (p.grad().abs().sum().item<double>() > 0) ++with_gradient;
  }
  // Both decoders and the shared encoder/inter learn from the two identities.
  CHECK(with_gradient == static_cast<int64_t>(model.parameters().size()));
  // Outside the guard autocast is off again: the same layers now compute in float32.
  CHECK_FALSE(at::autocast::is_autocast_enabled(at::kCUDA));
  torch::NoGradGuard no_grad;
  const TrainingOutput fp32 = model.forward_training(a.input.contiguous(at::MemoryFormat::ChannelsLast),
                                                     d.input.contiguous(at::MemoryFormat::ChannelsLast));
  CHECK(fp32.actor.rgb.scalar_type() == torch::kFloat32);
  CHECK(fp32.double_.mask.scalar_type() == torch::kFloat32);
}

TEST_CASE("gpu: augmentation on CUDA has the statistics of the CPU augmentation", "[gpu]") {
  if (!cuda_or_skip()) return;
  const Faces faces = synthetic_faces(2048, 64, 5);
  {
    // Everything off: the exact same output on both devices.
    AugmentConfig off;
    off.affine = off.random_warp = off.color = off.flip = false;
    Augmenter cpu(off, 1, torch::kCPU), gpu(off, 1, kCuda);
    const auto c = cpu(faces.images, faces.masks, faces.landmarks);
    const auto g = gpu(faces.images.to(kCuda), faces.masks.to(kCuda), faces.landmarks.to(kCuda));
    CHECK(torch::allclose(c.input, g.input.cpu(), 0.0, 1e-6));
    CHECK(torch::allclose(c.target_mask, g.target_mask.cpu(), 0.0, 1e-6));
  }
  // Defaults (affine, random warp, colour on the input): different random streams, so compare the
  // distributions over 2048 faces (a statistic's relative spread between two streams is ~2 %).
  AugmentConfig config;
  Augmenter cpu(config, 7, torch::kCPU), gpu(config, 7, kCuda);
  const auto c = cpu(faces.images, faces.masks, faces.landmarks);
  const auto g = gpu(faces.images.to(kCuda), faces.masks.to(kCuda), faces.landmarks.to(kCuda));
  auto stats = [&](const AugmentedBatch& b) {
    const auto input = b.input.cpu().to(torch::kFloat64), target = b.target.cpu().to(torch::kFloat64);
    const auto landmarks = b.landmarks.cpu().to(torch::kFloat64);
    return std::vector<double>{input.mean().item<double>(), input.std().item<double>(),
                               target.mean().item<double>(), target.std().item<double>(),
                               (input - target).abs().mean().item<double>(),  // warp + colour jitter
                               b.target_mask.cpu().to(torch::kFloat64).mean().item<double>(),
                               (landmarks - faces.landmarks.to(torch::kFloat64)).abs().mean().item<double>()};
  };
  const auto sc = stats(c), sg = stats(g);
  const char* names[] = {"input mean", "input std", "target mean", "target std", "|input - target|", "mask mean",
                         "landmark displacement"};
  for (size_t k = 0; k < sc.size(); ++k) {
    INFO(names[k] << ": CPU " << sc[k] << ", CUDA " << sg[k]);
    CHECK(sg[k] == Approx(sc[k]).epsilon(0.08));
  }
  CHECK(sc[4] > 0.01);  // the augmentation did something on both
  CHECK(sg[4] > 0.01);
}

TEST_CASE("gpu: a training step (tiny preset) never synchronises with the host", "[gpu]") {
  if (!cuda_or_skip()) return;
#ifndef FACETRAIN_WITH_CUDA
  FAIL("this LibTorch has CUDA but the build lacks FACETRAIN_WITH_CUDA (torch_cuda target not found)");
#else
  namespace cu = c10::cuda;
  struct SyncDebug {  // restores the mode however the case ends
    cu::SyncDebugMode previous = cu::warning_state().get_sync_debug_mode();
    explicit SyncDebug(cu::SyncDebugMode mode) { cu::warning_state().set_sync_debug_mode(mode); }
    ~SyncDebug() { cu::warning_state().set_sync_debug_mode(previous); }
  };
  torch::manual_seed(3);
  const TrainConfig defaults;
  FaceSwapModel model(model_preset("tiny"));
  model.to(kCuda, true);
  torch::optim::AdamW optimizer(model.parameters(), torch::optim::AdamWOptions(1e-4).betas({0.5, 0.999}));
  const Faces faces = synthetic_faces(32, 64, 4);
  const auto images = faces.images.to(kCuda), masks = faces.masks.to(kCuda), landmarks = faces.landmarks.to(kCuda);
  Augmenter augment_actor(defaults.augment, 1, kCuda), augment_double(defaults.augment, 2, kCuda);
  auto generator = at::detail::createCPUGenerator(9);
  auto window_loss = torch::zeros({}, torch::TensorOptions().device(kCuda));
  auto step = [&] {
    // The trainer's index draw: CPU generator, pinned buffer, asynchronous copy.
    auto draw = [&] {
      return torch::randint(32, {8}, generator, torch::TensorOptions().dtype(torch::kLong))
          .pin_memory()
          .to(kCuda, /*non_blocking=*/true);
    };
    const auto ia = draw(), id = draw();
    const auto a = augment_actor(images.index_select(0, ia), masks.index_select(0, ia), landmarks.index_select(0, ia));
    const auto d = augment_double(images.index_select(0, id), masks.index_select(0, id), landmarks.index_select(0, id));
    TrainingOutput out;
    {
      AutocastGuard bf16(kCuda, true);
      out = model.forward_training(a.input.contiguous(at::MemoryFormat::ChannelsLast),
                                   d.input.contiguous(at::MemoryFormat::ChannelsLast));
    }
    auto total = loss_of(out.actor, a, defaults.loss, 64).total + loss_of(out.double_, d, defaults.loss, 64).total;
    optimizer.zero_grad();
    total.backward();
    clip_gradients(model.parameters(), 1.0);
    window_loss = window_loss + total.detach();
    optimizer.step();
  };
  step();  // warm-up outside the check: cuDNN/cuBLAS handles, allocator pools, optimizer state
  step();
  torch::cuda::synchronize();
  {
    SyncDebug error_on_sync(cu::SyncDebugMode::L_ERROR);
    // The check is live: a host read of a device value is refused.
    CHECK_THROWS(torch::ones({1}, torch::TensorOptions().device(kCuda)).sum().item<float>());
    CHECK_NOTHROW(step());
    CHECK_NOTHROW(step());
  }
  CHECK(std::isfinite(window_loss.item<double>()));
#endif
}

TEST_CASE("gpu: the NCCL process group with one rank all-reduces, broadcasts and averages gradients", "[gpu]") {
  if (!cuda_or_skip()) return;
#ifndef FACETRAIN_WITH_NCCL
  FAIL("this build has no NCCL (configure with NCCL_ROOT pointing at the nvidia-nccl wheel's folder)");
#else
  LaunchEnvironment launch;
  launch.rank = 0;
  launch.world_size = 1;
  launch.local_rank = 0;
  launch.local_world_size = 1;
  launch.master_addr = "127.0.0.1";
  launch.master_port = 29500 + static_cast<int>(::getpid() % 1000);
  launch.launcher = "env";
  dist::ProcessGroup group(launch, /*cuda=*/true, 60.0);
  CHECK(group.backend_name() == "nccl");
  auto values = torch::arange(8, torch::TensorOptions().dtype(torch::kFloat32).device(kCuda));
  group.allreduce_sum(values);
  CHECK(torch::equal(values.cpu(), torch::arange(8, torch::TensorOptions().dtype(torch::kFloat32))));
  group.broadcast(values, 0);
  CHECK(values.is_cuda());

  torch::manual_seed(11);
  torch::nn::Sequential net(torch::nn::Linear(8, 32), torch::nn::Tanh(), torch::nn::Linear(32, 4));
  net->to(kCuda);
  const auto input = torch::randn({16, 8}, torch::TensorOptions().device(kCuda));
  net->forward(input).square().mean().backward();
  std::vector<torch::Tensor> local;
  for (const auto& p : net->parameters()) local.push_back(p.grad().clone());
  for (bool bf16 : {false, true}) {
    dist::GradientSynchronizer sync(group, net->parameters(), /*bucket_bytes=*/256, bf16);
    sync.begin_step();
    for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
    net->forward(input).square().mean().backward();
    sync.finish();
    for (size_t k = 0; k < local.size(); ++k) {
      INFO("parameter " << k << (bf16 ? " (bf16 compression)" : ""));
      CHECK(torch::allclose(net->parameters()[k].grad(), local[k], bf16 ? 1e-2 : 1e-6, bf16 ? 1e-3 : 1e-7));
    }
  }
#endif
}
