#pragma once
// The one place that constructs c10d objects (docs/design.md §6): the TCPStore rendezvous and the
// collective backends, ProcessGroupGloo (CPU) and ProcessGroupNCCL (CUDA). Internal: included only
// by src/facetrain/distributed/*.cpp. Everything else talks to a backend through c10d::Backend.
//
// FACETRAIN_WITH_GLOO (CMake, default ON): ProcessGroupGloo.hpp needs gloo's headers, which the torch
// wheel does not ship; cmake/FacetrainTorch.cmake explains which headers are used and why that is
// sound. Without them make_gloo() throws UnavailableError.
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <string>

namespace facetrain::dist::c10d_backends {

// A TCPStore client, or (is_server) the server plus a client. The server listens only on `host`
// (docs/design.md §8): facetrain binds the socket itself and hands it to the store.
c10::intrusive_ptr<c10d::Store> make_tcp_store(const std::string& host, int port, bool is_server, int world_size,
                                               std::chrono::milliseconds timeout);

// ProcessGroupGloo whose transport binds to `bind_host` (an address or host name of this machine).
c10::intrusive_ptr<c10d::Backend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
                                            const std::string& bind_host, std::chrono::milliseconds timeout);

// ProcessGroupNCCL (builds with FACETRAIN_WITH_NCCL only; otherwise throws UnavailableError).
c10::intrusive_ptr<c10d::Backend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
                                            std::chrono::milliseconds timeout);

}  // namespace facetrain::dist::c10d_backends
