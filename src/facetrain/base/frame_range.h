#pragma once
// Farm frame lists: `1001-1100`, `1001-1100x2` (every 2nd), `1001,1005,1010-1020`, negative frames
// (`-5--1`), reversed ranges (`1100-1001`, same frames). A frame is never repeated. Ranges are kept
// as segments, so `1-2000000000` costs nothing until it meets a plate.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace facetrain {

class FrameRange {
 public:
  struct Segment {
    int64_t first = 0;
    int64_t last = 0;
    int64_t step = 1;
  };

  // Throws UsageError (64) naming the text and the offending part.
  static FrameRange parse(const std::string& text);
  static FrameRange all();  // every frame

  bool is_all() const { return all_; }
  bool contains(int64_t frame) const;
  // The selected frames within [first, last], ascending.
  std::vector<int64_t> frames_within(int64_t first, int64_t last) const;
  // The smallest and largest selected frame (nullopt for all()).
  std::optional<int64_t> lowest() const;
  std::optional<int64_t> highest() const;
  std::string to_string() const;

 private:
  bool all_ = false;
  std::vector<Segment> segments_;
};

// Farm chunking: the frames of chunk `index` (1-based) of `count` contiguous chunks of `frames`
// (ascending). Chunk sizes differ by at most one; every frame belongs to exactly one chunk.
std::vector<int64_t> chunk_of(const std::vector<int64_t>& frames, int index, int count);

// Parses "I/N" (1 <= I <= N); throws UsageError.
std::pair<int, int> parse_chunk(const std::string& text);

}  // namespace facetrain
