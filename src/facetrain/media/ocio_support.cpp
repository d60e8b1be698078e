#include "facetrain/media/ocio_support.h"

#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sha256.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>

namespace facetrain {

namespace {

// OpenColorIO prints its warnings to stderr unless told otherwise; they go to facetrain's log
// instead (debug: a studio config's inactive colour spaces are not the artist's business).
void route_ocio_messages() {
  static std::once_flag once;
  std::call_once(once, [] {
    OCIO::SetLoggingFunction([](const char* message) {
      std::string text = message ? message : "";
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      log_debug("OpenColorIO: {}", text);
    });
  });
}

}  // namespace

LoadedOcioConfig load_ocio_config(const std::string& config_path, const std::string& what) {
  route_ocio_messages();
  std::string path = config_path;
  if (path.empty()) {
    const char* env = std::getenv("OCIO");
    if (!env || !*env) throw ConfigError(fmt::format("{}: no OpenColorIO config (set $OCIO or give --ocio-config FILE)", what));
    path = env;
  }
  // A farm task reads the same config for every frame chunk: parse it once per process (per content:
  // a config edited in place is read again, and gets its new identity).
  std::string sha256;
  try {
    sha256 = sha256_file_hex(path);
  } catch (const Error& e) {
    throw ConfigError(fmt::format("{}: OpenColorIO config {}: {}", what, path, e.what()));
  }
  static std::mutex mutex;
  static std::map<std::string, LoadedOcioConfig> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  const std::string key = path + "\n" + sha256;
  if (auto it = loaded.find(key); it != loaded.end()) return it->second;
  LoadedOcioConfig out;
  try {
    out.config = OCIO::Config::CreateFromFile(path.c_str());
  } catch (const OCIO::Exception& e) {
    throw ConfigError(fmt::format("{}: OpenColorIO config {}: {}", what, path, e.what()));
  }
  out.identity.path = path;
  out.identity.name = out.config->getName();
  out.identity.profile_version = fmt::format("{}.{}", out.config->getMajorVersion(), out.config->getMinorVersion());
  out.identity.sha256 = sha256;
  out.identity.library_version = OCIO::GetVersion();
  if (out.identity.name.empty()) out.identity.name = std::filesystem::path(path).filename().string();
  loaded.emplace(key, out);
  return out;
}

void require_colorspace(const LoadedOcioConfig& loaded, const std::string& name, const std::string& what) {
  if (loaded.config->getColorSpace(name.c_str())) return;
  std::string names;
  const int count = loaded.config->getNumColorSpaces();
  for (int i = 0; i < count && i < 12; ++i) names += (i ? ", " : "") + std::string(loaded.config->getColorSpaceNameByIndex(i));
  if (count > 12) names += ", ...";
  throw ConfigError(fmt::format("{}: '{}' is not a colour space of {} ({})", what, name, loaded.identity.path, names));
}

}  // namespace facetrain
