#pragma once
// The visible-face mattes of the plate's face set, as swap uses them (issue 24): `matte apply`
// stored one per face at the face set's crop size; swap composites only where the face is visible.
#include "facetrain/faceset/visible_mattes.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace facetrain {

class VisibleFaceMattes {
 public:
  // Reads the face set's index (faceset/visible_mattes.h); none when the face set has no mattes.
  explicit VisibleFaceMattes(std::filesystem::path faceset);
  bool available() const { return index_.has_value(); }
  int size() const { return index_ ? index_->size : 0; }
  std::string content_sha256() const { return index_ ? index_->content_sha256() : std::string(); }
  // The matte of the face whose crop is `crop`, size() x size() in [0, 1]; empty when the index has
  // no matte for it. Throws InputDataError naming the file when it is unreadable or of another size.
  std::vector<float> load(const std::string& crop) const;

 private:
  std::filesystem::path faceset_;
  std::optional<VisibleMatteIndex> index_;
};

// A square matte resampled from `from_px` to `to_px` (bilinear, pixel areas aligned as an area resize).
std::vector<float> resample_square_matte(const std::vector<float>& matte, int from_px, int to_px);

// The visible-face matte's value as a compositing weight: 0 up to `low` (the occluder, and its
// side of the network's soft edge, stays the plate exactly), 1 from `high`, linear between.
inline float visible_weight(float v, float low = 0.5f, float high = 0.9f) {
  return v <= low ? 0.f : v >= high ? 1.f : (v - low) / (high - low);
}

}  // namespace facetrain
