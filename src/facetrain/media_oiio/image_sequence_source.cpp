// Image-sequence frames (and single still images) through OpenImageIO 2.4.
//
// Each frame is one file; frame numbers come from the file names. A number between the first and
// last file found that has no file is a missing frame: an InputDataError naming the missing path,
// or (OnMissingFrame::skip) a warning and the next frame. Readers are chosen by file extension
// only, from a list of still-image formats (OpenImageIO would otherwise try every reader it has,
// movie readers included, on a file whose contents do not match its extension).
#include "facetrain/media/frame_limits.h"
#include "facetrain/base/file_extension.h"
#include "facetrain/media/source_factories.h"
#include "facetrain/media/oiio_module.h"
#include "facetrain/media/display_transform.h"
#include "facetrain/media/srgb.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"

#include <OpenImageIO/imageio.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <fstream>
#include <string_view>

namespace facetrain {
namespace {

constexpr std::array<std::string_view, 12> kAllowedReaders = {"openexr", "dpx",  "cineon", "tiff", "png",  "jpeg",
                                                              "targa",   "sgi",  "bmp",    "hdr",  "webp", "jpeg2000"};

// Opens `path` with the reader its extension names; throws InputDataError naming the file.
std::unique_ptr<OIIO::ImageInput> open_image(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::string extension = lower_case_extension(path);
  if (!extension.empty() && extension[0] == '.') extension.erase(0, 1);
  if (extension.empty()) throw InputDataError(fmt::format("{}: no file extension to tell the image format", name));
  auto input = OIIO::ImageInput::create(extension);
  if (!input) {
    (void)OIIO::geterror();
    throw InputDataError(fmt::format("{}: unsupported image format '.{}'", name, extension));
  }
  const std::string_view reader = input->format_name();
  if (std::find(kAllowedReaders.begin(), kAllowedReaders.end(), reader) == kAllowedReaders.end()) {
    throw InputDataError(fmt::format("{}: the '{}' reader is not used for plates", name, reader));
  }
  OIIO::ImageSpec spec;
  if (!input->open(name, spec)) {
    const std::string why = input->geterror();
    throw InputDataError(fmt::format("{}: cannot read this {} file: {}", name, reader, why.empty() ? "unknown error" : why));
  }
  return input;
}

bool is_float_type(const OIIO::TypeDesc& type) {
  return type.basetype == OIIO::TypeDesc::HALF || type.basetype == OIIO::TypeDesc::FLOAT ||
         type.basetype == OIIO::TypeDesc::DOUBLE;
}

class ImageSequenceSource final : public FrameSource {
 public:
  ImageSequenceSource(const std::string& display_path, std::map<int64_t, std::filesystem::path> frames,
                      std::function<std::string(int64_t)> path_of_frame, bool is_sequence,
                      const FrameSourceOptions& options)
      : frames_(std::move(frames)), path_of_frame_(std::move(path_of_frame)), options_(options) {
    if (!options_.colorspace.empty())
      transform_ = std::make_unique<DisplayTransform>(options_.ocio_config, options_.colorspace);
    info_.path = display_path;
    info_.is_sequence = is_sequence;
    info_.frame_first = frames_.begin()->first;
    info_.frame_last = frames_.rbegin()->first;
    next_frame_ = info_.frame_first;
    describe(frames_.begin()->second);
  }

  const SourceInfo& info() const override { return info_; }

  bool has_frame(int64_t number) const override { return frames_.count(number) > 0; }

  void seek(int64_t frame) override { next_frame_ = std::max(frame, info_.frame_first); }

  bool read(Frame& out) override {
    while (next_frame_ <= info_.frame_last) {
      const int64_t number = next_frame_++;
      const auto found = frames_.find(number);
      if (found == frames_.end()) {
        const std::string missing = path_of_frame_(number);
        if (options_.on_missing == OnMissingFrame::error) {
          throw InputDataError(fmt::format("{}: frame {} is missing from the sequence {}", missing, number, info_.path));
        }
        log_warning("{}: frame {} is missing from the sequence; skipped", missing, number);
        continue;
      }
      read_frame(found->second, number, out);
      return true;
    }
    return false;
  }

