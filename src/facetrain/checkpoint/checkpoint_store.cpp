#include "facetrain/checkpoint/checkpoint_store.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sha256.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <random>

namespace facetrain {
namespace {

namespace fs = std::filesystem;
const char* kStateName = "state.json";
const char* kCompleteName = "COMPLETE";
const char* kLatestName = "latest";

void fault_point(const char* phase) {
  const char* wanted = std::getenv("FACETRAIN_FAULT_CHECKPOINT_PHASE");
  if (wanted && std::string(wanted) == phase) ::raise(SIGKILL);
}

std::optional<int64_t> step_of(const std::string& name) {
  if (name.rfind("step-", 0) != 0 || name.size() != 13) return std::nullopt;
  for (size_t i = 5; i < name.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return std::nullopt;
  return std::stoll(name.substr(5));
}

// Committed-looking checkpoint directories, newest first.
std::vector<std::pair<int64_t, fs::path>> candidates(const fs::path& directory) {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    if (!entry.is_directory(ec)) continue;
    if (auto step = step_of(entry.path().filename().string())) found.emplace_back(*step, entry.path());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return found;
}

}  // namespace

CheckpointStore::CheckpointStore(fs::path directory, int64_t keep) : directory_(std::move(directory)), keep_(keep) {}

std::string CheckpointStore::step_name(int64_t step) { return fmt::format("step-{:08d}", step); }

fs::path CheckpointStore::save(int64_t step, nlohmann::json state,
                               const std::function<void(const fs::path&)>& write_files) {
  create_directories_private(directory_);
  const fs::path final_dir = directory_ / step_name(step);
  const fs::path temp_dir =
      directory_ / fmt::format(".{}.tmp-{}-{:x}", step_name(step), ::getpid(), std::random_device{}() & 0xffffff);
  create_directories_private(temp_dir);
  try {
    write_files(temp_dir);
    fault_point("files");
    nlohmann::json files = nlohmann::json::object();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(temp_dir)) {
      // Serializers create files with the umask's mode; checkpoints get facetrain's (owner-only by default).
      fs::permissions(entry.path(), static_cast<fs::perms>(default_file_mode()), fs::perm_options::replace);
      fsync_file(entry.path());
      files[entry.path().filename().string()] = sha256_file_hex(entry.path());
    }
    state["files"] = files;
    state["step"] = step;
    write_file_atomic(temp_dir / kStateName, state.dump(2) + "\n");
    fault_point("state");
    if (fs::exists(final_dir, ec)) {
      // An older attempt at this step (a run resumed from an earlier checkpoint): replace it.
      const fs::path stale = directory_ / fmt::format(".{}.stale-{}", step_name(step), ::getpid());
      fs::rename(final_dir, stale);
      fs::remove_all(stale, ec);
    }
    fs::rename(temp_dir, final_dir);
    fault_point("rename");
    write_file_atomic(final_dir / kCompleteName, sha256_file_hex(final_dir / kStateName) + "\n");
    fault_point("complete");
    write_file_atomic(directory_ / kLatestName, step_name(step) + "\n");
    fault_point("latest");
  } catch (const fs::filesystem_error& e) {
    std::error_code ec;
    fs::remove_all(temp_dir, ec);
    throw IoError(fmt::format("{}: cannot save checkpoint (earlier checkpoints are intact): {}", final_dir.string(), e.what()));
  } catch (const IoError& e) {  // disk full, I/O error: say that nothing earlier was harmed
    std::error_code ec;
    fs::remove_all(temp_dir, ec);
    throw IoError(fmt::format("checkpoint {} not saved (earlier checkpoints are intact): {}", step_name(step), e.what()));
  } catch (...) {
    std::error_code ec;
    fs::remove_all(temp_dir, ec);
    throw;
  }
  prune();
  return final_dir;
}

std::string CheckpointStore::verify(const fs::path& checkpoint, nlohmann::json* state_out) {
  std::error_code ec;
  if (!fs::exists(checkpoint / kCompleteName, ec)) return "not marked COMPLETE";
  try {
    const std::string complete = read_file(checkpoint / kCompleteName);
    const std::string state_text = read_file(checkpoint / kStateName);
    if (complete.substr(0, 64) != sha256_hex(state_text)) return "state.json does not match its COMPLETE marker";
    nlohmann::json state = nlohmann::json::parse(state_text);
    if (!state.contains("files") || !state["files"].is_object()) return "state.json lists no files";
    for (const auto& [name, sha] : state["files"].items()) {
      if (name.find('/') != std::string::npos || name.find("..") != std::string::npos)
        return fmt::format("state.json names an unsafe file '{}'", name);
      if (!fs::exists(checkpoint / name, ec)) return fmt::format("{} is missing", name);
      if (sha256_file_hex(checkpoint / name) != sha.get<std::string>())
        return fmt::format("{} does not match its SHA-256", name);
    }
    if (state_out) *state_out = std::move(state);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::optional<CheckpointStore::Loaded> CheckpointStore::newest_valid() const {
  for (const auto& [step, dir] : candidates(directory_)) {
    Loaded loaded{dir, step, {}};
    const std::string problem = verify(dir, &loaded.state);
    if (problem.empty()) return loaded;
    log_warning("checkpoint {} is unusable ({}); falling back to the previous one", dir.string(), problem);
  }
  return std::nullopt;
}

void CheckpointStore::prune() const {
  int64_t kept = 0;
  std::error_code ec;
  for (const auto& [step, dir] : candidates(directory_)) {
    if (!fs::exists(dir / kCompleteName, ec)) continue;
    if (++kept > keep_) fs::remove_all(dir, ec);
  }
  // Temporary directories of writers that died (only ours can be cleaned safely: same pid prefix
  // is not needed, a lock on the run directory guarantees a single writer).
  for (const auto& entry : fs::directory_iterator(directory_, ec)) {
    const auto name = entry.path().filename().string();
    if (name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos &&
        name.find(fmt::format("-{}-", ::getpid())) == std::string::npos)
      fs::remove_all(entry.path(), ec);
  }
}

}  // namespace facetrain
