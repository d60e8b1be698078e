#pragma once
// Mixed precision that builds against LibTorch 1.13 and 2.x: the autocast switches moved from
// CUDA-specific functions (set_enabled, set_autocast_gpu_dtype) to per-device-type ones
// (set_autocast_enabled(kCUDA, ...), set_autocast_dtype) in 2.4. This RAII guard hides both.
//
//   { AutocastGuard bf16(device, /*enabled=*/true); auto out = model.forward_training(a, d); }
//   { AutocastGuard fp32(device, /*enabled=*/false); ... }   // e.g. losses inside an autocast region
//
// Only CUDA gets a reduced dtype (bf16); on CPU an enabled guard is a no-op (fp32 training), and
// so is a disabled guard when autocast is already off.
#include <c10/core/Device.h>

namespace facetrain {

class AutocastGuard {
 public:
  AutocastGuard(c10::Device device, bool enabled);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

  bool active() const { return changed_ && enabled_; }  // true when ops now run in bf16

 private:
  c10::DeviceType device_type_;
  bool enabled_;
  bool changed_ = false;   // whether this guard switched anything
  bool previous_ = false;  // the state before, restored on destruction
  int previous_dtype_ = 0;  // at::ScalarType, stored as int to keep ATen out of this header
};

}  // namespace facetrain
