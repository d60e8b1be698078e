// PNG writing (atomic) and reading of 8-bit crops and masks.
#include "facetrain/media/image_io.h"
#include "facetrain/base/error.h"

#include <catch2/catch.hpp>

#include "../figures.h"
#include "../test_support.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace fs = std::filesystem;
using namespace facetrain;

namespace {

const fs::path& io_dir() { return facetrain::testing::scratch_dir("image-io-test"); }

// Something like a face crop: smooth shading, an edge, and sensor noise.
Rgb8Image synthetic_crop(int size, unsigned seed) {
  Rgb8Image image;
  image.width = size;
  image.height = size;
  image.pixels.resize(static_cast<size_t>(size) * size * 3);
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 3.0f);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const float dx = (x - size / 2.0f) / size;
      const float dy = (y - size / 2.0f) / size;
      const float face = std::exp(-(dx * dx + dy * dy * 0.6f) * 9.0f);
      const float base[3] = {60 + 150 * face, 50 + 110 * face, 45 + 90 * face};
      for (int c = 0; c < 3; ++c) {
        const float value = base[c] + noise(rng) + ((x / 16 + y / 16) % 2 ? 4.0f : 0.0f);
        image.row(y)[x * 3 + c] = static_cast<uint8_t>(std::clamp(value, 0.0f, 255.0f));
      }
    }
  }
  return image;
}

