#pragma once
// Writing one swapped frame atomically, in the format its extension names and in the layout its
// kind asks for (output_kind.h: the finished frame, or the face alone as an element).
#include "facetrain/base/image.h"
#include "facetrain/jobs/output_kind.h"

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

// The EXR channel that holds the matte of a full frame (Nuke shows it as layer "matte", matte.alpha).
inline constexpr const char* kMatteChannel = "matte.A";
// The header attribute that says which kind a file is ("full-frame" or "element"): an EXR string
// attribute; PNG and TIFF also describe their alpha in ImageDescription.
inline constexpr const char* kOutputKindAttribute = "facetrain:outputKind";

// Writes one frame of `kind`. `rgb` (channels 3, the plate's encoding) is the finished frame
// (full_frame) or the face premultiplied by the matte, 0 outside it (element); `matte` (width *
// height, 0..1) is the matte. Full frame: EXR R,G,B, A = 1 and the matte in kMatteChannel; PNG and
// TIFF RGBA with the matte as unassociated alpha. Element: EXR and TIFF associated RGBA (RGB as given,
// A = matte); PNG, which has only unassociated alpha, RGB = rgb / matte where matte > 0 (else 0).
// Integer formats round clamp(v, 0, 1) * max; float formats keep every value (above 1.0, negative).
// Throws OutputError (73) when the file cannot be created, IoError (74) when writing fails.
void write_swap_frame(const std::filesystem::path& path, const FloatImage& rgb, const std::vector<float>& matte,
                      OutputKind kind, const OutputEncoding& encoding, const FrameMetadata& metadata = {});

// `premultiplied` divided by `matte` where it is > 0, 0 elsewhere: an element's colour for formats
// that hold only straight alpha (PNG, ProRes 4444).
FloatImage unpremultiply(const FloatImage& premultiplied, const std::vector<float>& matte);

// Writes `matte` (width * height, 0..1) as a 16-bit grey PNG, atomically (the matte sequence beside
// a movie). Errors as write_swap_frame.
void write_matte_frame(const std::filesystem::path& path, int width, int height, const std::vector<float>& matte);

}  // namespace facetrain
