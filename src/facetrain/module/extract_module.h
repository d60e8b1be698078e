#pragma once
// The API of libfacetrain-extract.so (see module_loader.h): the extract stage, behind the dlib,
// FFmpeg, OpenImageIO and OpenColorIO libraries that only `extract` needs.
#include "data_prep/extract_pipeline.h"
#include "facetrain/module/module_loader.h"

namespace facetrain {

struct ExtractModuleApi {
  ModuleHeader header;
  ExtractReport (*run_extract)(const ExtractConfig& config, ProgressSink& progress);
};

#define FACETRAIN_EXTRACT_MODULE_ENTRY "facetrain_extract_module_api"

// Loads the module on first use; throws UnavailableError (69) when it cannot.
const ExtractModuleApi& extract_module();

}  // namespace facetrain
