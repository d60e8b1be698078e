// Image-sequence frame source (OpenImageIO): fixtures are made at test time with oiiotool.
#include "facetrain/media/frame_source.h"
#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"

#include <catch2/catch.hpp>

#include "../test_support.h"
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace facetrain;

namespace {

const fs::path& sequence_dir() { return facetrain::testing::scratch_dir("sequence-test"); }

void run(const std::string& command) { facetrain::testing::run_fixture_command(command); }

// Constant-colour images made by oiiotool, all in one run (each run costs about a second).
struct ImageToMake {
  fs::path path;
  std::string color;
  int channels;
  std::string type;  // half, float, uint8, uint10, uint16
};

void make_images(const std::vector<ImageToMake>& images) {
  std::string command = "oiiotool";
  for (const auto& image : images) {
    if (fs::exists(image.path)) continue;
    command += fmt::format(" --pattern constant:color={} 64x48 {} -d {} -o '{}'", image.color, image.channels,
                           image.type, image.path.string());
  }
  if (command != "oiiotool") run(command);
}

void make_image(const fs::path& path, const std::string& color, int channels, const std::string& type) {
  make_images({{path, color, channels, type}});
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

template <typename Body>
void require_error(Body&& body, ExitCode code, const std::string& text) {
  try {
    body();
    FAIL("no error was thrown");
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.code() == code);
    CHECK(std::string(e.what()).find(text) != std::string::npos);
  }
}

std::vector<Frame> read_all(FrameSource& source) {
  std::vector<Frame> frames;
  Frame frame;
  while (source.read(frame)) frames.push_back(frame);
  return frames;
}

const uint8_t* pixel(const Frame& frame, int x, int y) { return frame.display.pixels.data() + (y * frame.display.width + x) * 3; }

uint32_t crc32(const std::string& bytes) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string be32(uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8),
          static_cast<char>(value)};
}

std::string png_chunk(const std::string& type, const std::string& data) {
  return be32(static_cast<uint32_t>(data.size())) + type + data + be32(crc32(type + data));
}

}  // namespace

TEST_CASE("sequence: EXR half keeps values above 1.0 and the proxy is sRGB-encoded", "[unit][media][sequence]") {
  const fs::path dir = sequence_dir();
  std::vector<ImageToMake> images;
  for (int frame = 1001; frame <= 1005; ++frame) {
    const double red = 2.0 + 0.5 * (frame - 1001);
    images.push_back({dir / fmt::format("plate.{}.exr", frame), fmt::format("{},0.5,0.1", red), 3, "half"});
  }
  make_images(images);
  FrameSourceOptions options;
  options.want_full_precision = true;
  auto source = open_frame_source((dir / "plate.####.exr").string(), options);
  const SourceInfo& info = source->info();
  CHECK(info.is_sequence);
  CHECK(info.path == (dir / "plate.####.exr").string());
  CHECK(info.width == 64);
  CHECK(info.height == 48);
  CHECK(info.frame_first == 1001);
  CHECK(info.frame_last == 1005);
  CHECK(info.codec == "openexr");
  CHECK(info.scene_linear);
  CHECK(info.bit_depth == 16);

  const auto frames = read_all(*source);
  REQUIRE(frames.size() == 5);
  for (size_t i = 0; i < frames.size(); ++i) {
    const Frame& frame = frames[i];
    CHECK(frame.number == 1001 + static_cast<int64_t>(i));
    REQUIRE(frame.full.has_value());
    CHECK(frame.full->channels == 3);
    CHECK(frame.full->width == 64);
    CHECK(frame.full->height == 48);
    const float* full = frame.full->pixels.data() + (10 * 64 + 20) * 3;
    CHECK(full[0] == Approx(2.0 + 0.5 * i));  // super-white survives
    CHECK(full[1] == Approx(0.5));
    CHECK(full[2] == Approx(0.1).epsilon(0.001));
    const uint8_t* proxy = pixel(frame, 20, 10);
    CHECK(int(proxy[0]) == 255);  // clamped
    CHECK(int(proxy[1]) == 188);  // sRGB OETF of 0.5
    CHECK(int(proxy[2]) == 89);   // sRGB OETF of 0.1
  }

  SECTION("seek and the proxy-only path") {
    auto proxy_only = open_frame_source((dir / "plate.%04d.exr").string(), {});
    proxy_only->seek(1004);
    Frame frame;
    REQUIRE(proxy_only->read(frame));
    CHECK(frame.number == 1004);
    CHECK_FALSE(frame.full.has_value());
    CHECK(int(pixel(frame, 0, 0)[1]) == 188);
    REQUIRE(proxy_only->read(frame));
    CHECK(frame.number == 1005);
    CHECK_FALSE(proxy_only->read(frame));
    proxy_only->seek(1);
    REQUIRE(proxy_only->read(frame));
    CHECK(frame.number == 1001);
  }
}

