#include "facetrain/report/render_report.h"

#include "facetrain/base/error.h"
#include "facetrain/manifest/swap_manifest.h"
#include "facetrain/report/html_page.h"
#include "facetrain/report/line_chart.h"
#include "facetrain/report/picture_cache.h"
#include "facetrain/report/report_time.h"
#include "facetrain/verify/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace facetrain::report {

namespace fs = std::filesystem;

namespace {

constexpr size_t kReviewFrames = 8;   // review frames on the strip, spread over the render
constexpr int kReviewWidth = 1280;    // their width on the page (a click shows them larger)
constexpr int kReviewQuality = 85;

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

struct Score {
  const char* key;
  const char* title;
  const char* y_label;
  double SwapFrameQuality::*member;
  bool lower_is_worse;
  std::vector<double> y_include;  // the axis always shows these (a score's bounds)
};

const Score kScores[] = {
    {"mask_agreement", "Mask agreement: the network's mask against the landmark hull (IoU; low = unsure where the face is)",
     "IoU", &SwapFrameQuality::mask_agreement, true, {0.0, 1.0}},
    {"color_shift", "Colour shift: how far colour matching moved the network's face (high = its colours were off)",
     "mean |change|", &SwapFrameQuality::color_shift, false, {0.0}},
    {"detection_score", "Detection score of the face set's tracked face (low = uncertain alignment)", "score",
     &SwapFrameQuality::detection_score, true, {}},
    {"face_px", "Face width on the plate (small = an upscaled, softer swap)", "pixels", &SwapFrameQuality::face_px, true, {0.0}},
    {"fit_confidence", "Landmark fit confidence of the face set's face (near 0 = its alignment was a guess: a hand over "
     "the face, a profile)", "confidence", &SwapFrameQuality::fit_confidence, true, {0.0, 1.0}},
    {"identity_to_actor", "Identity: distance of the swapped face to the actor (below 0.6 = the actor, by dlib's face "
     "recognition)", "distance", &SwapFrameQuality::identity_to_actor, false, {0.0, 0.6}},
    {"identity_to_double", "Identity: distance of the swapped face to the double (low = the double shows through)",
     "distance", &SwapFrameQuality::identity_to_double, true, {0.0, 0.6}},
    {"landmark_error", "Expression: landmarks on the swapped face against the plate's (RMS / eye distance; high = the "
     "performance changed)", "RMS / IOD", &SwapFrameQuality::landmark_error, false, {0.0}},
    {"flicker_ratio", "Flicker: frame-to-frame change inside the matte against the plate's (1 = no extra flicker)", "ratio",
     &SwapFrameQuality::flicker_ratio, false, {0.0, 1.0}},
    {"seam_ratio", "Seam: edge strength along the matte boundary against the plate's (1 = no visible seam)", "ratio",
     &SwapFrameQuality::seam_ratio, false, {0.0, 1.0}},
};

// What a swap output directory's manifests record, gathered by frame number.
struct RenderRecords {
  std::vector<fs::path> manifest_paths;
  std::vector<std::string> unreadable;
  std::map<int64_t, SwapFrameQuality> quality;   // each rendered frame's scores
  std::map<int64_t, std::string> review_files;
  std::set<int64_t> frames;                      // outputs, or a movie's mattes (one per frame)
  std::vector<std::string> movies, review_movies;
  std::set<std::string> plates, checkpoints, versions;
};

RenderRecords read_render_records(const fs::path& directory) {
  RenderRecords r;
  std::error_code ec;
  if (!fs::is_directory(directory, ec))
    throw MissingInputError(fmt::format("{}: no such swap output directory", directory.string()));
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("swap-manifest.", 0) == 0 && entry.path().extension() == ".json") r.manifest_paths.push_back(entry.path());
  }
  std::sort(r.manifest_paths.begin(), r.manifest_paths.end());
  if (r.manifest_paths.empty())
    throw InputDataError(fmt::format("{}: no swap-manifest.*.json (not a facetrain swap output directory)", directory.string()));
  std::vector<SwapManifest> manifests;
  for (const fs::path& path : r.manifest_paths) {
    try {
      manifests.push_back(read_swap_manifest(path));
    } catch (const Error& e) {
      r.unreadable.push_back(e.what());
    }
  }
  for (const SwapManifest& m : manifests) {
    r.plates.insert(fmt::format("{} (identity sha256 {})", m.plate, m.plate_sha256));
    r.checkpoints.insert(fmt::format("{} (model.pt sha256 {})", m.checkpoint, m.checkpoint_sha256));
    r.versions.insert(m.tool_version);
    for (const auto& f : m.frames) {
      if (f.file.rfind("review/", 0) == 0 && ends_with(f.file, ".png")) r.review_files[f.frame] = f.file;
      else if (ends_with(f.file, ".review.mp4")) r.review_movies.push_back(f.file);
      else if (ends_with(f.file, ".mov") || ends_with(f.file, ".mp4")) r.movies.push_back(f.file);
      else r.frames.insert(f.frame);  // a frame, or a movie's matte (one per frame)
    }
    for (const auto& q : m.quality) r.quality[q.frame] = q;
  }
  return r;
}

