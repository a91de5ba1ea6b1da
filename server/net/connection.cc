#include "server/net/connection.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <vector>

#include <sys/socket.h>

#include "common/strings.h"
#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "server/blocking/blocking_registry.h"
#include "server/dispatch/dispatch.h"
#include "server/dispatch/lock_planner.h"
#include "server/pubsub/keyspace_events.h"
#include "server/scripting/scripting.h"
#include "server/process/server.h"
#include "storage/clock.h"

namespace sluice::server {
namespace {

// The read buffer adapts to the traffic: it starts small, doubles after a
// read that filled it (a pipeline or a large value), and halves after reads
// that used little of it, so the many idle or blocked connections of a
// queue's workers cost a kilobyte each, not the 16 KiB a bulk loader needs.
constexpr size_t kMinReadBuffer = 1024;
constexpr size_t kMaxReadBuffer = 16 * 1024;
// A reply buffer that grew past this for one large reply is released after
// it was written, so an idle connection does not pin megabytes.
constexpr size_t kKeepOutputCapacity = 64 * 1024;
// A blocked client's unparsed input is held up to Redis's default
// client-query-buffer-limit.
constexpr size_t kMaxPendingInput = size_t{1} << 30;
// A woken client whose thread is inside a busy script tries again this late.
constexpr auto kBusyRetry = std::chrono::milliseconds(10);

// Blocked clients woken by a command are served by the thread that ran it,
// right after the command, before its reply is written and before the next
// pipelined command runs, as Redis serves blocked clients after each command
// (a producer's "LPUSH k x; LLEN k" sees the consumer's pop). While
// `serving_ready` is set, Wake() queues the client here instead of posting;
// the outermost ServeReadyKeys drains the queue in order, so a served client
// whose own command readies more keys (BLMOVE) adds to the queue rather than
// recursing. A client of this thread runs its command again here; a client
// of another thread is served here when it is parked (ServeFromOtherThread),
// else its own thread is asked to (PostRetry).
thread_local bool serving_ready = false;
thread_local std::vector<std::weak_ptr<Connection>> woken_here;

std::string EndpointText(const asio::ip::tcp::endpoint& ep) {
  const asio::ip::address a = ep.address();
  return StrCat(a.is_v6() ? StrCat("[", a.to_string(), "]") : a.to_string(), ":",
                      ep.port());
}

std::string RemoteText(asio::ip::tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  return ec ? std::string("?:0") : EndpointText(ep);
}

std::string LocalText(asio::ip::tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.local_endpoint(ec);
  return ec ? std::string("?:0") : EndpointText(ep);
}

}  // namespace

Connection::Connection(Server& server, IoThread& thread, asio::ip::tcp::socket socket,
                       uint64_t id, bool authenticated)
    : Subscriber(thread.index()),
      server_(server),
      thread_(thread),
      socket_(std::move(socket)),
      state_(id, RemoteText(socket_), LocalText(socket_), socket_.native_handle(),
             storage::NowMs()),
      writer_(&out_),
      block_timer_(thread.context()) {
  state_.set_authenticated(authenticated);
  parser_.set_authenticated(authenticated);
  read_size_ = kMinReadBuffer;
  read_buf_.resize(kMinReadBuffer);
  boost::system::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

Connection::~Connection() {
  // A connection that never closed (the server is going down) leaves no
  // pointer to itself behind.
  if (state_.blocked()) server_.blocking().Unblock(this);
}

void Connection::Start() {
  thread_.connections().insert(this);
  server_.RegisterClient(shared_from_this());
  DoRead();
}

void Connection::Kill() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

// Hand-over of a blocked connection to another I/O thread. A connection that
// waits on keys with nothing in flight (no write, no output, no flush or
// command pending, not subscribed) is parked at the end of its own thread's
// handler. The thread whose command wakes it may then claim it and, as if it
// were its own thread, run the blocked command again and write the reply
// straight to the socket: the reply does not wait for the connection's thread
// to wake up and run (tens of microseconds when that thread sleeps, more when
// the cores are busy). Every handler of the connection's own thread starts
// with Own(): it unparks the connection, or, while another thread serves it,
// tells the handler to come back later. What came after the blocked command
// runs on the connection's own thread (ResumeAfterServed).
bool Connection::Own() {
  if (!park_noted_) return true;  // never parked since this thread last owned it
  std::lock_guard lock(handoff_mu_);
  if (claimed_) return false;
  parked_ = false;
  park_noted_ = false;
  return true;
}

void Connection::Park() {
  if (!blocked_ || closed_ || executing_ || write_in_flight_ || flush_scheduled_ ||
      !out_.empty() || !deferred_pushes_.empty() || state_.subscribed() ||
      thread_.serving_while_busy()) {
    return;
  }
  std::lock_guard lock(handoff_mu_);
  parked_ = true;
  park_noted_ = true;
}

bool Connection::ServeFromOtherThread() {
  {
    std::lock_guard lock(handoff_mu_);
    if (!parked_) return false;
    parked_ = false;
    claimed_ = true;
  }
  // From here until the claim is released this thread is the connection's.
  auto release = [this](bool park) {
    std::lock_guard lock(handoff_mu_);
    claimed_ = false;
    parked_ = park;
  };
  if (server_.scripts().BusyPastThreshold(storage::NowMs())) {
    release(true);
    return false;  // its own thread retries later (RetryBlocked)
  }
  executing_ = true;
  Execute();
  executing_ = false;
  if (state_.wants_block()) {
    server_.blocking().Retried(this, /*served=*/false);
    release(true);
    return true;
  }
  if (!out_.empty()) {
    ssize_t n;
    do {
      n = ::send(socket_.native_handle(), out_.data(), out_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    // What did not fit (or an error) is left to the connection's own thread.
    if (n > 0) {
      thread_.net_output_bytes.fetch_add(static_cast<size_t>(n), std::memory_order_relaxed);
      out_.erase(0, static_cast<size_t>(n));
    }
  }
  blocked_ = false;
  state_.set_blocked(false);
  ++block_generation_;  // its deadline, if it fires now, is stale
  if (state_.block_deadline_ms() != 0) block_timer_.cancel();
  // Nothing came after the command and all of the reply is out: done here,
  // without waking the connection's thread (its read stays pending).
  // Otherwise that thread runs the rest.
  const bool rest = !pending_input_.empty() || !out_.empty() || state_.close_after_reply();
  resume_pending_ = rest;
  server_.blocking().Retried(this, /*served=*/true);
  release(false);
  if (rest) {
    asio::post(thread_.context(), [self = shared_from_this()] { self->ResumeAfterServed(); });
  }
  return true;
}

void Connection::ResumeAfterServed() {
  if (!Own()) {
    asio::post(thread_.context(), [self = shared_from_this()] { self->ResumeAfterServed(); });
    return;
  }
  if (!resume_pending_) return;
  if (executing_ || thread_.serving_while_busy()) {
    // Not in the middle of a busy script's loop: a little later.
    AfterBusy(&Connection::ResumeAfterServed);
    return;
  }
  resume_pending_ = false;
  LeaveBlocked();
}

void Connection::AfterBusy(void (Connection::*step)()) {
  auto timer = std::make_shared<asio::steady_timer>(thread_.context(), kBusyRetry);
  timer->async_wait([self = shared_from_this(), timer, step](const boost::system::error_code&) {
    ((*self).*step)();
  });
}

void Connection::PostRetry() {
  asio::post(thread_.context(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->RetryBlocked();
  });
}

void Connection::CloseIfIdle(int64_t now_ms, int timeout_s) {
  if (!Own()) return;  // being served: not idle
  if (executing_) return;  // a long script serving others from its hook
  if (blocked_) return;    // as in Redis, a blocked client is not idle
  if (now_ms - state_.last_interaction_ms() > static_cast<int64_t>(timeout_s) * 1000) Close();
}

void Connection::DoRead() {
  // Not while a command runs: a busy script's hook may run this thread's
  // loop (OnWrite), and the command still uses the parsed arguments.
  if (closed_ || reading_ || executing_) return;
  reading_ = true;
  if (read_buf_.size() != read_size_) {
    std::string fresh(read_size_, '\0');
    read_buf_.swap(fresh);
  }
  socket_.async_read_some(asio::buffer(read_buf_.data(), read_buf_.size()),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->OnRead(ec, n); });
}

void Connection::OnRead(const boost::system::error_code& ec, size_t n) {
  if (!Own()) {
    asio::post(thread_.context(),
               [self = shared_from_this(), ec, n] { self->OnRead(ec, n); });
    return;
  }
  reading_ = false;
  if (ec || closed_) {
    Close();
    return;
  }
  thread_.net_input_bytes.fetch_add(n, std::memory_order_relaxed);
  if (n == read_buf_.size()) {
    read_size_ = std::min(kMaxReadBuffer, read_buf_.size() * 2);
  } else if (n < read_buf_.size() / 8) {
    read_size_ = std::max(kMinReadBuffer, read_buf_.size() / 2);
  }
  std::string_view input(read_buf_.data(), n);
  if (blocked_ || resume_pending_) {
    // Kept for after the wait; reading goes on so that a close is seen.
    pending_input_.append(input);
    state_.set_buffers(pending_input_.size(), out_.size());
    if (pending_input_.size() > kMaxPendingInput) {
      server_.Log(LogLevel::kWarning, StrCat("Closing blocked client id=", state_.id(),
                                             ": query buffer over ", kMaxPendingInput, " bytes"));
      Close();
      return;
    }
    DoRead();
    Park();
    return;
  }
  ProcessInput(input);
  FinishInput();
}

void Connection::ProcessInput(std::string_view input) {
  executing_ = true;
  while (!input.empty() && !state_.close_after_reply()) {
    size_t consumed = 0;
    protocol::ParseStatus status = parser_.Feed(input, &consumed, &args_);
    input.remove_prefix(consumed);
    if (status == protocol::ParseStatus::kCommand) {
      Execute();
      if (blocked_) {
        // The commands after a blocking one wait for it (their bytes are
        // parsed once it has replied).
        pending_input_.assign(input);
        break;
      }
    } else if (status == protocol::ParseStatus::kNeedMore) {
      break;
    } else {
      writer_.Error(StrCat("ERR ", parser_.error()));
      server_.Log(LogLevel::kVerbose, StrCat("Protocol error (", parser_.error(),
                                                   ") from client: ", state_.addr()));
      state_.set_close_after_reply();
    }
  }
  executing_ = false;
}

void Connection::FinishInput() {
  state_.set_buffers(pending_input_.size(), out_.size());
  if (EnforceOutputLimit()) return;
  Flush();
  if (state_.close_after_reply()) {
    if (!write_in_flight_) Close();  // else OnWrite closes
    return;
  }
  // OnWrite resumes reading, except for a subscriber (see the header) and a
  // blocked client, which reads on to see a close.
  if (write_in_flight_ && !state_.subscribed() && !blocked_) return;
  DoRead();
  Park();
}

void Connection::EnterBlocked() {
  blocked_ = true;
  read_size_ = kMinReadBuffer;  // it waits: the next read is a close or a few bytes
  ++block_generation_;
  const int64_t deadline = state_.block_deadline_ms();
  if (deadline == 0) return;
  const int64_t left = std::max<int64_t>(0, deadline - storage::NowMs());
  block_timer_.expires_after(std::chrono::milliseconds(left));
  // A timer that fired just as the wait ended must not end the next one.
  block_timer_.async_wait([self = shared_from_this(),
                           generation = block_generation_](const boost::system::error_code& ec) {
    if (!ec) self->OnBlockTimer(generation);
  });
}

void Connection::OnBlockTimer(uint64_t generation) {
  if (!Own()) {
    asio::post(thread_.context(), [self = shared_from_this(), generation] {
      self->OnBlockTimer(generation);
    });
    return;
  }
  if (generation == block_generation_) OnBlockTimeout();
}

void Connection::LeaveBlocked() {
  blocked_ = false;
  state_.set_blocked(false);
  block_timer_.cancel();
  if (closed_) return;
  const std::string input = std::move(pending_input_);
  pending_input_.clear();
  ProcessInput(input);
  FinishInput();
}

void Connection::Wake() {
  if (serving_ready) {
    woken_here.push_back(weak_from_this());
    return;
  }
  PostRetry();
}

void Connection::RetryBlocked() {
  if (!Own()) {
    // Another thread serves it now; this wake (a stale one) comes back.
    PostRetry();
    return;
  }
  if (closed_ || !blocked_) return;
  if (executing_ || thread_.serving_while_busy() ||
      server_.scripts().BusyPastThreshold(storage::NowMs())) {
    // Not in the middle of a busy script: try again a little later (the
    // registry keeps this wake in flight meanwhile).
    AfterBusy(&Connection::RetryBlocked);
    return;
  }
  executing_ = true;
  Execute();
  executing_ = false;
  if (closed_) return;  // e.g. over its output limit: Close() unregistered it
  if (state_.wants_block()) {
    server_.blocking().Retried(this, /*served=*/false);
    Park();
    return;
  }
  server_.blocking().Retried(this, /*served=*/true);
  LeaveBlocked();
}

void Connection::EndBlockWith(bool error) {
  if (!Own()) {
    asio::post(thread_.context(),
               [self = shared_from_this(), error] { self->EndBlockWith(error); });
    return;
  }
  if (closed_ || !blocked_) return;
  server_.blocking().Unblock(this);
  if (*state_.replies_on()) {
    if (error) {
      writer_.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
      server_.stats().total_error_replies.fetch_add(1, std::memory_order_relaxed);
    } else {
      writer_.NullArray();
    }
  }
  LeaveBlocked();
}

void Connection::OnBlockTimeout() { EndBlockWith(false); }

void Connection::EndBlock(bool error) {
  asio::post(thread_.context(), [self = shared_from_this(), error] { self->EndBlockWith(error); });
}

void Connection::Execute() {
  thread_.commands_processed.fetch_add(1, std::memory_order_relaxed);
  const ReplyMode mode = state_.reply_mode();
  if (mode == ReplyMode::kOff || mode == ReplyMode::kSkipThis) {
    ExecuteMuted(mode);
  } else {
    ExecuteInto(writer_, mode);
  }
}

void Connection::ExecuteMuted(ReplyMode mode) {
  // CLIENT REPLY OFF/SKIP: replies are dropped, push messages (SUBSCRIBE's
  // confirmations) still go out, as in Redis.
  protocol::PushOnlyFilter filter(writer_, state_.replies_on());
  ExecuteInto(filter, mode);
}

void Connection::ExecuteInto(protocol::ReplySink& sink, ReplyMode mode) {
  const int64_t now_ms = storage::NowMs();
  const uint64_t errors_before = sink.errors_written();
  CommandContext ctx{server_, state_, args_, sink, now_ms, this};
  ctx.blocker = this;
  state_.set_wants_block(false);
  DispatchResult r = Dispatch(ctx, Origin::kClient);
  if (state_.wants_block() && !blocked_) EnterBlocked();
  if (r.kind == DispatchResult::kRefused) {
    // Inside MULTI, a refused command makes EXEC abort.
    state_.transaction().Reject();
    if (!args_.empty() && protocol::EqualsIgnoreCase(args_[0], "exec")) {
      // As in Redis, an EXEC refused before it runs (wrong arity, NOAUTH,
      // BUSY, ...) discards the transaction, in MULTI or not, and says why.
      std::string_view why = r.error;
      if (why.substr(0, 4) == "ERR ") why.remove_prefix(4);
      sink.Error(StrCat("EXECABORT Transaction discarded because of: ", why));
      state_.transaction().End();
      state_.transaction().UnwatchAll(server_.keyspace());
    } else {
      sink.Error(r.error);
    }
  }
  parser_.set_authenticated(state_.authenticated());
  writer_.set_protocol(state_.resp());
  if (const uint64_t errors = sink.errors_written() - errors_before; errors != 0) {
    server_.stats().total_error_replies.fetch_add(errors, std::memory_order_relaxed);
  }
  // CLIENT REPLY SKIP mutes the command after it.
  if (state_.reply_mode() == ReplyMode::kSkipNext) {
    state_.set_reply_mode(ReplyMode::kSkipThis);
  } else if (mode == ReplyMode::kSkipThis && state_.reply_mode() == ReplyMode::kSkipThis) {
    state_.set_reply_mode(ReplyMode::kOn);
  }
  if (!deferred_pushes_.empty()) {
    out_.append(deferred_pushes_);
    deferred_pushes_.clear();
  }
  if (HasQueuedKeyspaceEvents()) PublishQueuedKeyspaceEvents(server_);
  // Clients blocked on the keys this command (EXEC, script) wrote are woken
  // now that its locks are released.
  if (HasReadyKeys()) ServeReadyKeys();
}

void Connection::ServeReadyKeys() {
  if (serving_ready) {
    // A client served by the loop below readied keys: the loop serves them.
    SignalReadyKeys(server_.blocking());
    return;
  }
  serving_ready = true;
  struct Done {
    ~Done() {
      // Normally empty; after an exception, the rest are woken the usual
      // way (one already served ignores its wake).
      serving_ready = false;
      std::vector<std::weak_ptr<Connection>> rest;
      rest.swap(woken_here);
      for (const auto& weak : rest) {
        if (std::shared_ptr<Connection> c = weak.lock()) c->PostRetry();
      }
    }
  } done;
  SignalReadyKeys(server_.blocking());
  for (size_t i = 0; i < woken_here.size(); ++i) {
    // A copy: serving it may add to the vector.
    std::shared_ptr<Connection> woken = woken_here[i].lock();
    if (woken == nullptr) continue;
    if (woken->thread_.context().get_executor().running_in_this_thread()) {
      woken->RetryBlocked();
    } else if (!woken->ServeFromOtherThread()) {
      woken->PostRetry();
    }
  }
  woken_here.clear();
}

void Connection::Deliver(const PubSubMessage& message, const std::string* pattern) {
  if (closed_ || state_.close_after_reply()) return;
  // Published before an UNSUBSCRIBE that has been answered since: drop it.
  const SubscriptionKind kind = pattern != nullptr ? SubscriptionKind::kPattern
                                : message.sharded  ? SubscriptionKind::kShardChannel
                                                   : SubscriptionKind::kChannel;
  if (!IsSubscribed(kind, pattern != nullptr ? std::string_view(*pattern)
                                             : std::string_view(message.channel))) {
    return;
  }
  // A message that arrives while this connection's own command is half
  // written (a busy script's hook running the loop, inside EXEC's reply) waits
  // until that reply is complete, so it never lands inside it.
  const bool defer = executing_ && thread_.serving_while_busy();
  protocol::ReplyWriter deferred(&deferred_pushes_);
  deferred.set_protocol(writer_.protocol());
  protocol::ReplySink& w = defer ? static_cast<protocol::ReplySink&>(deferred) : writer_;
  if (pattern == nullptr) {
    w.EncodedPush(message.frame);
  } else {
    w.PushHeader(4);
    w.Bulk("pmessage");
    w.Bulk(*pattern);
    w.Bulk(message.channel);
    w.Bulk(message.payload);
  }
  if (EnforceOutputLimit()) return;
  if (!executing_) ScheduleFlush();
}

void Connection::ScheduleFlush() {
  // A write in flight already picks up the new output when it completes.
  if (flush_scheduled_ || write_in_flight_) return;
  flush_scheduled_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->OnScheduledFlush(); });
}

void Connection::OnScheduledFlush() {
  if (!Own()) {
    asio::post(thread_.context(), [self = shared_from_this()] { self->OnScheduledFlush(); });
    return;
  }
  flush_scheduled_ = false;
  Flush();
}

bool Connection::EnforceOutputLimit() {
  if (closed_) return true;
  const size_t pending = out_.size() + writing_.size() + deferred_pushes_.size();
  const OutputBufferLimit limit = server_.config().output_limit(
      state_.subscribed() ? ClientClass::kPubSub : ClientClass::kNormal);
  bool over = false;
  if (limit.hard != 0 && pending >= limit.hard) {
    over = true;
  } else if (limit.soft != 0 && pending >= limit.soft) {
    const int64_t now = storage::NowMs();
    if (soft_limit_since_ms_ == 0) {
      soft_limit_since_ms_ = now;
    } else if (now - soft_limit_since_ms_ > limit.soft_seconds * 1000) {
      over = true;
    }
  } else {
    soft_limit_since_ms_ = 0;
  }
  if (!over) return false;
  server_.stats().client_output_buffer_limit_disconnections.fetch_add(1,
                                                                      std::memory_order_relaxed);
  server_.Log(LogLevel::kWarning,
              StrCat("Client id=", state_.id(), " addr=", state_.addr(),
                     " closed for overcoming of output buffer limits (", pending, " bytes)."));
  std::string().swap(out_);
  Close();
  return true;
}

void Connection::Flush() {
  if (write_in_flight_ || out_.empty() || closed_) return;
  write_in_flight_ = true;
  writing_.swap(out_);
  thread_.net_output_bytes.fetch_add(writing_.size(), std::memory_order_relaxed);
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      self->OnWrite(ec);
                    });
}

