#include "facetrain/swap/swap_output.h"
#include "facetrain/base/file_extension.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"

#include <OpenImageIO/imageio.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <mutex>

namespace facetrain {

namespace fs = std::filesystem;

OutputFormat output_format_for(const std::string& pattern) {
  const std::string ext = lower_case_extension(pattern);
  if (ext == ".png") return OutputFormat::png;
  if (ext == ".tif" || ext == ".tiff") return OutputFormat::tif;
  if (ext == ".exr") return OutputFormat::exr;
  throw UsageError(fmt::format("-o {}: unknown output format '{}' (use .exr, .tif, .png, .mov or .mp4)", pattern, ext));
}

std::string parse_exr_compression(const std::string& text) {
  if (text == "zip" || text == "piz" || text == "dwaa" || text == "none") return text;
  throw UsageError(fmt::format("--exr-compression {}: use zip, piz, dwaa or none", text));
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

// Header attributes that describe the file's own layout or encoding, not the picture: never copied.
bool is_structural_attribute(const std::string& name) {
  static const char* const kNames[] = {"compression", "planarconfig", "Software", "oiio:ColorSpace",
                                       "oiio:UnassociatedAlpha", "oiio:BitsPerSample", "oiio:subimages",
                                       "oiio:subimagename", "name", "type", "version", "chunkCount", "tiles"};
  for (const char* n : kNames)
    if (name == n) return true;
  return name.rfind("openexr:", 0) == 0 || name.rfind("oiio:", 0) == 0 || name.rfind("tiff:", 0) == 0 ||
         name.rfind("png:", 0) == 0;
}

// Copies `source`'s picture attributes into `spec`; warns once per run when it cannot read them.
void carry_metadata(const fs::path& source, OIIO::ImageSpec& spec) {
  auto input = OIIO::ImageInput::open(source.string());
  if (!input) {
    static std::once_flag warned;
    const std::string why = OIIO::geterror();
    std::call_once(warned, [&] { log_warning("{}: cannot read its header to carry its metadata over: {}", source.string(), why); });
    return;
  }
  for (const OIIO::ParamValue& p : input->spec().extra_attribs) {
    const std::string name = p.name().string();
    if (!is_structural_attribute(name)) spec.attribute(name, p.type(), p.data());
  }
  input->close();
}

// "HH:MM:SS:FF" (";" or "." before the frames: drop frame) as SMPTE 12M BCD, the layout of OpenEXR's
// timeCode and OpenImageIO's TypeTimeCode (second word: user data, 0). False when malformed.
bool pack_timecode(const std::string& text, uint32_t packed[2]) {
  unsigned h, m, sec, f;
  char sep;
  if (std::sscanf(text.c_str(), "%2u:%2u:%2u%c%2u", &h, &m, &sec, &sep, &f) != 5 || h > 23 || m > 59 || sec > 59 || f > 39)
    return false;
  const bool drop = sep == ';' || sep == '.';
  if (!drop && sep != ':') return false;
  auto bcd = [](unsigned v) { return (v / 10) << 4 | (v % 10); };
  packed[0] = bcd(f) | (drop ? 1u << 6 : 0u) | bcd(sec) << 8 | bcd(m) << 16 | bcd(h) << 24;
  packed[1] = 0;
  return true;
}

// A frame rate as a rational: NTSC rates as N*1000/1001, others to a thousandth.
void rational_rate(double fps, int rate[2]) {
  const double ntsc = fps * 1001.0 / 1000.0;
  if (std::abs(ntsc - std::round(ntsc)) < 1e-3 && std::abs(fps - std::round(fps)) > 1e-3) {
    rate[0] = static_cast<int>(std::lround(ntsc)) * 1000;
    rate[1] = 1001;
  } else if (std::abs(fps - std::round(fps)) < 1e-6) {
    rate[0] = static_cast<int>(std::lround(fps));
    rate[1] = 1;
  } else {
    rate[0] = static_cast<int>(std::lround(fps * 1000));
    rate[1] = 1000;
  }
}

}  // namespace

FloatImage unpremultiply(const FloatImage& premultiplied, const std::vector<float>& matte) {
  FloatImage straight = premultiplied;
  const size_t n = static_cast<size_t>(premultiplied.width) * premultiplied.height;
  const int ch = premultiplied.channels;
  for (size_t i = 0; i < n && i < matte.size(); ++i)
    for (int c = 0; c < ch; ++c) {
      float& v = straight.pixels[i * ch + c];
      v = matte[i] > 0.f ? v / matte[i] : 0.f;
    }
  return straight;
}

void write_swap_frame(const fs::path& path, const FloatImage& rgb, const std::vector<float>& matte, OutputKind kind,
                      const OutputEncoding& encoding, const FrameMetadata& metadata) {
  const size_t n = static_cast<size_t>(rgb.width) * rgb.height;
  if (rgb.channels != 3 || rgb.pixels.size() != n * 3 || matte.size() != n)
    throw InternalError(fmt::format("{}: inconsistent frame buffers", path.string()));
  const char* format_name = encoding.format == OutputFormat::png ? "png" : encoding.format == OutputFormat::tif ? "tiff" : "openexr";
  const bool exr = encoding.format == OutputFormat::exr;
  const bool element = kind == OutputKind::element;
  // Alpha as the format keeps it: OpenEXR's is associated; PNG's only kind is unassociated; TIFF
  // declares either (ExtraSamples), here the same as the kind's EXR or PNG counterpart.
  const bool associated = exr || (element && encoding.format == OutputFormat::tif);
  const bool matte_channel = exr && !element;  // a full-frame EXR: A = 1, the matte beside it
  // An element in a format without associated alpha stores the face's straight colour.
  FloatImage straight;
  const FloatImage& colour = element && !associated ? (straight = unpremultiply(rgb, matte)) : rgb;

  OIIO::TypeDesc file_type, buffer_type;
  std::vector<uint8_t> bytes;
  std::vector<uint16_t> words;
  std::vector<float> floats;
  const void* data = nullptr;
  const int channels = matte_channel ? 5 : 4;
  if (exr) {
    file_type = encoding.bits == 32 ? OIIO::TypeDesc::FLOAT : OIIO::TypeDesc::HALF;
    buffer_type = OIIO::TypeDesc::FLOAT;
    floats.resize(n * channels);
    for (size_t i = 0; i < n; ++i) {
      float* px = &floats[i * channels];
      for (int c = 0; c < 3; ++c) px[c] = colour.pixels[i * 3 + c];
      px[3] = matte_channel ? 1.f : matte[i];
      if (matte_channel) px[4] = matte[i];
    }
    data = floats.data();
  } else if (encoding.bits == 8) {
    file_type = buffer_type = OIIO::TypeDesc::UINT8;
    bytes = quantise<uint8_t>(colour, matte, 255.f);
    data = bytes.data();
  } else {
    file_type = buffer_type = OIIO::TypeDesc::UINT16;
    words = quantise<uint16_t>(colour, matte, 65535.f);
    data = words.data();
  }

  OIIO::ImageSpec spec(rgb.width, rgb.height, channels, file_type);
  spec.channelnames = {"R", "G", "B", "A"};
  if (matte_channel) spec.channelnames.push_back(kMatteChannel);
  spec.alpha_channel = 3;
  if (!metadata.copy_from.empty()) carry_metadata(metadata.copy_from, spec);
  if (exr) {
    if (metadata.timing.fps > 0) {
      int rate[2];
      rational_rate(metadata.timing.fps, rate);
      spec.attribute("FramesPerSecond", OIIO::TypeRational, rate);
    }
    uint32_t timecode[2];
    if (!metadata.timing.timecode.empty() && pack_timecode(metadata.timing.timecode, timecode))
      spec.attribute("smpte:TimeCode", OIIO::TypeTimeCode, timecode);
    spec.attribute("compression", encoding.exr_compression);
  } else {
    spec.attribute("ImageDescription",
                   element ? (associated ? "facetrain element: the swapped face premultiplied by the matte (associated alpha)"
                                         : "facetrain element: the swapped face's colour, unassociated (straight) alpha = "
                                           "the matte; premultiply to comp")
                           : "facetrain full frame: RGB is the finished frame; unassociated (straight) alpha = the face matte");
  }
  spec.attribute(kOutputKindAttribute, output_kind_name(kind));
  if (!associated) spec.attribute("oiio:UnassociatedAlpha", 1);  // written as given, declared unassociated
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

ImageTiming read_image_timing(const fs::path& path) {
  ImageTiming timing;
  auto input = OIIO::ImageInput::open(path.string());
  if (!input) {
    (void)OIIO::geterror();
    return timing;
  }
  const OIIO::ImageSpec& spec = input->spec();
  int rate[2] = {0, 0};
  if (spec.getattribute("FramesPerSecond", OIIO::TypeRational, rate) && rate[0] > 0 && rate[1] > 0)
    timing.fps = static_cast<double>(rate[0]) / rate[1];
  if (const OIIO::ParamValue* tc = spec.find_attribute("smpte:TimeCode", OIIO::TypeTimeCode)) timing.timecode = tc->get_string();
  input->close();
  return timing;
}

void write_matte_frame(const fs::path& path, int width, int height, const std::vector<float>& matte) {
  const size_t n = static_cast<size_t>(width) * height;
  if (width <= 0 || height <= 0 || matte.size() != n)
    throw InternalError(fmt::format("{}: a {}x{} matte holding {} values", path.string(), width, height, matte.size()));
  std::vector<uint16_t> words(n);
  for (size_t i = 0; i < n; ++i) {
    const float v = matte[i];
    words[i] = !(v > 0.f) ? 0 : v >= 1.f ? 65535 : static_cast<uint16_t>(std::lround(v * 65535.f));
  }
  OIIO::ImageSpec spec(width, height, 1, OIIO::TypeDesc::UINT16);
  spec.channelnames = {"Y"};
  spec.attribute("Software", "facetrain");
  AtomicOutput output(path);
  auto out = OIIO::ImageOutput::create("png");
  if (!out) throw InternalError(fmt::format("{}: OpenImageIO has no png writer", path.string()));
  if (!out->open(output.temp_path().string(), spec))
    throw OutputError(fmt::format("{}: cannot create: {}", path.string(), out->geterror()));
  if (!out->write_image(OIIO::TypeDesc::UINT16, words.data())) {
    const std::string why = out->geterror();
    out->close();
    throw IoError(fmt::format("{}: write failed: {}", path.string(), why));
  }
  if (!out->close()) throw IoError(fmt::format("{}: write failed: {}", path.string(), out->geterror()));
  output.commit();
}

}  // namespace facetrain
