#include "facetrain/report/faceset_report.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/faceset/faceset.h"
#include "facetrain/faceset/visible_mattes.h"
#include "facetrain/report/html_page.h"
#include "facetrain/report/report_time.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace facetrain::report {

namespace fs = std::filesystem;

namespace {

constexpr int kThumbWidth = 128;
constexpr int kThumbQuality = 82;
constexpr float kOutsideBrightness = 0.4f;
constexpr float kTint = 0.5f;  // how far an excluded face pixel goes towards magenta

// One face of the sheet, with where it came from.
struct SheetFace {
  std::string source;
  int64_t frame = 0;
  const FaceRecord* record = nullptr;
};

// A track is a source's: two plates (or two extract runs' sources) may both have a track 0.
using TrackKey = std::pair<std::string, int>;

std::map<TrackKey, std::vector<SheetFace>> faces_by_track(const FaceSet& faceset) {
  std::map<TrackKey, std::vector<SheetFace>> tracks;
  for (const FrameRecord& frame : faceset.frames)
    for (const FaceRecord& face : frame.faces)
      tracks[{frame.source, face.track}].push_back({frame.source, frame.frame, &face});
  return tracks;
}

// Every `stride`-th face of the track, its first and last always.
std::vector<const SheetFace*> sample_track(const std::vector<SheetFace>& track, size_t stride) {
  std::vector<const SheetFace*> picked;
  for (size_t i = 0; i < track.size(); i += stride) picked.push_back(&track[i]);
  if (!track.empty() && picked.back() != &track.back()) picked.push_back(&track.back());
  return picked;
}

std::string face_picture(const fs::path& directory, const SheetFace& face, const VisibleMatteIndex* mattes) {
  const RgbImage crop = decode_png(read_file(directory / face.record->crop), face.record->crop);
  const RgbImage hull = decode_png(read_file(directory / face.record->mask), face.record->mask);
  std::optional<RgbImage> visible;
  if (mattes) {
    const auto it = mattes->faces.find(face.record->crop);
    if (it != mattes->faces.end()) visible = decode_png(read_file(directory / it->second.matte), it->second.matte);
  }
  const RgbImage sheet = fit_width(matte_overlay(crop, hull, visible ? &*visible : nullptr), kThumbWidth);
  return data_uri("image/jpeg", encode_jpeg(sheet, kThumbQuality));
}

std::string summary_section(const FaceSet& faceset, const std::map<TrackKey, std::vector<SheetFace>>& tracks,
                            size_t faces, size_t shown, const std::optional<VisibleMatteIndex>& mattes) {
  std::string body = "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">\n";
  auto card = [&](const std::string& id, const std::string& label, const std::string& value, const std::string& sub) {
    body += fmt::format("<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\" id=\"{}\">{}</div>"
                        "<div class=\"sub\">{}</div></div>\n", label, id, value, html_escape(sub));
  };
  size_t frames_with_faces = 0;
  for (const FrameRecord& f : faceset.frames) frames_with_faces += !f.faces.empty();
  card("faceset-faces", "faces", fmt::format("{}", faces), fmt::format("{} shown here", shown));
  card("faceset-frames", "frames with a face", fmt::format("{}", frames_with_faces),
       fmt::format("of {} recorded", faceset.frames.size()));
  card("faceset-tracks", "tracks", fmt::format("{}", tracks.size()), "");
  card("faceset-type", "face type", html_escape(faceset.manifest.face_type), fmt::format("{} px crops", faceset.manifest.size));
  card("faceset-mattes", "visible-face mattes", mattes ? fmt::format("{}", mattes->faces.size()) : "none",
       mattes ? fmt::format("model {} ({})", mattes->model, mattes->model_sha256.substr(0, 12))
              : "facetrain matte apply makes them");
  body += "</div>\n<table class=\"numbers\">\n";
  for (const FaceSetSource& s : faceset.manifest.sources)
    body += fmt::format("<tr><td>source</td><td class=\"mono\">{}</td><td>frames {}-{}, {} x {}{}</td></tr>\n",
                        html_escape(s.path), s.frame_first, s.frame_last, s.width, s.height,
                        s.colorspace.empty() ? "" : ", " + html_escape(s.colorspace));
  body += "</table>\n<p class=\"note\">Each crop as the network sees it; outside the landmark hull dimmed";
  body += mattes ? "; magenta: face the visible-face matte leaves out (what is in front of it)." : ".";
  body += " Click a crop to enlarge it.</p></section>\n";
  return body;
}

std::string track_section(const fs::path& directory, const fs::path& output, size_t section, int track,
                          const std::vector<SheetFace>& faces, size_t stride, bool name_source,
                          const VisibleMatteIndex* mattes, size_t& shown) {
  const std::vector<const SheetFace*> picked = sample_track(faces, stride);
  shown += picked.size();
  std::string body = fmt::format(
      "<section class=\"track\" id=\"track-{}\"><h3>Track {}{}: {} faces, frames {}-{}{}</h3>\n<div class=\"timeline\">\n",
      section, track, name_source ? " of " + html_escape(fs::path(faces.front().source).filename().string()) : "",
      faces.size(), faces.front().frame, faces.back().frame,
      picked.size() < faces.size() ? fmt::format(" (every {}th shown)", stride) : "");
  for (const SheetFace* face : picked) {
    const std::string caption = fmt::format("frame {}", face->frame);
    try {
      body += fmt::format("<figure><img src=\"{}\" data-zoom data-caption=\"{}\" data-file=\"{}\" data-frame=\"{}\" "
                          "data-track=\"{}\" alt=\"track {} frame {}\" width=\"{}\"><figcaption>{}</figcaption></figure>\n",
                          face_picture(directory, *face, mattes), html_escape(caption),
                          html_escape(relative_link(directory / face->record->crop, output)), face->frame, section, track,
                          face->frame, kThumbWidth, html_escape(caption));
    } catch (const Error& e) {
      body += fmt::format("<figure><figcaption class=\"bad\">frame {}: {}</figcaption></figure>\n", face->frame,
                          html_escape(e.what()));
    }
  }
  return body + "</div></section>\n";
}

}  // namespace

