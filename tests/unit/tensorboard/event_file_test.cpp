#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/tensorboard/crc32c.h"
#include "facetrain/tensorboard/event.pb.h"
#include "facetrain/tensorboard/event_file_writer.h"
#include "facetrain/tensorboard/record_file.h"
#include "../test_support.h"

#include <algorithm>
#include <fstream>

namespace fs = std::filesystem;
namespace tb = facetrain::tensorboard;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = facetrain::testing::scratch_dir("tensorboard") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<fs::path> event_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (tb::is_event_file_name(e.path().filename().string())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<tb::Event> read_events(const fs::path& file) {
  const std::string bytes = facetrain::read_file(file);
  const tb::RecordScan scan = tb::scan_records(bytes);
  REQUIRE(scan.problem.empty());
  std::vector<tb::Event> events;
  for (auto record : scan.records) {
    tb::Event e;
    REQUIRE(e.ParseFromArray(record.data(), static_cast<int>(record.size())));
    events.push_back(e);
  }
  return events;
}

// The smallest valid PNG header for a width x height image (the writer reads only the IHDR).
std::string png_header(uint32_t width, uint32_t height) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (uint32_t v : {width, height})
    for (int shift = 24; shift >= 0; shift -= 8) png.push_back(static_cast<char>((v >> shift) & 0xff));
  return png + std::string(17, '\0');
}

}  // namespace

TEST_CASE("CRC-32C matches the published check value and TensorBoard's masking", "[unit][tensorboard]") {
  CHECK(tb::crc32c("123456789") == 0xE3069283u);  // the CRC-32C check value (RFC 3720 / iSCSI)
  CHECK(tb::crc32c("") == 0u);
  const uint32_t crc = tb::crc32c("123456789");
  CHECK(tb::masked_crc32c("123456789") == static_cast<uint32_t>(((crc >> 15) | (crc << 17)) + 0xa282ead8u));
}

TEST_CASE("records frame their data and a damaged or cut tail is refused", "[unit][tensorboard]") {
  std::string file;
  tb::append_record(file, "first");
  tb::append_record(file, std::string(1000, 'x'));
  tb::append_record(file, "");
  CHECK(file.size() == 3 * 16 + 5 + 1000);
  auto scan = tb::scan_records(file);
  REQUIRE(scan.records.size() == 3);
  CHECK(scan.records[0] == "first");
  CHECK(scan.records[1] == std::string(1000, 'x'));
  CHECK(scan.problem.empty());
  CHECK(scan.valid_bytes == file.size());

  SECTION("cut short mid-record") {
    scan = tb::scan_records(std::string_view(file).substr(0, file.size() - 3));
    CHECK(scan.records.size() == 2);
    CHECK_THAT(scan.problem, Catch::Contains("cut short"));
  }
  SECTION("a flipped bit in the data") {
    file[16 + 5 + 12 + 500] ^= 0x10;
    scan = tb::scan_records(file);
    CHECK(scan.records.size() == 1);
    CHECK_THAT(scan.problem, Catch::Contains("data CRC"));
  }
  SECTION("a flipped bit in a length") {
    file[0] ^= 0x01;
    scan = tb::scan_records(file);
    CHECK(scan.records.empty());
    CHECK_THAT(scan.problem, Catch::Contains("length CRC"));
  }
}

TEST_CASE("an event file starts with its version and a session start, then scalars and images", "[unit][tensorboard]") {
  const fs::path dir = fresh_dir("writer");
  {
    tb::EventFileWriter writer(dir, 1);
    writer.add_scalars(25, {{"loss/train", 1.5}, {"actor/dssim", 0.25}});
    writer.add_png_image(25, "preview", png_header(320, 256));
    CHECK_THROWS_AS(writer.add_png_image(26, "preview", "not a png"), facetrain::InputDataError);
  }
  const auto files = event_files(dir);
  REQUIRE(files.size() == 1);
  CHECK_THAT(files[0].filename().string(), Catch::StartsWith("events.out.tfevents."));
  const auto events = read_events(files[0]);
  REQUIRE(events.size() == 4);
  CHECK(events[0].file_version() == "brain.Event:2");
  CHECK(events[1].session_log().status() == tb::SessionLog::START);
  CHECK(events[1].step() == 1);
  REQUIRE(events[2].summary().value_size() == 2);
  CHECK(events[2].step() == 25);
  CHECK(events[2].summary().value(0).tag() == "loss/train");
  CHECK(events[2].summary().value(0).simple_value() == 1.5f);
  CHECK(events[3].summary().value(0).image().width() == 320);
  CHECK(events[3].summary().value(0).image().height() == 256);
  CHECK(events[3].summary().value(0).image().colorspace() == 3);
  CHECK(events[2].wall_time() > 1.7e9);
}

TEST_CASE("a new session's file sorts after every earlier one, whatever the clock says", "[unit][tensorboard]") {
  const fs::path dir = fresh_dir("order");
  // A file from a machine whose clock was ahead (year 2100).
  std::ofstream(dir / "events.out.tfevents.4102444800.farmnode.1.facetrain") << "";
  tb::EventFileWriter writer(dir, 1);
  const auto files = event_files(dir);
  REQUIRE(files.size() == 2);
  CHECK(files.back() == writer.path());
  CHECK_THAT(writer.path().filename().string(), Catch::StartsWith("events.out.tfevents.4102444801."));
}

TEST_CASE("truncating keeps the steps up to a checkpoint and drops files left without data", "[unit][tensorboard]") {
  const fs::path dir = fresh_dir("truncate");
  fs::path first, second;
  {
    tb::EventFileWriter writer(dir, 1);
    for (int64_t step = 10; step <= 100; step += 10) writer.add_scalars(step, {{"loss/train", step / 10.0}});
    first = writer.path();
  }
  {
    tb::EventFileWriter writer(dir, 101);  // a later session, all of it past the checkpoint
    writer.add_scalars(110, {{"loss/train", 11.0}});
    second = writer.path();
  }
  // A crash cut the first file's last record short.
  const auto size = fs::file_size(first);
  { std::ofstream(first, std::ios::app | std::ios::binary) << std::string("\x20\0\0\0", 4); }
  CHECK(fs::file_size(first) == size + 4);

  tb::truncate_event_files_after(dir, 60);
  CHECK_FALSE(fs::exists(second));
  const auto events = read_events(first);
  std::vector<int64_t> steps;
  for (const auto& e : events)
    if (e.has_summary()) steps.push_back(e.step());
  CHECK(steps == std::vector<int64_t>{10, 20, 30, 40, 50, 60});
  CHECK(events.front().file_version() == "brain.Event:2");

  tb::truncate_event_files_after(dir, 0);  // a fresh start (--resume never)
  CHECK(event_files(dir).empty());
}
