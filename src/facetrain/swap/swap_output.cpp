#include "facetrain/swap/swap_output.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"

#include <OpenImageIO/imageio.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>

namespace facetrain {

namespace fs = std::filesystem;

OutputFormat output_format_for(const std::string& pattern) {
  std::string ext = fs::path(pattern).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") return OutputFormat::png;
  if (ext == ".tif" || ext == ".tiff") return OutputFormat::tif;
  if (ext == ".exr") return OutputFormat::exr;
  if (ext == ".mov" || ext == ".mp4")
    throw UsageError(fmt::format("-o {}: movie output is not supported yet; write .exr, .tif or .png frames", pattern));
  throw UsageError(fmt::format("-o {}: unknown output format '{}' (use .exr, .tif or .png)", pattern, ext));
}

int alpha_levels(const OutputEncoding& encoding) {
  if (encoding.format == OutputFormat::exr) return 0;
  return encoding.bits == 8 ? 255 : 65535;
}

namespace {

template <typename T>
std::vector<T> quantise(const FloatImage& rgb, const std::vector<float>& alpha, float max_code) {
  const size_t n = static_cast<size_t>(rgb.width) * rgb.height;
  std::vector<T> out(n * 4);
  auto code = [max_code](float v) {
    if (!(v > 0.f)) return T{0};  // NaN and negatives
    if (v >= 1.f) return static_cast<T>(max_code);
    return static_cast<T>(std::lround(v * max_code));
  };
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) out[i * 4 + c] = code(rgb.pixels[i * 3 + c]);
    out[i * 4 + 3] = code(alpha[i]);
  }
  return out;
}

}  // namespace

void write_swap_frame(const fs::path& path, const FloatImage& rgb, const std::vector<float>& alpha,
                      const OutputEncoding& encoding) {
  const size_t n = static_cast<size_t>(rgb.width) * rgb.height;
  if (rgb.channels != 3 || rgb.pixels.size() != n * 3 || alpha.size() != n)
    throw InternalError(fmt::format("{}: inconsistent frame buffers", path.string()));
  const char* format_name = encoding.format == OutputFormat::png ? "png" : encoding.format == OutputFormat::tif ? "tiff" : "openexr";

  OIIO::TypeDesc file_type, buffer_type;
  std::vector<uint8_t> bytes;
  std::vector<uint16_t> words;
  std::vector<float> floats;
  const void* data = nullptr;
  if (encoding.format == OutputFormat::exr) {
    file_type = encoding.bits == 32 ? OIIO::TypeDesc::FLOAT : OIIO::TypeDesc::HALF;
    buffer_type = OIIO::TypeDesc::FLOAT;
    floats.resize(n * 4);
    for (size_t i = 0; i < n; ++i) {
      for (int c = 0; c < 3; ++c) floats[i * 4 + c] = rgb.pixels[i * 3 + c];
      floats[i * 4 + 3] = alpha[i];
    }
    data = floats.data();
  } else if (encoding.bits == 8) {
    file_type = buffer_type = OIIO::TypeDesc::UINT8;
    bytes = quantise<uint8_t>(rgb, alpha, 255.f);
    data = bytes.data();
  } else {
    file_type = buffer_type = OIIO::TypeDesc::UINT16;
    words = quantise<uint16_t>(rgb, alpha, 65535.f);
    data = words.data();
  }

  OIIO::ImageSpec spec(rgb.width, rgb.height, 4, file_type);
  spec.channelnames = {"R", "G", "B", "A"};
  spec.alpha_channel = 3;
  spec.attribute("oiio:UnassociatedAlpha", 1);  // colour is not premultiplied by the matte
  if (encoding.format == OutputFormat::exr) spec.attribute("compression", "zip");
  if (encoding.format == OutputFormat::tif) spec.attribute("compression", "zip");
  spec.attribute("Software", "facetrain");

  AtomicOutput output(path);
  auto out = OIIO::ImageOutput::create(format_name);
  if (!out) throw InternalError(fmt::format("{}: OpenImageIO has no {} writer", path.string(), format_name));
  if (!out->open(output.temp_path().string(), spec))
    throw OutputError(fmt::format("{}: cannot create: {}", path.string(), out->geterror()));
  if (!out->write_image(buffer_type, data)) {
    const std::string why = out->geterror();
    out->close();
    throw IoError(fmt::format("{}: write failed: {}", path.string(), why));
  }
  if (!out->close()) throw IoError(fmt::format("{}: write failed: {}", path.string(), out->geterror()));
  output.commit();
}

}  // namespace facetrain
