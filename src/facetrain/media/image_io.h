#pragma once
// Writing and reading 8-bit PNG crops and masks. Writes are atomic (temporary file, fsync, rename).
#include "facetrain/base/image.h"
#include "facetrain/base/atomic_file.h"

#include <filesystem>
#include <string>

namespace facetrain {

// zlib level 0..9. Levels 1-3 are the fast mode (PNG "up" filter, run-length matching): on a
// 256x256 face crop about 3-4 ms to encode, versus about 30 ms at level 6 (adaptive filters, zlib's
// default strategy) for files only ~5% smaller. 0 stores uncompressed. Measure with
// `facetrain_unit_tests "[.bench][png]"`.
inline constexpr int kDefaultPngCompressionLevel = 3;

// Throw OutputError (73) / IoError (74) naming `path`; InternalError for an inconsistent image.
// Durability::deferred: see atomic_file.h (extract syncs once per committed chunk of records).
void write_png(const std::filesystem::path& path, const Rgb8Image& image,
               int compression_level = kDefaultPngCompressionLevel, Durability durability = Durability::immediate);
void write_png(const std::filesystem::path& path, const Gray8Image& image,
               int compression_level = kDefaultPngCompressionLevel, Durability durability = Durability::immediate);

// The PNG file's bytes, for callers that store or send them themselves.
std::string encode_png(const Rgb8Image& image, int compression_level = kDefaultPngCompressionLevel);

// Any still image OpenImageIO reads, as 8-bit RGB (grey is replicated, alpha dropped).
// Throws MissingInputError (66) or InputDataError (65) naming `path`.
Rgb8Image read_rgb8(const std::filesystem::path& path);

}  // namespace facetrain
