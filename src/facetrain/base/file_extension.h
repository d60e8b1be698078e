#pragma once
// A file's extension as facetrain compares it: ".EXR" and ".exr" name the same format.
#include <filesystem>
#include <string>

namespace facetrain {

// The extension of `path` with its dot, lower-cased (ASCII): "shot.0001.EXR" -> ".exr"; "" without one.
std::string lower_case_extension(const std::filesystem::path& path);

// `text` lower-cased (ASCII only: format and colour-space names, extensions).
std::string ascii_lower(std::string text);

}  // namespace facetrain
