#pragma once
// The visible-face mattes of a face set (issue 24): one matte per face, where the face is visible
// with everything in front of it (hands, props, hair) excluded, made by `facetrain matte apply`.
//
//   FACESET/mattes/visible.json    {"format_version": 1, "kind": "visible-face", "size": S,
//                                   "model": "<path as given>", "model_sha256": "...", "window": K,
//                                   "faces": {"faces/<name>.png": {"matte": "mattes/visible-<id>/<name>.png",
//                                                                  "sha256": "..."}}}
//   FACESET/mattes/visible-<id>/   8-bit grey PNGs, S x S, in the crop's aligned space (255 = visible)
//
// The index is written last and atomically: a face set has either the old mattes or the new ones.
// Face sets without the index (every face set before issue 24) simply have no visible-face mattes.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace facetrain {

inline constexpr int kVisibleMatteFormatVersion = 1;
inline constexpr const char* kVisibleMatteIndex = "mattes/visible.json";

struct VisibleMatteFile {
  std::string matte;   // relative to the face set
  std::string sha256;  // of the PNG file
};

struct VisibleMatteIndex {
  int format_version = kVisibleMatteFormatVersion;
  int size = 0;
  std::string model;
  std::string model_sha256;
  int window = 0;
  std::map<std::string, VisibleMatteFile> faces;  // by the face's crop ("faces/<name>.png")
  // The hash of what the index says, for caches that depend on the mattes (train's face pack).
  std::string content_sha256() const;
};

// nullopt when the face set has no index; InputDataError (65) naming the file for a malformed one,
// a newer format_version, or paths outside the face set.
std::optional<VisibleMatteIndex> read_visible_matte_index(const std::filesystem::path& faceset);
void write_visible_matte_index(const std::filesystem::path& faceset, const VisibleMatteIndex& index);

}  // namespace facetrain
