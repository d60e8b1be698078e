#pragma once
// ConvStackRunner (facetrain/face/conv_stack.h) on LibTorch: the CNN face detector's convolutions on
// the CPU or a CUDA device, batched over the samples it is given. Reached from the extract module
// through the torch module's API (module/torch_module.h: open_conv_stack).
#include "facetrain/face/conv_stack.h"

#include <memory>
#include <string>

namespace facetrain {

// Throws UnavailableError (69) for cuda without a CUDA device, InputDataError (65) for a stack whose
// shapes do not chain.
std::unique_ptr<ConvStackRunner> open_torch_conv_stack(const ConvStack& stack, ConvStackDevice device);

}  // namespace facetrain
