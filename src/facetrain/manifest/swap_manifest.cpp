#include "facetrain/manifest/swap_manifest.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
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
                                     {"face_px", q.face_px}, {"fit_confidence", q.fit_confidence},
                                     {"identity_to_actor", q.identity_to_actor},
                                     {"identity_to_double", q.identity_to_double},
                                     {"plate_identity_to_double", q.plate_identity_to_double},
                                     {"landmark_error", q.landmark_error},
                                     {"flicker_ratio", q.flicker_ratio}, {"seam_ratio", q.seam_ratio}})
      if (std::isfinite(value)) entry[key] = value;
    quality.push_back(std::move(entry));
  }
  nlohmann::json json = {{"format_version", manifest.format_version},
                               {"facetrain", manifest.tool_version},
                               {"plate", manifest.plate},
                               {"plate_sha256", manifest.plate_sha256},
                               {"checkpoint", manifest.checkpoint},
                               {"checkpoint_sha256", manifest.checkpoint_sha256},
                               {"output_kind", manifest.output_kind},
                               {"missing_frames", manifest.missing_frames},
                               {"encoding", manifest.encoding},
                               {"frames", frames},
                               {"quality", quality}};
  if (manifest.quality_summary) json["quality_summary"] = manifest.quality_summary->to_json();
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
    key = "encoding";
    manifest.encoding = json.value(key, nlohmann::json());
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
        quality.fit_confidence = q.value("fit_confidence", SwapFrameQuality::kNone);
        quality.identity_to_actor = q.value("identity_to_actor", SwapFrameQuality::kNone);
        quality.identity_to_double = q.value("identity_to_double", SwapFrameQuality::kNone);
        quality.plate_identity_to_double = q.value("plate_identity_to_double", SwapFrameQuality::kNone);
        quality.landmark_error = q.value("landmark_error", SwapFrameQuality::kNone);
        quality.flicker_ratio = q.value("flicker_ratio", SwapFrameQuality::kNone);
        quality.seam_ratio = q.value("seam_ratio", SwapFrameQuality::kNone);
        manifest.quality.push_back(quality);
      }
    key = "quality_summary";
    if (json.contains(key)) manifest.quality_summary = SwapQualitySummary::from_json(json.at(key));
  } catch (const nlohmann::json::exception& e) {
    throw InputDataError(fmt::format("{}: key '{}': {}", path.string(), key, e.what()));
  }
  return manifest;
}

namespace {

// The summary's scores by their JSON names.
template <typename Summary>
auto summary_scores(Summary& s) {
  return std::array<std::pair<const char*, decltype(&s.identity_to_actor)>, 11>{{
      {"identity_to_actor", &s.identity_to_actor}, {"identity_to_double", &s.identity_to_double},
      {"plate_identity_to_double", &s.plate_identity_to_double},
      {"closer_to_actor", &s.closer_to_actor}, {"same_as_actor", &s.same_as_actor},
      {"landmark_error", &s.landmark_error}, {"landmark_error_worst", &s.landmark_error_worst},
      {"flicker_ratio", &s.flicker_ratio}, {"flicker_ratio_worst", &s.flicker_ratio_worst},
      {"seam_ratio", &s.seam_ratio}, {"scoring_seconds", &s.scoring_seconds}}};
}

}  // namespace

nlohmann::json SwapQualitySummary::to_json() const {
  nlohmann::json out = {{"faces_scored", faces_scored}, {"identity_faces", identity_faces}};
  for (const auto& [key, value] : summary_scores(*this))
    if (std::isfinite(*value)) out[key] = *value;
  return out;
}

SwapQualitySummary SwapQualitySummary::from_json(const nlohmann::json& json) {
  SwapQualitySummary out;
  out.faces_scored = json.value("faces_scored", 0);
  out.identity_faces = json.value("identity_faces", 0);
  for (const auto& [key, value] : summary_scores(out)) *value = json.value(key, *value);
  return out;
}

std::string describe_swap_quality(const SwapQualitySummary& summary, double render_seconds) {
  std::string text = "quality:";
  if (summary.identity_faces > 0) {
    text += fmt::format(" identity: {:.0f} % of {} faces closer to the actor than to the double, {:.0f} % within 0.6 of the "
                        "actor (mean distance {:.3f} to the actor, {:.3f} to the double);",
                        100 * summary.closer_to_actor, summary.identity_faces, 100 * summary.same_as_actor,
                        summary.identity_to_actor, summary.identity_to_double);
    if (std::isfinite(summary.plate_identity_to_double))
      text += fmt::format(" the plate's own faces {:.3f} from the double;", summary.plate_identity_to_double);
  } else
    text += " identity: not scored;";
  if (std::isfinite(summary.landmark_error))
    text += fmt::format(" expression: landmark error {:.3f} of the eye distance (worst {:.3f});", summary.landmark_error,
                        summary.landmark_error_worst);
  else if (summary.faces_scored > 0)
    text += " expression: not scored (the face set's landmark model fits 5 points, not the mouth and jaw);";
  if (std::isfinite(summary.flicker_ratio))
    text += fmt::format(" flicker {:.2f}x the plate's (worst {:.2f}x);", summary.flicker_ratio, summary.flicker_ratio_worst);
  if (std::isfinite(summary.seam_ratio)) text += fmt::format(" seam {:.2f}x the plate's edges;", summary.seam_ratio);
  text += fmt::format(" scoring took {:.1f} s", summary.scoring_seconds);
  if (render_seconds > 0) text += fmt::format(" ({:.0f} % of the render)", 100 * summary.scoring_seconds / render_seconds);
  return text;
}

}  // namespace facetrain
