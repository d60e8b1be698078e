#include "facetrain/base/frame_range.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

namespace facetrain {
namespace {

constexpr int64_t kFrameLimit = int64_t{1} << 40;  // farther than any plate; keeps arithmetic safe

[[noreturn]] void bad_range(const std::string& text, const std::string& part, const std::string& why) {
  throw UsageError(fmt::format("bad frame range '{}': '{}' {} (use e.g. 1001-1100, 1001-1100x2, 1001,1005,1010-1020)",
                               text, part, why));
}

// Reads an optionally signed integer at `pos`; advances `pos`.
bool read_integer(const std::string& s, size_t& pos, int64_t& value) {
  size_t i = pos;
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  const size_t digits_start = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == digits_start || i - digits_start > 13) return false;
  const int64_t magnitude = std::stoll(s.substr(digits_start, i - digits_start));
  if (magnitude > kFrameLimit) return false;
  value = negative ? -magnitude : magnitude;
  pos = i;
  return true;
}

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  const auto end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

FrameRange FrameRange::all() {
  FrameRange range;
  range.all_ = true;
  return range;
}

FrameRange FrameRange::of_frames(const std::vector<int64_t>& ascending) {
  FrameRange range;
  size_t i = 0;
  while (i < ascending.size()) {
    size_t j = i;
    while (j + 1 < ascending.size() && ascending[j + 1] == ascending[j] + 1) ++j;
    range.segments_.push_back({ascending[i], ascending[j], 1});
    i = j + 1;
  }
  return range;
}

FrameRange FrameRange::parse(const std::string& text) {
  FrameRange range;
  if (trim(text).empty()) bad_range(text, text, "is empty");
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string part = trim(text.substr(start, comma - start));
    if (part.empty()) bad_range(text, part, "is an empty list item");
    size_t pos = 0;
    Segment segment;
    if (!read_integer(part, pos, segment.first)) bad_range(text, part, "does not start with a frame number");
    segment.last = segment.first;
    if (pos < part.size() && (part[pos] == '-' || part[pos] == ':')) {
      ++pos;
      if (!read_integer(part, pos, segment.last)) bad_range(text, part, "has no end frame");
    }
    if (pos < part.size() && (part[pos] == 'x' || part[pos] == ':')) {
      ++pos;
      if (!read_integer(part, pos, segment.step) || segment.step <= 0) bad_range(text, part, "needs a positive step");
    }
    if (pos != part.size()) bad_range(text, part, "has unexpected characters");
    if (segment.last < segment.first) std::swap(segment.first, segment.last);  // reversed: same frames
    range.segments_.push_back(segment);
    start = comma + 1;
    if (comma == text.size()) break;
  }
  return range;
}

bool FrameRange::contains(int64_t frame) const {
  if (all_) return true;
  for (const auto& s : segments_)
    if (frame >= s.first && frame <= s.last && (frame - s.first) % s.step == 0) return true;
  return false;
}

std::vector<int64_t> FrameRange::frames_within(int64_t first, int64_t last) const {
  std::vector<int64_t> frames;
  if (last < first) return frames;
  if (all_) {
    frames.reserve(static_cast<size_t>(last - first + 1));
    for (int64_t f = first; f <= last; ++f) frames.push_back(f);
    return frames;
  }
  std::set<int64_t> unique;
  for (const auto& s : segments_) {
    if (s.last < first || s.first > last) continue;
    int64_t f = s.first;
    if (f < first) f += ((first - f + s.step - 1) / s.step) * s.step;
    for (; f <= std::min(s.last, last); f += s.step) unique.insert(f);
  }
  return {unique.begin(), unique.end()};
}

std::optional<int64_t> FrameRange::lowest() const {
  if (all_ || segments_.empty()) return std::nullopt;
  int64_t lowest = std::numeric_limits<int64_t>::max();
  for (const auto& s : segments_) lowest = std::min(lowest, s.first);
  return lowest;
}

std::optional<int64_t> FrameRange::highest() const {
  if (all_ || segments_.empty()) return std::nullopt;
  int64_t highest = std::numeric_limits<int64_t>::min();
  for (const auto& s : segments_) highest = std::max(highest, s.first + (s.last - s.first) / s.step * s.step);
  return highest;
}

FrameRange FrameRange::outside(int64_t first, int64_t last) const {
  FrameRange out;
  if (all_) return out;
  for (const auto& s : segments_) {
    const int64_t s_last = s.first + (s.last - s.first) / s.step * s.step;  // the last frame it selects
    if (s.first < first) {  // the part below `first`
      const int64_t below_last = std::min(s_last, first - 1);
      out.segments_.push_back({s.first, s.first + (below_last - s.first) / s.step * s.step, s.step});
    }
    if (s_last > last) {  // the part above `last`
      int64_t above_first = s.first;
      if (above_first <= last) above_first += ((last + 1 - s.first + s.step - 1) / s.step) * s.step;
      out.segments_.push_back({above_first, s_last, s.step});
    }
  }
  for (auto& s : out.segments_)
    if (s.first == s.last) s.step = 1;
  return out;
}

FrameRange FrameRange::joined(const FrameRange& other) const {
  if (all_ || other.all_) return all();
  FrameRange out = *this;
  out.segments_.insert(out.segments_.end(), other.segments_.begin(), other.segments_.end());
  std::stable_sort(out.segments_.begin(), out.segments_.end(),
                   [](const Segment& a, const Segment& b) { return a.first < b.first; });
  return out;
}

std::string FrameRange::to_string(size_t max_segments) const {
  if (all_) return "all";
  std::string text;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& s = segments_[i];
    if (!text.empty()) text += ',';
    if (max_segments > 0 && i == max_segments) {
      text += "...";
      break;
    }
    text += std::to_string(s.first);
    if (s.last != s.first) text += "-" + std::to_string(s.last);
    if (s.step != 1) text += "x" + std::to_string(s.step);
  }
  return text;
}

std::vector<int64_t> chunk_of(const std::vector<int64_t>& frames, int index, int count) {
  if (count < 1 || index < 1 || index > count) throw UsageError(fmt::format("bad chunk {}/{}", index, count));
  const size_t n = frames.size();
  const size_t begin = n * static_cast<size_t>(index - 1) / static_cast<size_t>(count);
  const size_t end = n * static_cast<size_t>(index) / static_cast<size_t>(count);
  return {frames.begin() + static_cast<std::ptrdiff_t>(begin), frames.begin() + static_cast<std::ptrdiff_t>(end)};
}

std::pair<int, int> parse_chunk(const std::string& text) {
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    size_t used_index = 0, used_count = 0;
    const int index = std::stoi(text.substr(0, slash), &used_index);
    const int count = std::stoi(text.substr(slash + 1), &used_count);
    if (used_index != slash || used_count != text.size() - slash - 1 || count < 1 || index < 1 || index > count)
      throw std::invalid_argument("out of range");
    return {index, count};
  } catch (const std::logic_error&) {
    throw UsageError(fmt::format("bad --chunk '{}': expected I/N with 1 <= I <= N, e.g. 3/10", text));
  }
}

}  // namespace facetrain
