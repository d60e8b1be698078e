#pragma once
// CRC-32C (Castagnoli), the checksum of TensorBoard's record format, computed by Intel's ISA-L
// (crc32_iscsi: the same polynomial, hardware-accelerated where the CPU has it).
#include <cstdint>
#include <string_view>

namespace facetrain::tensorboard {

uint32_t crc32c(std::string_view bytes);
// The record format stores CRCs "masked" (rotated and offset) so that a CRC of data holding CRCs
// stays well distributed.
uint32_t masked_crc32c(std::string_view bytes);

}  // namespace facetrain::tensorboard
