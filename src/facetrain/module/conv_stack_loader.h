#pragma once
// The CNN face detector's convolutions on LibTorch (`extract --detector-device cpu|cuda`), from
// libfacetrain-torch.so, for the extract module: its entry (extract_module_entry.cpp) hands this
// opener to the detector (DetectorOptions::open_conv_stack), so that data_prep stays free of LibTorch
// and of the module layer, and LibTorch is loaded only when a device other than dlib is asked for.
#include "facetrain/face/conv_stack.h"

#include <memory>
#include <string>

namespace facetrain {

// torch_module().open_conv_stack: UnavailableError (69) when the torch module cannot be loaded or
// the device is not there.
std::unique_ptr<ConvStackRunner> open_conv_stack_in_torch_module(const ConvStack& stack, ConvStackDevice device);

}  // namespace facetrain
