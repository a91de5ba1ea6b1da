// The lock planner: what a row locks, the global order, and bounded waits.

#include "server/dispatch/lock_planner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "server/process/server.h"

namespace sluice::server {
namespace {

class LockPlannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config config;
    config.threads = 1;
    config.databases = 4;
    config.shards = 8;
    server_ = std::move(Server::Create(config)).value();
  }
  LockPlan Plan(std::initializer_list<std::string_view> argv, int db = 0) {
    protocol::CommandArgs args;
    for (std::string_view a : argv) args.Push(a);
    args_.push_back(std::make_unique<protocol::CommandArgs>(args));
    const CommandSpec* spec = server_->commands().Find(argv.begin()[0]);
    EXPECT_NE(spec, nullptr);
    LockPlan plan(server_->keyspace(), db);
    PlanLocks(*spec, *args_.back(), plan);
    return plan;
  }
  std::unique_ptr<Server> server_;
  std::vector<std::unique_ptr<protocol::CommandArgs>> args_;
};

TEST_F(LockPlannerTest, RowsSayWhatTheyLock) {
  EXPECT_EQ(Plan({"get", "k"}).needs.size(), 1u);
  EXPECT_EQ(Plan({"mset", "a", "1", "b", "2"}).needs.size(), 2u);
  EXPECT_EQ(Plan({"ping"}).needs.size(), 0u);
  EXPECT_EQ(Plan({"dbsize"}).needs.size(), 0u);
  EXPECT_EQ(Plan({"info"}).needs.size(), 0u);
  EXPECT_EQ(Plan({"keys", "*"}).needs.size(), 8u);
  EXPECT_EQ(Plan({"flushall"}).needs.size(), 32u);
  EXPECT_EQ(Plan({"swapdb", "1", "2"}).needs.size(), 16u);
  EXPECT_EQ(Plan({"eval", "return 1", "2", "a", "b", "c"}).needs.size(), 2u);
  EXPECT_EQ(Plan({"eval", "return 1", "x"}).needs.size(), 0u);
  // ZMPOP locks its numkeys keys (as many shards as MSET of the same keys).
  const size_t abc = Plan({"mset", "a", "1", "b", "1", "c", "1"}).needs.size();
  EXPECT_EQ(Plan({"zmpop", "3", "a", "b", "c", "MIN"}).needs.size(), abc);
  EXPECT_EQ(Plan({"zmpop", "0", "a", "MIN"}).needs.size(), 0u);
  EXPECT_EQ(Plan({"zmpop", "9", "a", "MIN"}).needs.size(), 0u);
  EXPECT_EQ(Plan({"zrangestore", "a", "b", "0", "-1"}).needs.size(),
            Plan({"mset", "a", "1", "b", "1"}).needs.size());
  // MOVE and COPY ... DB also lock the key in the other database.
  LockPlan move = Plan({"move", "k", "3"});
  ASSERT_EQ(move.needs.size(), 2u);
  EXPECT_EQ(move.needs[1].shard, &server_->keyspace().db(3).ShardFor("k"));
  LockPlan copy = Plan({"copy", "a", "b", "DB", "2"});
  ASSERT_EQ(copy.needs.size(), 3u);
  EXPECT_EQ(copy.needs[2].shard, &server_->keyspace().db(2).ShardFor("b"));
  // SELECT locks nothing and moves the commands planned after it.
  LockPlan select = Plan({"select", "2"});
  EXPECT_TRUE(select.needs.empty());
  EXPECT_EQ(select.db, 2);
  EXPECT_EQ(Plan({"select", "99"}).db, 0);
}

