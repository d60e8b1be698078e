#pragma once
// The discriminator of the adversarial term (issue 27, jobs/adversarial_config.h): a fully
// convolutional "PatchGAN" that gives one real-or-not logit per patch of a face crop, so that it
// judges texture (is this skin, hair, an eyelash?) rather than the whole face, which the pixel losses
// already get right. Levels of a 4x4 stride-2 convolution and a 3x3 convolution (LeakyReLU 0.2 after
// each), widths dims, 2 dims, ... (at most 8 dims), then a 1x1 convolution to the logit; as many levels
// as make its receptive field at least patch_px (resolution / 8 when 0), at most 5 and leaving at
// least 4x4 logits. Like FaceSwapModel, the network lives behind a pointer: this header needs only ATen.
//
// Inputs are float images [B, 3, R, R] in [0, 1] on its device; the output is [B, 1, R / 2^L, R / 2^L]
// logits (L levels). It has no buffers: its named parameters are its whole state.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "facetrain/model/named_parameters.h"

namespace facetrain {

class PatchDiscriminator {
 public:
  // Throws ConfigError when resolution_px, dims or patch_px cannot make a discriminator.
  PatchDiscriminator(int resolution_px, int dims, int patch_px);
  ~PatchDiscriminator();
  PatchDiscriminator(PatchDiscriminator&&) noexcept;
  PatchDiscriminator& operator=(PatchDiscriminator&&) noexcept;
  PatchDiscriminator(const PatchDiscriminator&) = delete;
  PatchDiscriminator& operator=(const PatchDiscriminator&) = delete;

  // How many levels, and the receptive field they give, for a crop size and a wanted patch
  // (patch_px 0: resolution / 8): a pure function, for the log and the tests.
  struct Shape {
    int levels = 0;
    int receptive_field_px = 0;
  };
  static Shape shape_for(int resolution_px, int patch_px);
  const Shape& shape() const { return shape_; }

  void to(c10::Device device, bool channels_last = false);
  // Whether backward computes its parameters' gradients: off while the model's loss goes through it
  // (the model's step must not touch, or all-reduce, the discriminator's gradients).
  void set_trainable(bool on);

  at::Tensor logits(const at::Tensor& images);

  std::vector<at::Tensor> parameters() const;
  NamedTensors named_parameters() const;
  // Every name must match with its shape; otherwise InputDataError naming `source` and the key.
  void load_named_parameters(const NamedTensors& state, const std::string& source);
  // The torch::nn::Module, for optimizers.
  torch::nn::Module& module();

 private:
  struct Net;
  Shape shape_;
  bool channels_last_ = false;
  std::unique_ptr<Net> net_;
};

}  // namespace facetrain