size_t entries_in(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("image io: RGB and grey PNGs round-trip exactly, atomically, owner-only", "[unit][media][image_io]") {
  const fs::path dir = io_dir() / "roundtrip";
  fs::create_directories(dir);
  const Rgb8Image crop = synthetic_crop(64, 1);
  const fs::path rgb_path = dir / "crop.png";
  write_png(rgb_path, crop);
  const Rgb8Image back = read_rgb8(rgb_path);
  CHECK(back.width == 64);
  CHECK(back.height == 64);
  CHECK(back.pixels == crop.pixels);
  struct stat st {};
  REQUIRE(::stat(rgb_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  Gray8Image mask;
  mask.width = 17;
  mask.height = 9;
  for (int i = 0; i < 17 * 9; ++i) mask.pixels.push_back(static_cast<uint8_t>(i * 7));
  const fs::path mask_path = dir / "mask.png";
  write_png(mask_path, mask, 6);
  const Rgb8Image mask_back = read_rgb8(mask_path);
  REQUIRE(mask_back.pixels.size() == 17u * 9u * 3u);
  for (int i = 0; i < 17 * 9; ++i) {
    CHECK(mask_back.pixels[i * 3] == mask.pixels[i]);
    CHECK(mask_back.pixels[i * 3 + 2] == mask.pixels[i]);
  }

  // Overwriting replaces the file; no temporary files are left behind.
  const Rgb8Image other = synthetic_crop(32, 2);
  write_png(rgb_path, other, 0);
  CHECK(read_rgb8(rgb_path).pixels == other.pixels);
  CHECK(entries_in(dir) == 2);
}

TEST_CASE("image io: bad images and paths are reported with the file name", "[unit][media][image_io]") {
  const fs::path dir = io_dir();
  const fs::path missing = dir / "missing.png";
  try {
    read_rgb8(missing);
    FAIL("no error");
  } catch (const MissingInputError& e) {
    CHECK(std::string(e.what()).find(missing.string()) != std::string::npos);
  }
  const fs::path garbage = dir / "garbage.png";
  std::ofstream(garbage) << "not an image";
  try {
    read_rgb8(garbage);
    FAIL("no error");
  } catch (const InputDataError& e) {
    CHECK(std::string(e.what()).find(garbage.string()) != std::string::npos);
  }
  // An inconsistent image is a bug in the caller, not a file problem.
  Rgb8Image broken;
  broken.width = 10;
  broken.height = 10;
  broken.pixels.resize(12);
  CHECK_THROWS_AS(write_png(dir / "broken.png", broken), InternalError);
  CHECK_FALSE(fs::exists(dir / "broken.png"));
  // A directory that does not exist cannot be written into.
  try {
    write_png(dir / "no-such-dir" / "x.png", synthetic_crop(8, 3));
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::cannot_create);
    CHECK(std::string(e.what()).find("no-such-dir") != std::string::npos);
  }
}

// A figure for docs/ (tests/unit/figures.h; scripts/bench.sh --sections figures): encode time
// and size per crop at each PNG level, and a crop's atomic write with its own fsync against what
// extract does (renamed without one, made durable by one syncfs per chunk), on the face crops that
// extract wrote from the sample clips.
TEST_CASE("figures: PNG levels and per-crop fsync on face crops of the sample clips", "[.figures][png]") {
  const fs::path dir = facetrain::testing::figures_dir();
  constexpr size_t kCrops = 60;
  constexpr int kPasses = 3;
  std::vector<fs::path> files;
  for (const auto& set : fs::directory_iterator(dir)) {
    if (set.path().extension() != ".default") continue;
    std::vector<fs::path> faces;
    for (const auto& f : fs::directory_iterator(set.path() / "faces")) faces.push_back(f.path());
    std::sort(faces.begin(), faces.end());
    for (size_t i = 0; i < faces.size() && i < kCrops / 2; ++i) files.push_back(faces[i * faces.size() / (kCrops / 2)]);
  }
  REQUIRE(files.size() >= kCrops / 2);
  std::vector<Rgb8Image> crops;
  for (const auto& f : files) crops.push_back(read_rgb8(f));
  const int size = crops[0].width;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto ms_per_crop = [&](const auto& body) {
    std::vector<double> passes;
    for (int pass = 0; pass < kPasses; ++pass) {
      const auto start = std::chrono::steady_clock::now();
      body(pass);
      passes.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
                       static_cast<double>(crops.size()));
    }
    return median(passes);
  };
  nlohmann::json levels = nlohmann::json::object();
  for (int level : {1, 3, 6, 9}) {
    size_t bytes = 0;
    const double ms = ms_per_crop([&](int) {
      bytes = 0;
      for (const auto& crop : crops) bytes += encode_png(crop, level).size();
    });
    levels[std::to_string(level)] = {{"encode_ms_per_crop", ms},
                                     {"kib_per_crop", static_cast<double>(bytes) / crops.size() / 1024.0}};
  }
  const fs::path out = dir / "writes";
  fs::create_directories(out);
  const double immediate_ms = ms_per_crop([&](int pass) {
    for (size_t i = 0; i < crops.size(); ++i)
      write_png(out / ("i" + std::to_string(pass) + "-" + std::to_string(i) + ".png"), crops[i]);
  });
  const double deferred_ms = ms_per_crop([&](int pass) {
    for (size_t i = 0; i < crops.size(); ++i)
      write_png(out / ("d" + std::to_string(pass) + "-" + std::to_string(i) + ".png"), crops[i],
                kDefaultPngCompressionLevel, Durability::deferred);
    sync_filesystem(out);
  });
  facetrain::testing::record_figures(
      "png_crops",
      {{"crops", crops.size()}, {"crop_size_px", size}, {"passes", kPasses}, {"statistic", "median of the passes"},
       {"levels", levels},
       {"write_level", kDefaultPngCompressionLevel},
       {"write_fsync_each_ms_per_crop", immediate_ms},
       {"write_deferred_then_one_syncfs_ms_per_crop", deferred_ms},
       {"fsync_ms_per_crop", immediate_ms - deferred_ms}});
  // What docs/performance.md and kDefaultPngCompressionLevel rest on: level 3 encodes faster than level 6.
  CHECK(levels["3"]["encode_ms_per_crop"].get<double>() < levels["6"]["encode_ms_per_crop"].get<double>());
}
