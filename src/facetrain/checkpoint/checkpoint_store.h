#pragma once
// Checkpoint directories that are either complete and verified or ignored (docs/design.md §4.2, §8):
//   checkpoints/step-NNNNNNNN/   the files, then state.json (their SHA-256s), then COMPLETE
//   checkpoints/latest           names the newest complete checkpoint
// A checkpoint is assembled under a temporary name, every file fsynced, renamed into place, marked
// COMPLETE (holding state.json's SHA-256), and only then named by `latest`. Loading verifies every
// file; a damaged newest checkpoint falls back to the previous one with a warning.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace facetrain {

class CheckpointStore {
 public:
  explicit CheckpointStore(std::filesystem::path directory, int64_t keep = 3);

  const std::filesystem::path& directory() const { return directory_; }
  static std::string step_name(int64_t step);  // "step-00001200"

  // Writes a checkpoint for `step`: write_files(dir) puts its files into a fresh temporary
  // directory; `state` is stored as state.json with "files": {name: sha256} added. Then commits and
  // prunes to the newest `keep`. Returns the committed directory. Throws IoError/OutputError; on
  // failure the previous checkpoints are untouched.
  std::filesystem::path save(int64_t step, nlohmann::json state,
                             const std::function<void(const std::filesystem::path&)>& write_files);

  struct Loaded {
    std::filesystem::path directory;
    int64_t step = 0;
    nlohmann::json state;
  };
  // The newest checkpoint that verifies, newest first; warns about each damaged one it skips.
  std::optional<Loaded> newest_valid() const;
  // Verifies one checkpoint directory; returns the reason it is unusable, or empty when it is fine.
  static std::string verify(const std::filesystem::path& checkpoint, nlohmann::json* state = nullptr);

  // Test hook: FACETRAIN_FAULT_CHECKPOINT_PHASE=<phase> makes save() raise SIGKILL at that phase
  // ("files", "state", "rename", "complete", "latest"), to prove a kill at any point is survivable.
 private:
  void prune() const;
  std::filesystem::path directory_;
  int64_t keep_;
};

}  // namespace facetrain
