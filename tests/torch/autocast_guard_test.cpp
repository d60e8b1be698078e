// AutocastGuard switches LibTorch's per-thread CUDA autocast state and restores it on leaving. The
// state is thread-local flags, so this runs without a GPU; tests/torch/gpu_training_test.cpp checks
// the effect on a CUDA forward pass.
#include <ATen/autocast_mode.h>
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "facetrain/model/autocast_guard.h"

using namespace facetrain;

namespace {

const c10::Device kCuda(c10::DeviceType::CUDA, 0);

bool cuda_autocast() { return at::autocast::is_autocast_enabled(at::kCUDA); }
at::ScalarType cuda_dtype() { return at::autocast::get_autocast_dtype(at::kCUDA); }

// Leaves the thread's autocast state as it found it, whatever a case does.
struct RestoreAutocast {
  bool enabled = cuda_autocast();
  at::ScalarType dtype = cuda_dtype();
  ~RestoreAutocast() {
    at::autocast::set_autocast_enabled(at::kCUDA, enabled);
    at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  }
};

}  // namespace

TEST_CASE("autocast guard: bf16 on CUDA inside, the previous state after", "[model][autocast]") {
  RestoreAutocast restore;
  REQUIRE_FALSE(cuda_autocast());
  const at::ScalarType before = cuda_dtype();
  REQUIRE(before != at::kBFloat16);  // LibTorch's CUDA default is float16, so a restore is visible
  {
    AutocastGuard bf16(kCuda, true);
    CHECK(bf16.active());
    CHECK(cuda_autocast());
    CHECK(cuda_dtype() == at::kBFloat16);
    {
      AutocastGuard fp32(kCuda, false);  // e.g. the losses inside an autocast region
      CHECK_FALSE(fp32.active());
      CHECK_FALSE(cuda_autocast());
    }
    CHECK(cuda_autocast());
    CHECK(cuda_dtype() == at::kBFloat16);
  }
  CHECK_FALSE(cuda_autocast());
  CHECK(cuda_dtype() == before);
}

TEST_CASE("autocast guard: CPU trains in float32, and an unneeded guard changes nothing", "[model][autocast]") {
  RestoreAutocast restore;
  {
    AutocastGuard cpu(c10::Device(c10::DeviceType::CPU), true);
    CHECK_FALSE(cpu.active());
    CHECK_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
    CHECK_FALSE(cuda_autocast());
  }
  {
    AutocastGuard off(kCuda, false);  // already off
    CHECK_FALSE(off.active());
    CHECK_FALSE(cuda_autocast());
  }
  CHECK_FALSE(cuda_autocast());
}

TEST_CASE("autocast guard: an enclosing float16 region gets its dtype back", "[model][autocast]") {
  RestoreAutocast restore;
  at::autocast::set_autocast_dtype(at::kCUDA, at::kHalf);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  {
    AutocastGuard bf16(kCuda, true);  // on already, but in float16: switches the dtype
    CHECK(bf16.active());
    CHECK(cuda_dtype() == at::kBFloat16);
  }
  CHECK(cuda_autocast());
  CHECK(cuda_dtype() == at::kHalf);
}
