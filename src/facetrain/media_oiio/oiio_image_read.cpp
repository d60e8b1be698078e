// read_rgb8's implementation, in libfacetrain-oiio.so (src/facetrain/media/oiio_module.h).
#include "facetrain/media/frame_limits.h"
#include "facetrain/base/image.h"
#include "facetrain/media/oiio_module.h"
#include "facetrain/base/error.h"

#include <OpenImageIO/imageio.h>
#include <fmt/format.h>

#include <vector>

namespace facetrain {

Rgb8Image read_rgb8_oiio(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw MissingInputError(fmt::format("{}: no such file", name));
  if (!std::filesystem::is_regular_file(path, ec)) throw InputDataError(fmt::format("{}: not a regular file", name));
  auto input = OIIO::ImageInput::open(name);
  if (!input) {
    const std::string why = OIIO::geterror();
    throw InputDataError(fmt::format("{}: cannot read image: {}", name, why.empty() ? "unknown format" : why));
  }
  const OIIO::ImageSpec& spec = input->spec();
  check_frame_size(name, spec.width, spec.height, int64_t{1} << 27);
  if (spec.nchannels < 1 || spec.depth > 1 || spec.deep) {
    throw InputDataError(fmt::format("{}: not a 2D colour or grey image", name));
  }
  const int channels = spec.nchannels >= 3 ? 3 : 1;
  const size_t pixel_count = static_cast<size_t>(spec.width) * spec.height;
  Rgb8Image image;
  image.width = spec.width;
  image.height = spec.height;
  image.pixels.resize(pixel_count * 3);
  bool ok = false;
  if (channels == 3) {
    ok = input->read_image(0, 0, 0, 3, OIIO::TypeDesc::UINT8, image.pixels.data());
  } else {
    std::vector<uint8_t> grey(pixel_count);
    ok = input->read_image(0, 0, 0, 1, OIIO::TypeDesc::UINT8, grey.data());
    for (size_t i = 0; ok && i < pixel_count; ++i) {
      image.pixels[i * 3] = image.pixels[i * 3 + 1] = image.pixels[i * 3 + 2] = grey[i];
    }
  }
  if (!ok) {
    const std::string why = input->geterror();
    throw InputDataError(fmt::format("{}: cannot read pixels: {}", name, why.empty() ? "unknown error" : why));
  }
  input->close();
  return image;
}

}  // namespace facetrain
