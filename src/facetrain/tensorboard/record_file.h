#pragma once
// TensorBoard's record framing (TFRecord): each record is its length as a little-endian uint64,
// the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data. An event file
// is a sequence of such records, each holding one serialised Event.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace facetrain::tensorboard {

// Appends one framed record holding `data` to `out`.
void append_record(std::string& out, std::string_view data);

struct RecordScan {
  std::vector<std::string_view> records;  // views into the scanned bytes
  size_t valid_bytes = 0;                 // the whole records, from the start
  std::string problem;                    // why scanning stopped before the end ("" = it did not)
};

// Splits `bytes` into records, stopping at the first one that is cut short (a crash mid-write) or
// fails a CRC; what came before it is kept.
RecordScan scan_records(std::string_view bytes);

}  // namespace facetrain::tensorboard
