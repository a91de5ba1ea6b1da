#pragma once
// ClientState: what the server knows about one client connection, apart from
// its socket: selected database, authentication, protocol version, name and
// library info, reply mode, and the numbers CLIENT LIST prints.
//
// The connection's own thread writes it; other threads (CLIENT LIST, CLIENT
// KILL, INFO) read it concurrently, so every field another thread reads is an
// atomic or lives behind `mu_`.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>
#include <string_view>

#include "server/txn/transaction.h"

namespace sluice::server {

enum class ReplyMode : uint8_t { kOn, kOff, kSkipNext, kSkipThis };

class ClientState {
 public:
  ClientState(uint64_t id, std::string addr, std::string laddr, int fd, int64_t now_ms)
      : id_(id), addr_(std::move(addr)), laddr_(std::move(laddr)), fd_(fd), created_ms_(now_ms) {
    last_interaction_ms_.store(now_ms, std::memory_order_relaxed);
  }

  uint64_t id() const { return id_; }
  const std::string& addr() const { return addr_; }
  const std::string& laddr() const { return laddr_; }
  // Connected from loopback (127.0.0.1 or ::1, as Redis counts it): what
  // enable-protected-configs local allows.
  bool local() const {
    return addr_.rfind("127.0.0.1:", 0) == 0 || addr_.rfind("[::1]:", 0) == 0;
  }
  int64_t created_ms() const { return created_ms_; }

  int db() const { return db_.load(std::memory_order_relaxed); }
  void set_db(int db) { db_.store(db, std::memory_order_relaxed); }
  int resp() const { return resp_.load(std::memory_order_relaxed); }
  void set_resp(int v) { resp_.store(v, std::memory_order_relaxed); }

  bool authenticated() const { return authenticated_; }
  void set_authenticated(bool v) { authenticated_ = v; }

  std::string name() const;
  void set_name(std::string name);
  void set_lib_name(std::string v);
  void set_lib_ver(std::string v);

  ReplyMode reply_mode() const { return reply_mode_; }
  void set_reply_mode(ReplyMode m) {
    reply_mode_ = m;
    replies_on_ = m == ReplyMode::kOn;
  }
  // Whether replies are on (CLIENT REPLY ON); the connection's reply filter
  // reads it as each reply starts.
  const bool* replies_on() const { return &replies_on_; }
  bool no_evict() const { return no_evict_.load(std::memory_order_relaxed); }
  void set_no_evict(bool v) { no_evict_.store(v, std::memory_order_relaxed); }
  bool no_touch() const { return no_touch_.load(std::memory_order_relaxed); }
  void set_no_touch(bool v) { no_touch_.store(v, std::memory_order_relaxed); }

  // The connection closes once the current replies are written (QUIT, CLIENT KILL of self).
  bool close_after_reply() const { return close_after_reply_.load(std::memory_order_relaxed); }
  void set_close_after_reply() { close_after_reply_.store(true, std::memory_order_relaxed); }

  void Touch(int64_t now_ms, const char* command) {
    last_interaction_ms_.store(now_ms, std::memory_order_relaxed);
    last_command_.store(command, std::memory_order_relaxed);
  }
  int64_t last_interaction_ms() const {
    return last_interaction_ms_.load(std::memory_order_relaxed);
  }

  // Buffer sizes the connection reports for CLIENT LIST (qbuf, omem).
  void set_buffers(size_t query, size_t output) {
    query_buffer_.store(query, std::memory_order_relaxed);
    output_buffer_.store(output, std::memory_order_relaxed);
  }

  // Subscription counts (channels, patterns, shard channels) for CLIENT LIST
  // and for the RESP2 subscribed state.
  void set_subscriptions(size_t channels, size_t patterns, size_t shard_channels) {
    sub_.store(channels, std::memory_order_relaxed);
    psub_.store(patterns, std::memory_order_relaxed);
    ssub_.store(shard_channels, std::memory_order_relaxed);
  }
  size_t subscribed_channels() const { return sub_.load(std::memory_order_relaxed); }
  size_t subscribed_patterns() const { return psub_.load(std::memory_order_relaxed); }
  size_t subscribed_shard_channels() const { return ssub_.load(std::memory_order_relaxed); }
  // In Redis's terms a pubsub client: subscribed to anything.
  bool subscribed() const {
    return subscribed_channels() + subscribed_patterns() + subscribed_shard_channels() > 0;
  }

  // Blocked on keys (BLPOP, ...): set while the client is in the blocking
  // registry (CLIENT LIST's `b` flag, CLIENT UNBLOCK); written on the
  // connection's thread.
  bool blocked() const { return blocked_.load(std::memory_order_relaxed); }
  void set_blocked(bool v) { blocked_.store(v, std::memory_order_relaxed); }
  // The blocked command's deadline in ms (0: none). Connection thread only.
  int64_t block_deadline_ms() const { return block_deadline_ms_; }
  void set_block_deadline_ms(int64_t v) { block_deadline_ms_ = v; }
  // Whether the command just run asked to (go on) waiting: the connection
  // clears it before a command and reads it after. Connection thread only.
  bool wants_block() const { return wants_block_; }
  void set_wants_block(bool v) { wants_block_ = v; }
  // What a blocked command resolved when it first ran and its retries must
  // reuse (XREAD BLOCK: the IDs `$` stood for, so a retry reads the entries
  // added since, not after them). Connection thread only.
  std::vector<std::string>& block_notes() { return block_notes_; }

  // MULTI queue and WATCHed keys (connection thread only, but multi_count()).
  Transaction& transaction() { return transaction_; }
  const Transaction& transaction() const { return transaction_; }

  // One CLIENT LIST / CLIENT INFO line, without the trailing newline.
  std::string Describe(int64_t now_ms) const;

 private:
  const uint64_t id_;
  const std::string addr_;
  const std::string laddr_;
  const int fd_;
  const int64_t created_ms_;

  std::atomic<int> db_{0};
  std::atomic<int> resp_{2};
  std::atomic<int64_t> last_interaction_ms_{0};
  std::atomic<const char*> last_command_{"NULL"};
  std::atomic<size_t> query_buffer_{0};
  std::atomic<size_t> output_buffer_{0};
  std::atomic<bool> close_after_reply_{false};
  std::atomic<bool> no_evict_{false};
  std::atomic<bool> no_touch_{false};
  std::atomic<size_t> sub_{0};
  std::atomic<size_t> psub_{0};
  std::atomic<size_t> ssub_{0};
  std::atomic<bool> blocked_{false};

  // Only the connection's thread touches these.
  bool authenticated_ = true;
  ReplyMode reply_mode_ = ReplyMode::kOn;
  bool replies_on_ = true;
  bool wants_block_ = false;
  int64_t block_deadline_ms_ = 0;
  std::vector<std::string> block_notes_;
  Transaction transaction_;

  mutable std::mutex mu_;
  std::string name_;
  std::string lib_name_;
  std::string lib_ver_;
};

}  // namespace sluice::server
