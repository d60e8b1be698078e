#pragma once
// The frame of a report page: one self-contained HTML file. Styles and the one small script (click a
// picture to enlarge it) are inline, pictures are data: URIs, charts inline SVG, fonts the
// system's; a Content-Security-Policy forbids the browser every other source, so the page cannot
// reach the network even if something in it tried.
#include <filesystem>
#include <string>
#include <string_view>

namespace facetrain::report {

std::string html_escape(std::string_view text);

// The whole document: `title` (text) in <title> and as the heading, `subtitle` (HTML) under it,
// `body` (HTML) below.
std::string html_document(const std::string& title, const std::string& subtitle, const std::string& body);

// The name of a directory as people call it ("v001" for "runs/v001/" or "runs/v001/.").
std::string directory_name(const std::filesystem::path& directory);

// How a page at `output` links to `file`: relative to the page's folder (absolute when there is no
// relative path, e.g. another drive).
std::string relative_link(const std::filesystem::path& file, const std::filesystem::path& output);

// "1h 05m", "12m 30s", "45s", "2d 03h".
std::string format_duration(double seconds);
// 6 significant digits, as metrics are compared ("%.6g").
std::string format_number(double value);

}  // namespace facetrain::report
