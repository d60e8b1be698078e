#pragma once
// Mixed precision as an RAII guard over LibTorch's per-device-type autocast switches: it restores the
// previous state (enabled, dtype) and frees autocast's weight cache on leaving the outermost region.
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
