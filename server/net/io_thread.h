#pragma once
// IoThread: one event loop (io_context) and the thread that runs it. A
// connection lives on one IoThread for its whole life; that thread also runs
// active expiry for its share of the shards and the idle-client check.
//
// `connections` and `commands_processed`'s writes belong to the loop's own
// thread; other threads only read the counters.

#include <atomic>
#include <boost/asio.hpp>
#include <cstdint>
#include <thread>

#include "absl/container/flat_hash_set.h"

namespace sluice::server {

namespace asio = boost::asio;
class Connection;

class IoThread {
 public:
  explicit IoThread(size_t index)
      : index_(index), work_(asio::make_work_guard(context_)), expiry_timer_(context_),
        idle_timer_(context_) {}

  size_t index() const { return index_; }
  asio::io_context& context() { return context_; }
  asio::steady_timer& expiry_timer() { return expiry_timer_; }
  asio::steady_timer& idle_timer() { return idle_timer_; }
  absl::flat_hash_set<Connection*>& connections() { return connections_; }
  // True while a busy script on this thread runs the loop from its hook
  // (Server::ServeOthersWhileBusy): handlers then run in the middle of the
  // script's command.
  bool serving_while_busy() const { return serving_while_busy_; }
  void set_serving_while_busy(bool v) { serving_while_busy_ = v; }

  void Run() {
    thread_ = std::thread([this] { context_.run(); });
  }
  void Stop() {
    work_.reset();
    context_.stop();
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  std::atomic<uint64_t> commands_processed{0};
  // Expiry-timer ticks run so far (this thread only).
  uint64_t ticks = 0;
  std::atomic<uint64_t> net_input_bytes{0};
  std::atomic<uint64_t> net_output_bytes{0};

 private:
  size_t index_;
  asio::io_context context_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer expiry_timer_;
  asio::steady_timer idle_timer_;
  absl::flat_hash_set<Connection*> connections_;
  bool serving_while_busy_ = false;
  std::thread thread_;
};

}  // namespace sluice::server
