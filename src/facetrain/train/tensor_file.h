#pragma once
// Writing LibTorch archives (model, optimizer, RNG states, face packs) through our own write(2)
// loop. LibTorch's own file writer throws from its destructor when the disk fills up, which ends
// the process in std::terminate; here a failed write is remembered, the archive is completed into
// the void, and an IoError naming the file is raised afterwards, so the caller's temporary
// checkpoint is discarded and the previous one stays in charge. Durability is the caller's: the
// checkpoint store and AtomicOutput fsync what they commit (no second fsync here).
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <vector>

namespace torch {
namespace serialize {
class OutputArchive;
}
namespace optim {
class Optimizer;
}
}  // namespace torch

namespace facetrain {

// Writes `archive` to `path` (created or truncated, owner-only). Throws IoError (74) naming `path`
// when a write fails (ENOSPC, EIO, EFBIG), OutputError (73) when it cannot be created.
void save_archive(torch::serialize::OutputArchive& archive, const std::filesystem::path& path);
// The same file torch::save(tensors, path) writes; read it back with torch::load(tensors, path).
void save_tensors(const std::vector<at::Tensor>& tensors, const std::filesystem::path& path);
// The same file torch::save(optimizer, path) writes; read it back with torch::load(optimizer, path).
void save_optimizer(const torch::optim::Optimizer& optimizer, const std::filesystem::path& path);

}  // namespace facetrain
