#include "facetrain/train/augment.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <mutex>

#include "facetrain/base/error.h"

namespace facetrain {
namespace {

namespace F = torch::nn::functional;

constexpr double kPi = 3.14159265358979323846;
// at::grid_sampler interpolation and padding codes.
constexpr int64_t kBilinear = 0, kBicubic = 2, kBorder = 1;
constexpr double kWarpCellFraction = 0.24;  // DFL: control-point noise = 0.24 of a grid cell

// Columns of the per-sample uniform draw, always drawn in full so options don't shift the stream.
enum Column : int64_t { kFlip, kRotation, kScale, kShiftX, kShiftY, kBrightness, kContrast, kGainR, kGainG, kGainB, kColumns };

at::Generator make_generator(c10::Device device, std::uint64_t seed) {
  at::Generator gen;
  if (device.is_cpu()) {
    gen = at::detail::createCPUGenerator(seed);
  } else {
    // Clone the device's default generator: works for CUDA without CUDA-specific headers.
    at::Generator default_gen = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(default_gen.mutex());
    gen = default_gen.clone();
  }
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(seed);
  return gen;
}

// Uniform in [-1, 1] from uniform [0, 1).
torch::Tensor symmetric(const torch::Tensor& u) { return u * 2.0 - 1.0; }

void check_inputs(const torch::Tensor& images, const torch::Tensor& masks, const torch::Tensor& landmarks,
                  c10::Device device) {
  auto shape = [](const torch::Tensor& t) { return t.defined() ? fmt::format("[{}]", fmt::join(t.sizes(), ", ")) : std::string("none"); };
  if (!images.defined() || images.dim() != 4 || images.size(1) != 3 || images.size(2) != images.size(3) ||
      images.scalar_type() != torch::kUInt8)
    throw InternalError(fmt::format("Augmenter: images must be uint8 [B,3,S,S], got {}", shape(images)));
  if (!masks.defined() || masks.dim() != 4 || masks.size(0) != images.size(0) || masks.size(1) != 1 ||
      masks.size(2) != images.size(2) || masks.size(3) != images.size(3) || masks.scalar_type() != torch::kUInt8)
    throw InternalError(fmt::format("Augmenter: masks must be uint8 [B,1,S,S] matching the images, got {}", shape(masks)));
  if (images.device() != device || masks.device() != device)
    throw InternalError(fmt::format("Augmenter: tensors must be on {}", device.str()));
  if (landmarks.defined() && (landmarks.dim() != 3 || landmarks.size(0) != images.size(0) || landmarks.size(1) != 68 ||
                              landmarks.size(2) != 2 || landmarks.device() != device))
    throw InternalError(fmt::format("Augmenter: landmarks must be [B,68,2] on {}, got {}", device.str(), shape(landmarks)));
}

}  // namespace

struct Augmenter::Impl {
  c10::Device device;
  at::Generator generator;
};

Augmenter::Augmenter(const AugmentConfig& config, std::uint64_t seed, c10::Device device) : config_(config) {
  if (config_.warp_grid < 2) throw ConfigError(fmt::format("augment: warp_grid = {} must be >= 2", config_.warp_grid));
  if (config_.flip_probability < 0 || config_.flip_probability > 1)
    throw ConfigError("augment: flip_probability must be in [0, 1]");
  if (config_.scale < 0 || config_.scale >= 1) throw ConfigError("augment: scale must be in [0, 1)");
  if (config_.rotation_deg < 0 || config_.shift < 0 || config_.warp_strength < 0 || config_.brightness < 0 ||
      config_.contrast < 0 || config_.contrast >= 1 || config_.channel_gain < 0 || config_.channel_gain >= 1)
    throw ConfigError("augment: magnitudes must be >= 0 (contrast and channel_gain below 1)");
  impl_ = std::make_unique<Impl>(Impl{device, make_generator(device, seed)});
}

Augmenter::~Augmenter() = default;
Augmenter::Augmenter(Augmenter&&) noexcept = default;
Augmenter& Augmenter::operator=(Augmenter&&) noexcept = default;

c10::Device Augmenter::device() const { return impl_->device; }

at::Tensor Augmenter::get_state() const {
  std::lock_guard<std::mutex> lock(impl_->generator.mutex());
  return impl_->generator.get_state();
}

void Augmenter::set_state(const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(impl_->generator.mutex());
  impl_->generator.set_state(state);
}

AugmentedBatch Augmenter::operator()(const at::Tensor& images, const at::Tensor& masks, const at::Tensor& landmarks) {
  return (*this)(images, masks, landmarks, BatchSlice{images.defined() ? images.size(0) : 0, 0});
}

AugmentedBatch Augmenter::operator()(const at::Tensor& images, const at::Tensor& masks, const at::Tensor& landmarks,
                                     const BatchSlice& slice) {
  check_inputs(images, masks, landmarks, impl_->device);
  torch::NoGradGuard no_grad;
  const auto& c = config_;
  const int64_t batch = images.size(0), size_px = images.size(2);
  if (slice.offset < 0 || slice.offset + batch > slice.global_batch)
    throw InternalError(fmt::format("Augmenter: rows [{}, {}) are outside the global batch of {}", slice.offset,
                                    slice.offset + batch, slice.global_batch));
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(impl_->device);

  // All random numbers of the global batch, in a fixed order; this call uses its slice's rows.
  auto u = at::rand({slice.global_batch, kColumns}, impl_->generator, options);
  auto noise = at::randn({slice.global_batch, 2, c.warp_grid, c.warp_grid}, impl_->generator, options);
  if (slice.global_batch != batch) {
    u = u.narrow(0, slice.offset, batch).contiguous();
    noise = noise.narrow(0, slice.offset, batch).contiguous();
  }

  const bool do_flip = c.flip && c.flip_probability > 0;
  const bool do_affine = c.affine && (c.rotation_deg > 0 || c.scale > 0 || c.shift > 0);
  const bool do_warp = c.random_warp && !random_warp_off_ && c.warp_strength > 0;
  const bool do_color = c.color && (c.brightness > 0 || c.contrast > 0 || c.channel_gain > 0);

  auto image = images.to(torch::kFloat32).div_(255.0);
  auto mask = masks.to(torch::kFloat32).div_(255.0);
  auto points = landmarks.defined() ? landmarks.to(torch::kFloat32) : torch::Tensor();

  if (do_flip) {
    auto flipped = u.select(1, kFlip) < c.flip_probability;  // [B]
    auto f4 = flipped.view({batch, 1, 1, 1});
    image = torch::where(f4, image.flip({3}), image);
    mask = torch::where(f4, mask.flip({3}), mask);
    if (points.defined()) {
      auto x = points.select(2, 0);
      auto mirrored_x = torch::where(flipped.view({batch, 1}), double(size_px - 1) - x, x);
      points = torch::stack({mirrored_x, points.select(2, 1)}, 2);
    }
  }

  // Affine in normalised coordinates (align_corners=false): input = A * output + t, with
  // A = R(angle) / zoom. Zero magnitudes give exactly the identity.
  torch::Tensor grid;
  torch::Tensor angle, zoom, tx, ty;
  if (do_affine || do_warp) {
    const double rot = do_affine ? c.rotation_deg * kPi / 180.0 : 0.0;
    const double scale = do_affine ? c.scale : 0.0;
    const double shift = do_affine ? 2.0 * c.shift : 0.0;  // normalised coordinates span 2
    angle = symmetric(u.select(1, kRotation)) * rot;
    zoom = 1.0 + symmetric(u.select(1, kScale)) * scale;
    tx = symmetric(u.select(1, kShiftX)) * shift;
    ty = symmetric(u.select(1, kShiftY)) * shift;
    auto cos_z = torch::cos(angle) / zoom, sin_z = torch::sin(angle) / zoom;
    auto theta = torch::stack({cos_z, -sin_z, tx, sin_z, cos_z, ty}, 1).view({batch, 2, 3});
    grid = F::affine_grid(theta, {batch, 3, size_px, size_px}, /*align_corners=*/false);
  }

  torch::Tensor target = image, target_mask = mask;
  if (do_affine) {
    // Bicubic keeps the target sharp (bilinear would teach the model blur); it can overshoot.
    target = at::grid_sampler(image, grid, kBicubic, kBorder, false).clamp_(0.0, 1.0);
    target_mask = at::grid_sampler(mask, grid, kBilinear, kBorder, false);
    if (points.defined()) {
      // Output position of a landmark: A^-1 (p - t) = zoom * R(-angle) (p - t), in normalised units.
      const double n = double(size_px);
      auto bx = (points.select(2, 0) * 2.0 + 1.0) / n - 1.0 - tx.view({batch, 1});
      auto by = (points.select(2, 1) * 2.0 + 1.0) / n - 1.0 - ty.view({batch, 1});
      auto cs = (torch::cos(angle) * zoom).view({batch, 1}), sn = (torch::sin(angle) * zoom).view({batch, 1});
      auto ox = cs * bx + sn * by;
      auto oy = -sn * bx + cs * by;
      points = torch::stack({((ox + 1.0) * n - 1.0) * 0.5, ((oy + 1.0) * n - 1.0) * 0.5}, 2);
    }
  }

  torch::Tensor input = target;
  if (do_warp) {
    const double cell = 2.0 / double(c.warp_grid - 1);
    auto coarse = noise * (kWarpCellFraction * cell * c.warp_strength);
    auto flow = F::interpolate(coarse, F::InterpolateFuncOptions()
                                           .size(std::vector<int64_t>{size_px, size_px})
                                           .mode(torch::kBicubic)
                                           .align_corners(true));
    auto warped_grid = grid + flow.permute({0, 2, 3, 1});
    input = at::grid_sampler(image, warped_grid, kBicubic, kBorder, false).clamp_(0.0, 1.0);
  }

  if (do_color) {
    auto brightness = (symmetric(u.select(1, kBrightness)) * c.brightness).view({batch, 1, 1, 1});
    auto contrast = (1.0 + symmetric(u.select(1, kContrast)) * c.contrast).view({batch, 1, 1, 1});
    auto gain = (1.0 + symmetric(u.narrow(1, kGainR, 3)) * c.channel_gain).view({batch, 3, 1, 1});
    auto jitter = [&](const torch::Tensor& x) {
      auto mean = x.mean({1, 2, 3}, /*keepdim=*/true);
      return (((x - mean) * contrast + mean + brightness) * gain).clamp_(0.0, 1.0);
    };
    const bool shared = input.is_same(target);
    input = jitter(input);
    if (c.color_on_target) target = shared ? input : jitter(target);
  }

  return {input.contiguous(), target.contiguous(), target_mask.contiguous(), points};
}

}  // namespace facetrain
