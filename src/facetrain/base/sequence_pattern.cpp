#include "facetrain/base/sequence_pattern.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>

#include <cctype>
#include <system_error>

namespace facetrain {
namespace {

struct Token {
  size_t position = 0;
  size_t length = 0;
  int padding = 0;
};

// A token's digit width; anything past 99 is as wrong as 13 (parse() refuses widths over 12).
int width_of(const std::string& digits) {
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;  // "" or "0": unpadded
  return digits.size() - first > 2 ? 100 : std::stoi(digits.substr(first));
}

// Finds the last frame token in a file name. Returns false when there is none.
bool find_token(const std::string& name, Token& token) {
  bool found = false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '#' || c == '@') {
      size_t j = i;
      while (j < name.size() && name[j] == c) ++j;
      const int run = static_cast<int>(j - i);
      // fileseq: a lone '#' is 4-padded; every other run is one digit per character.
      token = {i, j - i, (c == '#' && run == 1) ? 4 : run};
      found = true;
      i = j - 1;
    } else if (c == '%') {
      size_t j = i + 1;
      std::string width;
      while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) width += name[j++];
      if (j < name.size() && name[j] == 'd') {
        token = {i, j + 1 - i, width_of(width)};
        found = true;
        i = j;
      }
    } else if (c == '$' && i + 1 < name.size() && name[i + 1] == 'F') {
      size_t j = i + 2;
      std::string width;
      while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) width += name[j++];
      token = {i, j - i, width_of(width)};
      found = true;
      i = j - 1;
    }
  }
  return found;
}

}  // namespace

std::optional<SequencePattern> SequencePattern::parse(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string name = p.filename().string();
  Token token;
  if (!find_token(name, token)) return std::nullopt;
  if (token.padding > 12) throw UsageError(fmt::format("{}: frame padding {} is too wide (at most 12)", path, token.padding));
  SequencePattern pattern;
  pattern.original_ = path;
  pattern.directory_ = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  pattern.prefix_ = name.substr(0, token.position);
  pattern.suffix_ = name.substr(token.position + token.length);
  pattern.padding_ = token.padding;
  return pattern;
}

std::string SequencePattern::format(int64_t frame) const {
  std::string digits = std::to_string(frame < 0 ? -frame : frame);
  if (static_cast<int>(digits.size()) < padding_) digits.insert(0, padding_ - digits.size(), '0');
  if (frame < 0) digits.insert(0, 1, '-');
  return (directory_ / (prefix_ + digits + suffix_)).string();
}

std::optional<int64_t> SequencePattern::match(const std::string& filename) const {
  if (filename.size() <= prefix_.size() + suffix_.size()) return std::nullopt;
  if (filename.compare(0, prefix_.size(), prefix_) != 0) return std::nullopt;
  if (filename.compare(filename.size() - suffix_.size(), suffix_.size(), suffix_) != 0) return std::nullopt;
  std::string middle = filename.substr(prefix_.size(), filename.size() - prefix_.size() - suffix_.size());
  bool negative = false;
  if (!middle.empty() && middle[0] == '-') {
    negative = true;
    middle.erase(0, 1);
  }
  if (middle.empty() || middle.size() > 18) return std::nullopt;
  for (char c : middle)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  // Padded patterns take exactly `padding` digits, or more without leading zeros (frame 10000 of ####).
  if (padding_ > 0) {
    if (static_cast<int>(middle.size()) < padding_) return std::nullopt;
    if (static_cast<int>(middle.size()) > padding_ && middle[0] == '0') return std::nullopt;
  } else if (middle.size() > 1 && middle[0] == '0') {
    return std::nullopt;
  }
  const int64_t value = std::stoll(middle);
  return negative ? -value : value;
}

std::map<int64_t, std::filesystem::path> SequencePattern::scan() const {
  std::map<int64_t, std::filesystem::path> frames;
  std::error_code ec;
  std::filesystem::directory_iterator it(directory_, ec);
  if (ec) return frames;
  for (const auto& entry : it) {
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec)) continue;
    if (auto frame = match(entry.path().filename().string())) frames.emplace(*frame, entry.path());
  }
  return frames;
}

}  // namespace facetrain
