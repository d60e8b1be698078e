#pragma once
// Image-sequence path patterns: `plate.####.exr` (one # per digit), `plate.@@@.png` (one @ per
// digit), `plate.%04d.dpx` (printf), `plate.$F4.tif` (Houdini). Unpadded forms (`#`? no: a single
// `#` means 4 digits as in fileseq; `@` means 1; `%d` and `$F` mean unpadded).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace facetrain {

class SequencePattern {
 public:
  // Returns nullopt when `path` holds no frame token (then it is a plain file).
  static std::optional<SequencePattern> parse(const std::string& path);

  // The path of one frame, e.g. format(1001) == "plate.1001.exr". Negative frames get a '-' sign.
  std::string format(int64_t frame) const;
  // The frame number if `filename` (a file name without directory) belongs to this sequence.
  // Files with more digits than the padding are accepted (frame 10000 of `####`).
  std::optional<int64_t> match(const std::string& filename) const;
  // Every existing frame in the pattern's directory, by frame number.
  std::map<int64_t, std::filesystem::path> scan() const;

  const std::string& original() const { return original_; }
  const std::filesystem::path& directory() const { return directory_; }
  int padding() const { return padding_; }   // 0 = unpadded

 private:
  std::string original_;
  std::filesystem::path directory_;
  std::string prefix_;   // file-name part before the token
  std::string suffix_;   // file-name part after the token
  int padding_ = 0;
};

}  // namespace facetrain
