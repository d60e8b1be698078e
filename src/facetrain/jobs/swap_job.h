#pragma once
// What `facetrain swap` is asked to do (docs/design.md §5), as plain data; no LibTorch.
#include "facetrain/base/frame_range.h"
#include "facetrain/manifest/swap_manifest.h"
#include "facetrain/media/frame_source.h"
#include "facetrain/jobs/output_kind.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace facetrain {

// auto: visible when the face set has visible-face mattes (`facetrain matte apply`), else both.
// visible: both, and only where the face is visible (occluders in front stay the plate).
enum class MatteMode { mask, hull, both, visible, automatic };
enum class ColorMode { none, rct, lct, hist };  // color_transfer.h

MatteMode parse_matte_mode(const std::string& text);  // UsageError naming the choices
ColorMode parse_color_mode(const std::string& text);

// What `facetrain swap` is asked to do. The inputs and the frames at the top level; the rest in
// groups, each handed only to the component that needs it: `output` to the writer (swap_writer.h),
// `composite` to the matte and the compositing, `colour` to the colour transfer, `quality` to the
// scores.
struct SwapJob {
  std::filesystem::path model;        // a run directory or one checkpoint directory
  std::string plate;                  // movie or image-sequence pattern (the double's plate)
  std::filesystem::path faces;        // the plate's face set (from `facetrain extract`)
  std::string ocio_config;            // the face set's OpenColorIO config if not at its recorded path; "" = that path, else $OCIO
  FrameRange frames = FrameRange::all();
  int chunk_index = 1, chunk_count = 1;   // chunk I of N contiguous chunks of the asked frames
  OnMissingFrame on_missing = OnMissingFrame::error;  // asked frames the plate lacks: error, or skip them
  int64_t start_frame = 1;            // number of a movie's first frame (as given to extract)
  bool skip_existing = false;
  bool force = false;                 // accept a plate that is not the face set's source
  std::string device = "cpu";         // cpu | cuda
  int batch = 0;                      // faces per network call; 0 = 1 on CPU, 8 on CUDA

  // Where and how the frames are written (SwapWriter).
  struct Output {
    std::string pattern;              // frames: ####, @, %04d or $F4; extension picks the format
    OutputKind kind = OutputKind::full_frame;  // the finished frame, or the face alone (output_kind.h)
    int exr_bits = 0;                 // 16 half / 32 float; 0 = half for half plates, else float
    std::string exr_compression;      // zip | piz | dwaa | none; "" = zip (EXR output only)
    int bits = 0;                     // .png/.tif: 8 or 16; 0 = the plate's depth (png) or 16 (tif)
    std::string codec;                // movies: prores_4444 | prores_hq | h264; "" = prores_hq (.mov), h264 (.mp4)
    int crf = -1;                     // H.264 constant rate factor 0..51; -1 = 18
    bool review = false;              // also write plate | swap | matte review frames (or an H.264 review movie)
  } output;

  // The matte each face is composited through.
  struct Composite {
    MatteMode matte = MatteMode::automatic;
    int erode_px = 2;                 // in output pixels; negative grows the matte
    int feather_px = 6;
    int visible_choke_px = 2;         // the visible-face matte eroded by this many output pixels
  } composite;

  // The colour transfer from the plate's face to the network's (color_transfer.h).
  struct Colour {
    ColorMode mode = ColorMode::rct;
    int window = 5;                   // colour statistics of the plate's face averaged over +-K frames
  } colour;

  // The quality scores (issue 12): identity, expression, flicker and seam.
  struct Quality {
    bool enabled = true;
    std::string identity_model;       // dlib's face-recognition model; "" = default_identity_model_path()
  } quality;
};

struct SwapReport {
  int64_t frames_selected = 0;
  int64_t frames_written = 0;
  int64_t frames_skipped_existing = 0;
  int64_t frames_without_record = 0;   // not in the face set: written unchanged
  int64_t frames_without_faces = 0;    // recorded with no face: written unchanged
  int64_t faces_swapped = 0;
  FrameRange frames_missing;           // asked frames the plate does not have (--on-missing skip)
  double seconds = 0;
  std::filesystem::path checkpoint;
  std::vector<std::filesystem::path> movies;   // movies completed (the output, the review movie)
  std::optional<SwapQualitySummary> quality;   // the chunk's scores (absent with --no-quality)
};

}  // namespace facetrain
