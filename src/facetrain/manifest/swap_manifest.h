#pragma once
// What one `facetrain swap` run (one chunk) wrote, so `facetrain verify OUTPUT_DIR` can tell a
// finished render from a damaged one: OUTPUT_DIR/swap-manifest.<first>-<last>.json, written
// atomically after the chunk's last frame. Chunks own disjoint frames, so their manifests never
// collide; a re-run of a chunk replaces its own manifest.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace facetrain {

inline constexpr int kSwapManifestFormatVersion = 1;

struct SwapManifestFrame {
  int64_t frame = 0;    // the plate's frame number; a movie file lists its first frame
  std::string file;     // relative to the output directory (frames, mattes, movies, review/...)
  std::string sha256;   // of the file as written
};

// How one rendered frame went, for review (`facetrain report` charts it per frame). The scores
// describe the frame's worst face and are NaN (absent from the JSON) on a frame without a face.
struct SwapFrameQuality {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  int64_t frame = 0;
  int faces = 0;                   // faces swapped in this frame
  double detection_score = kNone;  // the face set's detector score (dlib HOG/mmod: higher is surer), lowest
  double mask_agreement = kNone;   // IoU of the network's mask and the landmark hull, 0..1, lowest: a low
                                   // value means the model does not see the face where the landmarks are
  double color_shift = kNone;      // mean change colour matching made under the matte (network encoding,
                                   // 0..1), highest: a large shift means the model's colours were far off
  double face_px = kNone;          // the face's width on the plate in pixels, smallest
  double fit_confidence = kNone;   // the face set's landmark fit confidence (extract), lowest: near 0 the
                                   // alignment was a guess (a hand over the face, a profile); absent in
                                   // face sets extracted before it was recorded
  // Issue 12's scores (absent when swap ran with --no-quality, or without a face-recognition model
  // or the checkpoint's identity references, for the identity ones):
  double identity_to_actor = kNone;   // descriptor distance to the actor's reference, highest (< 0.6: the actor)
  double identity_to_double = kNone;  // ... to the double's reference, lowest
  double plate_identity_to_double = kNone;  // the plate's own face (unswapped) to the double's reference,
                                            // highest (< 0.6: the reference fits this plate)
  double landmark_error = kNone;      // landmarks on the swapped face vs the plate's, RMS / inter-ocular distance, highest
  double flicker_ratio = kNone;       // frame-to-frame change inside the matte vs the plate's (1 = no extra flicker);
                                      // absent when the previous frame was not rendered in this run
  double seam_ratio = kNone;          // edge strength along the matte boundary vs the plate's (1 = no seam)
};

// The scores of a whole chunk: over faces (identity, expression) or frames (stability); NaN
// (absent from the JSON) when nothing was scored.
struct SwapQualitySummary {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  int faces_scored = 0;
  int identity_faces = 0;
  double identity_to_actor = kNone;      // mean distance
  double identity_to_double = kNone;     // mean distance
  double plate_identity_to_double = kNone;  // the plate's own faces to the double's reference, mean distance
  double closer_to_actor = kNone;        // share of faces closer to the actor than to the double, 0..1
  double same_as_actor = kNone;          // share of faces within dlib's same-person distance (0.6) of the actor
  double landmark_error = kNone;         // mean, RMS / inter-ocular distance
  double landmark_error_worst = kNone;
  double flicker_ratio = kNone;          // mean over pairs of consecutive rendered frames
  double flicker_ratio_worst = kNone;
  double seam_ratio = kNone;             // mean over frames
  double scoring_seconds = 0;            // what computing the scores took
  nlohmann::json to_json() const;
  static SwapQualitySummary from_json(const nlohmann::json& json);
};

// One line for the log: "quality: identity: 92 % of 100 faces closer to the actor ...".
std::string describe_swap_quality(const SwapQualitySummary& summary, double render_seconds);

struct SwapManifest {
  int format_version = kSwapManifestFormatVersion;
  std::string tool_version;
  std::string plate;
  std::string plate_sha256;
  std::string checkpoint;          // the checkpoint directory the model came from
  std::string checkpoint_sha256;   // of its model file
  std::string output_kind;         // "full-frame" or "element" ("" in manifests written before it existed)
  std::string missing_frames;      // frames of the chunk the plate did not have (--on-missing skip), farm syntax
  // The network encoding the faces went through (faceset/network_encoding_record.h's JSON, with the
  // plate's colour space and the measured round trip); null in manifests written before it existed.
  nlohmann::json encoding;
  std::vector<SwapManifestFrame> frames;
  std::vector<SwapFrameQuality> quality;  // frames this run rendered (not those kept by --skip-existing);
                                          // optional in the file (older manifests have none)
  std::optional<SwapQualitySummary> quality_summary;  // "quality_summary"; absent in older manifests
};

// OUTPUT_DIR/swap-manifest.<first>-<last>.json for a chunk owning frames first..last.
std::filesystem::path swap_manifest_path(const std::filesystem::path& output_directory, int64_t first_frame,
                                         int64_t last_frame);
// Writes atomically (owner-only). Throws OutputError / IoError naming the file.
void write_swap_manifest(const std::filesystem::path& path, const SwapManifest& manifest);
// Throws MissingInputError (66), InputDataError (65) naming the file and key for anything malformed,
// including a file that is not inside the output directory (absolute, or with "..").
SwapManifest read_swap_manifest(const std::filesystem::path& path);

}  // namespace facetrain
