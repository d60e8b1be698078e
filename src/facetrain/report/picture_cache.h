#pragma once
// The pictures a report page embeds (preview sheets, review frames) as data: URIs, made once per
// file version (path, size, modification time): a run's page is rewritten at every preview while
// it trains, and decoding hundreds of sheets again each time would cost seconds.
#include <filesystem>
#include <map>
#include <set>
#include <string>

namespace facetrain::report {

class PictureCache {
 public:
  // `png` scaled to at most `max_width` pixels wide, as a JPEG of `quality`.
  const std::string& scaled(const std::filesystem::path& png, int max_width, int quality);
  // `png` at full size: the file itself when it is at most `max_png_bytes`, else a JPEG of quality 90.
  const std::string& full_size(const std::filesystem::path& png, size_t max_png_bytes);
  // Bytes of the file (0 when it cannot be read), without reading it.
  static size_t file_bytes(const std::filesystem::path& path);
  // Forgets every picture not asked for since the last call (sheets removed, sizes no longer used),
  // so that a days-long run's cache holds one page's pictures.
  void forget_unused();

 private:
  std::string key(const std::filesystem::path& png, const std::string& variant) const;
  const std::string* find(const std::string& key);
  std::map<std::string, std::string> uris_;
  std::set<std::string> used_;
};

}  // namespace facetrain::report
