// The executable's side of the stage modules: each accessor loads its module once.
#include "facetrain/module/extract_module.h"
#include "facetrain/module/torch_module.h"

namespace facetrain {

const ExtractModuleApi& extract_module() {
  return *static_cast<const ExtractModuleApi*>(
      load_module_api("facetrain-extract", FACETRAIN_EXTRACT_MODULE_ENTRY, sizeof(ExtractModuleApi)));
}

const TorchModuleApi& torch_module() {
  return *static_cast<const TorchModuleApi*>(
      load_module_api("facetrain-torch", FACETRAIN_TORCH_MODULE_ENTRY, sizeof(TorchModuleApi)));
}

}  // namespace facetrain
