// Movie frame source (libav*): fixtures are made at test time with the ffmpeg CLI.
#include "facetrain/media/frame_source.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"

#include <catch2/catch.hpp>

#include "../test_support.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace facetrain;

namespace {

const fs::path& fixture_dir() { return facetrain::testing::scratch_dir("video-test"); }

void run(const std::string& command) { facetrain::testing::run_fixture_command(command); }

// Makes `name` in the fixture directory once, with `command` in which {out} is the output path.
fs::path fixture(const std::string& name, const std::string& command) {
  const fs::path out = fixture_dir() / name;
  if (!fs::exists(out)) {
    std::string cmd = command;
    const auto at = cmd.find("{out}");
    REQUIRE(at != std::string::npos);
    cmd.replace(at, 5, "'" + out.string() + "'");
    run(cmd);
  }
  return out;
}

// 24 frames of testsrc, 160x120 at 24 fps, H.264, index at the front.
fs::path plain_mp4() {
  return fixture("plain.mp4",
                 "ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=24 -frames:v 24 -c:v libx264 "
                 "-pix_fmt yuv420p -g 8 -movflags +faststart {out}");
}

fs::path rotated_mp4() {
  const fs::path plain = plain_mp4();
  return fixture("rot90.mp4", "ffmpeg -v error -y -i '" + plain.string() + "' -c copy -metadata:s:v:0 rotate=90 {out}");
}

// Raw RGB24 frames as the ffmpeg CLI decodes (and autorotates) them.
std::vector<uint8_t> ffmpeg_rgb(const fs::path& movie, const std::string& name) {
  const fs::path raw = fixture(name, "ffmpeg -v error -y -i '" + movie.string() + "' -f rawvideo -pix_fmt rgb24 {out}");
  std::ifstream in(raw, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

double mean_abs_diff(const uint8_t* a, const uint8_t* b, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::abs(int(a[i]) - int(b[i]));
  return sum / static_cast<double>(n);
}

std::vector<Frame> read_all(FrameSource& source) {
  std::vector<Frame> frames;
  Frame frame;
  while (source.read(frame)) frames.push_back(frame);
  return frames;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Runs `body` expecting an Error of exactly `code` whose message names `path`.
template <typename Body>
void require_error(Body&& body, ExitCode code, const std::string& path) {
  try {
    body();
    FAIL("no error was thrown");
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.code() == code);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
  }
}

struct CapturedLog {
  std::mutex mutex;
  std::vector<std::string> warnings;
  CapturedLog() {
    set_log_sink([this](LogLevel level, std::string_view message) {
      if (level != LogLevel::warning) return;
      std::lock_guard<std::mutex> lock(mutex);
      warnings.emplace_back(message);
    });
  }
  ~CapturedLog() { set_log_sink({}); }
};

}  // namespace

TEST_CASE("movie: reads every frame of an H.264 mp4 numbered from 1", "[unit][media][video]") {
  const fs::path movie = plain_mp4();
  auto source = open_frame_source(movie.string(), {});
  const SourceInfo& info = source->info();
  CHECK_FALSE(info.is_sequence);
  CHECK(info.width == 160);
  CHECK(info.height == 120);
  CHECK(info.fps == Approx(24.0));
  CHECK(info.codec == "h264");
  CHECK(info.bit_depth == 8);
  CHECK(info.frame_first == 1);
  CHECK(info.frame_last == 24);
  CHECK(info.colorspace == "bt601");

  const auto frames = read_all(*source);
  REQUIRE(frames.size() == 24);
  const auto reference = ffmpeg_rgb(movie, "plain.rgb");
  const size_t frame_bytes = 160 * 120 * 3;
  REQUIRE(reference.size() == frame_bytes * 24);
  for (size_t i = 0; i < frames.size(); ++i) {
    CHECK(frames[i].number == static_cast<int64_t>(i + 1));
    CHECK(frames[i].time_s == Approx(i / 24.0).margin(1e-6));
    REQUIRE(frames[i].display.width == 160);
    REQUIRE(frames[i].display.height == 120);
    REQUIRE(frames[i].display.pixels.size() == frame_bytes);
    CHECK_FALSE(frames[i].full.has_value());
    // Same decode as the ffmpeg CLI, up to the YUV->RGB rounding of swscale's flags.
    CHECK(mean_abs_diff(frames[i].display.pixels.data(), reference.data() + i * frame_bytes, frame_bytes) < 3.0);
  }
  // Frames differ from each other (testsrc moves): catches returning one frame over and over.
  CHECK(mean_abs_diff(frames[0].display.pixels.data(), frames[12].display.pixels.data(), frame_bytes) > 1.0);
  Frame frame;
  CHECK_FALSE(source->read(frame));  // stays at the end
}

TEST_CASE("movie: start_frame renumbers, decode threads do not change pixels", "[unit][media][video]") {
  FrameSourceOptions options;
  options.start_frame = 1001;
  options.decode_threads = 1;
  auto single = open_frame_source(plain_mp4().string(), options);
  CHECK(single->info().frame_first == 1001);
  CHECK(single->info().frame_last == 1024);
  options.decode_threads = 2;
  auto threaded = open_frame_source(plain_mp4().string(), options);
  const auto a = read_all(*single);
  const auto b = read_all(*threaded);
  REQUIRE(a.size() == 24);
  REQUIRE(b.size() == 24);
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].number == 1001 + static_cast<int64_t>(i));
    CHECK(b[i].number == a[i].number);
    CHECK(b[i].display.pixels == a[i].display.pixels);
  }
}

