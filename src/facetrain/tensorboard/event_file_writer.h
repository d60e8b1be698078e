#pragma once
// RUN/tensorboard/: the event files TensorBoard reads (`tensorboard --logdir RUN/tensorboard`),
// written by rank 0 while training: the logged metrics as scalars, each preview sheet as an image.
//
// One file per training session, named so that the sessions sort in the order they ran (TensorBoard
// reads a directory's files in name order). A resumed run first cuts the earlier files back to the
// checkpoint it resumes from (truncate_event_files_after), then opens its own file, which starts
// with a SessionLog START at its first step: a resumed run is one continuous curve with no step
// twice, whether TensorBoard reads the files afresh or was watching while the run restarted (it
// drops what it had already read from that step on). Records are appended and flushed as they come,
// like metrics.jsonl; a record cut short by a crash fails its CRC and is dropped on resume.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace facetrain::tensorboard {

class EventFileWriter {
 public:
  // Creates `directory` (owner-only unless FACETRAIN_UMASK says otherwise) and a new event file in
  // it that sorts after every file already there; `first_step` is the first step this session
  // logs. Throws OutputError (73) naming the file when it cannot be created.
  EventFileWriter(const std::filesystem::path& directory, int64_t first_step);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // One event holding a scalar per (tag, value). Throws IoError (74) naming the file.
  void add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values);
  // One event holding a PNG image (width and height read from its header). Throws InputDataError
  // (65) when `png` is not a PNG, IoError (74) when the write fails.
  void add_png_image(int64_t step, const std::string& tag, std::string_view png);

 private:
  void write_event(const std::string& serialized_event);

  std::filesystem::path path_;
  int fd_ = -1;
};

// Keeps, in every event file in `directory`, only the events of steps <= `step` (file headers and
// session starts included); a file left without any summary is removed. Files are rewritten
// atomically. Throws IoError / OutputError naming the file.
void truncate_event_files_after(const std::filesystem::path& directory, int64_t step);

// Whether `file_name` is a TensorBoard event file (TensorBoard's own rule: the name holds "tfevents").
bool is_event_file_name(const std::string& file_name);

}  // namespace facetrain::tensorboard
