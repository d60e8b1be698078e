#pragma once
// What `facetrain train` augments, and how strongly (YAML `augment:`). Torch-free: the CLI reads and
// validates it before LibTorch is loaded; src/facetrain/train/augment.h applies it.
namespace facetrain {

struct AugmentConfig {
  bool flip = false;  // DFL flips only with its random_flip option
  double flip_probability = 0.5;

  bool affine = true;
  double rotation_deg = 10.0;  // uniform in [-rotation_deg, +rotation_deg]
  double scale = 0.05;         // zoom factor uniform in [1 - scale, 1 + scale]
  double shift = 0.05;         // translation uniform in [-shift, +shift] of the image size, per axis

  bool random_warp = true;
  // The last fraction of the run (of max_steps, else of the max_time_s limit) trains without the
  // random warp: DeepFaceLab's sharpening phase, where the model learns the faces' fine detail
  // instead of undoing a distortion (issue 27). 0.2: at 20 CPU minutes it lifted tiny's held-out
  // SSIM from 0.84 / 0.85 to 0.94 / 0.93 and the swaps' identity (docs/train.md); 0 = warp to the end.
  double random_warp_off_fraction = 0.2;
  int warp_grid = 5;           // control points per side (>= 2)
  double warp_strength = 1.0;  // offsets ~ N(0, (0.24 * cell size * warp_strength)^2), as in DFL

  bool color = true;
  bool color_on_target = false;  // false: jitter the input only; true: the same jitter on both
  double brightness = 0.1;       // additive, uniform in [-brightness, +brightness]
  double contrast = 0.1;         // around the sample's mean, factor in [1 - contrast, 1 + contrast]
  double channel_gain = 0.05;    // per RGB channel, factor in [1 - gain, 1 + gain]
};

}  // namespace facetrain
