#include "facetrain/base/sequence_pattern.h"
#include "facetrain/base/error.h"

#include <catch2/catch.hpp>

#include <fstream>

using facetrain::SequencePattern;

TEST_CASE("sequence patterns in every notation", "[unit][base]") {
  CHECK_FALSE(SequencePattern::parse("plate.mov"));
  CHECK(SequencePattern::parse("shots/plate.####.exr")->format(1001) == "shots/plate.1001.exr");
  CHECK(SequencePattern::parse("plate.#.exr")->format(7) == "./plate.0007.exr");  // lone # is 4-padded
  CHECK(SequencePattern::parse("plate.@@@.png")->format(7) == "./plate.007.png");
  CHECK(SequencePattern::parse("plate.@.png")->format(7) == "./plate.7.png");
  CHECK(SequencePattern::parse("plate.%04d.dpx")->format(42) == "./plate.0042.dpx");
  CHECK(SequencePattern::parse("plate.%d.dpx")->format(42) == "./plate.42.dpx");
  CHECK(SequencePattern::parse("plate.$F4.tif")->format(5) == "./plate.0005.tif");
  CHECK(SequencePattern::parse("plate.$F.tif")->format(5) == "./plate.5.tif");
  CHECK(SequencePattern::parse("plate.####.exr")->format(-3) == "./plate.-0003.exr");
}

TEST_CASE("sequence patterns match their own file names only", "[unit][base]") {
  const auto p = *SequencePattern::parse("plate.####.exr");
  CHECK(p.match("plate.1001.exr") == 1001);
  CHECK(p.match("plate.-0003.exr") == -3);  // the sign is not counted in the padding
  CHECK(p.match("plate.10000.exr") == 10000);
  CHECK_FALSE(p.match("plate.01001.exr"));
  CHECK_FALSE(p.match("plate.101.exr"));
  CHECK_FALSE(p.match("plate.1001.exr.tmp"));
  CHECK_FALSE(p.match("other.1001.exr"));
  CHECK_FALSE(p.match("plate.10a1.exr"));
  const auto unpadded = *SequencePattern::parse("f.%d.png");
  CHECK(unpadded.match("f.7.png") == 7);
  CHECK_FALSE(unpadded.match("f.07.png"));
}

TEST_CASE("scan finds the frames on disk", "[unit][base]") {
  const auto dir = std::filesystem::temp_directory_path() / "facetrain_scan_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (int f : {1001, 1002, 1004}) std::ofstream(dir / ("p." + std::to_string(f) + ".png")) << "x";
  std::ofstream(dir / "p.1003.png.tmp") << "x";
  const auto frames = SequencePattern::parse((dir / "p.####.png").string())->scan();
  REQUIRE(frames.size() == 3);
  CHECK(frames.begin()->first == 1001);
  CHECK(frames.rbegin()->first == 1004);
  std::filesystem::remove_all(dir);
}

TEST_CASE("absurd token widths are usage errors, not crashes (fuzz finding)", "[unit][base]") {
  // scripts/fuzz.sh found `%2222222222222d` escaping as std::out_of_range from std::stoi.
  CHECK_THROWS_AS(SequencePattern::parse("p.%2222222222222d.exr"), facetrain::UsageError);
  CHECK_THROWS_AS(SequencePattern::parse("p.$F99999999999999999.exr"), facetrain::UsageError);
  CHECK_THROWS_AS(SequencePattern::parse("p.%13d.exr"), facetrain::UsageError);
  CHECK(SequencePattern::parse("p.%012d.exr")->padding() == 12);
}