std::string summary_section(const RenderRecords& r) {
  const auto& quality = r.quality;
  const auto& frames = r.frames;
  size_t with_faces = 0;
  for (const auto& [frame, q] : quality) with_faces += q.faces > 0;
  std::string body = "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">\n";
  auto card = [&](const std::string& id, const std::string& label, const std::string& value, const std::string& sub) {
    body += fmt::format("<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\" id=\"{}\">{}</div>"
                        "<div class=\"sub\">{}</div></div>\n", label, id, value, sub);
  };
  card("render-frames", "frames", fmt::format("{}", frames.size()),
       frames.empty() ? "" : fmt::format("{}-{}", *frames.begin(), *frames.rbegin()));
  card("render-scored-frames", "frames with quality scores", fmt::format("{}", quality.size()),
       fmt::format("{} with a face swapped", with_faces));
  for (const Score& score : kScores) {
    double sum = 0, worst = std::nan("");
    int64_t worst_frame = 0;
    size_t n = 0;
    for (const auto& [frame, q] : quality) {
      const double v = q.*(score.member);
      if (!std::isfinite(v)) continue;
      sum += v;
      ++n;
      if (std::isnan(worst) || (score.lower_is_worse ? v < worst : v > worst)) {
        worst = v;
        worst_frame = frame;
      }
    }
    if (n == 0) continue;
    card(fmt::format("render-mean-{}", score.key), fmt::format("{} (mean)", score.key), format_number(sum / n),
         fmt::format("worst {} at frame <span id=\"render-worst-{}-frame\">{}</span>", format_number(worst), score.key,
                     worst_frame));
  }
  card("render-chunks", "chunks (manifests)", fmt::format("{}", r.manifest_paths.size()),
       r.unreadable.empty() ? "" : fmt::format("<span class=\"bad\">{} unreadable</span>", r.unreadable.size()));
  body += "</div></section>\n";
  return body;
}

std::string verify_section(const VerifyReport& verified) {
  std::string body;
  body += "<section id=\"verify\"><h2>facetrain verify</h2>\n";
  body += fmt::format("<p id=\"render-verify\" class=\"{}\">{}: {} file(s) checked, {} mismatch(es)</p>\n",
                      verified.problems.empty() ? "ok" : "bad", verified.problems.empty() ? "OK" : "MISMATCH",
                      verified.files_checked, verified.problems.size());
  if (!verified.problems.empty() || !verified.notes.empty()) {
    body += "<ul class=\"mono\">\n";
    for (const auto& p : verified.problems) body += fmt::format("<li class=\"bad\">MISMATCH: {}</li>\n", html_escape(p));
    for (const auto& n : verified.notes) body += fmt::format("<li>note: {}</li>\n", html_escape(n));
    body += "</ul>\n";
  }
  body += "</section>\n";
  return body;
}

std::string quality_section(const std::map<int64_t, SwapFrameQuality>& quality) {
  std::string body;
  body += "<section id=\"quality\"><h2>Quality per frame</h2>\n";
  if (quality.empty()) {
    body += "<p class=\"note\">The manifests record no quality scores (a render by an older facetrain, or every frame "
            "kept by --skip-existing).</p>\n";
  } else {
    body += "<div class=\"charts\">\n";
    for (const Score& score : kScores) {
      LineChart chart;
      chart.id = fmt::format("chart-{}", score.key);
      chart.x_label = "frame";
      chart.y_label = score.y_label;
      chart.width = 600;
      chart.height = 220;
      chart.y_include = score.y_include;
      ChartSeries s;
      s.name = score.key;
      for (const auto& [frame, q] : quality) {
        s.x.push_back(static_cast<double>(frame));
        s.y.push_back(q.*(score.member));
      }
      if (std::none_of(s.y.begin(), s.y.end(), [](double v) { return std::isfinite(v); })) continue;  // not scored
      s.dots = s.x.size() <= 200;
      chart.series.push_back(std::move(s));
      body += fmt::format("<figure class=\"chart\"><figcaption>{}</figcaption>{}</figure>\n", html_escape(score.title),
                          render_line_chart(chart));
    }
    body += "</div>\n";
  }
  body += "</section>\n";
  return body;
}

