// ProcessGroupGloo from C++. The wheel ships ProcessGroupGloo.hpp and the gloo code (inside
// libtorch_cpu) but not gloo's own headers, which ProcessGroupGloo.hpp includes. We compile
// this one file against Debian's libgloo-dev headers: ProcessGroupGloo only holds gloo objects
// through shared_ptr/unique_ptr, and this file only passes such pointers between LibTorch's own
// functions (createDevice*, the constructor), so no gloo layout or inline gloo code from those
// headers ends up in llmc; every gloo call runs in LibTorch's copy. See README "Distributed".
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <cstdlib>
#include <llmc/error.hpp>
#include <string>

#include "backends.hpp"

namespace llmc::dist::detail {
namespace {

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

}  // namespace

c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    const Environment& env,
                                                    std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  } else if (is_loopback(env.master_addr)) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  // The backend's keys live under their own prefix, apart from llmc's step keys.
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("llmc-gloo", store);
  return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env.rank, env.world_size, options);
}

}  // namespace llmc::dist::detail
