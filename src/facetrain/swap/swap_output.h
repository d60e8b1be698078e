#pragma once
// Writing one swapped frame (RGB + matte as alpha) atomically, in the format its extension names.
#include "facetrain/media/image.h"

#include <filesystem>
#include <string>
#include <vector>

namespace facetrain {

enum class OutputFormat { png, tif, exr };

struct OutputEncoding {
  OutputFormat format = OutputFormat::png;
  int bits = 16;   // png/tif: 8 or 16 (unsigned integer); exr: 16 (half) or 32 (float)
  std::string exr_compression = "zip";   // zip, piz, dwaa or none (OpenEXR's names)
};

// "zip", "piz", "dwaa" or "none"; UsageError naming the choices otherwise.
std::string parse_exr_compression(const std::string& text);

// The format of a pattern's extension (.png, .tif/.tiff, .exr; case-insensitive). Throws
// UsageError naming the pattern for anything else (movies go through swap_writer.h).
OutputFormat output_format_for(const std::string& pattern);

// Alpha levels of an encoding (255, 65535) or 0 for float formats: mattes are quantised to them.
int alpha_levels(const OutputEncoding& encoding);

// The frame rate and timecode an image's header records (an EXR plate's framesPerSecond and
// timeCode, as OpenImageIO names them FramesPerSecond and smpte:TimeCode): fps 0 and an empty
// timecode when absent or unreadable.
struct ImageTiming {
  double fps = 0;
  std::string timecode;   // "HH:MM:SS:FF"
};
ImageTiming read_image_timing(const std::filesystem::path& path);

// What a frame's header says besides its pixels.
struct FrameMetadata {
  // An image whose header attributes are carried over where the format can hold them (an EXR
  // plate's chromaticities, owner, comments, timecode, framesPerSecond...); the pixel layout,
  // compression and Software are the output's own. An unreadable header is skipped with a warning.
  std::filesystem::path copy_from;
  // EXR only, when known and not carried over: framesPerSecond and this frame's timeCode.
  ImageTiming timing;
};

// Writes `rgb` (channels 3, the plate's encoding) with `alpha` (width * height) as RGBA. Integer
// formats round clamp(v, 0, 1) * max; float formats keep every value (above 1.0, negative).
// Throws OutputError (73) when the file cannot be created, IoError (74) when writing fails.
void write_swap_frame(const std::filesystem::path& path, const FloatImage& rgb, const std::vector<float>& alpha,
                      const OutputEncoding& encoding, const FrameMetadata& metadata = {});

// Writes `matte` (width * height, 0..1) as a 16-bit grey PNG, atomically (the matte sequence beside
// a movie). Errors as write_swap_frame.
void write_matte_frame(const std::filesystem::path& path, int width, int height, const std::vector<float>& matte);

}  // namespace facetrain
