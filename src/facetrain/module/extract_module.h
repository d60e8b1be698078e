#pragma once
// The API of libfacetrain-extract.so (see module_loader.h): the extract stage, behind the dlib,
// FFmpeg, OpenImageIO and OpenColorIO libraries that only `extract` needs; and dlib's face models
// for the quality scores of `train` and `swap` (facetrain/quality/face_scorer.h).
#include "data_prep/extract_pipeline.h"
#include "facetrain/base/module_loader.h"
#include "facetrain/quality/face_scorer.h"

#include <memory>

namespace facetrain {

struct ExtractModuleApi {
  ModuleHeader header;
  ExtractReport (*run_extract)(const ExtractConfig& config, ProgressSink& progress);
  // The face-recognition and landmark models behind swap's and train's quality scores.
  std::unique_ptr<FaceScorer> (*make_face_scorer)(const FaceScorerOptions& options);
};

#define FACETRAIN_EXTRACT_MODULE_ENTRY "facetrain_extract_module_api"

// Loads the module on first use; throws UnavailableError (69) when it cannot.
const ExtractModuleApi& extract_module();

}  // namespace facetrain
