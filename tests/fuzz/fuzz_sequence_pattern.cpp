// Image-sequence patterns (####, @, %04d, $F4): parsing never crashes, and a frame a pattern
// formats is matched back to the same number.
#include "facetrain/base/error.h"
#include "facetrain/base/sequence_pattern.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  int32_t frame = 0;
  std::memcpy(&frame, data, 4);
  const std::string text(reinterpret_cast<const char*>(data) + 4, size - 4);
  std::optional<facetrain::SequencePattern> pattern;
  try {
    pattern = facetrain::SequencePattern::parse(text);
  } catch (const facetrain::Error&) {
    return 0;
  }
  if (!pattern) return 0;
  const std::string path = pattern->format(frame);
  const std::string name = std::filesystem::path(path).filename().string();
  const auto matched = pattern->match(name);
  // A prefix that itself ends in digits can make the match ambiguous; the frame must still be
  // recovered whenever the name is unambiguous, which the pattern guarantees for padded tokens.
  if (matched && *matched != frame && pattern->padding() > 0 && frame >= 0) std::abort();
  if (!matched && frame >= 0) std::abort();
  return 0;
}
