#include "facetrain/model/autocast_guard.h"

#include <ATen/autocast_mode.h>

namespace facetrain {
namespace {

bool cuda_autocast_enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
void set_cuda_autocast_enabled(bool on) { at::autocast::set_autocast_enabled(at::kCUDA, on); }
at::ScalarType cuda_autocast_dtype() { return at::autocast::get_autocast_dtype(at::kCUDA); }
void set_cuda_autocast_dtype(at::ScalarType t) { at::autocast::set_autocast_dtype(at::kCUDA, t); }

}  // namespace

AutocastGuard::AutocastGuard(c10::Device device, bool enabled)
    : device_type_(device.type()), enabled_(enabled) {
  if (device_type_ != c10::DeviceType::CUDA) return;  // CPU trains in fp32
  previous_ = cuda_autocast_enabled();
  previous_dtype_ = static_cast<int>(cuda_autocast_dtype());
  if (previous_ == enabled_ && (!enabled_ || cuda_autocast_dtype() == at::kBFloat16)) return;
  changed_ = true;
  set_cuda_autocast_dtype(at::kBFloat16);
  set_cuda_autocast_enabled(enabled_);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!changed_) return;
  // Leaving the outermost autocast region frees the cached bf16 copies of the weights.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_cuda_autocast_enabled(previous_);
  set_cuda_autocast_dtype(static_cast<at::ScalarType>(previous_dtype_));
}

}  // namespace facetrain
