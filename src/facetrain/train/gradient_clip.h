#pragma once
// Global-norm gradient clipping without a host synchronisation: LibTorch's C++ clip_grad_norm_
// returns the norm as a host double, which stalls the GPU every step.
#include <ATen/core/Tensor.h>

#include <vector>

namespace facetrain {

// Scales every defined gradient of `parameters` so that their global L2 norm is at most `max_norm`.
// Returns the norm before clipping as a 0-dim device tensor (read it when logging, not per step).
at::Tensor clip_gradients(const std::vector<at::Tensor>& parameters, double max_norm);

}  // namespace facetrain
