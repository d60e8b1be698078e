#pragma once
// The one place where LibTorch 1.13 and 2.x c10d differ for facetrain (DESIGN.md §6). Internal:
// included only by src/facetrain/dist/*.cpp.
//
// 1.13: ProcessGroupGloo/ProcessGroupNCCL derive from c10d::ProcessGroup.
// 2.x:  they derive from c10d::Backend (c10d::ProcessGroup became a dispatcher over backends);
//       collectives called directly on the backend object keep their 1.13 signatures.
// The 2.x branch below is not compiled on the Debian 1.13 CI machine.
//
// FACETRAIN_WITH_GLOO (CMake option, default ON): ProcessGroupGloo.hpp needs gloo's headers, which
// Debian has (libgloo-dev) but a torch wheel may lack; without them Gloo is left out (CUDA ranks use
// NCCL) and make_gloo() throws UnavailableError.
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef FACETRAIN_WITH_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

#include <chrono>
#include <string>

namespace facetrain::dist::compat {

#if TORCH_VERSION_MAJOR >= 2
using CollectiveBackend = c10d::Backend;
#else
using CollectiveBackend = c10d::ProcessGroup;
#endif

// A TCPStore client, or (is_server) the server plus a client. The server listens on every
// interface in LibTorch 1.13 (TCPStoreOptions has no bind address there).
c10::intrusive_ptr<c10d::Store> make_tcp_store(const std::string& host, int port, bool is_server, int world_size,
                                               std::chrono::milliseconds timeout);

// ProcessGroupGloo whose transport binds to `bind_host` (an address or host name of this machine).
c10::intrusive_ptr<CollectiveBackend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
                                                const std::string& bind_host, std::chrono::milliseconds timeout);

// ProcessGroupNCCL (builds with FACETRAIN_WITH_NCCL only; otherwise throws UnavailableError).
c10::intrusive_ptr<CollectiveBackend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
                                                std::chrono::milliseconds timeout);

}  // namespace facetrain::dist::compat
