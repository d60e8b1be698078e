#include "facetrain/faceset/visible_mattes.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/sha256.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace facetrain {

namespace {

bool inside_faceset(const std::string& relative) {
  const std::filesystem::path p(relative);
  if (p.empty() || p.is_absolute()) return false;
  for (const auto& part : p)
    if (part == "..") return false;
  return true;
}

}  // namespace

std::string VisibleMatteIndex::content_sha256() const {
  std::string text = fmt::format("visible {} {} {} {}\n", format_version, size, model_sha256, window);
  for (const auto& [crop, file] : faces) text += fmt::format("{} {} {}\n", crop, file.matte, file.sha256);
  return sha256_hex(text);
}

std::optional<VisibleMatteIndex> read_visible_matte_index(const std::filesystem::path& faceset) {
  const std::filesystem::path path = faceset / kVisibleMatteIndex;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  const std::string where = path.string();
  VisibleMatteIndex index;
  try {
    const nlohmann::json json = nlohmann::json::parse(read_file(path));
    index.format_version = json.at("format_version").get<int>();
    if (index.format_version < 1 || index.format_version > kVisibleMatteFormatVersion)
      throw InputDataError(fmt::format("{}: format_version {} (this facetrain reads 1..{})", where, index.format_version,
                                       kVisibleMatteFormatVersion));
    if (json.at("kind").get<std::string>() != "visible-face")
      throw InputDataError(fmt::format("{}: kind '{}', expected visible-face", where, json.at("kind").get<std::string>()));
    index.size = json.at("size").get<int>();
    if (index.size < 16 || index.size > 4096) throw InputDataError(fmt::format("{}: size {} out of range", where, index.size));
    index.model = json.at("model").get<std::string>();
    index.model_sha256 = json.at("model_sha256").get<std::string>();
    index.window = json.at("window").get<int>();
    for (const auto& [crop, entry] : json.at("faces").items()) {
      VisibleMatteFile file{entry.at("matte").get<std::string>(), entry.at("sha256").get<std::string>()};
      if (!inside_faceset(crop) || !inside_faceset(file.matte))
        throw InputDataError(fmt::format("{}: face '{}' names a path outside the face set", where, crop));
      index.faces.emplace(crop, std::move(file));
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputDataError(fmt::format("{}: not a visible-matte index: {}", where, e.what()));
  }
  return index;
}

void write_visible_matte_index(const std::filesystem::path& faceset, const VisibleMatteIndex& index) {
  nlohmann::json faces = nlohmann::json::object();
  for (const auto& [crop, file] : index.faces) faces[crop] = {{"matte", file.matte}, {"sha256", file.sha256}};
  const nlohmann::json json = {{"format_version", index.format_version}, {"kind", "visible-face"}, {"size", index.size},
                               {"model", index.model}, {"model_sha256", index.model_sha256}, {"window", index.window},
                               {"faces", faces}};
  write_file_atomic(faceset / kVisibleMatteIndex, json.dump(1) + "\n");
}

}  // namespace facetrain
