#include "facetrain/quality/face_scorer.h"

#include <cstdlib>

#ifndef FACETRAIN_MODELS_DIR
#define FACETRAIN_MODELS_DIR ""
#endif

namespace facetrain {

std::string default_model_path(const std::string& file) {
  const char* dir = std::getenv("FACETRAIN_MODELS");
  const std::string folder = dir && *dir ? dir : FACETRAIN_MODELS_DIR;
  return folder.empty() ? std::string() : folder + "/" + file;
}

std::string default_identity_model_path() { return default_model_path(kIdentityModelFile); }

}  // namespace facetrain
