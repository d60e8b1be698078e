#pragma once
// The weights of the reconstruction loss terms (YAML `loss:`; src/facetrain/train/losses.h says what
// each term is). Torch-free: the CLI reads and validates it before LibTorch is loaded.
namespace facetrain {

struct LossConfig {
  double dssim_weight = 10.0;
  double mse_weight = 10.0;
  double l1_weight = 0.0;
  double eyes_mouth_weight = 300.0;  // DFL's eyes_mouth_prio weight; 0 turns the term off
  double mask_weight = 10.0;
  bool masked = true;         // restrict RGB terms to the (grown) face mask
  int multi_window_from_px = 256;  // two DSSIM windows (R/11.6 and R/23.2) from this resolution up
};

}  // namespace facetrain