TEST_CASE("sequence: EXR float with alpha gives four full-precision channels", "[unit][media][sequence]") {
  const fs::path dir = sequence_dir();
  make_image(dir / "rgba.0001.exr", "0.18,4.5,0.0,0.5", 4, "float");
  FrameSourceOptions options;
  options.want_full_precision = true;
  auto source = open_frame_source((dir / "rgba.$F4.exr").string(), options);
  CHECK(source->info().bit_depth == 32);
  Frame frame;
  REQUIRE(source->read(frame));
  REQUIRE(frame.full.has_value());
  REQUIRE(frame.full->channels == 4);
  CHECK(frame.full->pixels[0] == Approx(0.18));
  CHECK(frame.full->pixels[1] == Approx(4.5));
  CHECK(frame.full->pixels[3] == Approx(0.5));
  CHECK(int(frame.display.pixels[0]) == 118);  // sRGB of 18% grey
}

TEST_CASE("sequence: 16-bit TIFF, 10-bit DPX, PNG and JPEG", "[unit][media][sequence]") {
  const fs::path dir = sequence_dir();
  std::vector<ImageToMake> images;
  for (int frame = 1; frame <= 3; ++frame) images.push_back({dir / fmt::format("tif.{:04d}.tif", frame), "0.25,0.5,1.0", 3, "uint16"});
  for (int frame = 7; frame <= 8; ++frame) images.push_back({dir / fmt::format("dpx.{:05d}.dpx", frame), "0.25,0.5,1.0", 3, "uint10"});
  for (int frame = 1; frame <= 2; ++frame) images.push_back({dir / fmt::format("png.{}.png", frame), "0.25,0.5,1.0", 3, "uint8"});
  images.push_back({dir / "grey.0001.png", "0.25", 1, "uint8"});
  make_images(images);

  struct Case {
    std::string pattern;
    std::string codec;
    int bit_depth;
    size_t frames;
  };
  for (const Case& c : {Case{"tif.####.tif", "tiff", 16, 3}, Case{"dpx.%05d.dpx", "dpx", 10, 2},
                        Case{"png.@.png", "png", 8, 2}, Case{"grey.#.png", "png", 8, 1}}) {
    for (bool full : {false, true}) {
      INFO(c.pattern << (full ? " with full precision" : ""));
      FrameSourceOptions options;
      options.want_full_precision = full;
      auto source = open_frame_source((dir / c.pattern).string(), options);
      CHECK(source->info().codec == c.codec);
      CHECK(source->info().bit_depth == c.bit_depth);
      CHECK_FALSE(source->info().scene_linear);
      const auto frames = read_all(*source);
      REQUIRE(frames.size() == c.frames);
      const uint8_t* proxy = pixel(frames[0], 5, 5);
      const bool grey = c.pattern.rfind("grey", 0) == 0;
      CHECK(std::abs(int(proxy[0]) - 64) <= 1);
      CHECK(std::abs(int(proxy[1]) - (grey ? 64 : 128)) <= 1);
      CHECK(std::abs(int(proxy[2]) - (grey ? 64 : 255)) <= 1);
      CHECK(frames[0].full.has_value() == full);
      if (full) {
        CHECK(frames[0].full->channels == 3);
        CHECK(frames[0].full->pixels[0] == Approx(0.25).margin(0.003));
        CHECK(frames[0].full->pixels[2] == Approx(grey ? 0.25 : 1.0).margin(0.003));
      }
    }
  }

  SECTION("a single still image is a one-frame source numbered from start_frame") {
    const fs::path still = dir / "still.jpg";
    if (!fs::exists(still)) run("oiiotool --pattern checker:width=8:height=8 64x48 3 -d uint8 -o '" + still.string() + "'");
    FrameSourceOptions options;
    options.start_frame = 1001;
    auto source = open_frame_source(still.string(), options);
    CHECK_FALSE(source->info().is_sequence);
    CHECK(source->info().codec == "jpeg");
    const auto frames = read_all(*source);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].number == 1001);
  }
}