 private:
  // SourceInfo from the first file's header.
  void describe(const std::filesystem::path& first_file) {
    auto input = open_image(first_file);
    const OIIO::ImageSpec& spec = input->spec();
    check_spec(first_file, spec);
    info_.width = spec.width;
    info_.height = spec.height;
    info_.codec = input->format_name();
    info_.bit_depth = spec.get_int_attribute("oiio:BitsPerSample", static_cast<int>(spec.format.size() * 8));
    const bool float_data = is_float_type(spec.format);
    std::string colorspace = spec.get_string_attribute("oiio:ColorSpace");
    const std::string cs = ascii_lower(colorspace);
    const bool display_encoded = cs.find("srgb") != std::string::npos || cs.find("rec709") != std::string::npos ||
                                 cs.find("gamma") != std::string::npos;
    info_.scene_linear = float_data && !display_encoded;
    if (colorspace.empty()) colorspace = info_.scene_linear ? "linear" : "srgb";
    info_.colorspace = transform_ ? options_.colorspace : colorspace;
    input->close();
  }

  void check_spec(const std::filesystem::path& file, const OIIO::ImageSpec& spec) const {
    const std::string name = file.string();
    check_frame_size(name, spec.width, spec.height, options_.max_pixels);
    if (spec.depth > 1) throw InputDataError(fmt::format("{}: volume images are not plates", name));
    if (spec.deep) throw InputDataError(fmt::format("{}: deep images are not supported", name));
    if (spec.nchannels < 1 || spec.nchannels > 64) {
      throw InputDataError(fmt::format("{}: {} channels is not a plate", name, spec.nchannels));
    }
    if (lower_case_extension(file) == ".dpx") check_dpx_length(file, spec);
  }

  // DPX is uncompressed, and OpenImageIO reads the rows missing from a truncated file as black
  // without a word: a file shorter than its header's image data offset plus the pixels it
  // describes (a lower bound: packing only adds) is refused.
  static void check_dpx_length(const std::filesystem::path& file, const OIIO::ImageSpec& spec) {
    std::ifstream in(file, std::ios::binary);
    unsigned char header[8] = {0};
    if (!in.read(reinterpret_cast<char*>(header), sizeof(header))) return;  // the reader judged it already
    const bool big_endian = std::memcmp(header, "SDPX", 4) == 0;
    if (!big_endian && std::memcmp(header, "XPDS", 4) != 0) return;
    const uint64_t data_offset = big_endian
        ? (uint64_t{header[4]} << 24 | uint64_t{header[5]} << 16 | uint64_t{header[6]} << 8 | header[7])
        : (uint64_t{header[7]} << 24 | uint64_t{header[6]} << 16 | uint64_t{header[5]} << 8 | header[4]);
    const int bits = spec.get_int_attribute("oiio:BitsPerSample", static_cast<int>(spec.format.size() * 8));
    const uint64_t pixel_bytes = uint64_t(spec.width) * uint64_t(spec.height) * uint64_t(spec.nchannels) * uint64_t(bits) / 8;
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(file, ec);
    if (!ec && size < data_offset + pixel_bytes)
      throw InputDataError(fmt::format("{}: truncated DPX: {} bytes, its header describes at least {}", file.string(),
                                       size, data_offset + pixel_bytes));
  }

