#pragma once
// Which NVIDIA GPUs this process could use, asked of the CUDA driver (libcuda.so.1) directly, so
// that `facetrain --version` can say it without loading LibTorch. CUDA_VISIBLE_DEVICES applies.
#include <string>
#include <vector>

namespace facetrain {

struct GpuProbe {
  std::vector<std::string> devices;  // names, in CUDA's order
  int driver_version = 0;            // e.g. 13000 for CUDA 13.0; 0 without a driver
  std::string why_none;              // when devices is empty: no driver, cuInit's error, ...
};

GpuProbe probe_gpus();

}  // namespace facetrain
