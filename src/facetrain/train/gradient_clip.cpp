#include "facetrain/train/gradient_clip.h"

#include <torch/torch.h>

namespace facetrain {

at::Tensor clip_gradients(const std::vector<at::Tensor>& parameters, double max_norm) {
  std::vector<torch::Tensor> squared_norms;
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) continue;
    grads.push_back(p.grad());
    squared_norms.push_back(p.grad().detach().to(torch::kFloat32).pow(2).sum());
  }
  if (grads.empty()) return torch::zeros({});
  const auto total_norm = torch::stack(squared_norms).sum().sqrt();
  const auto scale = (max_norm / (total_norm + 1e-6)).clamp_max(1.0);
  for (auto& g : grads) g.mul_(scale.to(g.scalar_type()));
  return total_norm;
}

}  // namespace facetrain
