#include "facetrain/module/conv_stack_loader.h"

#include "facetrain/module/torch_module.h"

namespace facetrain {

std::unique_ptr<ConvStackRunner> open_conv_stack_in_torch_module(const ConvStack& stack, ConvStackDevice device) {
  return torch_module().open_conv_stack(stack, device);
}

}  // namespace facetrain
