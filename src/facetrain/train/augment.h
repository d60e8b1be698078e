#pragma once
// Batched, on-device augmentation of training faces, driven by one seeded generator (a CPU
// generator for CPU tensors, a CUDA generator for CUDA tensors) whose state can be saved and
// restored for exact resume.
//
// Per sample, in this order:
//   flip      mirror left-right with probability flip_probability (images, masks, landmarks);
//   affine    rotation, scale and shift (one affine applied to input, target, mask and landmarks);
//   warp      a coarse random flow field (warp_grid x warp_grid offsets, upsampled bicubically to
//             a dense grid) applied to the INPUT only: the target stays unwarped, as in DFL, so the
//             network learns to undo the warp;
//   colour    brightness, contrast and per-channel gain ("hue-ish") jitter, on the input only or on
//             input and target.
// Every call draws the same random numbers whatever is switched on, so options do not shift the
// stream. With every option off (or all magnitudes 0) the output equals input / 255 exactly.
// No host synchronisation: all parameters are drawn and applied on the device.
#include "facetrain/jobs/augment_config.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>

namespace facetrain {

struct AugmentedBatch {
  at::Tensor input;        // [B,3,H,W] float32 in [0,1]: warped (and jittered) network input
  at::Tensor target;       // [B,3,H,W] float32 in [0,1]: the same view without the random warp
  at::Tensor target_mask;  // [B,1,H,W] float32 in [0,1], aligned with target
  at::Tensor landmarks;    // [B,68,2] float32 in target pixels (undefined if none were given)
};

// Rows [offset, offset + B) of a global batch of `global_batch` samples: data-parallel ranks draw
// the random parameters of the whole global batch (the same numbers a single process at that
// batch size draws) and apply only their slice's.
struct BatchSlice {
  int64_t global_batch = 0;
  int64_t offset = 0;
};

class Augmenter {
 public:
  // The generator lives on `device` (CPU or CUDA) and is seeded with `seed`.
  Augmenter(const AugmentConfig& config, std::uint64_t seed, c10::Device device);
  ~Augmenter();
  Augmenter(Augmenter&&) noexcept;
  Augmenter& operator=(Augmenter&&) noexcept;

  // images uint8 [B,3,H,W] (square), masks uint8 [B,1,H,W] (0..255), both on the generator's
  // device; landmarks float [B,68,2] in crop pixels (pixel centres at integers) or undefined.
  // Landmarks are not re-indexed on a flip (a mirrored left eye stays in points 36-41).
  AugmentedBatch operator()(const at::Tensor& images, const at::Tensor& masks, const at::Tensor& landmarks = {});
  // The same for the B samples at `slice` of a global batch (the generator advances by the
  // global batch's draw).
  AugmentedBatch operator()(const at::Tensor& images, const at::Tensor& masks, const at::Tensor& landmarks,
                            const BatchSlice& slice);

  const AugmentConfig& config() const { return config_; }
  // Turns the random warp off (or back to the config's) from the next call on: the sharpening phase
  // at the end of a run (augment.random_warp_off_fraction). The generator advances as before, so
  // the other random parameters of each sample do not change.
  void set_random_warp_off(bool off) { random_warp_off_ = off; }
  c10::Device device() const;

  // Generator state (a CPU uint8 tensor) for checkpoints; set_state() continues exactly where
  // get_state() was taken.
  at::Tensor get_state() const;
  void set_state(const at::Tensor& state);

 private:
  struct Impl;
  AugmentConfig config_;
  bool random_warp_off_ = false;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facetrain
