#include "facetrain/tensorboard/event_file_writer.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/tensorboard/event.pb.h"
#include "facetrain/tensorboard/record_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace facetrain::tensorboard {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFilePrefix = "events.out.tfevents.";

double wall_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  std::string host(name);
  for (char& c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
  return host.empty() ? "localhost" : host;
}

// The seconds field of an event file's name (events.out.tfevents.<seconds>.<host>...), or -1.
int64_t name_seconds(const std::string& name) {
  if (name.rfind(kFilePrefix, 0) != 0) return -1;
  const size_t begin = std::strlen(kFilePrefix);
  size_t end = begin;
  while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
  if (end == begin || end - begin > 18) return -1;
  return std::stoll(name.substr(begin, end - begin));
}

// A name that sorts after every event file in `directory`: its seconds field is the clock's, or one
// more than the newest file's when the clock says otherwise (a machine whose clock is behind, two
// sessions in one second). Ten digits, as TensorFlow's writer, until the year 2286.
std::string next_file_name(const fs::path& directory) {
  int64_t seconds = static_cast<int64_t>(wall_time_now());
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const int64_t taken = name_seconds(entry.path().filename().string());
    if (taken >= seconds) seconds = taken + 1;
  }
  return fmt::format("{}{:010d}.{}.{}.facetrain", kFilePrefix, seconds, host_name(), ::getpid());
}

std::string serialize(const Event& event) {
  std::string bytes;
  if (!event.SerializeToString(&bytes)) throw InternalError("cannot serialise a TensorBoard event");
  return bytes;
}

// Width and height from a PNG's IHDR chunk.
std::pair<int, int> png_size(std::string_view png) {
  static constexpr unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (png.size() < 24 || std::memcmp(png.data(), kSignature, 8) != 0 || png.substr(12, 4) != "IHDR")
    throw InputDataError("not a PNG image");
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    return static_cast<int>(v);
  };
  return {be32(16), be32(20)};
}

}  // namespace

bool is_event_file_name(const std::string& file_name) { return file_name.find("tfevents") != std::string::npos; }

EventFileWriter::EventFileWriter(const fs::path& directory, int64_t first_step) {
  create_directories_private(directory);
  path_ = directory / next_file_name(directory);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, default_file_mode());
  if (fd_ < 0) throw OutputError(fmt::format("{}: cannot create ({})", path_.string(), std::strerror(errno)));
  Event header;
  header.set_wall_time(wall_time_now());
  header.set_file_version("brain.Event:2");
  header.mutable_source_metadata()->set_writer("facetrain");
  write_event(serialize(header));
  Event start;
  start.set_wall_time(wall_time_now());
  start.set_step(first_step);
  start.mutable_session_log()->set_status(SessionLog::START);
  write_event(serialize(start));
}

EventFileWriter::~EventFileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void EventFileWriter::write_event(const std::string& serialized_event) {
  std::string record;
  append_record(record, serialized_event);
  size_t written = 0;
  while (written < record.size()) {
    const ssize_t n = ::write(fd_, record.data() + written, record.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw IoError(fmt::format("{}: write failed ({})", path_.string(), n < 0 ? std::strerror(errno) : "no progress"));
    written += static_cast<size_t>(n);
  }
}

void EventFileWriter::add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values) {
  if (values.empty()) return;
  Event event;
  event.set_wall_time(wall_time_now());
  event.set_step(step);
  Summary* summary = event.mutable_summary();
  for (const auto& [tag, value] : values) {
    Summary::Value* v = summary->add_value();
    v->set_tag(tag);
    v->set_simple_value(static_cast<float>(value));
  }
  write_event(serialize(event));
}

void EventFileWriter::add_png_image(int64_t step, const std::string& tag, std::string_view png) {
  const auto [width, height] = png_size(png);
  Event event;
  event.set_wall_time(wall_time_now());
  event.set_step(step);
  Summary::Value* v = event.mutable_summary()->add_value();
  v->set_tag(tag);
  Summary::Image* image = v->mutable_image();
  image->set_width(width);
  image->set_height(height);
  image->set_colorspace(3);
  image->set_encoded_image_string(png.data(), png.size());
  write_event(serialize(event));
}

void truncate_event_files_after(const fs::path& directory, int64_t step) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory, ec))
    if (entry.is_regular_file(ec) && is_event_file_name(entry.path().filename().string()) &&
        entry.path().filename().string()[0] != '.')
      files.push_back(entry.path());
  for (const fs::path& file : files) {
    const std::string bytes = read_file(file);
    const RecordScan scan = scan_records(bytes);
    std::string kept;
    bool any_summary = false;
    for (std::string_view record : scan.records) {
      Event event;
      if (!event.ParseFromArray(record.data(), static_cast<int>(record.size()))) break;  // not ours: stop there
      if (event.step() > step) continue;
      any_summary = any_summary || event.has_summary();
      append_record(kept, record);
    }
    if (!any_summary) {
      fs::remove(file, ec);
      if (ec) throw OutputError(fmt::format("{}: cannot remove ({})", file.string(), ec.message()));
    } else if (kept.size() != bytes.size()) {
      write_file_atomic(file, kept);
    }
  }
}

}  // namespace facetrain::tensorboard
