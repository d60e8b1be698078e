// PNG writing (atomic) and reading of 8-bit crops and masks.
#include "facetrain/media/image_io.h"
#include "facetrain/base/error.h"

#include <catch2/catch.hpp>

#include "../test_support.h"

#include <sys/stat.h>
#include <unistd.h>

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

// Not run by default: `facetrain_unit_tests "[.bench][png]"`. Time and size per 256x256 crop.
TEST_CASE("image io: PNG compression level speed", "[.bench][png]") {
  const fs::path dir = io_dir() / "bench";
  fs::create_directories(dir);
  constexpr int kCrops = 200;
  std::vector<Rgb8Image> crops;
  for (int i = 0; i < 8; ++i) crops.push_back(synthetic_crop(256, 100 + i));
  for (int level : {0, 1, 3, 6, 9}) {
    auto start = std::chrono::steady_clock::now();
    size_t bytes = 0;
    for (int i = 0; i < kCrops; ++i) bytes += encode_png(crops[i % 8], level).size();
    const double encode_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    start = std::chrono::steady_clock::now();
    for (int i = 0; i < kCrops; ++i) write_png(dir / ("crop" + std::to_string(i % 8) + ".png"), crops[i % 8], level);
    const double write_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    WARN("level " << level << ": encode " << encode_s * 1000.0 / kCrops << " ms, atomic write "
                  << write_s * 1000.0 / kCrops << " ms per 256x256 crop, " << bytes / kCrops / 1024.0 << " KiB");
  }
  // Decoded real faces, when the dlib example photos are installed (libdlib-data's docs).
  const fs::path photo = "/usr/share/doc/libdlib19.1/examples/faces/2008_002506.jpg";
  if (fs::exists(photo)) {
    const Rgb8Image image = read_rgb8(photo);
    Rgb8Image crop;
    crop.width = crop.height = 256;
    crop.pixels.resize(256 * 256 * 3);
    for (int y = 0; y < 256; ++y)
      for (int x = 0; x < 256; ++x)
        for (int c = 0; c < 3; ++c)
          crop.pixels[(y * 256 + x) * 3 + c] =
              image.pixels[((y * image.height / 256) * image.width + x * image.width / 256) * 3 + c];
    for (int level : {1, 3, 6}) {
      const auto start = std::chrono::steady_clock::now();
      size_t bytes = 0;
      for (int i = 0; i < kCrops; ++i) bytes += encode_png(crop, level).size();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      WARN("photo, level " << level << ": encode " << seconds * 1000.0 / kCrops << " ms, " << bytes / kCrops / 1024.0
                           << " KiB");
    }
  }
}