RgbImage matte_overlay(const RgbImage& crop, const RgbImage& hull, const RgbImage* visible) {
  auto same_size = [&](const RgbImage& m) { return m.width == crop.width && m.height == crop.height; };
  if (!same_size(hull) || (visible && !same_size(*visible)))
    throw InputDataError(fmt::format("a matte of another size than its {} x {} crop", crop.width, crop.height));
  RgbImage out = crop;
  const size_t pixels = static_cast<size_t>(crop.width) * crop.height;
  for (size_t p = 0; p < pixels; ++p) {
    const float in_hull = hull.pixels[p * 3] / 255.0f;
    const float shown = visible ? std::min(in_hull, visible->pixels[p * 3] / 255.0f) : in_hull;
    const float brightness = kOutsideBrightness + (1 - kOutsideBrightness) * in_hull;
    const float tint = kTint * (in_hull - shown);
    for (int c = 0; c < 3; ++c) {
      const float magenta = c == 1 ? 0.0f : 255.0f;
      const float v = crop.pixels[p * 3 + c] * brightness * (1 - tint) + magenta * tint;
      out.pixels[p * 3 + c] = static_cast<uint8_t>(std::clamp(v + 0.5f, 0.0f, 255.0f));
    }
  }
  return out;
}

std::string render_faceset_report(const fs::path& faceset_dir, const fs::path& output) {
  const FaceSet faceset = FaceSet::read(faceset_dir);
  const std::optional<VisibleMatteIndex> mattes = read_visible_matte_index(faceset_dir);
  const auto tracks = faces_by_track(faceset);
  size_t faces = 0;
  for (const auto& [key, list] : tracks) faces += list.size();
  const size_t stride = std::max<size_t>(1, (faces + kFaceSheetCrops - 1) / kFaceSheetCrops);
  // The sections first: they say how many crops they show, which the summary states.
  std::string sections = "<section id=\"tracks\"><h2>Faces by track</h2>\n";
  if (tracks.empty()) sections += "<p class=\"note\">No face recorded.</p>\n";
  const bool name_sources = faceset.manifest.sources.size() > 1;
  size_t section = 0, shown = 0;
  for (const auto& [key, list] : tracks)
    sections += track_section(faceset_dir, output, section++, key.second, list, stride, name_sources,
                              mattes ? &*mattes : nullptr, shown);
  sections += "</section>\n";
  const std::string body = summary_section(faceset, tracks, faces, shown, mattes) + sections;
  const std::string subtitle = fmt::format("Face set <code>{}</code> &middot; written {} &middot; <a href=\"#summary\">"
                                           "summary</a> &middot; <a href=\"#tracks\">faces by track</a>",
                                           html_escape(faceset_dir.string()), utc_timestamp());
  return html_document(fmt::format("facetrain face set: {}", directory_name(faceset_dir)), subtitle, body);
}

}  // namespace facetrain::report
