#include "facetrain/train/tensor_file.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace facetrain {

void save_archive(torch::serialize::OutputArchive& archive, const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, default_file_mode());
  if (fd < 0) throw OutputError(fmt::format("{}: cannot create: {}", path.string(), std::strerror(errno)));
  int write_errno = 0;
  uint64_t written = 0;
  // Never report a short write to LibTorch (its writer would throw, then throw again from its
  // destructor): once a write fails, the rest is counted and dropped, and we raise afterwards.
  archive.save_to([&](const void* data, size_t size) -> size_t {
    const char* bytes = static_cast<const char*>(data);
    size_t done = 0;
    while (write_errno == 0 && done < size) {
      const ssize_t n = ::write(fd, bytes + done, size - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        write_errno = errno;
        break;
      }
      done += static_cast<size_t>(n);
    }
    written += done;
    return size;
  });
  if (::close(fd) != 0 && write_errno == 0) write_errno = errno;
  if (write_errno != 0) {
    ::unlink(path.c_str());
    throw IoError(fmt::format("{}: write failed after {} bytes: {}", path.string(), written, std::strerror(write_errno)));
  }
}

void save_tensors(const std::vector<at::Tensor>& tensors, const std::filesystem::path& path) {
  torch::serialize::OutputArchive archive;
  for (size_t i = 0; i < tensors.size(); ++i) archive.write(std::to_string(i), tensors[i]);
  save_archive(archive, path);
}

void save_optimizer(const torch::optim::Optimizer& optimizer, const std::filesystem::path& path) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  save_archive(archive, path);
}

}  // namespace facetrain