// Frames spread evenly over the render, first and last included.
std::string review_section(const RenderRecords& r, const fs::path& directory, const fs::path& output) {
  std::string body;
  body += "<section id=\"review\"><h2>Review frames <span class=\"note\">(plate | swap | matte; click to enlarge)</span></h2>\n";
  if (!r.review_files.empty()) {
    std::vector<std::pair<int64_t, std::string>> all(r.review_files.begin(), r.review_files.end());
    std::set<size_t> picks;
    const size_t count = std::min(kReviewFrames, all.size());
    for (size_t i = 0; i < count; ++i)
      picks.insert(count == 1 ? 0 : (i * (all.size() - 1) + (count - 1) / 2) / (count - 1));
    PictureCache pictures;
    body += "<div class=\"strip\">\n";
    for (size_t i : picks) {
      const auto& [frame, file] = all[i];
      const fs::path path = directory / file;
      const std::string caption = fmt::format("frame {}", frame);
      try {
        body += fmt::format("<figure><img src=\"{}\" data-zoom data-caption=\"{}\" data-file=\"{}\" data-frame=\"{}\" "
                            "alt=\"review frame {}\" style=\"max-width:100%\"><figcaption>{}</figcaption></figure>\n",
                            pictures.scaled(path, kReviewWidth, kReviewQuality), html_escape(caption),
                            html_escape(relative_link(path, output)), frame, frame, html_escape(caption));
      } catch (const Error& e) {
        body += fmt::format("<figure><figcaption class=\"bad\">frame {}: {}</figcaption></figure>\n", frame,
                            html_escape(e.what()));
      }
    }
    body += "</div>\n";
  } else if (!r.review_movies.empty()) {
    body += "<p>The review is a movie: ";
    for (const auto& m : r.review_movies)
      body += fmt::format("<a href=\"{}\">{}</a> ", html_escape(relative_link(directory / m, output)), html_escape(m));
    body += "</p>\n";
  } else {
    body += "<p class=\"note\">No review frames: render with <code>facetrain swap ... --review</code> for plate | swap "
            "| matte frames.</p>\n";
  }
  body += "</section>\n";
  return body;
}

std::string provenance_section(const RenderRecords& r, const fs::path& directory, const fs::path& output) {
  std::string body;
  body += "<section id=\"provenance\"><h2>Provenance</h2><table class=\"numbers\">\n";
  auto rows = [&](const char* label, const std::set<std::string>& values) {
    for (const auto& v : values)
      body += fmt::format("<tr><td>{}</td><td class=\"mono\">{}</td></tr>\n", label, html_escape(v));
  };
  rows("plate", r.plates);
  rows("checkpoint", r.checkpoints);
  rows("facetrain", r.versions);
  for (const auto& m : r.movies)
    body += fmt::format("<tr><td>movie</td><td class=\"mono\"><a href=\"{}\">{}</a></td></tr>\n",
                        html_escape(relative_link(directory / m, output)), html_escape(m));
  for (const fs::path& p : r.manifest_paths)
    body += fmt::format("<tr><td>manifest</td><td class=\"mono\">{}</td></tr>\n", html_escape(p.filename().string()));
  for (const auto& u : r.unreadable) body += fmt::format("<tr><td>unreadable</td><td class=\"bad\">{}</td></tr>\n", html_escape(u));
  body += "</table></section>\n";
  return body;
}

}  // namespace

std::string render_render_report(const fs::path& directory, const fs::path& output) {
  const RenderRecords records = read_render_records(directory);
  const VerifyReport verified = verify_swap_output(directory);
  const std::string body = summary_section(records) + verify_section(verified) + quality_section(records.quality) +
                           review_section(records, directory, output) + provenance_section(records, directory, output);
  const std::string subtitle = fmt::format(
      "Render <code>{}</code> &middot; written {} &middot; <a href=\"#verify\">verify</a> &middot; <a "
      "href=\"#quality\">quality</a> &middot; <a href=\"#review\">review frames</a> &middot; <a "
      "href=\"#provenance\">provenance</a>",
      html_escape(directory.string()), utc_timestamp());
  return html_document(fmt::format("facetrain render: {}", directory_name(directory)), subtitle, body);
}

}  // namespace facetrain::report
