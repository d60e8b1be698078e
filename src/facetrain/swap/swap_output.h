#pragma once
// Writing one swapped frame (RGB + matte as alpha) atomically, in the format its extension names.
#include "data_prep/media/image.h"

#include <filesystem>
#include <string>
#include <vector>

namespace facetrain {

enum class OutputFormat { png, tif, exr };

struct OutputEncoding {
  OutputFormat format = OutputFormat::png;
  int bits = 16;   // png/tif: 8 or 16 (unsigned integer); exr: 16 (half) or 32 (float)
};

// The format of a pattern's extension (.png, .tif/.tiff, .exr; case-insensitive). Throws
// UsageError naming the pattern for anything else (movies are not supported yet).
OutputFormat output_format_for(const std::string& pattern);

// Alpha levels of an encoding (255, 65535) or 0 for float formats: mattes are quantised to them.
int alpha_levels(const OutputEncoding& encoding);

// Writes `rgb` (channels 3, the plate's encoding) with `alpha` (width * height) as RGBA. Integer
// formats round clamp(v, 0, 1) * max; float formats keep every value (above 1.0, negative).
// Throws OutputError (73) when the file cannot be created, IoError (74) when writing fails.
void write_swap_frame(const std::filesystem::path& path, const FloatImage& rgb, const std::vector<float>& alpha,
                      const OutputEncoding& encoding);

}  // namespace facetrain