TEST_CASE("movie: seek lands on the asked frame with the same pixels as reading through", "[unit][media][video]") {
  FrameSourceOptions options;
  options.start_frame = 101;
  auto source = open_frame_source(plain_mp4().string(), options);
  const auto all = read_all(*source);
  REQUIRE(all.size() == 24);

  for (int64_t target : {118, 103, 101, 124, 109, 117}) {
    INFO("seek to " << target);
    source->seek(target);
    Frame frame;
    REQUIRE(source->read(frame));
    CHECK(frame.number == target);
    CHECK(frame.display.pixels == all[target - 101].display.pixels);
    if (target < 124) {
      REQUIRE(source->read(frame));
      CHECK(frame.number == target + 1);
    }
  }
  source->seek(500);  // past the end
  Frame frame;
  CHECK_FALSE(source->read(frame));
  source->seek(50);  // before the start: from the first frame
  REQUIRE(source->read(frame));
  CHECK(frame.number == 101);
}

TEST_CASE("movie: full precision is float RGB 0..1 matching the proxy", "[unit][media][video]") {
  FrameSourceOptions options;
  options.want_full_precision = true;
  auto source = open_frame_source(plain_mp4().string(), options);
  Frame frame;
  REQUIRE(source->read(frame));
  REQUIRE(frame.full.has_value());
  const FloatImage& full = *frame.full;
  CHECK(full.width == 160);
  CHECK(full.height == 120);
  CHECK(full.channels == 3);
  REQUIRE(full.pixels.size() == 160u * 120u * 3u);
  double diff = 0;
  for (size_t i = 0; i < full.pixels.size(); ++i) {
    REQUIRE(full.pixels[i] >= 0.0f);
    REQUIRE(full.pixels[i] <= 1.0f);
    diff += std::abs(full.pixels[i] * 255.0 - frame.display.pixels[i]);
  }
  CHECK(diff / full.pixels.size() < 1.5);
}

TEST_CASE("movie: rotation metadata turns the frames as players show them", "[unit][media][video]") {
  FrameSourceOptions options;
  options.want_full_precision = true;
  auto plain = open_frame_source(plain_mp4().string(), options);
  auto rotated = open_frame_source(rotated_mp4().string(), options);
  CHECK(rotated->info().width == 120);
  CHECK(rotated->info().height == 160);
  Frame a;
  Frame b;
  REQUIRE(plain->read(a));
  REQUIRE(rotated->read(b));
  REQUIRE(b.display.width == 120);
  REQUIRE(b.display.height == 160);
  REQUIRE(b.full.has_value());
  CHECK(b.full->width == 120);
  CHECK(b.full->height == 160);
  // The same stream turned: exactly the plain frame's pixels, moved.
  const auto reference = ffmpeg_rgb(rotated_mp4(), "rot90.rgb");
  REQUIRE(reference.size() >= 120u * 160u * 3u);
  bool ccw_exact = true;
  bool cw_exact = true;
  for (int y = 0; y < 160; ++y) {
    for (int x = 0; x < 120; ++x) {
      const uint8_t* got = b.display.pixels.data() + (y * 120 + x) * 3;
      const uint8_t* ccw = a.display.pixels.data() + ((x)*160 + (159 - y)) * 3;  // 90 counter-clockwise
      const uint8_t* cw = a.display.pixels.data() + ((119 - x) * 160 + y) * 3;    // 90 clockwise
      ccw_exact = ccw_exact && std::equal(got, got + 3, ccw);
      cw_exact = cw_exact && std::equal(got, got + 3, cw);
      const float* full = b.full->pixels.data() + (y * 120 + x) * 3;
      REQUIRE(std::abs(full[0] * 255.0f - got[0]) < 2.5f);
    }
  }
  // Which way is decided by the ffmpeg CLI's autorotation (what players show).
  const double diff = mean_abs_diff(b.display.pixels.data(), reference.data(), 120 * 160 * 3);
  CHECK(diff < 3.0);
  CHECK((ccw_exact || cw_exact));
  CHECK(ccw_exact != cw_exact);
}

