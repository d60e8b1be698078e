#pragma once
// The quality scores' face models (facetrain/quality/face_scorer.h), from libfacetrain-extract.so,
// for `train` and `swap`.
#include "facetrain/quality/face_scorer.h"

#include <memory>
#include <string>

namespace facetrain {

// `identity_model` given: that model must load (MissingInputError 66 / InputDataError 65 naming
// it). Empty: default_identity_model_path(); when that file is absent, the scorer has landmarks but
// no identity and a warning says how to get the model. `landmark_points`: the face set's (68 or 5),
// which picks the landmark model. Throws UnavailableError (69) when the extract module cannot be
// loaded.
std::unique_ptr<FaceScorer> open_face_scorer(const std::string& identity_model, int landmark_points);

}  // namespace facetrain
