#pragma once
// Writing a movie (QuickTime .mov or MPEG-4 .mp4) from float RGB frames given in order, through
// libav* (the only other translation unit with FFmpeg headers besides video_source.cpp).
//
// A movie cannot be written frame by frame atomically: it is encoded into a temporary file beside
// the final path and renamed into place by finish(). A writer destroyed before finish() (an error,
// a stop signal) removes the temporary file, so a half-written movie is never left behind.
#include "facetrain/base/image.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace facetrain {

enum class MovieCodec {
  prores_4444,  // FFmpeg prores_ks, profile 4444, yuva444p10le: the alpha channel carries the matte
  prores_hq,    // prores_ks, profile HQ (3), yuv422p10le
  h264,         // libx264, yuv420p, constant rate factor `crf`
};

// "prores_4444", "prores_hq" or "h264"; UsageError naming the choices otherwise.
MovieCodec parse_movie_codec(const std::string& text);
const char* movie_codec_name(MovieCodec codec);
// Whether this build's libavcodec has the encoder (libx264 is optional in FFmpeg builds).
bool movie_codec_available(MovieCodec codec);
// True for paths ending in .mov or .mp4 (case-insensitive).
bool is_movie_path(const std::filesystem::path& path);

struct MovieSettings {
  MovieCodec codec = MovieCodec::prores_hq;
  int width = 0;
  int height = 0;
  double fps = 24.0;        // <= 0 means unknown: 24
  std::string timecode;     // "HH:MM:SS:FF" (";" for drop frame) of the first frame; empty: none
  int crf = 18;             // h264 only: 0 (lossless) .. 51
  std::string comment;      // the container's comment (QuickTime ©cmt, MP4 comment); empty: none
};

class MovieWriter {
 public:
  // Checks the codec/container pair and the frame size (UsageError: ProRes needs .mov, 4:2:0
  // H.264 needs even dimensions), that the encoder exists (UnavailableError), and creates the
  // temporary file (OutputError, exit 73, naming `path`, when it cannot be created).
  MovieWriter(std::filesystem::path path, const MovieSettings& settings);
  ~MovieWriter();
  MovieWriter(const MovieWriter&) = delete;
  MovieWriter& operator=(const MovieWriter&) = delete;

  // Appends one frame: `rgb` holds 3 channels of display-referred values (0..1; others are
  // clamped, NaN is 0) at the movie's size; `alpha` (width * height, 0..1) is used by ProRes 4444
  // and may be empty (opaque). IoError (74) naming the file when encoding or writing fails.
  void write(const FloatImage& rgb, const std::vector<float>& alpha);
  // Flushes the encoder, writes the index, fsyncs and renames the movie into place.
  void finish();

  int64_t frames_written() const;
  const std::filesystem::path& path() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// `timecode` moved by `frames` frames at `fps` (e.g. "01:00:00:00" + 25 at 25 fps = "01:00:01:00").
// Returns an empty string when `timecode` is empty or not a valid timecode at that rate.
std::string offset_timecode(const std::string& timecode, double fps, int64_t frames);

}  // namespace facetrain