  void read_frame(const std::filesystem::path& file, int64_t number, Frame& out) {
    const std::string name = file.string();
    auto input = open_image(file);
    const OIIO::ImageSpec& spec = input->spec();
    check_spec(file, spec);
    if (spec.width != info_.width || spec.height != info_.height) {
      throw InputDataError(fmt::format("{}: frame {} is {}x{}, the sequence is {}x{}", name, number, spec.width,
                                       spec.height, info_.width, info_.height));
    }
    const int width = spec.width;
    const int height = spec.height;
    const size_t pixel_count = static_cast<size_t>(width) * height;
    // The colour channels (RGB, or grey), plus alpha when the file has one right after RGB.
    const bool has_alpha = spec.nchannels >= 4 && spec.alpha_channel == 3;
    const int read_channels = spec.nchannels >= 3 ? (has_alpha ? 4 : 3) : 1;

    out.number = number;
    out.time_s = 0.0;
    Rgb8Image& display = out.display;
    display.width = width;
    display.height = height;
    display.pixels.resize(pixel_count * 3);

    const bool need_float = options_.want_full_precision || is_float_type(spec.format) || transform_;
    bool ok = false;
    if (need_float) {
      float_scratch_.resize(pixel_count * read_channels);
      ok = input->read_image(0, 0, 0, read_channels, OIIO::TypeDesc::FLOAT, float_scratch_.data());
      if (ok && transform_) {
        // The proxy through the plate's display transform; the full-precision pixels stay untouched.
        display_scratch_.resize(pixel_count * 3);
        for (size_t i = 0; i < pixel_count; ++i)
          for (int c = 0; c < 3; ++c)
            display_scratch_[i * 3 + c] = float_scratch_[i * read_channels + (read_channels >= 3 ? c : 0)];
        transform_->apply(display_scratch_.data(), pixel_count);
        float_to_rgb8(display_scratch_.data(), 3, pixel_count, /*scene_linear=*/false, display.pixels.data());
      } else if (ok) {
        float_to_rgb8(float_scratch_.data(), read_channels, pixel_count, info_.scene_linear, display.pixels.data());
      }
    } else if (read_channels == 3) {
      ok = input->read_image(0, 0, 0, 3, OIIO::TypeDesc::UINT8, display.pixels.data());
    } else {
      byte_scratch_.resize(pixel_count * read_channels);
      ok = input->read_image(0, 0, 0, read_channels, OIIO::TypeDesc::UINT8, byte_scratch_.data());
      if (ok) {
        for (size_t i = 0; i < pixel_count; ++i) {
          const uint8_t* px = byte_scratch_.data() + i * read_channels;
          uint8_t* dst = display.pixels.data() + i * 3;
          if (read_channels >= 3) {
            dst[0] = px[0];
            dst[1] = px[1];
            dst[2] = px[2];
          } else {
            dst[0] = dst[1] = dst[2] = px[0];
          }
        }
      }
    }
    // A truncated TIFF or JPEG can "succeed" with the rows it had (the rest grey or black) while
    // OpenImageIO records the damage: that is a damaged frame too.
    if (ok) ok = !input->has_error();
    if (ok) ok = input->close() && !input->has_error();
    if (!ok) {
      const std::string why = input->geterror();
      throw InputDataError(fmt::format("{}: cannot read the pixels of frame {}: {}", name, number,
                                       why.empty() ? "unknown error" : why));
    }

    if (!options_.want_full_precision) {
      out.full.reset();
      return;
    }
    if (!out.full) out.full.emplace();
    FloatImage& full = *out.full;
    full.width = width;
    full.height = height;
    full.channels = read_channels == 4 ? 4 : 3;
    full.pixels.resize(pixel_count * full.channels);
    if (read_channels == full.channels) {
      std::copy(float_scratch_.begin(), float_scratch_.begin() + full.pixels.size(), full.pixels.begin());
    } else {  // grey -> RGB
      for (size_t i = 0; i < pixel_count; ++i) {
        const float value = float_scratch_[i];
        full.pixels[i * 3] = full.pixels[i * 3 + 1] = full.pixels[i * 3 + 2] = value;
      }
    }
  }

  std::map<int64_t, std::filesystem::path> frames_;
  std::function<std::string(int64_t)> path_of_frame_;
  FrameSourceOptions options_;
  std::unique_ptr<DisplayTransform> transform_;  // when the plate's colour space is given
  std::vector<float> display_scratch_;
  SourceInfo info_;
  int64_t next_frame_ = 0;
  std::vector<float> float_scratch_;
  std::vector<uint8_t> byte_scratch_;
};

}  // namespace

std::unique_ptr<FrameSource> open_image_sequence_source_oiio(const std::string& display_path,
                                                        std::map<int64_t, std::filesystem::path> frames,
                                                        std::function<std::string(int64_t)> path_of_frame,
                                                        bool is_sequence, const FrameSourceOptions& options) {
  if (frames.empty()) throw MissingInputError(fmt::format("{}: no files match this image-sequence pattern", display_path));
  return std::make_unique<ImageSequenceSource>(display_path, std::move(frames), std::move(path_of_frame), is_sequence,
                                               options);
}

}  // namespace facetrain
