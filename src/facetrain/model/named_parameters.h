#pragma once
// What FaceSwapModel and PatchDiscriminator share about their torch::nn::Module: its state by name
// (what they load from model files) and where its parameters live.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <string>
#include <utility>
#include <vector>

namespace torch {
namespace nn {
class Module;
}
}  // namespace torch

namespace facetrain {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// The module's parameters by their dotted names, in registration order.
NamedTensors module_named_parameters(const torch::nn::Module& module);

// Copies `state` into the module's parameters (on their device, in their dtype). Every name must match,
// with the same shape, and no name may be extra or twice; otherwise throws InputDataError naming `source`,
// the key and `network` (what the module is, e.g. describe(model_config)).
void load_module_parameters(torch::nn::Module& module, const NamedTensors& state, const std::string& source,
                            const std::string& network);

// Moves the module's parameters to `device`; channels_last stores its convolution weights NHWC (what
// cuDNN's fast bf16 kernels want), else NCHW. Parameters stay float32.
void move_module(torch::nn::Module& module, c10::Device device, bool channels_last);

}  // namespace facetrain