TEST_CASE("movie: ProRes 10-bit and DNxHR decode like the ffmpeg CLI", "[unit][media][video]") {
  struct Case {
    std::string name;
    std::string args;
    std::string codec;
    int bit_depth;
    int width;
    int height;
  };
  for (const Case& c : {Case{"prores.mov", "-c:v prores_ks -profile:v 3 -pix_fmt yuv422p10le", "prores", 10, 160, 120},
                        Case{"dnxhr.mov", "-c:v dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", "dnxhd", 8, 256, 144}}) {
    INFO(c.name);
    const fs::path movie = fixture(c.name, "ffmpeg -v error -y -f lavfi -i testsrc=size=" + std::to_string(c.width) +
                                               "x" + std::to_string(c.height) + ":rate=24 -frames:v 6 " + c.args +
                                               " {out}");
    FrameSourceOptions options;
    options.want_full_precision = true;
    auto source = open_frame_source(movie.string(), options);
    CHECK(source->info().codec == c.codec);
    CHECK(source->info().bit_depth == c.bit_depth);
    const auto frames = read_all(*source);
    REQUIRE(frames.size() == 6);
    const auto reference = ffmpeg_rgb(movie, c.name + ".rgb");
    const size_t frame_bytes = static_cast<size_t>(c.width) * c.height * 3;
    REQUIRE(reference.size() == frame_bytes * 6);
    for (size_t i = 0; i < frames.size(); ++i) {
      CHECK(frames[i].number == static_cast<int64_t>(i + 1));
      CHECK(mean_abs_diff(frames[i].display.pixels.data(), reference.data() + i * frame_bytes, frame_bytes) < 3.0);
      // The full-precision path (10/16-bit through swscale) matches the same decode too.
      REQUIRE(frames[i].full.has_value());
      double diff = 0;
      for (size_t k = 0; k < frame_bytes; ++k) {
        diff += std::abs(frames[i].full->pixels[k] * 255.0 - reference[i * frame_bytes + k]);
      }
      CHECK(diff / frame_bytes < 3.0);
    }
  }
}

TEST_CASE("movie: the stream's colour matrix and range are honoured", "[unit][media][video]") {
  struct Case {
    std::string name;
    std::string args;
  };
  // A solid (192, 64, 32) encoded three ways; each must decode back to the same RGB.
  const std::vector<Case> cases = {
      {"bt709.mp4", "-vf scale=out_color_matrix=bt709:out_range=tv,format=yuv420p -colorspace bt709 -color_range tv"},
      {"bt601.mp4",
       "-vf scale=out_color_matrix=bt601:out_range=tv,format=yuv420p -colorspace smpte170m -color_range tv"},
      {"bt709full.mp4", "-vf scale=out_color_matrix=bt709:out_range=pc,format=yuvj420p -colorspace bt709 -color_range pc"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const fs::path movie = fixture(c.name, "ffmpeg -v error -y -f lavfi -i color=c=0xC04020:size=64x64:rate=24 "
                                           "-frames:v 2 " + c.args + " -c:v libx264 -qp 0 {out}");
    auto source = open_frame_source(movie.string(), {});
    Frame frame;
    REQUIRE(source->read(frame));
    const uint8_t* px = frame.display.pixels.data() + (32 * 64 + 32) * 3;
    CHECK(std::abs(px[0] - 192) <= 3);
    CHECK(std::abs(px[1] - 64) <= 3);
    CHECK(std::abs(px[2] - 32) <= 3);
  }
}

TEST_CASE("movie: variable frame rate drops frames that share a number, once warned", "[unit][media][video]") {
  // Frame 6's timestamp sits at 5.3 frame periods: it rounds onto frame 5's number (dropped), and
  // number 7 (index 6) is then a gap.
  const fs::path movie =
      fixture("vfr.mkv",
              "ffmpeg -v error -y -f lavfi -i testsrc=size=64x48:rate=24 -frames:v 12 "
              "-vf \"settb=1/1000,setpts='if(eq(N\\,6)\\,5.3/24/TB\\,N/24/TB)'\" -fps_mode passthrough "
              "-enc_time_base 1:1000 -c:v mjpeg {out}");
  CapturedLog log;
  auto source = open_frame_source(movie.string(), {});
  std::vector<int64_t> numbers;
  Frame frame;
  while (source->read(frame)) numbers.push_back(frame.number);
  CHECK(numbers == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12});
  std::lock_guard<std::mutex> lock(log.mutex);
  REQUIRE(log.warnings.size() == 1);
  CHECK(log.warnings[0].find(movie.string()) != std::string::npos);
}

