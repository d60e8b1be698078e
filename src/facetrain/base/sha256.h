#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace facetrain {
std::string sha256_hex(std::string_view bytes);
// Streams the file; throws MissingInputError (66) if absent, IoError (74) on read failure.
std::string sha256_file_hex(const std::filesystem::path& path);
}  // namespace facetrain
