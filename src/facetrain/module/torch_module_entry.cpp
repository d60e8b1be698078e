// libfacetrain-torch.so's entry (see module_loader.h).
#include "facetrain/module/torch_module.h"
#include "facetrain/matte/matte_apply.h"
#include "facetrain/matte/matte_training.h"
#include "facetrain/swap/swap_pipeline.h"

extern "C" __attribute__((visibility("default"))) const void* facetrain_torch_module_api() {
  static const facetrain::TorchModuleApi api{
      {sizeof(facetrain::TorchModuleApi), FACETRAIN_VERSION},  // this module's build (libfacetrain_base's version_string() is shared)
      &facetrain::run_train,
      &facetrain::run_swap,
      &facetrain::run_matte_train,
      &facetrain::run_matte_apply,
  };
  return &api;
}
