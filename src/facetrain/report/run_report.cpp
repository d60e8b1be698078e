#include "facetrain/report/run_report.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/config/config_map.h"
#include "facetrain/report/html_page.h"
#include "facetrain/report/line_chart.h"
#include "facetrain/report/metric_names.h"
#include "facetrain/report/picture_cache.h"
#include "facetrain/report/report_time.h"
#include "facetrain/report/run_metrics.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace facetrain::report {

namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Pictures: every preview sheet gets a thumbnail; the newest get a full-size copy for the
// enlarged view, while they fit in kFullSizeBudget; a page stays a few MB however long the run.
constexpr size_t kFullSizeBudget = 1200 * 1024;
constexpr size_t kFullSizePngMax = 400 * 1024;
constexpr int kThumbnailQuality = 78;

struct Preview {
  int64_t step = 0;
  fs::path file;
};

std::vector<Preview> list_previews(const fs::path& run) {
  std::vector<Preview> previews;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run / "previews", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step-", 0) != 0 || entry.path().extension() != ".png") continue;
    try {
      size_t used = 0;
      const int64_t step = std::stoll(name.substr(5), &used);
      if (used == name.size() - 9) previews.push_back({step, entry.path()});
    } catch (const std::exception&) {
      // not a sheet facetrain named
    }
  }
  std::sort(previews.begin(), previews.end(), [](const Preview& a, const Preview& b) { return a.step > b.step; });
  return previews;
}

std::optional<nlohmann::json> read_json(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  auto json = nlohmann::json::parse(read_file(path), nullptr, false);
  if (json.is_discarded()) return std::nullopt;
  return json;
}

double median(std::vector<double> values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }), values.end());
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Index of the last / the lowest finite value, or npos.
size_t last_finite(const std::vector<double>& v) {
  for (size_t i = v.size(); i-- > 0;)
    if (std::isfinite(v[i])) return i;
  return std::string::npos;
}
size_t lowest_finite(const std::vector<double>& v) {
  size_t best = std::string::npos;
  for (size_t i = 0; i < v.size(); ++i)
    if (std::isfinite(v[i]) && (best == std::string::npos || v[i] < v[best])) best = i;
  return best;
}

std::string card(const std::string& id, const std::string& label, const std::string& value, const std::string& sub,
                 const std::string& attributes = {}) {
  return fmt::format("<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\" id=\"{}\"{}>{}</div>"
                     "<div class=\"sub\">{}</div></div>\n",
                     label, id, attributes, value, sub);
}

// Charts in the order people read them; each collects the metrics whose tag is in its group.
struct ChartGroup {
  const char* id;
  const char* title;
  const char* y_label;
  bool (*wants)(const std::string& tag);
};

bool tag_in(const std::string& tag, const char* group) { return tag.rfind(std::string(group) + "/", 0) == 0; }

const ChartGroup kChartGroups[] = {
    {"chart-loss", "Loss: training (actor + double, mean of the logged window) and validation (their mean on held-out "
                   "faces, moving average)", "loss",
     [](const std::string& t) { return t == "loss/train" || t == "loss/validation"; }},
    {"chart-identity-totals", "Weighted loss per identity", "loss",
     [](const std::string& t) { return t == "actor/total" || t == "double/total"; }},
    {"chart-actor", "Actor: loss terms (unweighted)", "term",
     [](const std::string& t) { return tag_in(t, "actor") && t != "actor/total"; }},
    {"chart-double", "Double: loss terms (unweighted)", "term",
     [](const std::string& t) { return tag_in(t, "double") && t != "double/total"; }},
    {"chart-validation", "Validation scores", "score",
     [](const std::string& t) { return tag_in(t, "validation"); }},
    {"chart-identity", "Identity scores", "score", [](const std::string& t) { return tag_in(t, "identity"); }},
    {"chart-lr", "Learning rate", "learning rate", [](const std::string& t) { return tag_in(t, "optimizer"); }},
    {"chart-speed", "Speed", "images/s", [](const std::string& t) { return t == "speed/images_per_s"; }},
    {"chart-step-time", "Data-parallel step time", "seconds",
     [](const std::string& t) { return t == "speed/seconds_per_step" || t == "speed/exposed_communication_s"; }},
    {"chart-other", "Other metrics", "value", [](const std::string& t) { return tag_in(t, "metrics"); }},
};

// Training time by step: the logged rows', then the newest checkpoint's when it is further.
struct TrainingClock {
  std::vector<double> step, seconds;
};

