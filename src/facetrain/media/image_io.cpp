#include "facetrain/media/image_io.h"

#include "facetrain/media/oiio_module.h"
#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"

#include <fmt/format.h>
#include <png.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

namespace facetrain {
namespace {

// PNG encoding goes straight to libpng (linked through dlib's interface libraries; libpng-dev is a
// dependency of libdlib-dev): OpenImageIO's PNG writer costs several milliseconds more per crop.

struct PngSink {
  std::string* bytes;
  char error[256];
};

void png_append(png_structp png, png_bytep data, png_size_t length) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  sink->bytes->append(reinterpret_cast<const char*>(data), length);
}

void png_no_flush(png_structp) {}

[[noreturn]] void png_on_error(png_structp png, png_const_charp message) {
  auto* sink = static_cast<PngSink*>(png_get_error_ptr(png));
  std::snprintf(sink->error, sizeof(sink->error), "%s", message ? message : "libpng error");
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}

// Encodes into sink->bytes. Only trivially destructible objects live in this frame: libpng reports
// errors with longjmp.
bool encode_png(PngSink* sink, int width, int height, int channels, const uint8_t* pixels, int level) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, sink, png_on_error, png_on_warning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, sink, png_append, png_no_flush);
  png_set_compression_level(png, level);
  if (level >= 1 && level <= 3) {
    // Fast levels: one cheap filter and run-length matching. On 256x256 face crops this is both
    // faster and smaller than zlib's default strategy at the same level (see the report).
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
    png_set_compression_strategy(png, 3 /* Z_RLE */);
  } else if (level == 0) {
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  }
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE,
               PNG_FILTER_TYPE_BASE);
  png_write_info(png, info);
  const size_t row_bytes = static_cast<size_t>(width) * channels;
  for (int y = 0; y < height; ++y) png_write_row(png, pixels + y * row_bytes);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return true;
}

void encode_png_checked(const std::string& what, int width, int height, int channels, const uint8_t* pixels,
                        size_t pixel_bytes, int compression_level, std::string& encoded) {
  if (width <= 0 || height <= 0 || pixel_bytes != static_cast<size_t>(width) * height * channels) {
    throw InternalError(fmt::format("{}: cannot write a {}x{} image holding {} bytes", what, width, height, pixel_bytes));
  }
  encoded.clear();
  PngSink sink{&encoded, {0}};
  if (!encode_png(&sink, width, height, channels, pixels, std::clamp(compression_level, 0, 9))) {
    throw InternalError(fmt::format("{}: PNG encoding failed: {}", what, sink.error));
  }
}

void write_png_pixels(const std::filesystem::path& path, int width, int height, int channels, const uint8_t* pixels,
                      size_t pixel_bytes, int compression_level, Durability durability) {
  thread_local std::string encoded;  // reused: no allocation per crop in steady state
  encode_png_checked(path.string(), width, height, channels, pixels, pixel_bytes, compression_level, encoded);
  AtomicOutput output(path, default_file_mode(), durability);
  const int fd = ::open(output.temp_path().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw OutputError(fmt::format("{}: cannot create: {}", path.string(), std::strerror(errno)));
  size_t written = 0;
  while (written < encoded.size()) {
    const ssize_t n = ::write(fd, encoded.data() + written, encoded.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      throw IoError(fmt::format("{}: write failed: {}", path.string(), std::strerror(error)));
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) throw IoError(fmt::format("{}: write failed: {}", path.string(), std::strerror(errno)));
  output.commit();
}

}  // namespace

void write_png(const std::filesystem::path& path, const Rgb8Image& image, int compression_level, Durability durability) {
  write_png_pixels(path, image.width, image.height, 3, image.pixels.data(), image.pixels.size(), compression_level,
                   durability);
}

void write_png(const std::filesystem::path& path, const Gray8Image& image, int compression_level, Durability durability) {
  write_png_pixels(path, image.width, image.height, 1, image.pixels.data(), image.pixels.size(), compression_level,
                   durability);
}

std::string encode_png(const Rgb8Image& image, int compression_level) {
  std::string encoded;
  encode_png_checked("PNG in memory", image.width, image.height, 3, image.pixels.data(), image.pixels.size(),
                     compression_level, encoded);
  return encoded;
}

Rgb8Image read_rgb8(const std::filesystem::path& path) { return oiio_module().read_rgb8(path); }

}  // namespace facetrain
