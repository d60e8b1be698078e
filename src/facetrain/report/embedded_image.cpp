#include "facetrain/report/embedded_image.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <png.h>

#include <cstdio>  // jpeglib.h needs FILE declared first
#include <jpeglib.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdlib>

namespace facetrain::report {

RgbImage decode_png(std::string_view png, const std::string& what) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size()))
    throw InputDataError(fmt::format("{}: not a readable PNG ({})", what, image.message));
  image.format = PNG_FORMAT_RGB;
  RgbImage out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  png_color black{0, 0, 0};
  if (!png_image_finish_read(&image, &black, out.pixels.data(), 0, nullptr)) {
    png_image_free(&image);
    throw InputDataError(fmt::format("{}: damaged PNG ({})", what, image.message));
  }
  return out;
}

RgbImage fit_width(const RgbImage& image, int max_width) {
  if (image.width <= max_width || max_width <= 0) return image;
  RgbImage out;
  out.width = max_width;
  out.height = std::max(1, static_cast<int>(static_cast<int64_t>(image.height) * max_width / image.width));
  out.pixels.resize(static_cast<size_t>(out.width) * out.height * 3);
  // Each output pixel averages the source rectangle it covers (fractional edges weighted).
  const double sx = static_cast<double>(image.width) / out.width;
  const double sy = static_cast<double>(image.height) / out.height;
  for (int oy = 0; oy < out.height; ++oy) {
    const double y0 = oy * sy, y1 = (oy + 1) * sy;
    for (int ox = 0; ox < out.width; ++ox) {
      const double x0 = ox * sx, x1 = (ox + 1) * sx;
      double sum[3] = {0, 0, 0}, area = 0;
      for (int y = static_cast<int>(y0); y < std::min<int>(image.height, static_cast<int>(std::ceil(y1))); ++y) {
        const double wy = std::min<double>(y + 1, y1) - std::max<double>(y, y0);
        for (int x = static_cast<int>(x0); x < std::min<int>(image.width, static_cast<int>(std::ceil(x1))); ++x) {
          const double w = wy * (std::min<double>(x + 1, x1) - std::max<double>(x, x0));
          const uint8_t* p = &image.pixels[(static_cast<size_t>(y) * image.width + x) * 3];
          for (int c = 0; c < 3; ++c) sum[c] += w * p[c];
          area += w;
        }
      }
      uint8_t* q = &out.pixels[(static_cast<size_t>(oy) * out.width + ox) * 3];
      for (int c = 0; c < 3; ++c) q[c] = static_cast<uint8_t>(std::clamp(sum[c] / area + 0.5, 0.0, 255.0));
    }
  }
  return out;
}

namespace {

// libjpeg's default error handler exits the process; this one jumps back to the encoder, which
// throws (a jump, not an exception, crosses libjpeg's C frames).
struct JpegErrors {
  jpeg_error_mgr manager{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX] = {};
};

[[noreturn]] void jump_on_error(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

}  // namespace

std::string encode_jpeg(const RgbImage& image, int quality) {
  jpeg_compress_struct cinfo{};
  JpegErrors errors;
  cinfo.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = jump_on_error;
  unsigned char* buffer = nullptr;  // malloc'ed by jpeg_mem_dest, ours to free
  unsigned long size = 0;
  if (setjmp(errors.jump)) {
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);
    throw InternalError(fmt::format("JPEG encoder: {}", errors.message));
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    auto* row = const_cast<JSAMPROW>(&image.pixels[static_cast<size_t>(cinfo.next_scanline) * image.width * 3]);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::string out(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  return out;
}

std::string data_uri(std::string_view mime, std::string_view bytes) {
  std::string out = fmt::format("data:{};base64,", mime);
  const size_t prefix = out.size();
  out.resize(prefix + 4 * ((bytes.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[prefix]),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(prefix + static_cast<size_t>(n));
  return out;
}

}  // namespace facetrain::report
