#include "facetrain/base/file_extension.h"

#include <algorithm>
#include <cctype>

namespace facetrain {

std::string ascii_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string lower_case_extension(const std::filesystem::path& path) { return ascii_lower(path.extension().string()); }

}  // namespace facetrain
