#pragma once
// Which of the frames a command was asked for a plate holds, and the rule that follows (docs/design.md §5):
// on a render farm an exit status of 0 marks a task done, so every asked frame the plate does not
// have is an error (InputDataError, 65) naming the plate, the frames asked and the frames it has.
// OnMissingFrame::skip turns a partial overlap into a warning; a selection that holds no frame of
// the plate at all is an error either way.
#include "facetrain/base/frame_range.h"
#include "facetrain/media/frame_source.h"

#include <cstdint>
#include <string>
#include <vector>

namespace facetrain {

struct FrameSelection {
  std::vector<int64_t> present;  // ascending: the asked frames the plate has (as far as known before decoding)
  FrameRange missing;            // the asked frames it does not have
  // All frames (or a range too wide to list) of a movie whose length its container does not
  // record: `present` stays empty and decoding to the end tells which frames there are.
  bool open_ended = false;
};

// `asked` against `source` (FrameSource::has_frame). FrameRange::all() asks for every frame from the
// plate's first to its last: a sequence's gaps are missing frames.
FrameSelection select_frames(const FrameRange& asked, const FrameSource& source);

// Applies the rule to `selection`. `asked_text` says what was asked, for the message ("--frames
// 1001-1100", "--chunk 3/10 (frames 1021-1030)"). Throws InputDataError when a frame is missing and
// `policy` is error, or when no asked frame is present (not for an open-ended selection). Returns the
// warning to give when frames are missing and skipped, else an empty string.
std::string check_selection(const FrameSelection& selection, const std::string& asked_text, const FrameSource& source,
                            OnMissingFrame policy);

// Frames that were expected from `selection.present` (less `already_done`) but never decoded (a
// movie shorter than its header says, or with gaps in its timestamps), as a range.
FrameRange undelivered_frames(const std::vector<int64_t>& expected, const std::vector<int64_t>& delivered);

// "1-765" (a sequence: its first and last file), "1 on (its length is not recorded)" for a movie
// whose container does not say.
std::string describe_plate_frames(const SourceInfo& info);

}  // namespace facetrain
