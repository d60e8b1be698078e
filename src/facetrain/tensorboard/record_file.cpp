#include "facetrain/tensorboard/record_file.h"

#include "facetrain/tensorboard/crc32c.h"

#include <fmt/format.h>

#include <cstdint>

namespace facetrain::tensorboard {

namespace {

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t get_le(std::string_view bytes, size_t at, int count) {
  uint64_t value = 0;
  for (int i = 0; i < count; ++i) value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return value;
}

}  // namespace

void append_record(std::string& out, std::string_view data) {
  std::string length;
  put_le(length, data.size(), 8);
  out += length;
  put_le(out, masked_crc32c(length), 4);
  out.append(data.data(), data.size());
  put_le(out, masked_crc32c(data), 4);
}

RecordScan scan_records(std::string_view bytes) {
  RecordScan scan;
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 12) {
      scan.problem = fmt::format("record at byte {} is cut short (header)", at);
      break;
    }
    const uint64_t length = get_le(bytes, at, 8);
    if (get_le(bytes, at + 8, 4) != masked_crc32c(bytes.substr(at, 8))) {
      scan.problem = fmt::format("record at byte {}: length CRC mismatch", at);
      break;
    }
    if (length > bytes.size() - at - 12 || bytes.size() - at - 12 - length < 4) {
      scan.problem = fmt::format("record at byte {} is cut short ({} bytes of data announced)", at, length);
      break;
    }
    const std::string_view data = bytes.substr(at + 12, length);
    if (get_le(bytes, at + 12 + length, 4) != masked_crc32c(data)) {
      scan.problem = fmt::format("record at byte {}: data CRC mismatch", at);
      break;
    }
    scan.records.push_back(data);
    at += 12 + length + 4;
    scan.valid_bytes = at;
  }
  return scan;
}

}  // namespace facetrain::tensorboard
