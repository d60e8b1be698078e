// The landmark model cache (data_prep/face/landmark_model_cache.h): a second predictor reads the
// packed model instead of parsing dlib's file and predicts the same points; a damaged or foreign
// cache entry is ignored and rewritten; a changed model file is hashed again.
#include "data_prep/face/landmark_model_cache.h"
#include "data_prep/face/landmark_predictor.h"
#include "facetrain/base/error.h"
#include "facetrain/face/alignment.h"
#include "facetrain/media/image_io.h"

#include "../test_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace facetrain;
namespace fs = std::filesystem;

namespace {

// Points for a fixed box on one of dlib's example photos: any box exercises the whole cascade.
Landmarks68 predict_on_photo(const LandmarkPredictor& predictor) {
  static const Gray8Image gray = to_gray(read_rgb8("/usr/share/doc/libdlib19.1/examples/faces/2008_002506.jpg"));
  return predictor.predict(gray, FaceBox{150.f, 60.f, 290.f, 200.f});
}

// Points the cache in a fresh folder for the duration of a test case.
struct CacheDir {
  fs::path path;
  std::string previous;
  bool had_previous = false;
  explicit CacheDir(const std::string& name) : path(testing::scratch_dir("landmark-cache") / name) {
    fs::remove_all(path);
    if (const char* v = std::getenv("FACETRAIN_CACHE_DIR")) previous = v, had_previous = true;
    ::setenv("FACETRAIN_CACHE_DIR", path.c_str(), 1);
  }
  ~CacheDir() {
    if (had_previous) ::setenv("FACETRAIN_CACHE_DIR", previous.c_str(), 1);
    else ::unsetenv("FACETRAIN_CACHE_DIR");
  }
  fs::path packed() const { return path / ("shape-predictor-" + std::string(kDefaultLandmarkModelSha256) + ".packed"); }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("a cached landmark model predicts exactly what the parsed one does", "[unit][face][dlib]") {
  CacheDir cache("roundtrip");
  auto t0 = std::chrono::steady_clock::now();
  const LandmarkPredictor parsed(kDefaultLandmarkModelPath, kDefaultLandmarkModelSha256);
  const double parse_s = seconds_since(t0);
  REQUIRE(fs::exists(cache.packed()));
  t0 = std::chrono::steady_clock::now();
  const LandmarkPredictor cached(kDefaultLandmarkModelPath, kDefaultLandmarkModelSha256);
  const double cached_s = seconds_since(t0);
  WARN("landmark model: parsed and hashed in " << parse_s << " s, from the cache in " << cached_s << " s");
  CHECK(cached.model_sha256() == kDefaultLandmarkModelSha256);
  const Landmarks68 a = predict_on_photo(parsed), b = predict_on_photo(cached);
  for (int i = 0; i < 68; ++i) {
    CHECK(a[i].x == b[i].x);
    CHECK(a[i].y == b[i].y);
  }
}

TEST_CASE("a damaged or foreign landmark cache entry is ignored and rewritten", "[unit][face][dlib]") {
  CacheDir cache("damaged");
  const LandmarkPredictor first(kDefaultLandmarkModelPath, kDefaultLandmarkModelSha256);
  const Landmarks68 expected = predict_on_photo(first);
  REQUIRE(fs::exists(cache.packed()));
  const auto size = fs::file_size(cache.packed());

  SECTION("a flipped bit in the leaves") {
    std::fstream f(cache.packed(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size - 1000));
    char byte = 0;
    f.read(&byte, 1);
    byte ^= 0x10;
    f.seekp(static_cast<std::streamoff>(size - 1000));
    f.write(&byte, 1);
    f.close();
    PackedModel model;
    CHECK_FALSE(read_cached_landmark_model(kDefaultLandmarkModelSha256, model));
    CHECK(model.trees.empty());
  }
  SECTION("a truncated file") {
    fs::resize_file(cache.packed(), size / 2);
    PackedModel model;
    CHECK_FALSE(read_cached_landmark_model(kDefaultLandmarkModelSha256, model));
  }
  SECTION("another model's entry under this model's name") {
    // The header names the model it was made from: same bytes, wrong SHA-256 in the name.
    std::string other(64, 'a');
    fs::copy_file(cache.packed(), cache.path / ("shape-predictor-" + other + ".packed"));
    PackedModel model;
    CHECK_FALSE(read_cached_landmark_model(other, model));
    CHECK(model.trees.empty());
  }
  const LandmarkPredictor again(kDefaultLandmarkModelPath, kDefaultLandmarkModelSha256);
  const Landmarks68 got = predict_on_photo(again);
  for (int i = 0; i < 68; ++i) CHECK((got[i].x == expected[i].x && got[i].y == expected[i].y));
  // Whatever the damage, the entry is whole again afterwards.
  PackedModel rewritten;
  CHECK(read_cached_landmark_model(kDefaultLandmarkModelSha256, rewritten));
}

TEST_CASE("a model file changed since it was hashed is hashed again", "[unit][face][dlib]") {
  CacheDir cache("identity");
  const fs::path copy = cache.path.parent_path() / "model-copy.dat";
  fs::remove(copy);
  fs::copy_file(kDefaultLandmarkModelPath, copy);
  {
    const LandmarkPredictor p(copy.string(), kDefaultLandmarkModelSha256);
  }
  const std::string identity = landmark_model_file_identity(copy);
  REQUIRE(recorded_landmark_model_sha256(copy, identity) == std::optional<std::string>(kDefaultLandmarkModelSha256));
  // Rewritten in place with other bytes at the same size: ctime (and mtime) move, the record no longer applies.
  {
    std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.write("facetrain", 9);
  }
  const std::string changed = landmark_model_file_identity(copy);
  CHECK(changed != identity);
  CHECK_FALSE(recorded_landmark_model_sha256(copy, changed).has_value());
  CHECK_THROWS_AS(LandmarkPredictor(copy.string(), kDefaultLandmarkModelSha256), InputDataError);
  fs::remove(copy);
}
