// Farm frame ranges (--frames): parsing never crashes, and what parses round-trips through
// to_string() and keeps its promises (ascending, unique, contained; chunks partition the frames).
#include "facetrain/base/error.h"
#include "facetrain/base/frame_range.h"

#include <cstdint>
#include <cstdlib>
#include <string>

using facetrain::FrameRange;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  FrameRange range;
  try {
    range = FrameRange::parse(text);
  } catch (const facetrain::UsageError&) {
    return 0;  // refused with the documented error: fine
  }
  if (range.is_all()) return 0;
  const FrameRange again = FrameRange::parse(range.to_string());
  const int64_t low = *range.lowest();
  const int64_t high = std::min<int64_t>(*range.highest(), low + 2000);
  const auto frames = range.frames_within(low, high);
  if (frames != again.frames_within(low, high)) std::abort();
  for (size_t i = 0; i < frames.size(); ++i) {
    if (!range.contains(frames[i])) std::abort();
    if (i > 0 && frames[i] <= frames[i - 1]) std::abort();
  }
  if (!frames.empty() && frames.front() != low) std::abort();
  for (int count : {1, 3, 7}) {
    size_t total = 0;
    for (int index = 1; index <= count; ++index) total += facetrain::chunk_of(frames, index, count).size();
    if (total != frames.size()) std::abort();
  }
  try {
    facetrain::parse_chunk(text);
  } catch (const facetrain::UsageError&) {
  }
  return 0;
}
