#include "facetrain/module/face_scorer_loader.h"

#include "facetrain/base/log.h"
#include "facetrain/module/extract_module.h"

#include <filesystem>

namespace facetrain {

std::unique_ptr<FaceScorer> open_face_scorer(const std::string& identity_model, int landmark_points) {
  FaceScorerOptions options;
  options.identity_model_path = identity_model;
  options.landmark_points = landmark_points;
  if (identity_model.empty()) {
    const std::string fallback = default_identity_model_path();
    std::error_code ec;
    if (!fallback.empty() && std::filesystem::is_regular_file(fallback, ec)) {
      options.identity_model_path = fallback;
    } else {
      log_warning("identity scores are off: no face-recognition model at '{}' (scripts/fetch-models.sh fetches it; "
                  "--identity-model FILE or $FACETRAIN_MODELS say where it is)",
                  fallback);
    }
  }
  return extract_module().make_face_scorer(options);
}

}  // namespace facetrain
