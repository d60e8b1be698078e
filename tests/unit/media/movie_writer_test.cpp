// Movie writer (libav*): movies are written, then read back with our own movie source and ffprobe.
#include "facetrain/media/frame_source.h"
#include "facetrain/media/movie_writer.h"
#include "facetrain/base/error.h"

#include <catch2/catch.hpp>

#include "../test_support.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace facetrain;

namespace {

// A folder of its own (scratch_dir is one folder per test process, shared with the other media tests).
const fs::path& dir() {
  static const fs::path path = [] {
    fs::path p = facetrain::testing::scratch_dir("movie-writer-test") / "movie-writer";
    fs::create_directories(p);
    return p;
  }();
  return path;
}

// Frame `i`: a grey left half at level (i + 1) / 8, a colour right half; the matte a horizontal ramp.
FloatImage test_frame(int width, int height, int i) {
  FloatImage image;
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      float* p = &image.pixels[(static_cast<size_t>(y) * width + x) * 3];
      if (x < width / 2) {
        p[0] = p[1] = p[2] = (i + 1) / 8.f;
      } else {
        p[0] = 0.8f; p[1] = 0.3f; p[2] = 0.1f;
      }
    }
  return image;
}

std::vector<float> ramp_matte(int width, int height) {
  std::vector<float> alpha(static_cast<size_t>(width) * height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) alpha[static_cast<size_t>(y) * width + x] = x / float(width - 1);
  return alpha;
}

std::string capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe)) out += buffer;
  ::pclose(pipe);
  return out;
}

std::string probe(const fs::path& movie, const std::string& entries) {
  return capture("ffprobe -v error -select_streams v:0 -show_entries " + entries +
                 " -of default=noprint_wrappers=1 '" + movie.string() + "'");
}

size_t entries_in(const fs::path& directory) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(directory)) ++n;
  return n;
}

// Every frame read back by our movie source: count, size and the grey level of the left half.
void check_read_back(const fs::path& movie, int width, int height, int frames, int tolerance) {
  auto source = open_frame_source(movie.string(), FrameSourceOptions{});
  CHECK(source->info().width == width);
  CHECK(source->info().height == height);
  Frame frame;
  int count = 0;
  while (source->read(frame)) {
    const int expected = static_cast<int>(std::lround((count + 1) / 8.0 * 255));
    const uint8_t* p = frame.display.row(height / 2) + (width / 4) * 3;
    INFO("frame " << count << " grey " << int(p[0]) << "," << int(p[1]) << "," << int(p[2]) << " expected " << expected);
    for (int c = 0; c < 3; ++c) CHECK(std::abs(int(p[c]) - expected) <= tolerance);
    ++count;
  }
  CHECK(count == frames);
}

}  // namespace

TEST_CASE("ProRes 4444 movie carries the matte as alpha, frame rate and timecode", "[unit][media][movie_writer]") {
  const fs::path movie = dir() / "out.mov";
  MovieSettings settings;
  settings.codec = MovieCodec::prores_4444;
  settings.width = 64;
  settings.height = 48;
  settings.fps = 25;
  settings.timecode = "01:00:00:00";
  {
    MovieWriter writer(movie, settings);
    for (int i = 0; i < 6; ++i) writer.write(test_frame(64, 48, i), ramp_matte(64, 48));
    CHECK_FALSE(fs::exists(movie));  // only the temporary file until finish()
    writer.finish();
    CHECK(writer.frames_written() == 6);
  }
  REQUIRE(fs::exists(movie));
  CHECK(entries_in(dir()) == 1);  // no temporary left beside it
  const std::string info = probe(movie, "stream=codec_name,profile,pix_fmt,width,height,r_frame_rate,nb_frames:stream_tags=timecode");
  INFO(info);
  CHECK(info.find("codec_name=prores") != std::string::npos);
  CHECK(info.find("pix_fmt=yuva444p") != std::string::npos);  // FFmpeg decodes 4444 as 12-bit
  CHECK(info.find("profile=4444") != std::string::npos);
  CHECK(info.find("r_frame_rate=25/1") != std::string::npos);
  CHECK(info.find("nb_frames=6") != std::string::npos);
  CHECK(info.find("timecode=01:00:00:00") != std::string::npos);
  check_read_back(movie, 64, 48, 6, 2);
  // The alpha plane, decoded by ffmpeg: the ramp from 0 at the left edge to 1 at the right edge.
  const std::string alpha = capture("ffmpeg -v error -i '" + movie.string() +
                                    "' -frames:v 1 -vf alphaextract,format=gray -f rawvideo - | od -An -tu1 -w64 -v | head -n 1");
  INFO(alpha);
  std::vector<int> row;
  for (size_t at = 0; at < alpha.size();) {
    size_t used = 0;
    try {
      row.push_back(std::stoi(alpha.substr(at), &used));
    } catch (...) {
      break;
    }
    at += used;
  }
  REQUIRE(row.size() == 64);
  CHECK(row.front() <= 1);
  CHECK(row.back() >= 254);
  CHECK(std::abs(row[32] - int(std::lround(32 / 63.0 * 255))) <= 2);
  fs::remove(movie);
}

