#pragma once
// extract: plates -> aligned face sets. Decoding, face tracking and crop writing run in parallel;
// records are committed in frame order, in chunks, so an interrupted run leaves complete records only.
#include "data_prep/face/face_detector.h"
#include "data_prep/face/face_tracker.h"
#include "data_prep/track_identity.h"
#include "facetrain/face/face_types.h"
#include "facetrain/media/frame_source.h"
#include "facetrain/base/frame_range.h"
#include "facetrain/base/progress.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace facetrain {

struct ExtractConfig {
  std::vector<std::string> inputs;          // movies or sequence patterns
  std::filesystem::path output;             // the face set
  FrameRange frames = FrameRange::all();
  int crop_size_px = 256;                   // [64, 1024]
  FaceType face_type = FaceType::whole;
  int64_t start_frame = 1;                  // number of a movie's first frame
  int threads = 0;                          // 0: one per core
  OnMissingFrame on_missing = OnMissingFrame::error;  // asked frames a plate lacks: error, or skip them
  std::string colorspace;                   // the plates' OpenColorIO colour space, or empty
  std::string ocio_config;                  // empty: $OCIO
  // The network's encoding of the crops (media/network_encoding.h: "plate", "srgb", a colour space
  // of the config, "display", "DISPLAY/VIEW"); empty: srgb for scene-linear plates, plate for the
  // others, the config's compositing_log role with --colorspace.
  std::string encoding;
  DetectorOptions detector;
  TrackerOptions tracker;
  // The landmark model: --landmarks 68 (default), Debian libdlib-data's 68-point model (iBUG 300-W:
  // not for commercial use); --landmarks 5, dlib's public-domain 5-point model from the models
  // folder (scripts/fetch-models.sh). --landmark-model FILE names another; its points must match.
  int landmark_points = 68;
  std::string landmark_model_path;          // empty: the default model for landmark_points
  std::string landmark_model_sha256;        // empty with a default path: its known hash
  int png_compression = 3;                  // zlib level for crops and masks (1-3: fast mode)
  int frames_per_commit = 250;              // records per alignments file
  bool decode_only = false;                 // benchmark the decoder alone; writes nothing
  // --identity: stills of the one person to keep, or a face set of them (all files one person);
  // --exclude-identity: people whose tracks are dropped, one per file. Both empty: every face the
  // tracker keeps, as before. Decided per track (track_identity.h), in a first pass over each plate.
  std::vector<std::string> identity;
  std::vector<std::string> exclude_identity;
  double identity_threshold = kDefaultIdentityThreshold;  // a track's median descriptor distance
};

struct SourceReport {
  std::string path;
  int64_t frames_processed = 0;             // decoded and analysed in this run
  int64_t frames_with_faces = 0;
  int64_t faces_written = 0;
  int64_t frames_already_done = 0;          // recorded by an earlier run, skipped
  FrameRange frames_missing;                // asked frames the plate does not have (--on-missing skip)
  double seconds = 0.0;
  std::vector<TrackDecision> tracks;        // --identity / --exclude-identity: each track's votes and verdict
};

struct ExtractReport {
  std::vector<SourceReport> sources;
  int64_t frames_processed() const {
    int64_t total = 0;
    for (const auto& s : sources) total += s.frames_processed;
    return total;
  }
  int64_t faces_written() const {
    int64_t total = 0;
    for (const auto& s : sources) total += s.faces_written;
    return total;
  }
};

// Throws the documented errors (docs/design.md §5): MissingInputError for a missing input or model,
// InputDataError for damaged media (after committing what was decoded before the damage), for a
// source in which no face was found, and for asked frames a plate does not have (media/frame_selection.h:
// checked for every input before anything is written; a movie that ends before the frames its
// header counts is found at its end, with the frames before it kept), OutputError when the face set
// cannot be written. With --identity / --exclude-identity: InputDataError for a reference still
// without a face and for a plate in which no track is kept (naming the closest track's distance;
// with --on-missing skip a warning, and the plate's frames are recorded without faces), ConfigError
// for a reference face set of another face type or a face set extracted with another choice of person.
ExtractReport run_extract(const ExtractConfig& config, ProgressSink& progress);

}  // namespace facetrain
