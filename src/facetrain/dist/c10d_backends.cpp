#include "facetrain/dist/c10d_compat.h"

#include "facetrain/base/error.h"

#ifdef FACETRAIN_WITH_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace facetrain::dist::compat {

c10::intrusive_ptr<c10d::Store> make_tcp_store(const std::string& host, int port, bool is_server, int world_size,
                                               std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.isServer = is_server;
  options.numWorkers = static_cast<std::size_t>(world_size);
  options.waitWorkers = false;  // facetrain's own join names the ranks that never came
  options.timeout = timeout;
  return c10::make_intrusive<c10d::TCPStore>(host, options);
}

c10::intrusive_ptr<CollectiveBackend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
                                                const std::string& bind_host, std::chrono::milliseconds timeout) {
#ifdef FACETRAIN_WITH_GLOO
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(bind_host));
  options->threads = 2;
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, options);
#else
  (void)store, (void)rank, (void)world_size, (void)bind_host, (void)timeout;
  throw UnavailableError("this facetrain was built without Gloo (its LibTorch has no gloo headers): "
                         "data-parallel training on CPU is not available; use --device cuda (NCCL)");
#endif
}

c10::intrusive_ptr<CollectiveBackend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
                                                std::chrono::milliseconds timeout) {
#ifdef FACETRAIN_WITH_NCCL
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world_size, options);
#else
  (void)store, (void)rank, (void)world_size, (void)timeout;
  throw UnavailableError("this facetrain was built without NCCL (LibTorch without CUDA): use --device cpu for Gloo");
#endif
}

}  // namespace facetrain::dist::compat
