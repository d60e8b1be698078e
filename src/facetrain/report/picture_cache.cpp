#include "facetrain/report/picture_cache.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/report/embedded_image.h"

#include <fmt/format.h>

namespace facetrain::report {

namespace fs = std::filesystem;

size_t PictureCache::file_bytes(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : static_cast<size_t>(size);
}

std::string PictureCache::key(const fs::path& png, const std::string& variant) const {
  std::error_code ec;
  const auto modified = fs::last_write_time(png, ec);
  return fmt::format("{}|{}|{}|{}", png.string(), file_bytes(png),
                     ec ? 0 : static_cast<long long>(modified.time_since_epoch().count()), variant);
}

const std::string* PictureCache::find(const std::string& key) {
  used_.insert(key);
  auto it = uris_.find(key);
  return it == uris_.end() ? nullptr : &it->second;
}

void PictureCache::forget_unused() {
  for (auto it = uris_.begin(); it != uris_.end();) it = used_.count(it->first) ? std::next(it) : uris_.erase(it);
  used_.clear();
}

const std::string& PictureCache::scaled(const fs::path& png, int max_width, int quality) {
  const std::string k = key(png, fmt::format("jpeg{}q{}", max_width, quality));
  if (const std::string* known = find(k)) return *known;
  const RgbImage image = fit_width(decode_png(read_file(png), png.string()), max_width);
  return uris_.emplace(k, data_uri("image/jpeg", encode_jpeg(image, quality))).first->second;
}

const std::string& PictureCache::full_size(const fs::path& png, size_t max_png_bytes) {
  const std::string k = key(png, fmt::format("full{}", max_png_bytes));
  if (const std::string* known = find(k)) return *known;
  const std::string bytes = read_file(png);
  const RgbImage image = decode_png(bytes, png.string());  // checked either way: a damaged file is an error
  std::string uri = bytes.size() <= max_png_bytes ? data_uri("image/png", bytes)
                                                  : data_uri("image/jpeg", encode_jpeg(image, 90));
  return uris_.emplace(k, std::move(uri)).first->second;
}

}  // namespace facetrain::report
