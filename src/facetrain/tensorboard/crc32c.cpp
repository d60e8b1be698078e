#include "facetrain/tensorboard/crc32c.h"

#include <isa-l/crc.h>

#include <algorithm>

namespace facetrain::tensorboard {

uint32_t crc32c(std::string_view bytes) {
  // crc32_iscsi neither pre- nor post-inverts: CRC-32C starts from all ones and inverts the result.
  // It takes an int length, so long inputs go through in chunks (the state carries over).
  constexpr size_t kChunk = size_t{1} << 30;
  auto* data = reinterpret_cast<unsigned char*>(const_cast<char*>(bytes.data()));
  uint32_t state = 0xffffffffu;
  for (size_t done = 0; done < bytes.size(); done += kChunk) {
    const size_t n = std::min(kChunk, bytes.size() - done);
    state = crc32_iscsi(data + done, static_cast<int>(n), state);
  }
  return ~state;
}

uint32_t masked_crc32c(std::string_view bytes) {
  const uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

}  // namespace facetrain::tensorboard
