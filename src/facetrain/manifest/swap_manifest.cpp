#include "facetrain/manifest/swap_manifest.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <utility>

namespace facetrain {

namespace fs = std::filesystem;

fs::path swap_manifest_path(const fs::path& output_directory, int64_t first_frame, int64_t last_frame) {
  return output_directory / fmt::format("swap-manifest.{}-{}.json", first_frame, last_frame);
}

void write_swap_manifest(const fs::path& path, const SwapManifest& manifest) {
  nlohmann::json frames = nlohmann::json::array();
  for (const auto& f : manifest.frames) frames.push_back({{"frame", f.frame}, {"file", f.file}, {"sha256", f.sha256}});
  nlohmann::json quality = nlohmann::json::array();
  for (const auto& q : manifest.quality) {
    nlohmann::json entry = {{"frame", q.frame}, {"faces", q.faces}};
    for (const auto& [key, value] : {std::pair<const char*, double>{"detection_score", q.detection_score},
                                     {"mask_agreement", q.mask_agreement}, {"color_shift", q.color_shift},
                                     {"face_px", q.face_px}})
      if (std::isfinite(value)) entry[key] = value;
    quality.push_back(std::move(entry));
  }
  const nlohmann::json json = {{"format_version", manifest.format_version},
                               {"facetrain", manifest.tool_version},
                               {"plate", manifest.plate},
                               {"plate_sha256", manifest.plate_sha256},
                               {"checkpoint", manifest.checkpoint},
                               {"checkpoint_sha256", manifest.checkpoint_sha256},
                               {"output_kind", manifest.output_kind},
                               {"missing_frames", manifest.missing_frames},
                               {"frames", frames},
                               {"quality", quality}};
  write_file_atomic(path, json.dump(1) + "\n");
}

SwapManifest read_swap_manifest(const fs::path& path) {
  const std::string text = read_file(path);
  SwapManifest manifest;
  std::string key;
  try {
    const auto json = nlohmann::json::parse(text);
    key = "format_version";
    manifest.format_version = json.at(key).get<int>();
    if (manifest.format_version != kSwapManifestFormatVersion)
      throw InputDataError(fmt::format("{}: format_version {} (this facetrain reads {})", path.string(),
                                       manifest.format_version, kSwapManifestFormatVersion));
    key = "facetrain";
    manifest.tool_version = json.at(key).get<std::string>();
    key = "plate";
    manifest.plate = json.at(key).get<std::string>();
    key = "plate_sha256";
    manifest.plate_sha256 = json.at(key).get<std::string>();
    key = "checkpoint";
    manifest.checkpoint = json.at(key).get<std::string>();
    key = "checkpoint_sha256";
    manifest.checkpoint_sha256 = json.at(key).get<std::string>();
    key = "output_kind";  // this key and the next are absent from manifests written before they existed
    manifest.output_kind = json.value(key, std::string());
    key = "missing_frames";
    manifest.missing_frames = json.value(key, std::string());
    key = "frames";
    for (const auto& f : json.at(key)) {
      SwapManifestFrame frame{f.at("frame").get<int64_t>(), f.at("file").get<std::string>(), f.at("sha256").get<std::string>()};
      const fs::path file(frame.file);
      bool inside = !frame.file.empty() && file.is_relative();
      for (const auto& part : file) inside = inside && part != ".." && part != ".";
      if (!inside)
        throw InputDataError(fmt::format("{}: frame {} names '{}', not a file inside the output directory", path.string(),
                                         frame.frame, frame.file));
      manifest.frames.push_back(std::move(frame));
    }
    key = "quality";
    if (json.contains(key))
      for (const auto& q : json.at(key)) {
        SwapFrameQuality quality;
        quality.frame = q.at("frame").get<int64_t>();
        quality.faces = q.at("faces").get<int>();
        quality.detection_score = q.value("detection_score", SwapFrameQuality::kNone);
        quality.mask_agreement = q.value("mask_agreement", SwapFrameQuality::kNone);
        quality.color_shift = q.value("color_shift", SwapFrameQuality::kNone);
        quality.face_px = q.value("face_px", SwapFrameQuality::kNone);
        manifest.quality.push_back(quality);
      }
  } catch (const nlohmann::json::exception& e) {
    throw InputDataError(fmt::format("{}: key '{}': {}", path.string(), key, e.what()));
  }
  return manifest;
}

}  // namespace facetrain