std::string charts_section(const RunMetrics& metrics, const TrainingClock& clock) {
  const std::vector<double>& clock_x = clock.step;
  const std::vector<double>& clock_s = clock.seconds;
  std::string html = "<section id=\"curves\"><h2>Curves</h2>\n";
  if (metrics.rows() == 0) return html + "<p class=\"note\">No logged step yet (metrics.jsonl is empty).</p></section>\n";
  html += "<div class=\"charts\">\n";
  for (const ChartGroup& group : kChartGroups) {
    LineChart chart;
    chart.id = group.id;
    chart.x_label = "step";
    chart.y_label = group.y_label;
    chart.clock_x = clock_x;
    chart.clock_seconds = clock_s;
    for (const auto& [key, column] : metrics.columns) {
      const std::string tag = metric_tag(key);
      if (tag.empty() || !group.wants(tag)) continue;
      ChartSeries s;
      s.name = tag;
      s.x = metrics.step;
      s.y = column;
      size_t present = 0;
      for (double v : column) present += std::isfinite(v) ? 1 : 0;
      s.dots = present * 4 < column.size() + 4;  // sparse (validation every N logs)
      chart.series.push_back(std::move(s));
    }
    if (chart.series.empty()) continue;
    // Training loss first, then validation: the legend reads in that order.
    std::stable_sort(chart.series.begin(), chart.series.end(),
                     [](const ChartSeries& a, const ChartSeries& b) { return a.name == "loss/train" && b.name != "loss/train"; });
    html += fmt::format("<figure class=\"chart\"><figcaption>{}</figcaption>{}</figure>\n", html_escape(group.title),
                        render_line_chart(chart));
  }
  return html + "</div></section>\n";
}

std::string timeline_section(const std::vector<Preview>& previews, const TrainingClock& clock, const fs::path& output,
                             PictureCache& pictures) {
  std::string html = fmt::format(
      "<section id=\"previews\"><h2>Preview timeline <span class=\"note\">({} sheet(s), newest first; click to "
      "enlarge. Columns: actor in | actor out | double in | double out | double &rarr; actor)</span></h2>\n",
      previews.size());
  if (previews.empty()) return html + "<p class=\"note\">No preview sheet yet.</p></section>\n";
  // Thumbnails narrow as sheets accumulate, so that their sum stays about the same (n x width^2 at
  // most 120 x 240^2), in a few steps: each step re-encodes every sheet once.
  int width = 80;
  for (int w : {240, 192, 160, 128, 96})
    if (static_cast<double>(previews.size()) * w * w <= 120.0 * 240 * 240) {
      width = w;
      break;
    }
  size_t full_size_spent = 0;
  html += "<div class=\"timeline\">\n";
  for (size_t i = 0; i < previews.size(); ++i) {
    const Preview& p = previews[i];
    const std::string caption = fmt::format("step {} · {}", p.step,
                                            format_duration(interpolate_clock(clock.step, clock.seconds, static_cast<double>(p.step))));
    std::string large;
    try {
      const std::string& thumb = pictures.scaled(p.file, width, kThumbnailQuality);
      if (i == 0 || full_size_spent < kFullSizeBudget) {
        large = pictures.full_size(p.file, kFullSizePngMax);
        full_size_spent += large.size();
      }
      html += fmt::format("<figure><img src=\"{}\"{} data-zoom data-caption=\"{}\" data-file=\"{}\" alt=\"preview at "
                          "step {}\" data-step=\"{}\" loading=\"lazy\"><figcaption>{}</figcaption></figure>\n",
                          thumb, large.empty() ? "" : fmt::format(" data-large=\"{}\"", large), html_escape(caption),
                          html_escape(relative_link(p.file, output)), p.step, p.step, html_escape(caption));
    } catch (const Error& e) {
      // A sheet being replaced as we read it, or damaged: named on the page, the rest still shown.
      html += fmt::format("<figure><figcaption class=\"bad\">step {}: {}</figcaption></figure>\n", p.step,
                          html_escape(e.what()));
    }
  }
  return html + "</div></section>\n";
}

struct CheckpointFacts {
  int64_t step = 0;
  double elapsed_s = kNaN;
};

// What RUN/checkpoints/latest's state.json says (nothing when there is none or it is unreadable:
// the page is about what can be read).
CheckpointFacts latest_checkpoint(const fs::path& run) {
  CheckpointFacts facts;
  try {
    std::string name = read_file(run / "checkpoints" / "latest");
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
    if (name.empty() || name.find('/') != std::string::npos) return facts;
    const auto state = read_json(run / "checkpoints" / name / "state.json");
    if (!state || !state->is_object()) return facts;
    facts.step = state->value("step", int64_t{0});
    facts.elapsed_s = state->value("elapsed_s", kNaN);
  } catch (const Error&) {
    // no checkpoint yet
  } catch (const nlohmann::json::exception&) {
    // a state.json of another shape: ignored
  }
  return facts;
}