TEST_CASE("movie: a truncated file returns its first frames, then an error naming file and frame",
          "[unit][media][video]") {
  const fs::path source_movie = fixture("long.mp4",
                                        "ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=24 -frames:v 48 "
                                        "-c:v libx264 -g 12 -movflags +faststart {out}");
  const fs::path truncated = fixture_dir() / "truncated.mp4";
  fs::copy_file(source_movie, truncated, fs::copy_options::overwrite_existing);
  fs::resize_file(truncated, fs::file_size(source_movie) * 6 / 10);

  auto source = open_frame_source(truncated.string(), {});
  int64_t returned = 0;
  Frame frame;
  try {
    while (source->read(frame)) {
      ++returned;
      CHECK(frame.number == returned);
    }
    FAIL("a truncated file ended without an error");
  } catch (const InputDataError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find(truncated.string()) != std::string::npos);
    CHECK(message.find("frame " + std::to_string(returned + 1)) != std::string::npos);
  }
  CHECK(returned >= 5);
  CHECK(returned < 48);

  // Without the index at the front, losing the end loses the index: refused at open.
  const fs::path tail_index = fixture("tailindex.mp4", "ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=24 "
                                                       "-frames:v 48 -c:v libx264 {out}");
  const fs::path cut = fixture_dir() / "tailindex-cut.mp4";
  fs::copy_file(tail_index, cut, fs::copy_options::overwrite_existing);
  fs::resize_file(cut, fs::file_size(tail_index) / 2);
  require_error([&] { open_frame_source(cut.string(), {}); }, ExitCode::data_error, cut.string());
}

