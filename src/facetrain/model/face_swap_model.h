#pragma once
// The face-swap autoencoder (see model_config.h for the two architectures). The network itself
// lives in face_swap_model.cpp behind a pointer, so this header needs only ATen's Tensor type.
//
// Inputs are float images [B, 3, R, R] in [0, 1] on the model's device (any memory format);
// outputs are RGB [B, 3, R, R] and a mask [B, 1, R, R], both in [0, 1] (sigmoid), in the model's
// memory format and, under autocast, in its reduced precision (callers cast to float for losses).
// Forward passes never synchronise with the host.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "facetrain/jobs/model_config.h"
#include "facetrain/model/named_parameters.h"

namespace facetrain {

struct SwapOutput {
  at::Tensor rgb;   // [B, 3, R, R] in [0, 1]
  at::Tensor mask;  // [B, 1, R, R] in [0, 1]
};

// Both identities through the model in one call (the training step's forward).
struct TrainingOutput {
  SwapOutput actor;   // actor -> actor reconstruction
  SwapOutput double_; // double -> double reconstruction
};

class FaceSwapModel {
 public:
  // Builds the network with freshly initialised weights (seeded by the global torch seed:
  // call torch::manual_seed first for reproducible initial weights). Throws ConfigError for an
  // invalid config.
  explicit FaceSwapModel(const ModelConfig& config);
  ~FaceSwapModel();
  FaceSwapModel(FaceSwapModel&&) noexcept;
  FaceSwapModel& operator=(FaceSwapModel&&) noexcept;
  FaceSwapModel(const FaceSwapModel&) = delete;
  FaceSwapModel& operator=(const FaceSwapModel&) = delete;

  const ModelConfig& config() const { return config_; }

  // Moves parameters to the device; channels_last stores conv weights (and makes activations)
  // NHWC, which is what cuDNN's fast bf16 kernels want. Parameters stay float32.
  void to(c10::Device device, bool channels_last = false);
  c10::Device device() const;
  bool channels_last() const { return channels_last_; }
  void train(bool on = true);  // no dropout/normalisation layers: kept for symmetry

  SwapOutput reconstruct_actor(const at::Tensor& actor_images);
  SwapOutput reconstruct_double(const at::Tensor& double_images);
  SwapOutput swap_double_to_actor(const at::Tensor& double_images);
  // Training forward: one encoder pass over both batches concatenated (and, for liae, one decoder
  // pass), so the GPU sees batch 2B. Equal to reconstruct_actor / reconstruct_double.
  TrainingOutput forward_training(const at::Tensor& actor_images, const at::Tensor& double_images);

  // All trainable parameters, in a stable order (the order of named_parameters()).
  std::vector<at::Tensor> parameters() const;
  // Stable dotted names ("encoder.down0.weight", "decoder_actor.up0.conv.weight", ...). The model
  // has no buffers, so this is its whole state.
  NamedTensors named_parameters() const;
  // Copies a saved state into the parameters (on their device, in their dtype). Every name must
  // match, with the same shape; otherwise throws InputDataError naming `source` and the key.
  void load_named_parameters(const NamedTensors& state, const std::string& source);

  // The underlying torch::nn::Module (for torch::serialize archives or optimizers).
  torch::nn::Module& module();

 private:
  struct Net;
  ModelConfig config_;
  bool channels_last_ = false;
  std::unique_ptr<Net> net_;
};

}  // namespace facetrain
