#pragma once
// Finds face rectangles in 8-bit frames. The dlib implementations live in dlib_face_detector.cpp,
// the only translation unit that includes dlib's detectors.
#include "facetrain/face/face_types.h"
#include "facetrain/base/image.h"

#include <memory>
#include <string>
#include <vector>

namespace facetrain {

struct DetectorOptions {
  std::string mmod_model_path;   // empty: dlib's HOG frontal detector; else dlib's CNN (mmod) detector
  int detect_width_px = 640;     // frames wider than this are downscaled before detection
  int upsample = 0;              // pyramid_up passes (finds smaller faces, ~4x cost each)
  float min_score = 0.0f;        // detector score threshold (HOG: SVM margin; mmod: confidence)
  float min_face_px = 40.0f;     // faces smaller than this (box width, frame pixels) are dropped
};

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  // Boxes in frame pixels, sorted by descending score; empty when there is no face.
  // Must be safe to call from one thread per detector object (make one per worker).
  virtual std::vector<FaceBox> detect(const Gray8Image& frame_gray) = 0;
};

// Throws MissingInputError / InputDataError naming the model file when it cannot be loaded.
std::unique_ptr<FaceDetector> make_face_detector(const DetectorOptions& options);

}  // namespace facetrain
