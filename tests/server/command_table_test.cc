#include <gtest/gtest.h>

#include <set>
#include <string>

#include "server/dispatch/command.h"

namespace sluice::server {
namespace {

TEST(CommandTableTest, EveryRowIsWellFormed) {
  auto table = BuildCommandTable();
  ASSERT_GT(table->all().size(), 60u);
  for (const auto& [name, spec] : table->all()) {
    SCOPED_TRACE(name);
    EXPECT_EQ(name, spec->name);
    EXPECT_NE(spec->arity, 0);
    EXPECT_FALSE(spec->doc.summary.empty());
    EXPECT_FALSE(spec->doc.since.empty());
    EXPECT_FALSE(spec->doc.group.empty());
    for (char c : name) EXPECT_FALSE(c >= 'A' && c <= 'Z');
    if (spec->subcommands.empty()) {
      EXPECT_NE(spec->handler, nullptr);
    }
    if (spec->first_key > 0) {
      EXPECT_GE(spec->key_step, 1);
      EXPECT_TRUE(spec->last_key < 0 || spec->last_key >= spec->first_key);
    }
    for (const auto& sub : spec->subcommands) {
      EXPECT_EQ(sub->name.rfind(name + "|", 0), 0u) << sub->name;
      EXPECT_NE(sub->handler, nullptr) << sub->name;
      EXPECT_GE(sub->arity < 0 ? -sub->arity : sub->arity, 2) << sub->name;
    }
  }
}

TEST(CommandTableTest, LookupIsCaseInsensitive) {
  auto table = BuildCommandTable();
  const CommandSpec* get = table->Find("GeT");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->name, "get");
  EXPECT_EQ(table->Find("nosuchcommand"), nullptr);
  EXPECT_EQ(table->Find(std::string(200, 'a')), nullptr);
  const CommandSpec* client = table->Find("CLIENT");
  ASSERT_NE(client, nullptr);
  const CommandSpec* setname = client->FindSubcommand("SetName");
  ASSERT_NE(setname, nullptr);
  EXPECT_EQ(setname->name, "client|setname");
}

TEST(CommandTableTest, ArityChecks) {
  CommandSpec exact{"x", 2, 0, 0, 0, 0, nullptr, {}, {}, {}};
  EXPECT_TRUE(exact.CheckArity(2));
  EXPECT_FALSE(exact.CheckArity(1));
  EXPECT_FALSE(exact.CheckArity(3));
  CommandSpec at_least{"y", -3, 0, 0, 0, 0, nullptr, {}, {}, {}};
  EXPECT_FALSE(at_least.CheckArity(2));
  EXPECT_TRUE(at_least.CheckArity(3));
  EXPECT_TRUE(at_least.CheckArity(30));
}

TEST(CommandTableTest, IssueCommandsArePresent) {
  auto table = BuildCommandTable();
  for (const char* name :
       {"get", "set", "setnx", "setex", "psetex", "mget", "mset", "msetnx", "getset", "getdel",
        "getex", "append", "strlen", "getrange", "setrange", "substr", "incr", "decr", "incrby",
        "decrby", "incrbyfloat", "del", "unlink", "exists", "touch", "type", "expire", "pexpire",
        "expireat", "pexpireat", "ttl", "pttl", "expiretime", "pexpiretime", "persist", "keys",
        "scan", "randomkey", "rename", "renamenx", "copy", "move", "dbsize", "flushdb",
        "flushall", "select", "swapdb", "ping", "echo", "hello", "auth", "quit", "reset",
        "client", "command", "info", "config", "time", "lastsave", "shutdown"}) {
    EXPECT_NE(table->Find(name), nullptr) << name;
  }
}

}  // namespace
}  // namespace sluice::server
