// MULTI/EXEC/WATCH through the real command table from many threads at once,
// without sockets: optimistic locking stays exact, no reader sees part of a
// transaction, and transactions that lock every shard (keyless or
// cross-database commands) never deadlock with ones that lock a few.
// Run under ThreadSanitizer (the name contains "concurrency").

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/parser.h"
#include "protocol/reply_writer.h"
#include "server/net/client_state.h"
#include "server/dispatch/command.h"
#include "server/dispatch/dispatch.h"
#include "server/process/server.h"
#include "storage/clock.h"

namespace sluice::server {
namespace {

// One client: runs a command as the connection would and returns the raw reply.
class TestClient {
 public:
  TestClient(Server& server, uint64_t id)
      : server_(server), state_(id, "test:0", "test:0", -1, storage::NowMs()), writer_(&out_) {}
  ~TestClient() { state_.transaction().UnwatchAll(server_.keyspace()); }

  std::string Run(const std::vector<std::string>& argv) {
    protocol::CommandArgs args;
    for (const std::string& a : argv) args.Push(a);
    out_.clear();
    CommandContext ctx{server_, state_, args, writer_, storage::NowMs(), nullptr};
    DispatchResult r = Dispatch(ctx, Origin::kClient);
    if (r.kind == DispatchResult::kRefused) {
      state_.transaction().Reject();
      writer_.Error(r.error);
    }
    return out_;
  }

 private:
  Server& server_;
  ClientState state_;
  std::string out_;
  protocol::ReplyWriter writer_;
};

std::unique_ptr<Server> MakeServer() {
  Config config;
  config.threads = 2;
  config.databases = 4;
  config.shards = 8;
  auto server = Server::Create(config);
  EXPECT_TRUE(server.ok());
  return std::move(server).value();
}

// "$3\r\n123\r\n" -> 123; a null bulk -> 0.
int64_t BulkInt(const std::string& reply) {
  if (reply == "$-1\r\n") return 0;
  const size_t start = reply.find("\r\n") + 2;
  return std::stoll(reply.substr(start, reply.size() - start - 2));
}

void RunThreads(int n, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(body, i);
  for (auto& t : threads) t.join();
}

TEST(TransactionConcurrencyTest, WatchRetryLoopsCountExactly) {
  auto server = MakeServer();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::atomic<int> aborted{0};
  RunThreads(kThreads, [&](int i) {
    TestClient c(*server, i + 1);
    for (int done = 0; done < kPerThread;) {
      ASSERT_EQ(c.Run({"WATCH", "counter"}), "+OK\r\n");
      const int64_t value = BulkInt(c.Run({"GET", "counter"}));
      ASSERT_EQ(c.Run({"MULTI"}), "+OK\r\n");
      ASSERT_EQ(c.Run({"SET", "counter", std::to_string(value + 1)}), "+QUEUED\r\n");
      const std::string reply = c.Run({"EXEC"});
      if (reply == "*-1\r\n") {
        aborted.fetch_add(1);
        continue;
      }
      ASSERT_EQ(reply, "*1\r\n+OK\r\n");
      ++done;
    }
  });
  TestClient c(*server, 100);
  EXPECT_EQ(BulkInt(c.Run({"GET", "counter"})), kThreads * kPerThread);
  // Every shard's registry is empty again once every client has unwatched.
  for (size_t i = 0; i < server->keyspace().db(0).shard_count(); ++i) {
    EXPECT_EQ(server->keyspace().db(0).shard(i).watched_key_count(), 0u);
  }
}

TEST(TransactionConcurrencyTest, ReadersNeverSeeHalfATransaction) {
  auto server = MakeServer();
  {
    // Start with both keys set: the reply parsing below expects two non-null bulks.
    TestClient init(*server, 0);
    ASSERT_EQ(init.Run({"MSET", "a", "-1", "b", "-1"}), "+OK\r\n");
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0};
  std::thread writer([&] {
    TestClient c(*server, 1);
    // On a busy machine the writer could finish before any reader is
    // scheduled: start once a reader has read (waiting 10 s at most).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (reads.load() == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    for (int i = 0; i < 3000; ++i) {
      c.Run({"MULTI"});
      c.Run({"SET", "a", std::to_string(i)});
      c.Run({"INCR", "n"});
      c.Run({"SET", "b", std::to_string(i)});
      ASSERT_EQ(c.Run({"EXEC"}).substr(0, 4), "*3\r\n");
    }
    stop.store(true);
  });
  RunThreads(4, [&](int i) {
    TestClient c(*server, 10 + i);
    while (!stop.load()) {
      if (i % 2 == 0) {
        // Plain commands, each on its own: GET a, then GET b can differ, but
        // MGET is one command and must not.
        const std::string reply = c.Run({"MGET", "a", "b"});
        const size_t mid = reply.find("\r\n", reply.find("\r\n", 4) + 2) + 2;
        ASSERT_EQ(reply.substr(4, mid - 4), reply.substr(mid)) << reply;
      } else {
        // A reading transaction sees one state too.
        c.Run({"MULTI"});
        c.Run({"GET", "a"});
        c.Run({"GET", "b"});
        const std::string reply = c.Run({"EXEC"});
        const size_t first = reply.find("\r\n") + 2;
        const size_t mid = reply.find("\r\n", reply.find("\r\n", first) + 2) + 2;
        ASSERT_EQ(reply.substr(first, mid - first), reply.substr(mid)) << reply;
      }
      reads.fetch_add(1);
    }
  });
  writer.join();
  EXPECT_GT(reads.load(), 0);
}

TEST(TransactionConcurrencyTest, WholeKeyspaceAndKeyedTransactionsDoNotDeadlock) {
  auto server = MakeServer();
  constexpr int kAccounts = 32;
  {
    TestClient c(*server, 1);
    for (int k = 0; k < kAccounts; ++k) c.Run({"SET", "acct:" + std::to_string(k), "100"});
  }
  RunThreads(8, [&](int i) {
    TestClient c(*server, 10 + i);
    for (int j = 0; j < 300; ++j) {
      const std::string src = "acct:" + std::to_string((i * 7 + j) % kAccounts);
      const std::string dst = "acct:" + std::to_string((i * 3 + j * 5 + 1) % kAccounts);
      c.Run({"MULTI"});
      c.Run({"DECRBY", src, "1"});
      c.Run({"INCRBY", dst, "1"});
      if (j % 7 == 0) c.Run({"DBSIZE"});  // keyless: locks every shard
      if (j % 11 == 0) {
        // Cross-database: MOVE a scratch key to db 1 and back.
        const std::string scratch = "scratch:" + std::to_string(i);
        c.Run({"SET", scratch, "x"});
        c.Run({"MOVE", scratch, "1"});
        c.Run({"SELECT", "1"});
        c.Run({"MOVE", scratch, "0"});
        c.Run({"SELECT", "0"});
      }
      ASSERT_EQ(c.Run({"EXEC"})[0], '*');
      if (j % 13 == 0) c.Run({"KEYS", "acct:*"});  // outside a transaction too
    }
  });
  TestClient c(*server, 2);
  int64_t total = 0;
  for (int k = 0; k < kAccounts; ++k) total += BulkInt(c.Run({"GET", "acct:" + std::to_string(k)}));
  EXPECT_EQ(total, kAccounts * 100);
}

}  // namespace
}  // namespace sluice::server
