#pragma once
// Decoded plate frames from a movie (libav*) or an image sequence (OpenImageIO), behind one interface.
#include "facetrain/base/error.h"
#include "facetrain/base/image.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace facetrain {

struct SourceInfo {
  std::string path;              // as the user gave it (a file, or a sequence pattern)
  bool is_sequence = false;
  int width = 0;                 // after rotation metadata is applied
  int height = 0;
  double fps = 0.0;              // 0 when unknown (image sequences without metadata)
  int64_t frame_first = 0;       // plate frame numbers
  int64_t frame_last = -1;       // movies: estimated from duration; sequences: from the files found
  std::string codec;             // "h264", "prores", "openexr", "dpx"...
  std::string colorspace;        // "bt709", "srgb", "linear", ... as known from the file
  bool scene_linear = false;     // float plates (EXR) are scene-linear unless told otherwise
  int bit_depth = 8;
  std::string timecode;          // movies: the first frame's timecode ("HH:MM:SS:FF") when the file has one
};

enum class OnMissingFrame { error, skip };

// --on-missing's words (extract and swap alike), and the one place they are read: "error" | "skip";
// anything else is a UsageError (64) naming it.
inline const std::vector<std::string> kOnMissingWords = {"error", "skip"};
inline OnMissingFrame parse_on_missing(const std::string& word) {
  if (word == "error") return OnMissingFrame::error;
  if (word == "skip") return OnMissingFrame::skip;
  throw UsageError("--on-missing " + word + ": use error or skip");
}

struct FrameSourceOptions {
  int64_t start_frame = 1;                  // number of a movie's first frame
  OnMissingFrame on_missing = OnMissingFrame::error;
  bool want_full_precision = false;         // also fill Frame::full (swap needs it, extract does not)
  int decode_threads = 0;                   // 0 = let the decoder choose
  int64_t max_pixels = int64_t{1} << 27;    // refuse larger frames before allocating (134 Mpx)
  // The plate's colour space in an OpenColorIO config ($OCIO or `ocio_config`): the detection proxy
  // is then its display transform instead of the sRGB OETF. Image sequences only (movies are
  // display-referred video and keep their own colour matrix).
  std::string colorspace;
  std::string ocio_config;
};

struct Frame {
  int64_t number = 0;                // plate frame number
  double time_s = 0.0;               // presentation time (movies), 0 for sequences
  Rgb8Image display;                 // 8-bit display-referred proxy (sRGB / Rec.709 encoded)
  std::optional<FloatImage> full;    // full precision, when asked for
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual const SourceInfo& info() const = 0;
  // Whether the plate holds frame `number`, as far as is known before decoding: a sequence's files;
  // a movie's frames from frame_first to frame_last (from frame_first on when its length is unknown,
  // frame_last < frame_first; decoding then tells).
  virtual bool has_frame(int64_t number) const = 0;
  // Positions the source so that the next read() returns the first frame numbered >= `frame`.
  virtual void seek(int64_t frame) = 0;
  // Reads the next frame in order. Returns false at the end. Throws InputDataError naming the file
  // (and frame) for damaged data; frames decoded before the damage have already been returned.
  // A movie cut short is damage when its container's index says more data should follow (mp4, mov,
  // avi); containers without such an index (MPEG-TS, raw streams) simply end. A missing frame in an
  // image sequence is damage naming the missing file, unless on_missing == skip.
  virtual bool read(Frame& frame) = 0;
};

// Opens a movie file or an image-sequence pattern (####, @, %04d, $F4). Throws MissingInputError (66)
// for a missing file or a pattern matching nothing, InputDataError (65) for unreadable media.
// A name with a frame token that exists as a file is that file. A single still image (.exr, .dpx,
// .tif, .png, .jpg...) is a one-frame source numbered options.start_frame. Movies must be local
// regular files in a self-contained container (playlists and concat lists are refused).
std::unique_ptr<FrameSource> open_frame_source(const std::string& input, const FrameSourceOptions& options);

}  // namespace facetrain
