// Data-parallel building blocks on CPU/Gloo: an augmentation slice of a global batch equals those
// rows of the whole batch; two ranks (threads, TCPStore on 127.0.0.1) average gradients through
// bucketed all-reduce exactly like the mean of their separate gradients; parameters broadcast.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "facetrain/base/error.h"
#include "facetrain/distributed/gradient_sync.h"
#include "facetrain/distributed/process_group.h"
#include "facetrain/train/augment.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

using namespace facetrain;

namespace {

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(sa);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) == 0);
  ::close(fd);
  return ntohs(sa.sin_port);
}

LaunchEnvironment rank_of_two(int rank, int port) {
  LaunchEnvironment env;
  env.rank = rank;
  env.world_size = 2;
  env.local_rank = rank;
  env.local_world_size = 2;
  env.master_addr = "127.0.0.1";
  env.master_port = port;
  env.launcher = "env";
  return env;
}

// A small network: three layers, so 1 KB buckets split it into several all-reduces.
struct Net {
  torch::nn::Sequential layers{torch::nn::Linear(8, 16), torch::nn::Tanh(), torch::nn::Linear(16, 16), torch::nn::Tanh(),
                               torch::nn::Linear(16, 2)};
};

}  // namespace

TEST_CASE("an augmentation slice equals the same rows of the global batch", "[ddp]") {
  torch::manual_seed(3);
  auto images = (torch::rand({6, 3, 32, 32}) * 255).to(torch::kUInt8);
  auto masks = (torch::rand({6, 1, 32, 32}) * 255).to(torch::kUInt8);
  auto landmarks = torch::rand({6, 68, 2}) * 31;
  AugmentConfig config;
  config.flip = true;
  Augmenter whole(config, 11, torch::kCPU);
  const AugmentedBatch all = whole(images, masks, landmarks);
  for (int64_t rank = 0; rank < 3; ++rank) {
    Augmenter part(config, 11, torch::kCPU);
    const AugmentedBatch slice = part(images.narrow(0, 2 * rank, 2), masks.narrow(0, 2 * rank, 2),
                                      landmarks.narrow(0, 2 * rank, 2), BatchSlice{6, 2 * rank});
    CHECK(torch::allclose(slice.input, all.input.narrow(0, 2 * rank, 2), 1e-6, 1e-6));
    CHECK(torch::allclose(slice.target, all.target.narrow(0, 2 * rank, 2), 1e-6, 1e-6));
    CHECK(torch::allclose(slice.target_mask, all.target_mask.narrow(0, 2 * rank, 2), 1e-6, 1e-6));
    CHECK(torch::allclose(slice.landmarks, all.landmarks.narrow(0, 2 * rank, 2), 1e-5, 1e-5));
    CHECK(torch::equal(part.get_state(), whole.get_state()));  // the stream advanced by the global draw
  }
  Augmenter outside(config, 11, torch::kCPU);
  CHECK_THROWS(outside(images.narrow(0, 0, 2), masks.narrow(0, 0, 2), landmarks.narrow(0, 0, 2), BatchSlice{6, 5}));
}

TEST_CASE("two Gloo ranks average gradients in buckets and broadcast parameters", "[ddp]") {
  const int port = free_loopback_port();
  torch::manual_seed(5);
  const auto inputs = torch::randn({2, 4, 8});  // one batch per rank
  // Reference: the mean of both ranks' gradients, from rank 0's initial weights.
  torch::manual_seed(9);
  Net reference;
  std::vector<torch::Tensor> expected;
  for (int r = 0; r < 2; ++r) {
    for (auto& p : reference.layers->parameters()) p.mutable_grad() = torch::Tensor();
    reference.layers->forward(inputs[r]).square().mean().backward();
    for (size_t k = 0; k < reference.layers->parameters().size(); ++k) {
      auto g = reference.layers->parameters()[k].grad().clone() / 2;
      if (r == 0) expected.push_back(g);
      else expected[k] += g;
    }
  }

  // Each rank's initial weights are drawn here, one after the other: the rank threads must not
  // seed and draw from LibTorch's global generator at the same time (rank 0's weights would then
  // depend on timing). Rank 1 starts from other weights: the broadcast fixes that.
  std::vector<Net> nets(2);
  torch::manual_seed(9);
  nets[0] = Net();
  torch::manual_seed(1234);
  nets[1] = Net();
  for (size_t k = 0; k < reference.layers->parameters().size(); ++k) {
    REQUIRE(torch::equal(nets[0].layers->parameters()[k], reference.layers->parameters()[k]));
    REQUIRE_FALSE(torch::equal(nets[1].layers->parameters()[k], nets[0].layers->parameters()[k]));
  }

  std::vector<std::vector<torch::Tensor>> grads(2), weights(2);
  std::vector<int64_t> buckets(2);
  std::vector<std::string> errors(2);
  auto rank_main = [&](int rank) {
    try {
      Net& net = nets[static_cast<size_t>(rank)];
      dist::ProcessGroup group(rank_of_two(rank, port), /*cuda=*/false, 30.0);
      dist::broadcast_parameters(group, net.layers->parameters(), 0);
      dist::GradientSynchronizer sync(group, net.layers->parameters(), /*bucket_bytes=*/1024);
      buckets[static_cast<size_t>(rank)] = sync.stats().buckets;
      for (int step = 0; step < 2; ++step) {  // the second step reuses the buckets
        for (auto& p : net.layers->parameters()) p.mutable_grad() = torch::Tensor();
        sync.begin_step();
        net.layers->forward(inputs[rank]).square().mean().backward();
        sync.finish();
      }
      for (auto& p : net.layers->parameters()) {
        grads[static_cast<size_t>(rank)].push_back(p.grad().clone());
        weights[static_cast<size_t>(rank)].push_back(p.detach().clone());
      }
    } catch (const std::exception& e) {
      errors[static_cast<size_t>(rank)] = e.what();
    }
  };
  std::thread rank1(rank_main, 1);
  rank_main(0);
  rank1.join();
  REQUIRE(errors[0].empty());
  REQUIRE(errors[1].empty());
  CHECK(buckets[0] >= 3);
  REQUIRE(grads[0].size() == expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    CHECK(torch::allclose(grads[0][k], expected[k], 1e-5, 1e-6));
    CHECK(torch::equal(grads[0][k], grads[1][k]));  // every rank holds the same average
    CHECK(torch::equal(weights[0][k], weights[1][k]));
  }
}

TEST_CASE("a rank that never joins is named after the rendezvous timeout", "[ddp]") {
  const int port = free_loopback_port();
  try {
    dist::ProcessGroup group(rank_of_two(0, port), false, 3.0);
    FAIL("the rendezvous did not time out");
  } catch (const TemporaryError& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains("rank(s) 1 did not join within 3 s"));
  }
}