TEST_CASE("ProRes 422 HQ movie, and ProRes refused in .mp4", "[unit][media][movie_writer]") {
  const fs::path movie = dir() / "hq.mov";
  MovieSettings settings;
  settings.codec = MovieCodec::prores_hq;
  settings.width = 64;
  settings.height = 48;
  settings.fps = 24000.0 / 1001.0;
  {
    MovieWriter writer(movie, settings);
    for (int i = 0; i < 3; ++i) writer.write(test_frame(64, 48, i), {});
    writer.finish();
  }
  const std::string info = probe(movie, "stream=codec_name,profile,pix_fmt,r_frame_rate");
  INFO(info);
  CHECK(info.find("pix_fmt=yuv422p10le") != std::string::npos);
  CHECK(info.find("profile=HQ") != std::string::npos);
  CHECK(info.find("r_frame_rate=24000/1001") != std::string::npos);
  check_read_back(movie, 64, 48, 3, 2);
  fs::remove(movie);
  CHECK_THROWS_AS(MovieWriter(dir() / "p.mp4", settings), UsageError);
  CHECK(entries_in(dir()) == 0);
}

TEST_CASE("H.264 movie in .mp4 when libx264 is present", "[unit][media][movie_writer]") {
  if (!movie_codec_available(MovieCodec::h264)) {
    FACETRAIN_SKIP("this FFmpeg build has no libx264 encoder");
    return;
  }
  const fs::path movie = dir() / "out.mp4";
  MovieSettings settings;
  settings.codec = MovieCodec::h264;
  settings.width = 64;
  settings.height = 48;
  settings.crf = 10;
  {
    MovieWriter writer(movie, settings);
    for (int i = 0; i < 5; ++i) writer.write(test_frame(64, 48, i), {});
    writer.finish();
  }
  const std::string info = probe(movie, "stream=codec_name,pix_fmt,r_frame_rate");
  INFO(info);
  CHECK(info.find("codec_name=h264") != std::string::npos);
  CHECK(info.find("pix_fmt=yuv420p") != std::string::npos);
  CHECK(info.find("r_frame_rate=24/1") != std::string::npos);
  check_read_back(movie, 64, 48, 5, 3);
  fs::remove(movie);
  settings.width = 63;
  CHECK_THROWS_AS(MovieWriter(movie, settings), UsageError);
}

TEST_CASE("Movie writer: unwritable path is OutputError, an unfinished movie leaves nothing", "[unit][media][movie_writer]") {
  MovieSettings settings;
  settings.codec = MovieCodec::prores_4444;
  settings.width = 32;
  settings.height = 32;
  try {
    MovieWriter writer(dir() / "no-such-dir" / "out.mov", settings);
    FAIL("no error");
  } catch (const OutputError& e) {
    CHECK(std::string(e.what()).find("no-such-dir/out.mov") != std::string::npos);
  }
  {
    MovieWriter writer(dir() / "abandoned.mov", settings);
    writer.write(test_frame(32, 32, 0), {});
    CHECK(entries_in(dir()) == 1);  // the temporary file
  }
  CHECK(entries_in(dir()) == 0);
}

TEST_CASE("Timecodes move by whole frames", "[unit][media][movie_writer]") {
  CHECK(offset_timecode("01:00:00:00", 25, 25) == "01:00:01:00");
  CHECK(offset_timecode("00:59:59:23", 24, 1) == "01:00:00:00");
  CHECK(offset_timecode("01:00:00:00", 24, 0) == "01:00:00:00");
  CHECK(offset_timecode("", 24, 10).empty());
  CHECK(offset_timecode("nonsense", 24, 10).empty());
}
