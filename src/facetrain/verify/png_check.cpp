#include "facetrain/verify/png_check.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>
#include <png.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace facetrain {

PngSize check_png_decodes(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw MissingInputError(fmt::format("{}: no such file", name));
  if (!std::filesystem::is_regular_file(path, ec)) throw InputDataError(fmt::format("{}: not a regular file", name));
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, name.c_str()))
    throw InputDataError(fmt::format("{}: cannot read image: {}", name, image.message));
  // Facetrain's PNGs are at most a few thousand pixels a side; refuse a header that claims more
  // before allocating for it.
  if (image.width == 0 || image.height == 0 || image.width > 32768 || image.height > 32768) {
    png_image_free(&image);
    throw InputDataError(fmt::format("{}: implausible image size {}x{}", name, image.width, image.height));
  }
  image.format = PNG_FORMAT_RGB;
  std::vector<std::uint8_t> pixels(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr))
    throw InputDataError(fmt::format("{}: damaged image: {}", name, image.message));
  return {static_cast<int>(image.width), static_cast<int>(image.height)};
}

}  // namespace facetrain
