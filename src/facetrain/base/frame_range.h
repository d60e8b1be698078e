#pragma once
// Farm frame lists: `1001-1100`, `1001-1100x2` (every 2nd), `1001,1005,1010-1020`, negative frames
// (`-5--1`), descending ranges (`1100-1001`: the same frames, as Deadline's reverse order names
// them; facetrain's outputs depend only on their frame, so the order changes nothing). A frame is
// never repeated. Ranges are kept as segments, so `1-2000000000` costs nothing until it meets a plate.
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
  // The frames of `ascending` (sorted, unique), runs of consecutive numbers as one segment each.
  static FrameRange of_frames(const std::vector<int64_t>& ascending);

  bool is_all() const { return all_; }
  bool empty() const { return !all_ && segments_.empty(); }  // selects no frame
  bool contains(int64_t frame) const;
  // The selected frames within [first, last], ascending.
  std::vector<int64_t> frames_within(int64_t first, int64_t last) const;
  // The smallest and largest selected frame (nullopt for all()).
  std::optional<int64_t> lowest() const;
  std::optional<int64_t> highest() const;
  // The selected frames below `first` or above `last`, as segments (nothing for all()).
  FrameRange outside(int64_t first, int64_t last) const;
  // The frames of both (for all(): all()).
  FrameRange joined(const FrameRange& other) const;
  // Farm syntax ("1001-1100,1200"); "all" for all(), "" for an empty range. With `max_segments`,
  // the first that many segments followed by ",..." when there are more (for messages).
  std::string to_string(size_t max_segments = 0) const;

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