TEST_F(LockPlannerTest, SortLocksItsDatabaseOnlyForPatterns) {
  // Without patterns: the key, and the STORE destination.
  EXPECT_EQ(Plan({"sort", "k"}).needs.size(), 1u);
  EXPECT_EQ(Plan({"sort", "k", "ALPHA", "DESC", "LIMIT", "0", "1", "GET", "#"}).needs.size(), 1u);
  EXPECT_EQ(Plan({"sort", "k", "BY", "nosort", "GET", "fixed"}).needs.size(), 1u);
  LockPlan store = Plan({"sort", "k", "STORE", "d"}, 1);
  ASSERT_EQ(store.needs.size(), 2u);
  EXPECT_EQ(store.needs[1].shard, &server_->keyspace().db(1).ShardFor("d"));
  EXPECT_EQ(store.needs[1].key, "d");
  // SORT_RO has no STORE: the arguments do not parse and plan only the key.
  EXPECT_EQ(Plan({"sort_ro", "k", "STORE", "d"}).needs.size(), 1u);
  // A BY that sorts by other keys, or a GET with '*': the whole database
  // (8 shards) besides the key and the destination.
  EXPECT_EQ(Plan({"sort", "k", "BY", "w_*"}).needs.size(), 9u);
  EXPECT_EQ(Plan({"sort_ro", "k", "GET", "h_*->f"}).needs.size(), 9u);
  LockPlan whole = Plan({"sort", "k", "GET", "g_*", "STORE", "d"}, 2);
  ASSERT_EQ(whole.needs.size(), 10u);
  EXPECT_EQ(whole.needs[1].shard, &server_->keyspace().db(2).shard(0));
  // An earlier BY nosort means no sorting: a later BY pattern is not read.
  EXPECT_EQ(Plan({"sort", "k", "BY", "nosort", "BY", "w_*"}).needs.size(), 1u);
  // Bad options plan the key alone (the handler replies the error).
  EXPECT_EQ(Plan({"sort", "k", "GET", "g_*", "BOGUS"}).needs.size(), 1u);
}

TEST_F(LockPlannerTest, HeldSetsGrowUpwardsOnly) {
  storage::Database& db = server_->keyspace().db(0);
  LockPlan low(server_->keyspace(), 0), high(server_->keyspace(), 0);
  low.needs.push_back({&db.shard(1), "low"});
  high.needs.push_back({&db.shard(5), "high"});
  ShardLocks locks;
  auto never = [] { return false; };
  ASSERT_EQ(locks.Acquire(high, never), ShardLocks::Result::kLocked);
  LockPlan::Need late{};
  EXPECT_EQ(locks.Acquire(low, never, &late), ShardLocks::Result::kOutOfOrder);
  EXPECT_EQ(late.key, "low");
  EXPECT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks.Acquire(high, never), ShardLocks::Result::kLocked);  // already held
  locks.ReleaseTo(0);
  EXPECT_TRUE(db.shard(5).mu().try_lock());
  db.shard(5).mu().unlock();
}

TEST_F(LockPlannerTest, WaitsGiveUpWhenAsked) {
  storage::Database& db = server_->keyspace().db(0);
  LockPlan plan(server_->keyspace(), 0);
  plan.needs.push_back({&db.shard(0), "a"});
  plan.needs.push_back({&db.shard(3), "b"});
  db.shard(3).mu().lock();  // another holder that never lets go
  std::atomic<int> asked{0};
  ShardLocks locks;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(locks.Acquire(plan, [&] { return ++asked >= 3; }), ShardLocks::Result::kGaveUp);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(asked.load(), 3);
  EXPECT_EQ(locks.size(), 0u);
  EXPECT_TRUE(db.shard(0).mu().try_lock());  // released what it had taken
  db.shard(0).mu().unlock();
  db.shard(3).mu().unlock();
  EXPECT_EQ(locks.Acquire(plan, [] { return false; }), ShardLocks::Result::kLocked);
}

