#include "version_text.h"

#include "facetrain/base/version.h"
#include "facetrain/build_info.h"
#include "gpu_probe.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace facetrain::cli {

std::string version_text() {
  std::string text = fmt::format("facetrain {}\n", version_string());
  text += fmt::format("built with LibTorch {} (CUDA {}, cuDNN {}, NCCL {}, Gloo {}), {}\n", FACETRAIN_BUILT_LIBTORCH,
                      FACETRAIN_BUILT_CUDA, FACETRAIN_BUILT_CUDNN, FACETRAIN_BUILT_NCCL, FACETRAIN_BUILT_GLOO,
                      FACETRAIN_BUILT_COMPILER);
  const GpuProbe gpus = probe_gpus();
  if (gpus.devices.empty()) {
    text += fmt::format("GPU: none visible: {}", gpus.why_none);
  } else {
    text += fmt::format("GPU: {} visible: {} (driver supports CUDA {}.{})", gpus.devices.size(),
                        fmt::join(gpus.devices, ", "), gpus.driver_version / 1000, gpus.driver_version % 1000 / 10);
  }
  return text;
}

}  // namespace facetrain::cli
