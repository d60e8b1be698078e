#pragma once
// Reconstruction losses of the face-swap model, computed in float32 on the tensors' device with no
// host synchronisation (all terms are 0-dim device tensors; read them every N steps).
//
//   total = dssim_weight  * DSSIM(pred * face, target * face)      (multi-window at >= 256 px)
//         + mse_weight    * mean((pred - target)^2 * face)
//         + l1_weight     * mean(|pred - target| * face)
//         + eyes_mouth_weight * mean(|pred - target| * eyes_mouth)
//         + mask_weight   * mean((pred_mask - target_mask)^2)
// where `face` is the target mask grown and softened by a Gaussian blur (the DFL recipe), and
// `eyes_mouth` a map rasterised from the 68 landmarks (eyes_mouth_weight_map).
#include "facetrain/jobs/loss_config.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace facetrain {

struct LossTerms {
  at::Tensor dssim, mse, l1, eyes_mouth, mask;  // unweighted, 0-dim float32
  at::Tensor total;                             // weighted sum, 0-dim float32
  // ("dssim", t), ("mse", t), ... ("total", t), for metrics lines.
  std::vector<std::pair<std::string, at::Tensor>> named() const;
};

// pred_rgb, target_rgb [B,3,R,R] in [0,1]; pred_mask, target_mask [B,1,R,R] in [0,1];
// eyes_mouth [B,1,R,R] in [0,1] or undefined (then the term is 0). Any float dtype and memory format.
LossTerms reconstruction_loss(const at::Tensor& pred_rgb, const at::Tensor& pred_mask, const at::Tensor& target_rgb,
                              const at::Tensor& target_mask, const at::Tensor& eyes_mouth, const LossConfig& config);

// Gaussian window size used for a resolution: max(3, int(R / 11.6)) (DFL's choice; 22 at 256).
int dssim_window_px(int resolution_px);

// Structural dissimilarity (1 - SSIM) / 2 with a Gaussian window (sigma 1.5, separable, valid
// padding), averaged over batch, channels and positions. Images in [0, 1], [B,C,H,W].
at::Tensor dssim(const at::Tensor& a, const at::Tensor& b, int window_px, double sigma = 1.5);

// DSSIM at one window (R < multi_window_from_px) or the mean of two windows, R/11.6 and R/23.2.
at::Tensor multi_window_dssim(const at::Tensor& a, const at::Tensor& b, int multi_window_from_px = 256);

// Eyes-and-mouth priority map [B,1,H,W] in {0..1} from 68-point landmarks [B,68,2] (x, y in crop
// pixels, pixel centres at integers): the polygons of both eyes (points 36-41, 42-47) and the outer
// lips (48-59) filled by an even-odd test on a grid of at most 128 px, dilated by about R/32, and
// resized to H x W. Computed on the landmarks' device, without host syncs.
at::Tensor eyes_mouth_weight_map(const at::Tensor& landmarks, int64_t height, int64_t width);

}  // namespace facetrain
