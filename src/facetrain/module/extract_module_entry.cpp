// libfacetrain-extract.so's entry (see module_loader.h).
#include "facetrain/module/extract_module.h"

#include "data_prep/face/dlib_face_scorer.h"
#include "facetrain/module/conv_stack_loader.h"

namespace {

// The extract stage, its CNN detector able to run its convolutions through the torch module
// (`--detector-device cpu|cuda`; data_prep links neither LibTorch nor the module layer).
facetrain::ExtractReport extract(const facetrain::ExtractConfig& config, facetrain::ProgressSink& progress) {
  facetrain::ExtractConfig with_opener = config;
  with_opener.detector.open_conv_stack = &facetrain::open_conv_stack_in_torch_module;
  return facetrain::run_extract(with_opener, progress);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const void* facetrain_extract_module_api() {
  static const facetrain::ExtractModuleApi api{
      {sizeof(facetrain::ExtractModuleApi), FACETRAIN_VERSION},  // this module's build (libfacetrain_base's version_string() is shared)
      &extract,
      &facetrain::make_face_scorer,
  };
  return &api;
}
