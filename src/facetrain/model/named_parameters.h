#pragma once
// A network's saved state by name: what FaceSwapModel and PatchDiscriminator load from model files.
#include <ATen/core/Tensor.h>

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

}  // namespace facetrain
