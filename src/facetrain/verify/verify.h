#pragma once
// `facetrain verify PATH`: checks a face set, a run directory or a swap output directory against
// what facetrain recorded about it (docs/design.md §4, §8) and reports every mismatch, not just the first.
// Reading only: nothing under PATH is changed.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace facetrain {

struct VerifyReport {
  std::string kind;                    // "face set", "run", "swap output"
  std::filesystem::path path;
  int64_t files_checked = 0;
  std::vector<std::string> problems;   // mismatches: the thing is not what its records say (exit 65)
  std::vector<std::string> notes;      // facts worth knowing that are not damage (deleted crops...)
};

// Which kind PATH is: a directory holding faceset.json, manifest.json + checkpoints/, or swap
// manifests (swap-manifest.*.json). Throws MissingInputError (66) when PATH does not exist and
// InputDataError (65) when it is none of these.
VerifyReport verify_path(const std::filesystem::path& path);

VerifyReport verify_faceset(const std::filesystem::path& directory);
VerifyReport verify_run(const std::filesystem::path& directory);
VerifyReport verify_swap_output(const std::filesystem::path& directory);

// Leftover temporary files of atomic writes (".name.tmp-<pid>-..."): readers ignore them.
bool is_atomic_temp_name(const std::string& file_name);

}  // namespace facetrain
