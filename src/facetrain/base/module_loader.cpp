#include "facetrain/base/module_loader.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>

#include <dlfcn.h>

#include <cstring>
#include <map>
#include <mutex>
#include <system_error>

namespace facetrain {
namespace {

namespace fs = std::filesystem;

// The folder of the library that holds this code (libfacetrain_base.so): the modules lie beside it.
fs::path loader_directory() {
  Dl_info self{};
  if (::dladdr(reinterpret_cast<void*>(&module_search_paths), &self) == 0 || !self.dli_fname) return {};
  std::error_code ec;
  const fs::path library = fs::canonical(self.dli_fname, ec);
  return ec ? fs::path() : library.parent_path();
}

}  // namespace

std::vector<fs::path> module_search_paths(const std::string& file_stem) {
  const std::string file = "lib" + file_stem + ".so";
  const fs::path dir = loader_directory();
  if (dir.empty()) return {file};  // the dynamic linker's own search
  return {dir / file};
}

const void* load_module_api(const std::string& file_stem, const char* entry_symbol, unsigned expected_api_size) {
  static std::mutex mutex;
  static std::map<std::string, const void*> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = loaded.find(file_stem); it != loaded.end()) return it->second;

  const auto candidates = module_search_paths(file_stem);
  const fs::path* found = nullptr;
  for (const auto& path : candidates) {
    std::error_code ec;
    if (fs::exists(path, ec)) { found = &path; break; }
  }
  if (!found)
    throw UnavailableError(fmt::format("the facetrain module lib{}.so is missing (looked for {}): the installation is "
                                       "incomplete; rebuild (scripts/build.sh) or reinstall facetrain",
                                       file_stem, candidates.front().string()));
  void* handle = ::dlopen(found->c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    throw UnavailableError(fmt::format("cannot load the facetrain module {}: {}", found->string(),
                                       why ? why : "unknown dlopen error"));
  }
  ::dlerror();
  using Entry = const void* (*)();
  auto entry = reinterpret_cast<Entry>(::dlsym(handle, entry_symbol));
  if (!entry)
    throw UnavailableError(fmt::format("{} is not a facetrain module (no {}): rebuild or reinstall facetrain",
                                       found->string(), entry_symbol));
  const void* api = entry();
  const auto* header = static_cast<const ModuleHeader*>(api);
  if (header->api_size != expected_api_size || std::strcmp(header->facetrain_version, FACETRAIN_VERSION) != 0)
    throw UnavailableError(fmt::format("{} is from another facetrain build (version {}, this is {}): rebuild or "
                                       "reinstall facetrain", found->string(), header->facetrain_version,
                                       FACETRAIN_VERSION));
  loaded[file_stem] = api;
  return api;
}


}  // namespace facetrain
