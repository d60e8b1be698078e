#pragma once
// 68-point landmarks from dlib's shape predictor (dlib_landmark_predictor.cpp includes dlib).
#include "facetrain/face/face_types.h"
#include "facetrain/base/image.h"

#include <memory>
#include <string>

namespace facetrain {

// Debian libdlib-data's model and its SHA-256 (checked before loading).
inline constexpr const char* kDefaultLandmarkModelPath = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
inline constexpr const char* kDefaultLandmarkModelSha256 =
    "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f";  // see landmark model check

class LandmarkPredictor {
 public:
  // Loads the model once; thread-safe to share across workers (prediction is const).
  // Throws MissingInputError if absent, InputDataError naming expected and actual SHA-256 if the
  // file's hash differs from `expected_sha256` (empty: no check).
  LandmarkPredictor(const std::string& model_path, const std::string& expected_sha256);
  ~LandmarkPredictor();
  Landmarks68 predict(const Gray8Image& frame_gray, const FaceBox& box) const;
  const std::string& model_sha256() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facetrain
