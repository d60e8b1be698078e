// libfacetrain-extract.so's entry (see module_loader.h).
#include "facetrain/module/extract_module.h"

#include "data_prep/face/dlib_face_scorer.h"

extern "C" __attribute__((visibility("default"))) const void* facetrain_extract_module_api() {
  static const facetrain::ExtractModuleApi api{
      {sizeof(facetrain::ExtractModuleApi), FACETRAIN_VERSION},  // this module's build (libfacetrain_base's version_string() is shared)
      &facetrain::run_extract,
      &facetrain::make_face_scorer,
  };
  return &api;
}