// Flattened "a.b" keys of a JSON object, for the manifest table.
void flatten(const nlohmann::json& json, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (json.is_object()) {
    for (const auto& [key, value] : json.items()) flatten(value, prefix.empty() ? key : prefix + "." + key, out);
  } else if (json.is_string()) {
    out.emplace_back(prefix, json.get<std::string>());
  } else {
    out.emplace_back(prefix, json.dump());
  }
}

}  // namespace

std::string render_run_report(const fs::path& run, const fs::path& output, PictureCache* pictures) {
  std::error_code ec;
  if (!fs::is_directory(run, ec)) throw MissingInputError(fmt::format("{}: no such run directory", run.string()));
  PictureCache own_pictures;
  PictureCache& cache = pictures ? *pictures : own_pictures;

  const RunMetrics metrics = read_run_metrics(run / "metrics.jsonl");
  const auto manifest = read_json(run / "manifest.json");
  const fs::path config_path = run / "config.yaml";
  const std::string config_text = fs::exists(config_path, ec) ? read_file(config_path) : std::string();
  const std::vector<Preview> previews = list_previews(run);
  const double world_size = manifest ? manifest->value("world_size", 1.0) : 1.0;

  // --- the figures
  const auto& loss = metrics.column("loss");
  const auto& validation = metrics.column("validation_loss");
  const auto& images_per_s = metrics.column("images_per_s");
  const size_t last = metrics.rows() ? metrics.rows() - 1 : std::string::npos;
  const size_t last_loss = last_finite(loss), min_loss = lowest_finite(loss);
  const size_t last_val = last_finite(validation), min_val = lowest_finite(validation);
  // The newest checkpoint may be past the last logged row (a run stopped by --max-time or a
  // signal between two logs): its state.json has the run's step and training time then.
  const CheckpointFacts checkpoint = latest_checkpoint(run);
  const size_t last_clock = last_finite(metrics.elapsed_s);
  double elapsed = last_clock == std::string::npos ? kNaN : metrics.elapsed_s[last_clock];
  int64_t steps = last == std::string::npos ? 0 : static_cast<int64_t>(metrics.step[last]);
  if (checkpoint.step > steps) {
    steps = checkpoint.step;
    if (std::isfinite(checkpoint.elapsed_s)) elapsed = checkpoint.elapsed_s;
  }
  const double device_hours = elapsed * world_size / 3600.0;
  double target_loss = 0;
  if (!config_text.empty()) {
    try {
      ConfigMap config = ConfigMap::load_string(config_text, config_path.string());
      target_loss = config.get_double("target_loss", 0.0, 0.0, std::numeric_limits<double>::max());
    } catch (const Error& e) {
      log_warning("{}: {}", config_path.string(), e.what());
    }
  }
  std::string target_text = "no target_loss set", target_attributes;
  if (target_loss > 0) {
    target_text = fmt::format("not reached (target {})", format_number(target_loss));
    for (size_t i = 0; i < validation.size(); ++i)
      if (std::isfinite(validation[i]) && validation[i] <= target_loss) {
        target_text = fmt::format("{} (step {})", format_duration(metrics.elapsed_s[i]), static_cast<int64_t>(metrics.step[i]));
        target_attributes = fmt::format(" data-seconds=\"{}\" data-step=\"{}\"", format_number(metrics.elapsed_s[i]),
                                        static_cast<int64_t>(metrics.step[i]));
        break;
      }
  }
  auto at = [&](const std::vector<double>& v, size_t i) { return i == std::string::npos ? kNaN : v[i]; };
  auto step_of = [&](size_t i) {
    return i == std::string::npos ? std::string("-") : fmt::format("{}", static_cast<int64_t>(metrics.step[i]));
  };

  std::string body;
  body += "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">\n";
  body += card("run-steps", "steps", fmt::format("{}", steps),
               fmt::format("{} logged row(s){}", metrics.rows(),
                           checkpoint.step > 0 ? fmt::format(", newest checkpoint at step {}", checkpoint.step) : ""));
  body += card("run-last-loss", "training loss (last logged)", format_number(at(loss, last_loss)),
               "at step " + step_of(last_loss));
  body += card("run-min-loss", "training loss (lowest)", format_number(at(loss, min_loss)), "at step " + step_of(min_loss),
               fmt::format(" data-step=\"{}\"", step_of(min_loss)));
  body += card("run-last-validation", "validation loss (last)", format_number(at(validation, last_val)),
               "moving average of the held-out loss, step " + step_of(last_val));
  body += card("run-min-validation", "validation loss (lowest)", format_number(at(validation, min_val)),
               "at step " + step_of(min_val));
  body += card("run-previews", "preview sheets", fmt::format("{}", previews.size()),
               previews.empty() ? "" : fmt::format("newest at step {}", previews.front().step));
  body += "</div></section>\n";

  body += "<section id=\"cost\"><h2>Cost</h2><table class=\"numbers\">\n";
  body += fmt::format("<tr><td>training time</td><td id=\"run-elapsed\" data-seconds=\"{}\">{}</td><td class=\"note\">"
                      "wall-clock time spent training, every session</td></tr>\n",
                      format_number(elapsed), format_duration(elapsed));
  body += fmt::format("<tr><td>device-hours</td><td id=\"run-device-hours\">{}</td><td class=\"note\">training time x "
                      "{} device(s)</td></tr>\n",
                      format_number(device_hours), format_number(world_size));
  body += fmt::format("<tr><td>images/s</td><td id=\"run-images-per-s\">{}</td><td class=\"note\">median of the logged "
                      "windows (last: {})</td></tr>\n",
                      format_number(median(images_per_s)), format_number(at(images_per_s, last_finite(images_per_s))));
  body += fmt::format("<tr><td>time to target loss</td><td id=\"run-time-to-target\"{}>{}</td><td class=\"note\">first "
                      "logged step whose validation loss reached target_loss</td></tr>\n",
                      target_attributes, html_escape(target_text));
  body += "</table></section>\n";

  TrainingClock clock;
  for (size_t i = 0; i < metrics.rows(); ++i)
    if (std::isfinite(metrics.elapsed_s[i])) {
      clock.step.push_back(metrics.step[i]);
      clock.seconds.push_back(metrics.elapsed_s[i]);
    }
  if (std::isfinite(checkpoint.elapsed_s) && (clock.step.empty() || checkpoint.step > clock.step.back())) {
    clock.step.push_back(static_cast<double>(checkpoint.step));
    clock.seconds.push_back(checkpoint.elapsed_s);
  }
  body += charts_section(metrics, clock);
  body += timeline_section(previews, clock, output, cache);
  cache.forget_unused();

  body += "<section id=\"manifest\"><h2>Manifest</h2>\n";
  if (manifest) {
    std::vector<std::pair<std::string, std::string>> rows;
    flatten(*manifest, "", rows);
    body += "<table class=\"numbers\">\n";
    for (const auto& [key, value] : rows)
      body += fmt::format("<tr><td>{}</td><td class=\"mono\" data-key=\"{}\">{}</td></tr>\n", html_escape(key),
                          html_escape(key), html_escape(value));
    body += "</table>\n";
  } else {
    body += "<p class=\"note\">No readable manifest.json yet.</p>\n";
  }
  body += "</section>\n";
  body += "<section id=\"config\"><h2>Effective configuration <span class=\"note\">(config.yaml, a valid --config "
          "file)</span></h2>\n";
  body += config_text.empty() ? std::string("<p class=\"note\">No config.yaml yet.</p>\n")
                              : fmt::format("<pre>{}</pre>\n", html_escape(config_text));
  body += "</section>\n";
  body += fmt::format("<section id=\"files\"><h2>Files</h2><p>TensorBoard: <code>tensorboard --logdir {}</code>. "
                      "Metrics: <code>{}</code>{}.</p></section>\n",
                      html_escape((run / "tensorboard").string()), html_escape((run / "metrics.jsonl").string()),
                      metrics.unreadable_lines
                          ? fmt::format(" <span class=\"bad\">({} line(s) could not be read: cut short by a crash, "
                                        "being written, or out of step order)</span>",
                                        metrics.unreadable_lines)
                          : std::string());

  const std::string model = manifest ? manifest->value("model", std::string()) : std::string();
  const std::string subtitle = fmt::format(
      "Training run <code>{}</code>{} &middot; written {} &middot; "
      "<a href=\"#curves\">curves</a> &middot; <a href=\"#previews\">previews</a> &middot; <a href=\"#cost\">cost</a> "
      "&middot; <a href=\"#manifest\">manifest</a> &middot; <a href=\"#config\">configuration</a>",
      html_escape(run.string()), model.empty() ? "" : fmt::format(" &middot; {}", html_escape(model)), utc_timestamp());
  return html_document(fmt::format("facetrain run: {}", directory_name(run)), subtitle, body);
}

void write_run_report(const fs::path& run, const fs::path& output, PictureCache* pictures) {
  write_file_atomic(output, render_run_report(run, output, pictures));
}

}  // namespace facetrain::report
