// The rule for asked frames a plate does not have (media/frame_selection.h), on fake sources.
#include "facetrain/media/frame_selection.h"
#include "facetrain/base/error.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace facetrain;

namespace {

// A source that has the frames it is given; reading is not needed by the selection.
class FakeSource final : public FrameSource {
 public:
  FakeSource(std::string path, bool is_sequence, int64_t first, int64_t last, std::set<int64_t> gaps = {})
      : gaps_(std::move(gaps)) {
    info_.path = std::move(path);
    info_.is_sequence = is_sequence;
    info_.frame_first = first;
    info_.frame_last = last;
  }
  const SourceInfo& info() const override { return info_; }
  bool has_frame(int64_t n) const override {
    return n >= info_.frame_first && (info_.frame_last < info_.frame_first || n <= info_.frame_last) && !gaps_.count(n);
  }
  void seek(int64_t) override {}
  bool read(Frame&) override { return false; }

 private:
  SourceInfo info_;
  std::set<int64_t> gaps_;
};

std::string error_of(const FrameSelection& selection, const std::string& asked, const FrameSource& source,
                     OnMissingFrame policy) {
  try {
    check_selection(selection, asked, source, policy);
  } catch (const InputDataError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a range the movie does not reach is an error naming both ranges and --start-frame", "[unit][media]") {
  const FakeSource movie("plate.mp4", false, 1, 765);
  const FrameRange asked = FrameRange::parse("1001-1100");
  const FrameSelection selection = select_frames(asked, movie);
  CHECK(selection.present.empty());
  CHECK(selection.missing.to_string() == "1001-1100");
  for (auto policy : {OnMissingFrame::error, OnMissingFrame::skip}) {  // none at all: skip does not help
    const std::string message = error_of(selection, "--frames 1001-1100", movie, policy);
    CHECK(message == "plate.mp4: --frames 1001-1100: the plate has frames 1-765, none of the frames asked for; "
                     "--start-frame 1001 numbers a movie's first frame 1001");
  }
}

TEST_CASE("a partial overlap is an error by default and a warning with skip", "[unit][media]") {
  const FakeSource movie("cap12.mp4", false, 1, 1337);
  const FrameSelection selection = select_frames(FrameRange::parse("1330-1340"), movie);
  CHECK(selection.present == std::vector<int64_t>{1330, 1331, 1332, 1333, 1334, 1335, 1336, 1337});
  CHECK(selection.missing.to_string() == "1338-1340");
  CHECK(error_of(selection, "--frames 1330-1340", movie, OnMissingFrame::error) ==
        "cap12.mp4: --frames 1330-1340: frames 1338-1340 are not in the plate, which has frames 1-1337; "
        "--on-missing skip does the 8 that are");
  CHECK(check_selection(selection, "--frames 1330-1340", movie, OnMissingFrame::skip) ==
        "cap12.mp4: --frames 1330-1340: frames 1338-1340 are not in the plate, which has frames 1-1337; skipped "
        "(--on-missing skip)");
  const FrameSelection inside = select_frames(FrameRange::parse("1-1337"), movie);
  CHECK(inside.missing.empty());
  CHECK(check_selection(inside, "--frames 1-1337", movie, OnMissingFrame::error).empty());
}

TEST_CASE("a sequence's gaps are missing frames, named by file", "[unit][media]") {
  const FakeSource sequence("shot/plate.####.exr", true, 101, 110, {105, 106});
  const FrameSelection all = select_frames(FrameRange::all(), sequence);
  CHECK(all.present.size() == 8);
  CHECK(all.missing.to_string() == "105-106");
  CHECK(error_of(all, "all frames", sequence, OnMissingFrame::error) ==
        "shot/plate.####.exr: all frames: frames 105-106 are not in the plate, which has frames 101-110 (no file "
        "shot/plate.0105.exr); --on-missing skip does the 8 that are");
  const FrameSelection around = select_frames(FrameRange::parse("100-106"), sequence);
  CHECK(around.missing.to_string() == "100,105-106");
  CHECK(around.present == std::vector<int64_t>{101, 102, 103, 104});
  CHECK(error_of(around, "--frames 100-106", sequence, OnMissingFrame::skip).empty());
  // Frames numbered in files: no --start-frame hint.
  const FrameSelection beyond = select_frames(FrameRange::parse("1001-1010"), sequence);
  CHECK(error_of(beyond, "--frames 1001-1010", sequence, OnMissingFrame::skip).find("--start-frame") == std::string::npos);
}

TEST_CASE("a movie of unknown length: frames before its first are missing, the rest is for decoding", "[unit][media]") {
  const FakeSource stream("take.ts", false, 1, 0);
  const FrameSelection all = select_frames(FrameRange::all(), stream);
  CHECK(all.open_ended);
  CHECK(all.missing.empty());
  CHECK(error_of(all, "all frames", stream, OnMissingFrame::error).empty());
  const FrameSelection range = select_frames(FrameRange::parse("0-5"), stream);
  CHECK_FALSE(range.open_ended);
  CHECK(range.missing.to_string() == "0");
  CHECK(range.present == std::vector<int64_t>{1, 2, 3, 4, 5});
  CHECK(describe_plate_frames(stream.info()) == "1 on (its length is not recorded)");
}

TEST_CASE("frames decoding did not deliver", "[unit][media]") {
  CHECK(undelivered_frames({1, 2, 3, 4, 5}, {1, 2, 3}).to_string() == "4-5");
  CHECK(undelivered_frames({1, 2, 3}, {1, 2, 3}).empty());
  CHECK(undelivered_frames({1, 2, 3, 4}, {1, 3}).to_string() == "2,4");
}

TEST_CASE("a huge range on a movie of unknown length is left to decoding, not listed", "[unit][media]") {
  const FakeSource stream("take.ts", false, 1, 0);
  const FrameSelection selection = select_frames(FrameRange::parse("1-2000000000"), stream);
  CHECK(selection.open_ended);
  CHECK(selection.present.empty());
  CHECK(selection.missing.empty());
}