void Connection::OnWrite(const boost::system::error_code& ec) {
  if (!Own()) {
    asio::post(thread_.context(), [self = shared_from_this(), ec] { self->OnWrite(ec); });
    return;
  }
  write_in_flight_ = false;
  if (writing_.capacity() > kKeepOutputCapacity) {
    std::string().swap(writing_);
  } else {
    writing_.clear();
  }
  if (ec || closed_) {
    Close();
    return;
  }
  if (!out_.empty()) {
    Flush();
    if (state_.subscribed() && !state_.close_after_reply()) DoRead();
    return;
  }
  if (state_.close_after_reply()) {
    Close();
    return;
  }
  DoRead();
  Park();
}

void Connection::Close() {
  if (!Own()) {
    asio::post(thread_.context(), [self = shared_from_this()] { self->Close(); });
    return;
  }
  if (closed_) return;
  closed_ = true;
  // Gone from the registry, the counts and the subscriptions before the peer
  // can see the close: a client that saw it and asks (CLIENT KILL ID, INFO
  // connected_clients) gets the answer after it.
  thread_.connections().erase(this);
  if (blocked_) {
    server_.blocking().Unblock(this);
    state_.set_blocked(false);
    blocked_ = false;
    block_timer_.cancel();
  }
  server_.pubsub().UnsubscribeAll(*this);
  state_.set_subscriptions(0, 0, 0);
  state_.transaction().UnwatchAll(server_.keyspace());
  server_.UnregisterClient(state_.id());
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace sluice::server
