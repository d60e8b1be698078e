#include "facetrain/model/torch_device.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>
#include <torch/torch.h>

namespace facetrain {

c10::Device select_device(const std::string& name, const std::function<int(int device_count)>& cuda_index) {
  if (name == "cpu") return c10::Device(c10::DeviceType::CPU);
  if (name != "cuda") throw UsageError(fmt::format("--device {}: use cpu or cuda", name));
  if (!torch::cuda::is_available())
    throw UnavailableError("--device cuda: no CUDA device is available (this build or machine has none)");
  const int index = cuda_index ? cuda_index(static_cast<int>(torch::cuda::device_count())) : 0;
  return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace facetrain
