#include "server/net/client_state.h"

#include "common/strings.h"


namespace sluice::server {

std::string ClientState::name() const {
  std::lock_guard lock(mu_);
  return name_;
}

void ClientState::set_name(std::string name) {
  std::lock_guard lock(mu_);
  name_ = std::move(name);
}

void ClientState::set_lib_name(std::string v) {
  std::lock_guard lock(mu_);
  lib_name_ = std::move(v);
}

void ClientState::set_lib_ver(std::string v) {
  std::lock_guard lock(mu_);
  lib_ver_ = std::move(v);
}

std::string ClientState::Describe(int64_t now_ms) const {
  std::string name, lib_name, lib_ver;
  {
    std::lock_guard lock(mu_);
    name = name_;
    lib_name = lib_name_;
    lib_ver = lib_ver_;
  }
  std::string flags;
  const int64_t multi = transaction_.multi_count();
  if (subscribed()) flags += 'P';
  if (blocked()) flags += 'b';
  if (multi >= 0) flags += 'x';
  if (no_evict()) flags += 'e';
  if (no_touch()) flags += 'T';
  if (flags.empty()) flags = "N";
  const int64_t age = (now_ms - created_ms_) / 1000;
  const int64_t idle = (now_ms - last_interaction_ms()) / 1000;
  const size_t qbuf = query_buffer_.load(std::memory_order_relaxed);
  const size_t omem = output_buffer_.load(std::memory_order_relaxed);
  return StrCat("id=", id_, " addr=", addr_, " laddr=", laddr_, " fd=", fd_,
                      " name=", name, " age=", age, " idle=", idle < 0 ? 0 : idle,
                      " flags=", flags, " db=", db(), " sub=", subscribed_channels(),
                      " psub=", subscribed_patterns(), " ssub=", subscribed_shard_channels(),
                      " multi=", multi, " qbuf=", qbuf,
                      " qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=",
                      omem, " tot-mem=", qbuf + omem + 16384, " events=r cmd=",
                      last_command_.load(std::memory_order_relaxed),
                      " user=default redir=-1 resp=", resp(), " lib-name=", lib_name,
                      " lib-ver=", lib_ver);
}

}  // namespace sluice::server