TEST_F(LockPlannerTest, OutOfOrderTryLocksWithinItsBudget) {
  storage::Database& db = server_->keyspace().db(0);
  LockPlan high(server_->keyspace(), 0), low(server_->keyspace(), 0);
  high.needs.push_back({&db.shard(5), "high"});
  low.needs.push_back({&db.shard(1), "low"});
  low.needs.push_back({&db.shard(6), "higher"});
  auto never = [] { return false; };
  ShardLocks locks;
  ASSERT_EQ(locks.Acquire(high, never), ShardLocks::Result::kLocked);
  // Free shards: taken at once, whatever their order, and the held set stays
  // sorted (Holds() and ReleaseTo() rely on it).
  EXPECT_EQ(locks.AcquireOutOfOrder(low, never, std::chrono::milliseconds(100)),
            ShardLocks::Result::kLocked);
  EXPECT_EQ(locks.size(), 3u);
  EXPECT_TRUE(locks.Holds(&db.shard(1)));
  EXPECT_TRUE(locks.Holds(&db.shard(5)));
  EXPECT_TRUE(locks.Holds(&db.shard(6)));
  locks.ReleaseTo(1);  // keeps the first in order: shard 1
  EXPECT_TRUE(locks.Holds(&db.shard(1)));
  EXPECT_FALSE(locks.Holds(&db.shard(5)));
  locks.ReleaseTo(0);

  // A shard held elsewhere: it gives up when the budget has passed, holding
  // nothing new (the free shard of the same plan is let go again).
  ASSERT_EQ(locks.Acquire(high, never), ShardLocks::Result::kLocked);
  std::atomic<bool> held{false}, release{false};
  std::thread other([&] {
    db.shard(1).mu().lock();
    held = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    db.shard(1).mu().unlock();
  });
  while (!held) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(locks.AcquireOutOfOrder(low, never, std::chrono::milliseconds(30)),
            ShardLocks::Result::kOutOfOrder);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(30));
  EXPECT_EQ(locks.size(), 1u);
  EXPECT_TRUE(db.shard(6).mu().try_lock());
  db.shard(6).mu().unlock();
  // give_up is asked between rounds.
  int asked = 0;
  EXPECT_EQ(locks.AcquireOutOfOrder(low, [&] { return ++asked >= 2; },
                                    std::chrono::seconds(10)),
            ShardLocks::Result::kGaveUp);
  EXPECT_EQ(asked, 2);
  // Once the holder lets go within the budget, it gets the shard.
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release = true;
  });
  EXPECT_EQ(locks.AcquireOutOfOrder(low, never, std::chrono::seconds(10)),
            ShardLocks::Result::kLocked);
  EXPECT_EQ(locks.size(), 3u);
  later.join();
  other.join();
}

TEST_F(LockPlannerTest, ScriptRowsPlanTheirLearnedScope) {
  ScriptScopes scopes;
  auto plan = [&](std::initializer_list<std::string_view> argv, int db = 0) {
    protocol::CommandArgs args;
    for (std::string_view a : argv) args.Push(a);
    args_.push_back(std::make_unique<protocol::CommandArgs>(args));
    LockPlan p(server_->keyspace(), db);
    p.scripts = &scopes;
    PlanLocks(*server_->commands().Find(argv.begin()[0]), *args_.back(), p);
    return p.needs.size();
  };
  const std::string sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";  // "return 1"
  EXPECT_EQ(plan({"eval", "return 1", "1", "k"}), 1u);
  EXPECT_EQ(plan({"evalsha", sha, "1", "k"}), 1u);
  EXPECT_TRUE(scopes.Widen(sha, ScriptScopes::Scope::kWholeDb));
  EXPECT_FALSE(scopes.Widen(sha, ScriptScopes::Scope::kWholeDb));
  EXPECT_FALSE(scopes.Widen(sha, ScriptScopes::Scope::kKeys));  // never narrows
  // The key, and the 8 shards of the database; by SHA (any case) or body.
  EXPECT_EQ(plan({"eval", "return 1", "1", "k"}), 9u);
  EXPECT_EQ(plan({"evalsha", sha, "1", "k"}), 9u);
  EXPECT_EQ(plan({"evalsha_ro", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"}), 8u);
  EXPECT_EQ(plan({"eval", "return 2", "1", "k"}), 1u);  // another script
  EXPECT_TRUE(scopes.Widen(sha, ScriptScopes::Scope::kAllDbs));
  EXPECT_EQ(plan({"evalsha", sha, "0"}), 32u);
  EXPECT_EQ(scopes.size(), 1u);
  scopes.Clear();
  EXPECT_EQ(scopes.size(), 0u);
  EXPECT_EQ(plan({"evalsha", sha, "1", "k"}), 1u);
  // Without the scopes (COMMAND GETKEYS) only the declared keys count.
  EXPECT_TRUE(scopes.Widen(sha, ScriptScopes::Scope::kWholeDb));
  EXPECT_EQ(Plan({"evalsha", sha, "1", "k"}).needs.size(), 1u);
}

}  // namespace
}  // namespace sluice::server