TEST_CASE("sequence: a missing frame is an error naming it, or skipped when asked", "[unit][media][sequence]") {
  const fs::path dir = sequence_dir();
  std::vector<ImageToMake> images;
  for (int frame : {1, 2, 4, 5}) images.push_back({dir / fmt::format("gap.{:04d}.png", frame), "0.5,0.5,0.5", 3, "uint8"});
  make_images(images);
  const std::string pattern = (dir / "gap.####.png").string();
  const std::string missing = (dir / "gap.0003.png").string();

  auto strict = open_frame_source(pattern, {});
  CHECK(strict->info().frame_first == 1);
  CHECK(strict->info().frame_last == 5);
  Frame frame;
  REQUIRE(strict->read(frame));
  REQUIRE(strict->read(frame));
  CHECK(frame.number == 2);
  require_error([&] { strict->read(frame); }, ExitCode::data_error, missing);

  std::mutex mutex;
  std::vector<std::string> warnings;
  set_log_sink([&](LogLevel level, std::string_view message) {
    std::lock_guard<std::mutex> lock(mutex);
    if (level == LogLevel::warning) warnings.emplace_back(message);
  });
  FrameSourceOptions options;
  options.on_missing = OnMissingFrame::skip;
  auto lenient = open_frame_source(pattern, options);
  std::vector<int64_t> numbers;
  while (lenient->read(frame)) numbers.push_back(frame.number);
  set_log_sink({});
  CHECK(numbers == std::vector<int64_t>{1, 2, 4, 5});
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find(missing) != std::string::npos);
}

TEST_CASE("sequence: patterns matching nothing are exit code 66", "[unit][media][sequence]") {
  const std::string pattern = (sequence_dir() / "nothing.####.exr").string();
  require_error([&] { open_frame_source(pattern, {}); }, ExitCode::no_input, pattern);
  const std::string elsewhere = (sequence_dir() / "no-such-dir" / "plate.%04d.dpx").string();
  require_error([&] { open_frame_source(elsewhere, {}); }, ExitCode::no_input, elsewhere);
}

