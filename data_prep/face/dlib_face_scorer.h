#pragma once
// FaceScorer (facetrain/quality/face_scorer.h) on dlib: the face-recognition ResNet and the
// 68-point landmark predictor. dlib_face_scorer.cpp is the only translation unit with dlib's
// ResNet definition.
#include "facetrain/quality/face_scorer.h"

#include <memory>

namespace facetrain {

// Loads (and SHA-256 checks) both models. Throws MissingInputError (66) when a model file is
// absent, InputDataError (65) naming the file when its hash differs or it does not load.
std::unique_ptr<FaceScorer> make_face_scorer(const FaceScorerOptions& options);

}  // namespace facetrain
