#include "facetrain/base/error.h"
#include "facetrain/base/frame_range.h"

#include <catch2/catch.hpp>

using facetrain::FrameRange;

TEST_CASE("frame ranges in farm syntax", "[unit][base]") {
  CHECK(FrameRange::parse("1001-1005").frames_within(0, 5000) == std::vector<int64_t>{1001, 1002, 1003, 1004, 1005});
  CHECK(FrameRange::parse("1001-1010x3").frames_within(0, 5000) == std::vector<int64_t>{1001, 1004, 1007, 1010});
  CHECK(FrameRange::parse("1001,1005,1010-1012").frames_within(0, 5000) ==
        std::vector<int64_t>{1001, 1005, 1010, 1011, 1012});
  CHECK(FrameRange::parse("5,5,5").frames_within(0, 10) == std::vector<int64_t>{5});  // never repeated
  CHECK(FrameRange::parse("10-1").frames_within(0, 100).size() == 10);               // reversed: same frames
  CHECK(FrameRange::parse("-5--3").frames_within(-10, 10) == std::vector<int64_t>{-5, -4, -3});
  CHECK(FrameRange::parse(" 7 ").frames_within(0, 10) == std::vector<int64_t>{7});
}

TEST_CASE("frame ranges clip to the plate and stay cheap when huge", "[unit][base]") {
  const auto range = FrameRange::parse("1-2000000000");
  CHECK(range.frames_within(1001, 1003) == std::vector<int64_t>{1001, 1002, 1003});
  CHECK(range.contains(1999999999));
  CHECK_FALSE(range.contains(0));
  CHECK(*range.highest() == 2000000000);
  const auto stepped = FrameRange::parse("1-100x7");
  CHECK(*stepped.highest() == 99);
  CHECK(stepped.frames_within(50, 60) == std::vector<int64_t>{50, 57});
}

TEST_CASE("bad frame ranges are usage errors naming the text", "[unit][base]") {
  for (const char* bad : {"", "abc", "1-", "1-10x0", "1-10x-2", "1,,2", "1-10y2", "10-20x", "99999999999999999"}) {
    CAPTURE(bad);
    try {
      FrameRange::parse(bad);
      FAIL("accepted a bad range");
    } catch (const facetrain::UsageError& e) {
      CHECK(std::string(e.what()).find(std::string("'") + bad + "'") != std::string::npos);
    }
  }
}

TEST_CASE("chunks cover every frame once", "[unit][base]") {
  std::vector<int64_t> frames;
  for (int64_t f = 1001; f <= 1100; ++f) frames.push_back(f);
  for (int count : {1, 3, 7, 100, 150}) {
    std::vector<int64_t> joined;
    for (int i = 1; i <= count; ++i) {
      const auto chunk = facetrain::chunk_of(frames, i, count);
      joined.insert(joined.end(), chunk.begin(), chunk.end());
    }
    CHECK(joined == frames);
  }
  CHECK(facetrain::parse_chunk("3/10") == std::pair<int, int>{3, 10});
  CHECK_THROWS_AS(facetrain::parse_chunk("0/10"), facetrain::UsageError);
  CHECK_THROWS_AS(facetrain::parse_chunk("11/10"), facetrain::UsageError);
  CHECK_THROWS_AS(facetrain::parse_chunk("3/10x"), facetrain::UsageError);
}

TEST_CASE("descending ranges name the same frames as ascending ones", "[unit][base]") {
  CHECK(FrameRange::parse("1100-1001").frames_within(0, 5000) == FrameRange::parse("1001-1100").frames_within(0, 5000));
  CHECK(FrameRange::parse("1100-1001").to_string() == "1001-1100");
}

TEST_CASE("frames outside a plate's span, as segments", "[unit][base]") {
  CHECK(FrameRange::parse("1001-1100").outside(1, 765).to_string() == "1001-1100");
  CHECK(FrameRange::parse("1330-1340").outside(1, 1337).to_string() == "1338-1340");
  CHECK(FrameRange::parse("1-20").outside(5, 15).to_string() == "1-4,16-20");
  CHECK(FrameRange::parse("1-100x7").outside(10, 90).to_string() == "1-8x7,92-99x7");  // the steps' own frames
  CHECK(FrameRange::parse("1-100x7").outside(10, 90).frames_within(0, 200) == std::vector<int64_t>{1, 8, 92, 99});
  CHECK(FrameRange::parse("1-10x9").outside(2, 5).to_string() == "1,10");
  CHECK(FrameRange::parse("5-10").outside(1, 100).empty());
  CHECK(FrameRange::all().outside(1, 10).empty());
  // Huge ranges stay segments: nothing is enumerated.
  CHECK(FrameRange::parse("1-2000000000").outside(1, 765).to_string() == "766-2000000000");
}

TEST_CASE("frame lists become runs; ranges join in order", "[unit][base]") {
  CHECK(FrameRange::of_frames({100, 105, 106, 107, 111}).to_string() == "100,105-107,111");
  CHECK(FrameRange::of_frames({}).empty());
  CHECK_FALSE(FrameRange::parse("3").empty());
  const FrameRange joined = FrameRange::parse("111-120").joined(FrameRange::of_frames({100, 105}));
  CHECK(joined.to_string() == "100,105,111-120");
  CHECK(joined.lowest() == 100);
  CHECK(joined.highest() == 120);
  CHECK(FrameRange::of_frames({1, 3, 5, 7, 9, 11}).to_string(2) == "1,3,...");
}
