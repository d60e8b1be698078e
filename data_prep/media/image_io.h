#pragma once
// Writing and reading 8-bit PNG crops and masks. Writes are atomic (temporary file, fsync, rename).
#include "data_prep/media/image.h"

#include <filesystem>

namespace facetrain {

// zlib level 0..9. 1 is the default: for 256x256 face crops it is about 2x faster than 6 for files
// about 10% larger (see the media notes in the report / bench test "[.bench][png]").
inline constexpr int kDefaultPngCompressionLevel = 1;

// Throw OutputError (73) / IoError (74) naming `path`; InternalError for an inconsistent image.
void write_png(const std::filesystem::path& path, const Rgb8Image& image,
               int compression_level = kDefaultPngCompressionLevel);
void write_png(const std::filesystem::path& path, const Gray8Image& image,
               int compression_level = kDefaultPngCompressionLevel);

// Any still image OpenImageIO reads, as 8-bit RGB (grey is replicated, alpha dropped).
// Throws MissingInputError (66) or InputDataError (65) naming `path`.
Rgb8Image read_rgb8(const std::filesystem::path& path);

}  // namespace facetrain
