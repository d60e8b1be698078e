#pragma once
// Decodes a PNG whole with libpng alone (verify must not load the media libraries): a truncated,
// bit-flipped or mislabelled file fails. Returns the image's size; throws MissingInputError (66)
// or InputDataError (65) naming the file.
#include <filesystem>

namespace facetrain {

struct PngSize {
  int width = 0;
  int height = 0;
};

PngSize check_png_decodes(const std::filesystem::path& path);

}  // namespace facetrain
