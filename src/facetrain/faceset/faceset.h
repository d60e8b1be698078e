#pragma once
// The face-set format (docs/design.md §4.1): faceset.json, alignments/*.jsonl (one record per processed
// frame; several files, readers take the union), faces/*.png crops, masks/*.png face-hull masks.
#include "facetrain/faceset/identity_record.h"
#include "facetrain/faceset/network_encoding_record.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace facetrain {

// Version 1: the layout of docs/design.md §4.1 without "encoding"; per-face "track" and "mask" keys.
// Version 2: plus "encoding", how the crops were made (network_encoding_record.h). Version 1 face
// sets are read with the encoding extract used then (legacy_network_encoding).
inline constexpr int kFaceSetFormatVersion = 2;

// Which face detector found a source's faces (extract --detector, after `auto` is decided), and the
// SHA-256 of its model file where it has one (the CNN's; "" for HOG, whose model is built into dlib).
struct FaceSetDetector {
  std::string kind;              // "hog", "cnn" or "hog+cnn"
  std::string model_sha256;
  std::string device;            // where the CNN's convolutions ran: "dlib", "cpu" or "cuda"; empty: HOG alone, or not recorded
  bool operator==(const FaceSetDetector& other) const {
    return kind == other.kind && model_sha256 == other.model_sha256 && device == other.device;
  }
};

struct FaceSetSource {
  std::string path;              // as given on the command line
  std::string sha256;            // movie: the file's; sequence: see source_identity_sha256()
  int width = 0;
  int height = 0;
  double fps = 0.0;
  int64_t frame_first = 0;       // the frames extracted so far (union of all runs)
  int64_t frame_last = -1;
  std::string colorspace;        // the plate's colour space (with OpenColorIO: as the config spells it)
  // Every detector that extracted frames of this source, in the order first used (farm chunks or
  // reruns may differ); empty in face sets extracted before it was recorded.
  std::vector<FaceSetDetector> detectors;
};

struct FaceSetManifest {
  int format_version = kFaceSetFormatVersion;
  std::string face_type;
  int size = 0;
  std::vector<FaceSetSource> sources;
  std::string landmark_model_sha256;
  // The points the landmark model fits: 68 (iBUG 300-W), or 5 (dlib's eye corners and nose base; the
  // recorded 68 landmarks then hold the template's other 63: landmarks_from_five_points). Face sets
  // without the key are 68.
  int landmark_points = 68;
  std::string tool_version;
  NetworkEncodingRecord encoding;  // how every crop of the face set was made: the one the network sees
  // Whom extract kept (--identity, --exclude-identity; identity_record.h): optional, its own
  // format_version, absent in face sets extracted without those flags.
  std::optional<IdentityRecord> identity;
};

// Below this landmark fit confidence a face's alignment is a guess: train leaves such faces out by
// default (min_fit_confidence) and swap lists their frames.
inline constexpr double kLowFitConfidence = 0.05;

struct FaceRecord {
  int index = 0;
  int track = 0;
  std::array<double, 4> bbox{};                  // x0, y0, x1, y1 in frame pixels
  double score = 0.0;
  std::vector<std::array<double, 2>> landmarks;  // 68 points, frame pixels
  std::array<double, 6> aligned_from_frame{};    // a, b, tx, c, d, ty
  std::string crop;                              // "faces/<name>.png", relative to the face set
  std::string mask;                              // "masks/<name>.png"
  // How well the landmark fit holds, 0..1 (landmark_predictor.h: LandmarkFit): absent in face sets
  // extracted before it was measured, which read as 1 (nothing is left out for want of it).
  std::optional<double> fit_confidence;
};

struct FrameRecord {
  std::string source;
  int64_t frame = 0;
  std::vector<FaceRecord> faces;
};

// Record <-> one JSON line. from_json throws InputDataError naming `where` ("file:line") for
// wrong types, missing keys, non-finite or absurd numbers, or more than kMaxFacesPerFrame faces.
inline constexpr size_t kMaxFacesPerFrame = 64;
std::string frame_record_to_json_line(const FrameRecord& record);
FrameRecord frame_record_from_json_line(const std::string& line, const std::string& where);

// An identity for an image sequence that does not read every frame: SHA-256 over each frame's file
// name and size plus the first and last frames' contents.
std::string source_identity_sha256(const std::map<int64_t, std::filesystem::path>& frames);

// The identity of a plate, as extract records it (FaceSetSource::sha256) and swap and verify check it:
// a movie's file SHA-256; an image sequence's source_identity_sha256 over the frames its pattern
// finds. "" when there is nothing to hash (no such file, or a pattern that finds no frame).
std::string plate_identity_sha256(const std::string& plate);

// Reads a whole face set. Throws MissingInputError (66) if there is no faceset.json, InputDataError
// (65) naming the file and line of anything malformed.
struct FaceSet {
  std::filesystem::path directory;
  FaceSetManifest manifest;
  std::vector<FrameRecord> frames;   // deduplicated by (source, frame), sorted by source then frame

  static FaceSet read(const std::filesystem::path& directory);
  static FaceSetManifest read_manifest(const std::filesystem::path& directory);
  // Frames of `source` already recorded in any alignments file.
  static std::set<int64_t> recorded_frames(const std::filesystem::path& directory, const std::string& source);
};

// Writes into a face set, possibly shared with other processes extracting other frame ranges at the
// same time: the manifest is updated under an exclusive lock, each flush() commits a new
// alignments file atomically, so an interrupted run leaves only complete records.
class FaceSetWriter {
 public:
  // Creates the directory (0700) or checks that an existing face set matches face_type, size,
  // encoding, identity choice and landmark points (ConfigError naming both otherwise: one face set
  // holds one person, chosen one way, landmarked one way). Throws OutputError (73) when it cannot be
  // created.
  FaceSetWriter(std::filesystem::path directory, const std::string& face_type, int size,
                const std::string& landmark_model_sha256, const std::string& tool_version,
                const NetworkEncodingRecord& encoding = NetworkEncodingRecord{},
                const std::optional<IdentityRecord>& identity = std::nullopt, int landmark_points = 68);
  ~FaceSetWriter();

  const std::filesystem::path& directory() const { return directory_; }
  // Adds or updates a source in faceset.json (frame_first/last widen to include the new range).
  // Returns true when the source is new to the face set.
  bool register_source(const FaceSetSource& source);
  // Takes back what this writer committed for `source` (a source that yielded nothing usable):
  // deletes its alignments files and, when `remove_entry`, its faceset.json entry.
  void retract(const std::string& source, bool remove_entry);
  // A crop/mask base name unique to (source, frame, face index).
  std::string face_name(const std::string& source, int64_t frame, int index) const;
  void add(FrameRecord record);
  // Commits the records added since the last flush (all of one source) as
  // alignments/<stem>.<first>-<last>.<unique>.jsonl.
  void flush();
  size_t pending() const { return pending_.size(); }

 private:
  std::filesystem::path directory_;
  std::vector<FrameRecord> pending_;
  std::map<std::string, std::vector<std::filesystem::path>> committed_;  // by source
};

}  // namespace facetrain
