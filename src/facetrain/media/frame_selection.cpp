#include "facetrain/media/frame_selection.h"

#include "facetrain/base/error.h"
#include "facetrain/base/sequence_pattern.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <limits>

namespace facetrain {

namespace {

constexpr size_t kSegmentsInMessages = 8;  // a long list of gaps is cut after this many parts
// A movie of unknown length is taken at its word for at most this many asked frames (48 hours at
// 24 fps); a wider range is left to decoding, like all frames.
constexpr int64_t kMaxPresumedFrames = int64_t{1} << 22;

bool length_known(const SourceInfo& info) { return info.frame_last >= info.frame_first; }

// "frame 105 is" / "frames 1338-1340 are"
std::string frames_are(const FrameRange& frames) {
  const bool one = frames.lowest() && frames.lowest() == frames.highest();
  return fmt::format("{} {} {}", one ? "frame" : "frames", frames.to_string(kSegmentsInMessages), one ? "is" : "are");
}

}  // namespace

FrameSelection select_frames(const FrameRange& asked, const FrameSource& source) {
  const SourceInfo& info = source.info();
  FrameSelection selection;
  if (!length_known(info)) {
    // Only the frames below the first are known to be missing; the rest is up to decoding.
    selection.missing = asked.outside(info.frame_first, std::numeric_limits<int64_t>::max());
    if (asked.is_all() || !asked.highest() || *asked.highest() - info.frame_first >= kMaxPresumedFrames) {
      selection.open_ended = true;
      return selection;
    }
    selection.present = asked.frames_within(info.frame_first, *asked.highest());
    return selection;
  }
  std::vector<int64_t> gaps;
  for (int64_t frame : asked.frames_within(info.frame_first, info.frame_last)) {
    if (source.has_frame(frame)) selection.present.push_back(frame);
    else gaps.push_back(frame);
  }
  selection.missing = asked.outside(info.frame_first, info.frame_last).joined(FrameRange::of_frames(gaps));
  return selection;
}

std::string describe_plate_frames(const SourceInfo& info) {
  if (!length_known(info)) return fmt::format("{} on (its length is not recorded)", info.frame_first);
  return info.frame_first == info.frame_last ? std::to_string(info.frame_first)
                                             : fmt::format("{}-{}", info.frame_first, info.frame_last);
}

std::string check_selection(const FrameSelection& selection, const std::string& asked_text, const FrameSource& source,
                            OnMissingFrame policy) {
  const SourceInfo& info = source.info();
  const std::string plate = describe_plate_frames(info);
  if (selection.present.empty() && !selection.open_ended) {
    std::string hint;
    // A plate numbered from 1001 submitted against a movie numbered from 1 (or the reverse).
    const auto lowest = selection.missing.lowest();
    if (!info.is_sequence && lowest && *lowest != info.frame_first)
      hint = fmt::format("; --start-frame {} numbers a movie's first frame {}", *lowest, *lowest);
    throw InputDataError(fmt::format("{}: {}: the plate has frames {}, none of the frames asked for{}", info.path,
                                     asked_text, plate, hint));
  }
  if (selection.missing.empty()) return {};
  std::string first_file;
  if (info.is_sequence && selection.missing.lowest()) {
    // Name a file: the first gap in the sequence if there is one, else the first frame asked for.
    const std::vector<int64_t> gaps = selection.missing.frames_within(info.frame_first, info.frame_last);
    if (const auto pattern = SequencePattern::parse(info.path))
      first_file = fmt::format(" (no file {})", pattern->format(gaps.empty() ? *selection.missing.lowest() : gaps.front()));
  }
  const std::string missing = frames_are(selection.missing);
  if (policy == OnMissingFrame::error)
    throw InputDataError(fmt::format("{}: {}: {} not in the plate, which has frames {}{}; "
                                     "--on-missing skip does the {} that are",
                                     info.path, asked_text, missing, plate, first_file, selection.present.size()));
  return fmt::format("{}: {}: {} not in the plate, which has frames {}{}; skipped (--on-missing skip)", info.path,
                     asked_text, missing, plate, first_file);
}

FrameRange undelivered_frames(const std::vector<int64_t>& expected, const std::vector<int64_t>& delivered) {
  std::vector<int64_t> lacking;
  std::set_difference(expected.begin(), expected.end(), delivered.begin(), delivered.end(), std::back_inserter(lacking));
  return FrameRange::of_frames(lacking);
}

}  // namespace facetrain