TEST_CASE("movie: hostile and broken files are refused cleanly", "[unit][media][video]") {
  const fs::path dir = fixture_dir();
  SECTION("empty file") {
    const fs::path empty = dir / "empty.mp4";
    write_bytes(empty, "");
    require_error([&] { open_frame_source(empty.string(), {}); }, ExitCode::data_error, empty.string());
  }
  SECTION("random bytes, under several names") {
    std::mt19937 rng(7);
    std::string bytes(200000, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng() & 0xff);
    for (const char* name : {"random.mp4", "random.mov", "random.mkv", "random.ts", "random.bin"}) {
      const fs::path file = dir / name;
      write_bytes(file, bytes);
      require_error([&] { read_all(*open_frame_source(file.string(), {})); }, ExitCode::data_error, file.string());
    }
  }
  SECTION("a text file named .mp4") {
    const fs::path text = dir / "notes.mp4";
    write_bytes(text, "These are the shot notes.\nNothing to see here.\n");
    require_error([&] { open_frame_source(text.string(), {}); }, ExitCode::data_error, text.string());
  }
  SECTION("the header of a valid file followed by garbage") {
    // The index is at the front (+faststart), then the frames. The damage policy: the frames before
    // the damage come back as the movie's own pictures, numbered from 1, then an InputDataError (65)
    // names the file and the first frame not read; when not even the first frame decodes, opening
    // fails naming the file. Garbage decoded into frames, a crash, or an error of another kind fail.
    // Garbage from a third of the file on cuts through the first keyframe (no frame); from two
    // thirds on, the first keyframe's group is intact.
    const auto reference = ffmpeg_rgb(plain_mp4(), "plain.rgb");
    const size_t frame_bytes = 160 * 120 * 3;
    REQUIRE(reference.size() == frame_bytes * 24);
    for (const int thirds : {1, 2}) {
      std::ifstream in(plain_mp4(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), {});
      std::mt19937 rng(11);
      for (size_t i = bytes.size() * thirds / 3; i < bytes.size(); ++i) bytes[i] = static_cast<char>(rng() & 0xff);
      const fs::path file = dir / ("garbled" + std::to_string(thirds) + ".mp4");
      write_bytes(file, bytes);
      std::vector<Frame> frames;
      std::string error;
      try {
        auto source = open_frame_source(file.string(), {});
        Frame frame;
        while (source->read(frame)) frames.push_back(frame);
      } catch (const InputDataError& e) {
        error = e.what();
      }
      INFO("garbage from " << thirds << "/3 on; error: " << error << "; frames returned: " << frames.size());
      CHECK(error.find(file.string()) != std::string::npos);
      if (thirds == 1) {
        CHECK(frames.empty());
        CHECK(error.find("no frame could be decoded") != std::string::npos);
      } else {
        CHECK(frames.size() >= 8);  // the first group of pictures (-g 8) lies before the damage
        CHECK(frames.size() < 24);
        CHECK(error.find("at frame " + std::to_string(frames.size() + 1)) != std::string::npos);
      }
      for (size_t i = 0; i < frames.size(); ++i) {
        CHECK(frames[i].number == static_cast<int64_t>(i + 1));
        REQUIRE(frames[i].display.pixels.size() == frame_bytes);
        CHECK(mean_abs_diff(frames[i].display.pixels.data(), reference.data() + i * frame_bytes, frame_bytes) < 3.0);
      }
    }
  }
  SECTION("absurd dimensions in a header are refused before allocating") {
    const fs::path huge = dir / "huge.y4m";
    write_bytes(huge, "YUV4MPEG2 W40000 H40000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + std::string(4096, '\x80'));
    require_error([&] { open_frame_source(huge.string(), {}); }, ExitCode::data_error, huge.string());
    const fs::path wide = dir / "wide.y4m";
    write_bytes(wide, "YUV4MPEG2 W30000 H30000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + std::string(4096, '\x80'));
    require_error([&] { open_frame_source(wide.string(), {}); }, ExitCode::data_error, wide.string());
    FrameSourceOptions small;
    small.max_pixels = 10000;  // the 160x120 movie is 19200
    require_error([&] { open_frame_source(plain_mp4().string(), small); }, ExitCode::data_error, plain_mp4().string());
  }
}

TEST_CASE("movie: playlists and files that refer to other files are refused", "[unit][media][video]") {
  const fs::path dir = fixture_dir();
  const fs::path target = plain_mp4();
  SECTION("HLS playlist") {
    const fs::path segment = fixture("segment.ts", "ffmpeg -v error -y -i '" + target.string() + "' -c copy -f mpegts {out}");
    const fs::path playlist = dir / "playlist.m3u8";
    write_bytes(playlist, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.0,\n" + segment.string() +
                              "\n#EXT-X-ENDLIST\n");
    require_error([&] { open_frame_source(playlist.string(), {}); }, ExitCode::data_error, playlist.string());
    const fs::path disguised = dir / "playlist.mp4";  // the contents decide, not the name
    fs::copy_file(playlist, disguised, fs::copy_options::overwrite_existing);
    require_error([&] { open_frame_source(disguised.string(), {}); }, ExitCode::data_error, disguised.string());
  }
  SECTION("ffconcat list") {
    const fs::path list = dir / "list.ffconcat";
    write_bytes(list, "ffconcat version 1.0\nfile '" + target.string() + "'\n");
    require_error([&] { open_frame_source(list.string(), {}); }, ExitCode::data_error, list.string());
    const fs::path disguised = dir / "list.mov";
    fs::copy_file(list, disguised, fs::copy_options::overwrite_existing);
    require_error([&] { open_frame_source(disguised.string(), {}); }, ExitCode::data_error, disguised.string());
  }
}

TEST_CASE("movie: missing inputs are exit code 66 naming the path", "[unit][media][video]") {
  const fs::path missing = fixture_dir() / "no-such-take.mov";
  require_error([&] { open_frame_source(missing.string(), {}); }, ExitCode::no_input, missing.string());
  // A directory is not a movie.
  require_error([&] { open_frame_source(fixture_dir().string(), {}); }, ExitCode::data_error, fixture_dir().string());
}

// Not run by default: `facetrain_unit_tests "[.bench][video]"`. Prints decode+convert speed.
TEST_CASE("movie: decode speed", "[.bench][video]") {
  struct Clip {
    std::string name;
    std::string size;
  };
  for (const Clip& clip : {Clip{"bench400.mp4", "400x300"}, Clip{"bench1080.mp4", "1920x1080"}}) {
    const fs::path movie = fixture(clip.name, "ffmpeg -v error -y -f lavfi -i testsrc2=size=" + clip.size +
                                                  ":rate=25 -frames:v 250 -c:v libx264 -pix_fmt yuv420p {out}");
    for (bool full : {false, true}) {
      FrameSourceOptions options;
      options.want_full_precision = full;
      const auto start = std::chrono::steady_clock::now();
      auto source = open_frame_source(movie.string(), options);
      Frame frame;
      int count = 0;
      while (source->read(frame)) ++count;
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      WARN(clip.size << (full ? " +full" : "") << ": " << count << " frames in " << seconds << " s = "
                     << count / seconds << " frames/s");
      CHECK(count == 250);
    }
  }
}
