#pragma once
// Connection: one client socket and its request/reply loop.
//
// Read bytes -> parse every complete command -> dispatch each through the
// command table -> write all of this batch's replies in one async write.
// While a write is in flight the connection does not read, which bounds the
// output a client that never reads can make the server hold. Runs entirely on
// its IoThread; Kill() may be called from any thread.

#include <boost/asio.hpp>
#include <memory>
#include <string>

#include "protocol/parser.h"
#include "protocol/reply_writer.h"
#include "server/client_state.h"
#include "server/io_thread.h"

namespace sluice::server {

class Server;

class Connection : public std::enable_shared_from_this<Connection> {
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

 private:
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void Execute();
  void Flush();
  void OnWrite(const boost::system::error_code& ec);
  void Close();

  Server& server_;
  IoThread& thread_;
  asio::ip::tcp::socket socket_;
  ClientState state_;
  protocol::Parser parser_;
  protocol::CommandArgs args_;
  std::string read_buf_;
  std::string out_;      // replies being produced
  std::string writing_;  // replies on the wire
  protocol::ReplyWriter writer_;
  bool reading_ = false;
  bool write_in_flight_ = false;
  bool closed_ = false;
};

}  // namespace sluice::server
