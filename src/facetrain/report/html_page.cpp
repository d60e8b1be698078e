#include "facetrain/report/html_page.h"

#include "facetrain/base/version.h"

#include <fmt/format.h>

#include <cmath>

namespace facetrain::report {

namespace {

constexpr const char* kStyle = R"CSS(
:root { color-scheme: light; --ink: #1d232b; --muted: #5b6573; --line: #d8dde4; --panel: #f5f7fa; --accent: #1f6feb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
header { padding: 18px 28px 12px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 0; color: var(--muted); }
nav { margin-top: 8px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 8px 28px 40px; max-width: 1500px; }
section { margin-top: 22px; }
h2 { font-size: 16px; margin: 0 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
table { border-collapse: collapse; }
td, th { padding: 3px 12px 3px 0; text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
table.numbers td:first-child { color: var(--muted); }
.mono, code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: var(--panel); border: 1px solid var(--line); padding: 10px; overflow: auto; max-height: 480px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.card .label { color: var(--muted); font-size: 12px; }
.card .value { font-size: 18px; font-weight: 600; }
.card .sub { color: var(--muted); font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px; background: #fff; }
figure.chart figcaption { font-weight: 600; margin: 0 0 2px 4px; max-width: 640px; }
svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; fill: #39424e; }
.timeline { display: flex; flex-wrap: wrap; gap: 10px; }
.timeline figure, .strip figure { margin: 0; }
.timeline img, .strip img { display: block; border: 1px solid var(--line); cursor: zoom-in; image-rendering: auto; }
.timeline figcaption, .strip figcaption { color: var(--muted); font-size: 12px; }
.strip { display: flex; flex-direction: column; gap: 12px; }
.ok { color: #1a7f37; font-weight: 600; }
.bad { color: #cf222e; font-weight: 600; }
.note { color: var(--muted); }
#lightbox { position: fixed; inset: 0; margin: 0; background: rgba(10, 12, 16, 0.9); display: flex; flex-direction: column;
  align-items: center; justify-content: center; z-index: 10; cursor: zoom-out; }
#lightbox[hidden] { display: none; }
#lightbox img { width: 96vw; height: 86vh; object-fit: contain; image-rendering: pixelated; }
#lightbox figcaption { color: #e6e9ee; margin-top: 8px; }
#lightbox a { color: #9ecbff; }
)CSS";

// Click a picture with data-zoom: shown large (data-large, else its own source) over the page,
// with its caption and a link to the file it came from; a click or Escape closes it.
constexpr const char* kScript = R"JS(
(function () {
  var box = document.getElementById('lightbox');
  var big = box.querySelector('img');
  var caption = box.querySelector('figcaption');
  function close() { box.hidden = true; big.removeAttribute('src'); }
  document.addEventListener('click', function (event) {
    var picture = event.target.closest ? event.target.closest('img[data-zoom]') : null;
    if (picture) {
      big.src = picture.getAttribute('data-large') || picture.src;
      caption.textContent = picture.getAttribute('data-caption') || '';
      var file = picture.getAttribute('data-file');
      if (file) {
        var link = document.createElement('a');
        link.href = file;
        link.textContent = ' (' + file + ')';
        caption.appendChild(link);
      }
      box.hidden = false;
      event.preventDefault();
    } else if (!box.hidden && !(event.target.closest && event.target.closest('#lightbox a'))) {
      close();
    }
  });
  document.addEventListener('keydown', function (event) { if (event.key === 'Escape') close(); });
})();
)JS";

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m {:02d}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h {:02d}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d {:02d}h", s / 86400, (s % 86400) / 3600);
}

std::string directory_name(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::path normal = std::filesystem::absolute(directory, ec).lexically_normal();
  while (!normal.has_filename() && normal.has_parent_path() && normal != normal.parent_path()) normal = normal.parent_path();
  return normal.filename().string();
}

std::string relative_link(const std::filesystem::path& file, const std::filesystem::path& output) {
  std::error_code ec;
  const std::filesystem::path relative =
      std::filesystem::absolute(file, ec).lexically_relative(std::filesystem::absolute(output, ec).parent_path());
  return relative.empty() ? std::filesystem::absolute(file, ec).string() : relative.string();
}

std::string format_number(double value) {
  if (!std::isfinite(value)) return "-";
  return fmt::format("{:.6g}", value);
}

std::string html_document(const std::string& title, const std::string& subtitle, const std::string& body) {
  std::string page;
  page.reserve(body.size() + 8192);
  page += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  page += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n";
  page += fmt::format("<meta name=\"generator\" content=\"facetrain {}\">\n", html_escape(version_string()));
  page += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n", html_escape(title), kStyle);
  page += fmt::format("<header><h1>{}</h1><p>{}</p></header>\n<main>\n", html_escape(title), subtitle);
  page += body;
  page += "</main>\n<figure id=\"lightbox\" hidden><img alt=\"enlarged picture\"><figcaption></figcaption></figure>\n";
  page += fmt::format("<script>{}</script>\n</body>\n</html>\n", kScript);
  return page;
}

}  // namespace facetrain::report
