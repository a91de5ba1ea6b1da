#pragma once
// Connection: one client socket and its request/reply loop.
//
// Read bytes -> parse every complete command -> dispatch each through the
// command table -> write all of this batch's replies in one async write.
// While a write is in flight the connection does not read, which bounds the
// output a client that never reads can make the server hold. Runs on its
// IoThread, except that a blocked connection parked with nothing in flight
// may be served by the thread whose command woke it (ServeFromOtherThread,
// see connection.cc); Kill() may be called from any thread.
//
// As a pub/sub Subscriber it receives messages on its own thread (Deliver),
// appends them to the output and flushes. Pending output (the buffer being
// filled plus the one on the wire) is held to client-output-buffer-limit: a
// connection over its class's hard limit, or over the soft limit for longer
// than the soft seconds, is closed. A subscribed connection also keeps
// reading while a write is in flight, so that a steady stream of messages
// cannot starve its UNSUBSCRIBE; its output is bounded by that limit.
//
// As a BlockedClient it waits on keys (BLPOP, ...): while blocked it runs no
// further commands (what arrives is kept, unparsed, for after), keeps reading
// so that a disconnect is seen, and leaves the wait when a write wakes it and
// its command, run again, replies (Wake), at its deadline (a steady_timer of
// its own, armed only while blocked), on CLIENT UNBLOCK (EndBlock) or when
// it closes.

#include <boost/asio.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "protocol/parser.h"
#include "protocol/reply_writer.h"
#include "server/blocking/blocking_registry.h"
#include "server/net/client_state.h"
#include "server/net/io_thread.h"
#include "server/pubsub/pubsub_hub.h"

namespace sluice::server {

class Server;

class Connection : public Subscriber,
                   public BlockedClient,
                   public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, IoThread& thread, asio::ip::tcp::socket socket, uint64_t id,
             bool authenticated);
  ~Connection();

  // Registers the connection and starts reading. Call on its IoThread.
  void Start();
  // Closes the connection at the next turn of its loop. Thread-safe.
  void Kill();
  // Closes it if it has been idle longer than `timeout_s`. On its IoThread.
  void CloseIfIdle(int64_t now_ms, int timeout_s);

  ClientState& state() { return state_; }

  // Subscriber.
  std::shared_ptr<Subscriber> SharedSelf() override { return shared_from_this(); }
  void Deliver(const PubSubMessage& message, const std::string* pattern) override;

  // BlockedClient: runs the blocked command again on this connection's thread.
  void Wake() override;
  // CLIENT UNBLOCK: ends the wait (if it still waits then) as a timeout or
  // with the UNBLOCKED error. Thread-safe.
  void EndBlock(bool error);
  // On another I/O thread, whose command woke this blocked connection: when
  // the connection is parked (see connection.cc), runs its blocked command
  // again here and writes the reply at once; false when it is not parked
  // (PostRetry then asks its own thread).
  bool ServeFromOtherThread();
  // Asks the connection's own thread to run its blocked command again.
  void PostRetry();

 private:
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void Execute();
  // Runs every complete command in `input`; stops at a command that blocks,
  // keeping the rest in pending_input_.
  void ProcessInput(std::string_view input);
  // After input was processed: write the replies, close or read on.
  void FinishInput();
  // The command just run made the client wait: arm its deadline.
  void EnterBlocked();
  // The wait is over (the reply is written): run what arrived meanwhile.
  void LeaveBlocked();
  void RetryBlocked();
  // Hand-over to another thread (see connection.cc): Own() at the start of
  // every handler of the connection's own thread (false: another thread
  // serves it now, come back later); Park() at the end of one that leaves it
  // blocked with nothing in flight.
  bool Own();
  void Park();
  // After another thread served the blocked command: runs what came after it.
  void ResumeAfterServed();
  void OnBlockTimer(uint64_t generation);
  // Runs `step` on this thread kBusyRetry later (a busy script is running).
  void AfterBusy(void (Connection::*step)());
  void OnScheduledFlush();
  // Signals the keys this thread's command made ready and serves, before
  // returning, the clients of this thread that they wake (see connection.cc).
  void ServeReadyKeys();
  void OnBlockTimeout();
  // Ends the wait with the timeout reply or the UNBLOCKED error.
  void EndBlockWith(bool error);
  // Runs the parsed command, its replies going to `sink`; `mode` is the
  // CLIENT REPLY mode it started in.
  void ExecuteInto(protocol::ReplySink& sink, ReplyMode mode);
  void ExecuteMuted(ReplyMode mode);
  void Flush();
  // Flushes after the handler now running returns, so that every message
  // delivered meanwhile (a pipelined batch of PUBLISHes) leaves in one write.
  void ScheduleFlush();
  void OnWrite(const boost::system::error_code& ec);
  void Close();
  // Closes the connection (and returns true) when its pending output is over
  // its client-output-buffer-limit.
  bool EnforceOutputLimit();

  Server& server_;
  IoThread& thread_;
  asio::ip::tcp::socket socket_;
  ClientState state_;
  protocol::Parser parser_;
  protocol::CommandArgs args_;
  std::string read_buf_;
  size_t read_size_;  // what the next read's buffer will be (see connection.cc)
  std::string out_;      // replies being produced
  std::string writing_;  // replies on the wire
  std::string deferred_pushes_;  // messages that arrived mid-reply (see Deliver)
  protocol::ReplyWriter writer_;
  bool reading_ = false;
  bool write_in_flight_ = false;
  bool closed_ = false;
  bool executing_ = false;   // inside OnRead's command loop: Deliver must not flush
  bool flush_scheduled_ = false;
  bool blocked_ = false;       // waiting on keys: commands after it wait too
  std::string pending_input_;  // bytes received while blocked, not yet parsed
  asio::steady_timer block_timer_;
  uint64_t block_generation_ = 0;    // counts the waits, to tell stale timer expiries
  // Served by another thread; ResumeAfterServed has not run yet (input that
  // arrives is kept for it, as while blocked).
  bool resume_pending_ = false;
  // The hand-over (see connection.cc). parked_ and claimed_ are guarded by
  // handoff_mu_; park_noted_ is the own thread's: parked_ may be set.
  std::mutex handoff_mu_;
  bool parked_ = false;
  bool claimed_ = false;
  bool park_noted_ = false;
  int64_t soft_limit_since_ms_ = 0;  // when the output went over the soft limit; 0: it is not
};

}  // namespace sluice::server
