// verify PATH for a swap output directory: every frame each swap-manifest.*.json lists is there,
// matches its SHA-256, and no file is claimed by two manifests.
#include "facetrain/base/error.h"
#include "facetrain/base/sha256.h"
#include "facetrain/manifest/swap_manifest.h"
#include "facetrain/verify/verify.h"

#include <fmt/format.h>

#include <algorithm>

#include <map>

namespace facetrain {

namespace fs = std::filesystem;

VerifyReport verify_swap_output(const fs::path& directory) {
  VerifyReport report{"swap output", directory, 0, {}, {}};
  std::error_code ec;
  std::vector<fs::path> manifests;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("swap-manifest.", 0) == 0 && entry.path().extension() == ".json") manifests.push_back(entry.path());
    else if (is_atomic_temp_name(name))
      report.notes.push_back(fmt::format("{}: leftover temporary file of an interrupted write", entry.path().string()));
  }
  std::sort(manifests.begin(), manifests.end());
  std::map<std::string, fs::path> owner;  // by file name
  int64_t frames = 0;
  for (const fs::path& path : manifests) {
    SwapManifest manifest;
    try {
      manifest = read_swap_manifest(path);
      ++report.files_checked;
    } catch (const Error& e) {
      report.problems.push_back(e.what());
      continue;
    }
    for (const auto& frame : manifest.frames) {
      ++frames;
      auto [it, fresh] = owner.emplace(frame.file, path);
      if (!fresh)
        report.problems.push_back(fmt::format("{} is claimed by {} and {}", frame.file, it->second.string(),
                                              path.string()));
      const fs::path file = directory / frame.file;
      if (!fs::is_regular_file(file, ec)) {
        report.problems.push_back(fmt::format("{}: frame {} is missing ({})", file.string(), frame.frame, path.filename().string()));
        continue;
      }
      ++report.files_checked;
      if (sha256_file_hex(file) != frame.sha256)
        report.problems.push_back(fmt::format("{}: frame {} does not match its SHA-256 in {} (changed or damaged after "
                                              "the render)", file.string(), frame.frame, path.filename().string()));
    }
  }
  report.notes.push_back(fmt::format("{} frame(s) in {} manifest(s)", frames, manifests.size()));
  return report;
}

}  // namespace facetrain
