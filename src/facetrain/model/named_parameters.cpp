#include "facetrain/model/named_parameters.h"

#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "facetrain/base/error.h"

namespace facetrain {

NamedTensors module_named_parameters(const torch::nn::Module& module) {
  NamedTensors out;
  for (auto& item : module.named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  return out;
}

void load_module_parameters(torch::nn::Module& module, const NamedTensors& state, const std::string& source,
                            const std::string& network) {
  std::map<std::string, const at::Tensor*> by_name;
  for (auto& [name, tensor] : state) {
    if (!by_name.emplace(name, &tensor).second)
      throw InputDataError(fmt::format("{}: model state has the key '{}' twice", source, name));
  }
  auto own = module.named_parameters(/*recurse=*/true);
  for (auto& item : own) {
    auto found = by_name.find(item.key());
    if (found == by_name.end())
      throw InputDataError(fmt::format("{}: model state lacks '{}' ({})", source, item.key(), network));
    if (found->second->sizes() != item.value().sizes())
      throw InputDataError(fmt::format("{}: '{}' has shape [{}], the {} needs [{}]", source, item.key(),
                                       fmt::join(found->second->sizes(), ", "), network,
                                       fmt::join(item.value().sizes(), ", ")));
  }
  if (by_name.size() != own.size()) {
    for (auto& [name, tensor] : by_name)
      if (!own.contains(name))
        throw InputDataError(fmt::format("{}: model state has the unknown key '{}' ({})", source, name, network));
  }
  torch::NoGradGuard no_grad;
  for (auto& item : own) item.value().copy_(*by_name.at(item.key()));
}

void move_module(torch::nn::Module& module, c10::Device device, bool channels_last) {
  module.to(device);
  torch::NoGradGuard no_grad;
  const auto format = channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(format));
}

}  // namespace facetrain
