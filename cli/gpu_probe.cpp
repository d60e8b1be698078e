#include "gpu_probe.h"

#include <fmt/format.h>

#include <dlfcn.h>

namespace facetrain {

GpuProbe probe_gpus() {
  GpuProbe probe;
  void* driver = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!driver) {
    probe.why_none = "no NVIDIA driver (libcuda.so.1 not found)";
    return probe;
  }
  // The driver API's C signatures (cuda.h), with CUresult and CUdevice as int.
  using Init = int (*)(unsigned);
  using DriverGetVersion = int (*)(int*);
  using DeviceGetCount = int (*)(int*);
  using DeviceGet = int (*)(int*, int);
  using DeviceGetName = int (*)(char*, int, int);
  auto init = reinterpret_cast<Init>(::dlsym(driver, "cuInit"));
  auto driver_get_version = reinterpret_cast<DriverGetVersion>(::dlsym(driver, "cuDriverGetVersion"));
  auto device_get_count = reinterpret_cast<DeviceGetCount>(::dlsym(driver, "cuDeviceGetCount"));
  auto device_get = reinterpret_cast<DeviceGet>(::dlsym(driver, "cuDeviceGet"));
  auto device_get_name = reinterpret_cast<DeviceGetName>(::dlsym(driver, "cuDeviceGetName"));
  if (!init || !driver_get_version || !device_get_count || !device_get || !device_get_name) {
    probe.why_none = "libcuda.so.1 lacks the driver API";
    return probe;
  }
  driver_get_version(&probe.driver_version);
  if (const int rc = init(0); rc != 0) {
    probe.why_none = fmt::format("the CUDA driver does not start (cuInit error {})", rc);
    return probe;
  }
  int count = 0;
  if (device_get_count(&count) != 0 || count == 0) {
    probe.why_none = "the CUDA driver sees no device (CUDA_VISIBLE_DEVICES?)";
    return probe;
  }
  for (int i = 0; i < count; ++i) {
    int device = 0;
    char name[256] = {};
    if (device_get(&device, i) == 0 && device_get_name(name, sizeof(name) - 1, device) == 0)
      probe.devices.emplace_back(name);
    else
      probe.devices.emplace_back(fmt::format("device {}", i));
  }
  return probe;
}

}  // namespace facetrain