TEST_CASE("sequence: damaged files are errors naming the file", "[unit][media][sequence]") {
  const fs::path dir = sequence_dir();
  make_images({{dir / "bad.0001.png", "0.5,0.5,0.5", 3, "uint8"},
               {dir / "cut.0001.exr", "0.5,0.5,0.5", 3, "half"},
               {dir / "size.0001.png", "0.5,0.5,0.5", 3, "uint8"}});
  write_bytes(dir / "bad.0002.png", "this is not a PNG file at all");
  auto source = open_frame_source((dir / "bad.####.png").string(), {});
  Frame frame;
  REQUIRE(source->read(frame));
  CHECK(frame.number == 1);
  require_error([&] { source->read(frame); }, ExitCode::data_error, (dir / "bad.0002.png").string());

  SECTION("a truncated EXR") {
    const fs::path cut = dir / "cut.0002.exr";
    if (!fs::exists(cut)) fs::copy_file(dir / "cut.0001.exr", cut);
    fs::resize_file(dir / "cut.0002.exr", fs::file_size(dir / "cut.0002.exr") / 2);
    FrameSourceOptions options;
    options.want_full_precision = true;
    auto exr = open_frame_source((dir / "cut.####.exr").string(), options);
    REQUIRE(exr->read(frame));
    require_error([&] { exr->read(frame); }, ExitCode::data_error, (dir / "cut.0002.exr").string());
  }
  SECTION("a truncated DPX, and a DPX whose header lies about its size") {
    make_image(dir / "cutdpx.0001.dpx", "0.5,0.5,0.5", 3, "uint10");
    const std::string good = facetrain::read_file(dir / "cutdpx.0001.dpx");
    write_bytes(dir / "cutdpx.0002.dpx", good.substr(0, good.size() / 3));
    FrameSourceOptions options;
    options.want_full_precision = true;
    auto dpx = open_frame_source((dir / "cutdpx.####.dpx").string(), options);
    REQUIRE(dpx->read(frame));
    require_error([&] { dpx->read(frame); }, ExitCode::data_error, (dir / "cutdpx.0002.dpx").string());
    // Image width and height at bytes 772 and 776, in the file's byte order ("SDPX" big-endian,
    // "XPDS" little-endian): a header claiming 60000 x 60000 over a few KiB of pixels.
    std::string lying = good;
    std::string dims = be32(60000) + be32(60000);
    if (lying.substr(0, 4) == "XPDS") {
      std::reverse(dims.begin(), dims.begin() + 4);
      std::reverse(dims.begin() + 4, dims.end());
    }
    lying.replace(772, 8, dims);
    write_bytes(dir / "lie.0001.dpx", lying);
    require_error([&] { open_frame_source((dir / "lie.####.dpx").string(), options); }, ExitCode::data_error,
                  (dir / "lie.0001.dpx").string());
  }
  SECTION("a truncated 8-bit TIFF and JPEG: OpenImageIO keeps the rows it had, we refuse the frame") {
    for (const std::string ext : {"tif", "jpg"}) {
      CAPTURE(ext);
      make_images({{dir / ("trunc" + ext + ".0001." + ext), "0.25,0.5,0.75", 3, "uint8"}});
      const std::string good = facetrain::read_file(dir / ("trunc" + ext + ".0001." + ext));
      write_bytes(dir / ("trunc" + ext + ".0002." + ext), good.substr(0, good.size() * 2 / 3));
      auto cut = open_frame_source((dir / ("trunc" + ext + ".####." + ext)).string(), {});
      REQUIRE(cut->read(frame));
      require_error([&] { cut->read(frame); }, ExitCode::data_error, (dir / ("trunc" + ext + ".0002." + ext)).string());
    }
  }
  SECTION("an empty file") {
    write_bytes(dir / "zero.0001.exr", "");
    require_error([&] { open_frame_source((dir / "zero.####.exr").string(), {}); }, ExitCode::data_error,
                  (dir / "zero.0001.exr").string());
  }
  SECTION("a frame of another size") {
    const fs::path other = dir / "size.0002.png";
    if (!fs::exists(other)) run("oiiotool --pattern constant:color=0.5 32x32 3 -d uint8 -o '" + other.string() + "'");
    auto sized = open_frame_source((dir / "size.####.png").string(), {});
    REQUIRE(sized->read(frame));
    require_error([&] { sized->read(frame); }, ExitCode::data_error, other.string());
  }
}

TEST_CASE("sequence: absurd dimensions are refused from the header", "[unit][media][sequence]") {
  const fs::path dir = sequence_dir();
  // PNGs whose headers claim 40000 x 40000 (over the per-side limit) and 30000 x 30000 (over the
  // default pixel limit), with a few bytes where gigabytes of pixels should be.
  const auto fake_png = [](uint32_t width, uint32_t height) {
    const std::string ihdr = be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
    return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", std::string(16, '\0')) +
           png_chunk("IEND", "");
  };
  write_bytes(dir / "huge.0001.png", fake_png(40000, 40000));
  require_error([&] { open_frame_source((dir / "huge.####.png").string(), {}); }, ExitCode::data_error,
                "per side");
  write_bytes(dir / "big.0001.png", fake_png(30000, 30000));
  require_error([&] { open_frame_source((dir / "big.####.png").string(), {}); }, ExitCode::data_error,
                (dir / "big.0001.png").string());

  make_image(dir / "limit.0001.exr", "0.5,0.5,0.5", 3, "half");
  FrameSourceOptions options;
  options.max_pixels = 1000;  // 64x48 = 3072
  require_error([&] { open_frame_source((dir / "limit.####.exr").string(), options); }, ExitCode::data_error,
                (dir / "limit.0001.exr").string());
}
