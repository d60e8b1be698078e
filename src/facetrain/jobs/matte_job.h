#pragma once
// What `facetrain matte train` and `facetrain matte apply` are asked to do (issue 24), as plain data
// the CLI fills; no LibTorch.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace facetrain {

struct MatteTrainJob {
  std::filesystem::path faces;        // the face set to learn from (the shot's own faces)
  std::string labels;                 // optional: artists' mattes, an image sequence with the plate's frame numbers
  std::string labels_white = "occluder";  // what is white in a label: occluder | visible
  std::filesystem::path output;       // the matte model file
  int resolution_px = 128;            // the network's input and output size
  int width = 16;                     // channels of the first level; the others 2x, 3x, 4x
  int64_t steps = 600;
  double max_seconds = 0;             // > 0: stop after this long even before `steps`
  int batch = 16;
  double learning_rate = 2e-3;
  double label_weight = 4.0;          // a labelled face's loss weight against a synthetic one's
  // With visible-face labels: every face's region (the target of the synthetic and unlabelled faces)
  // becomes its hull corrected towards the outline the labels draw (occlusion/face_outline.h). Off by
  // default: it won on handwave, tied on thumbsup (docs/occlusion.md).
  bool outline_from_labels = false;
  uint64_t seed = 1;
  std::string device = "cpu";
};

struct MatteTrainReport {
  int64_t steps = 0;
  double seconds = 0;
  int faces = 0;                      // faces the synthetic occluders were put on
  int labelled_faces = 0;             // faces with an artist's matte
  std::vector<int64_t> labelled_frames;
  double final_loss = 0;
  // Held-out faces with synthetic occluders of each kind (exact ground truth): IoU of the matte and
  // of the landmark hull, by kind ("plate_patch", "thin_prop", "hand", "hair", "all").
  std::map<std::string, double> holdout_iou, hull_iou;
  std::string model_sha256;
  double ms_per_face = 0;             // inference, this machine
};

struct MatteApplyJob {
  std::filesystem::path faces;        // the face set to write mattes into
  std::filesystem::path model;        // from `facetrain matte train`
  int window = 2;                     // temporal smoothing over +-window frames of a track (0 = none)
  int batch = 16;
  std::string device = "cpu";
};

struct MatteApplyReport {
  int faces = 0;
  double seconds = 0;
  double ms_per_face = 0;             // network + smoothing + writing, per face
  double flicker_before = 0;          // matte_flicker_ratio of the raw and the smoothed mattes, mean over tracks
  double flicker_after = 0;
  double occluded_share = 0;          // mean share of the hull the mattes exclude
  std::filesystem::path index;
};

}  // namespace facetrain
