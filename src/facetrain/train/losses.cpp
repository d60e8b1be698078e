#include "facetrain/train/losses.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "facetrain/base/error.h"
#include "facetrain/model/autocast_guard.h"

namespace facetrain {
namespace {

namespace F = torch::nn::functional;

constexpr double kSsimC1 = 0.01 * 0.01;  // (k1 * L)^2 with L = 1
constexpr double kSsimC2 = 0.03 * 0.03;  // (k2 * L)^2
constexpr int64_t kMaxRasterPx = 128;    // eyes/mouth polygons are filled on a grid this size at most

// Normalised 1-D Gaussian built on the device (arange/exp), so no host-to-device copy per step.
torch::Tensor gaussian_1d(int64_t size, double sigma, const torch::TensorOptions& options) {
  auto x = torch::arange(size, options) - double(size - 1) / 2.0;
  auto g = torch::exp(x.square() * (-0.5 / (sigma * sigma)));
  return g / g.sum();
}

// Separable Gaussian blur of every channel, "valid" (pad 0) or "same" (zero padding).
torch::Tensor separable_blur(const torch::Tensor& x, const torch::Tensor& g, bool same) {
  const int64_t c = x.size(1), k = g.size(0);
  auto horizontal = g.view({1, 1, 1, k}).expand({c, 1, 1, k}).contiguous();
  auto vertical = g.view({1, 1, k, 1}).expand({c, 1, k, 1}).contiguous();
  const int64_t pad = same ? k / 2 : 0;
  auto y = F::conv2d(x, horizontal, F::Conv2dFuncOptions().groups(c).padding({0, pad}));
  return F::conv2d(y, vertical, F::Conv2dFuncOptions().groups(c).padding({pad, 0}));
}

void check_pair(const torch::Tensor& a, const torch::Tensor& b, int64_t channels, const char* what) {
  if (!a.defined() || !b.defined() || a.dim() != 4 || a.sizes() != b.sizes() || a.size(1) != channels)
    throw InternalError(fmt::format("reconstruction_loss: {} must be two tensors [B,{},H,W] of equal shape", what,
                                    channels));
}

// The DFL face weight: the target mask blurred, clipped at 0.5 and doubled, i.e. 1 inside the face
// and a soft falloff a few pixels outwards.
torch::Tensor face_weight(const torch::Tensor& target_mask) {
  const double sigma = std::max(1.0, double(target_mask.size(2)) / 64.0);
  const int64_t size = 2 * int64_t(std::ceil(3.0 * sigma)) + 1;
  auto g = gaussian_1d(size, sigma, target_mask.options());
  return separable_blur(target_mask, g, /*same=*/true).clamp(0.0, 0.5) * 2.0;
}

}  // namespace

std::vector<std::pair<std::string, at::Tensor>> LossTerms::named() const {
  return {{"dssim", dssim}, {"mse", mse}, {"l1", l1}, {"eyes_mouth", eyes_mouth}, {"mask", mask}, {"total", total}};
}

int dssim_window_px(int resolution_px) { return std::max(3, int(double(resolution_px) / 11.6)); }

at::Tensor dssim(const at::Tensor& a_in, const at::Tensor& b_in, int window_px, double sigma) {
  auto a = a_in.to(torch::kFloat32);
  auto b = b_in.to(torch::kFloat32);
  if (a.dim() != 4 || a.sizes() != b.sizes())
    throw InternalError("dssim: images must be two tensors [B,C,H,W] of equal shape");
  if (window_px < 1 || window_px > a.size(2) || window_px > a.size(3))
    throw InternalError(fmt::format("dssim: window {} px does not fit images of {}x{}", window_px, a.size(2),
                                    a.size(3)));
  const int64_t c = a.size(1);
  auto g = gaussian_1d(window_px, sigma, a.options());
  // One grouped blur over the five moment maps instead of five blurs.
  auto moments = separable_blur(torch::cat({a, b, a * a, b * b, a * b}, 1), g, /*same=*/false);
  auto parts = moments.split(c, 1);
  const auto& mu_a = parts[0];
  const auto& mu_b = parts[1];
  auto mu_ab = mu_a * mu_b;
  auto mu_aa = mu_a.square();
  auto mu_bb = mu_b.square();
  auto var_a = parts[2] - mu_aa;
  auto var_b = parts[3] - mu_bb;
  auto cov = parts[4] - mu_ab;
  auto ssim = ((2.0 * mu_ab + kSsimC1) * (2.0 * cov + kSsimC2)) / ((mu_aa + mu_bb + kSsimC1) * (var_a + var_b + kSsimC2));
  return (1.0 - ssim.mean()) * 0.5;
}

at::Tensor multi_window_dssim(const at::Tensor& a, const at::Tensor& b, int multi_window_from_px) {
  const int resolution = int(a.size(2));
  const int wide = dssim_window_px(resolution);
  if (resolution < multi_window_from_px) return dssim(a, b, wide);
  const int narrow = std::max(3, int(double(resolution) / 23.2));
  return 0.5 * (dssim(a, b, wide) + dssim(a, b, narrow));
}

LossTerms reconstruction_loss(const at::Tensor& pred_rgb_in, const at::Tensor& pred_mask_in,
                              const at::Tensor& target_rgb_in, const at::Tensor& target_mask_in,
                              const at::Tensor& eyes_mouth_in, const LossConfig& config) {
  check_pair(pred_rgb_in, target_rgb_in, 3, "pred_rgb/target_rgb");
  check_pair(pred_mask_in, target_mask_in, 1, "pred_mask/target_mask");
  // Losses run in float32 even inside a bf16 autocast region: SSIM's variances (E[x^2] - E[x]^2)
  // cancel catastrophically in bf16.
  AutocastGuard fp32(pred_rgb_in.device(), /*enabled=*/false);
  auto pred = pred_rgb_in.to(torch::kFloat32);
  auto target = target_rgb_in.to(torch::kFloat32);
  auto pred_mask = pred_mask_in.to(torch::kFloat32);
  auto target_mask = target_mask_in.to(torch::kFloat32);

  LossTerms t;
  auto diff = pred - target;
  if (config.masked) {
    auto face = face_weight(target_mask);
    t.dssim = multi_window_dssim(pred * face, target * face, config.multi_window_from_px);
    t.mse = (diff.square() * face).mean();
    t.l1 = (diff.abs() * face).mean();
  } else {
    t.dssim = multi_window_dssim(pred, target, config.multi_window_from_px);
    t.mse = diff.square().mean();
    t.l1 = diff.abs().mean();
  }
  if (eyes_mouth_in.defined()) {
    auto em = eyes_mouth_in.to(torch::kFloat32);
    if (em.dim() != 4 || em.size(0) != pred.size(0) || em.size(1) != 1 || em.size(2) != pred.size(2) ||
        em.size(3) != pred.size(3))
      throw InternalError("reconstruction_loss: eyes_mouth must be [B,1,H,W] like the images");
    // Only where the face is visible: with visible-face mattes (issue 24) a hand over the mouth is
    // not learned as the mouth. With the landmark hull the eyes and mouth lie inside it (weight 1).
    if (config.masked) em = em * target_mask;
    t.eyes_mouth = (diff.abs() * em).mean();
  } else {
    t.eyes_mouth = torch::zeros({}, pred.options());
  }
  t.mask = (pred_mask - target_mask).square().mean();
  t.total = config.dssim_weight * t.dssim + config.mse_weight * t.mse + config.l1_weight * t.l1 +
            config.eyes_mouth_weight * t.eyes_mouth + config.mask_weight * t.mask;
  return t;
}

at::Tensor eyes_mouth_weight_map(const at::Tensor& landmarks_in, int64_t height, int64_t width) {
  if (!landmarks_in.defined() || landmarks_in.dim() != 3 || landmarks_in.size(1) != 68 || landmarks_in.size(2) != 2)
    throw InternalError("eyes_mouth_weight_map: landmarks must be a tensor [B,68,2]");
  if (height < 8 || width < 8) throw InternalError("eyes_mouth_weight_map: map too small");
  AutocastGuard fp32(landmarks_in.device(), /*enabled=*/false);
  auto lm = landmarks_in.to(torch::kFloat32);
  const auto options = lm.options();

  // Raster grid: grid cell j covers crop pixels around x = (j + 0.5) * W / gw - 0.5.
  const int64_t gh = std::min(height, kMaxRasterPx);
  const int64_t gw = std::max<int64_t>(1, (width * gh + height / 2) / height);
  auto py = ((torch::arange(gh, options) + 0.5) * (double(height) / double(gh)) - 0.5).view({1, 1, gh, 1});
  auto px = ((torch::arange(gw, options) + 0.5) * (double(width) / double(gw)) - 0.5).view({1, 1, 1, gw});

  // Polygons as contiguous landmark ranges: left eye, right eye, outer lips.
  struct Range { int64_t first, count; };
  const Range polygons[] = {{36, 6}, {42, 6}, {48, 12}};
  std::vector<torch::Tensor> starts, ends;
  for (const auto& p : polygons) {
    auto v = lm.narrow(1, p.first, p.count);
    starts.push_back(v);
    ends.push_back(torch::roll(v, {-1}, {1}));  // edge i: vertex i -> vertex i+1 (closing edge included)
  }
  auto a = torch::cat(starts, 1);  // [B, E, 2]
  auto b = torch::cat(ends, 1);
  auto ax = a.select(2, 0).unsqueeze(-1).unsqueeze(-1);  // [B, E, 1, 1]
  auto ay = a.select(2, 1).unsqueeze(-1).unsqueeze(-1);
  auto bx = b.select(2, 0).unsqueeze(-1).unsqueeze(-1);
  auto by = b.select(2, 1).unsqueeze(-1).unsqueeze(-1);
  // Even-odd rule: count edges that straddle the row and lie to the right of the point.
  auto straddles = (ay > py) != (by > py);  // [B, E, gh, 1]
  auto dy = by - ay;
  auto safe_dy = torch::where(dy == 0, torch::ones_like(dy), dy);
  auto x_cross = ax + (py - ay) * (bx - ax) / safe_dy;                // [B, E, gh, 1]
  auto crossings = (straddles & (px < x_cross)).to(torch::kFloat32);  // [B, E, gh, gw]
  std::vector<torch::Tensor> inside;
  int64_t edge = 0;
  for (const auto& p : polygons) {
    inside.push_back(torch::fmod(crossings.narrow(1, edge, p.count).sum(1, /*keepdim=*/true), 2.0));
    edge += p.count;
  }
  auto map = std::get<0>(torch::cat(inside, 1).max(1, /*keepdim=*/true));  // [B, 1, gh, gw]

  // Dilate by ~R/32 so the region covers lids, lip edges and small landmark errors.
  const int64_t radius = std::max<int64_t>(1, (gh + 16) / 32);
  map = F::max_pool2d(map, F::MaxPool2dFuncOptions(2 * radius + 1).stride(1).padding(radius));
  if (gh != height || gw != width)
    map = F::interpolate(map, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{height, width})
                                  .mode(torch::kBilinear)
                                  .align_corners(false));
  return map;
}

}  // namespace facetrain
