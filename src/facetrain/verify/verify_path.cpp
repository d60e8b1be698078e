#include "facetrain/verify/verify.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>

namespace facetrain {

namespace fs = std::filesystem;

bool is_atomic_temp_name(const std::string& file_name) {
  return file_name.size() > 1 && file_name[0] == '.' && file_name.find(".tmp-") != std::string::npos;
}

VerifyReport verify_path(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw MissingInputError(fmt::format("{}: no such file or directory", path.string()));
  if (!fs::is_directory(path, ec))
    throw InputDataError(fmt::format("{}: not a directory (verify takes a face set, a run or a swap output directory)",
                                     path.string()));
  if (fs::exists(path / "faceset.json", ec)) return verify_faceset(path);
  if (fs::exists(path / "manifest.json", ec) || fs::exists(path / "checkpoints", ec)) return verify_run(path);
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("swap-manifest.", 0) == 0 && entry.path().extension() == ".json") return verify_swap_output(path);
  }
  throw InputDataError(fmt::format("{}: neither a face set (faceset.json), a run (manifest.json, checkpoints/) nor a "
                                   "swap output directory (swap-manifest.*.json)", path.string()));
}

}  // namespace facetrain
