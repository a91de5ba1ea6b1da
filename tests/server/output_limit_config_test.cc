// client-output-buffer-limit and notify-keyspace-events in the configuration
// registry: defaults, file/command-line syntax, CONFIG SET / GET and errors
// (texts checked against redis-server 7.0).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/process/config.h"
#include "server/pubsub/keyspace_events.h"

namespace sluice::server {
namespace {

absl::StatusOr<Config> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "sluice-server");
  return ParseCommandLine(static_cast<int>(args.size()), args.data());
}

TEST(OutputLimitConfigTest, DefaultsAreRedis) {
  ServerConfig cfg(Config{});
  EXPECT_EQ(cfg.Get("client-output-buffer-limit")[0].second,
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
  const OutputBufferLimit pubsub = cfg.output_limit(ClientClass::kPubSub);
  EXPECT_EQ(pubsub.hard, 32u << 20);
  EXPECT_EQ(pubsub.soft, 8u << 20);
  EXPECT_EQ(pubsub.soft_seconds, 60);
  EXPECT_EQ(cfg.output_limit(ClientClass::kNormal).hard, 0u);
  EXPECT_EQ(cfg.notify_keyspace_events(), 0u);
  EXPECT_EQ(cfg.Get("notify-keyspace-events")[0].second, "");
}

TEST(OutputLimitConfigTest, SetChangesOnlyNamedClasses) {
  ServerConfig cfg(Config{});
  EXPECT_EQ(cfg.Set({{"client-output-buffer-limit", "PUBSUB 1G 1gb 3 normal 1k 1kb 0"}}), "");
  EXPECT_EQ(cfg.Get("client-output-buffer-limit")[0].second,
            "normal 1000 1024 0 slave 268435456 67108864 60 pubsub 1000000000 1073741824 3");
  EXPECT_EQ(cfg.output_limit(ClientClass::kPubSub).hard, 1000000000u);
  EXPECT_EQ(cfg.output_limit(ClientClass::kNormal).soft, 1024u);
  EXPECT_EQ(cfg.Set({{"client-output-buffer-limit", "replica 1mb 1mb 1"}}), "");
  EXPECT_EQ(cfg.Get("client-output-buffer-limit")[0].second,
            "normal 1000 1024 0 slave 1048576 1048576 1 pubsub 1000000000 1073741824 3");
}

TEST(OutputLimitConfigTest, SetErrorsAreRedis) {
  ServerConfig cfg(Config{});
  const std::string prefix =
      "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - ";
  EXPECT_EQ(cfg.Set({{"client-output-buffer-limit", "pubsub 1 2"}}),
            prefix + "Wrong number of arguments in buffer limit configuration.");
  EXPECT_EQ(cfg.Set({{"client-output-buffer-limit", "pubsub x 2 3"}}),
            prefix + "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
  EXPECT_EQ(cfg.Set({{"client-output-buffer-limit", "normal 1 2 -3"}}),
            prefix + "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
  EXPECT_EQ(cfg.Set({{"client-output-buffer-limit", "foo 1 2 3"}}),
            prefix + "Invalid client class specified in buffer limit configuration.");
  EXPECT_EQ(cfg.Set({{"client-output-buffer-limit", "normal 1 2 3 pubsub 1xb 1 1"}}),
            prefix + "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
  EXPECT_EQ(cfg.output_limit(ClientClass::kNormal).hard, 0u) << "all or nothing";
}

TEST(OutputLimitConfigTest, FileAndCommandLineSyntax) {
  auto c = Parse({"--client-output-buffer-limit", "pubsub", "4mb", "2mb", "10",
                  "--notify-keyspace-events", "KEA"});
  ASSERT_TRUE(c.ok()) << c.status();
  const OutputBufferLimit& l = c->output_limits[static_cast<int>(ClientClass::kPubSub)];
  EXPECT_EQ(l.hard, 4u << 20);
  EXPECT_EQ(l.soft, 2u << 20);
  EXPECT_EQ(l.soft_seconds, 10);
  EXPECT_EQ(c->notify_keyspace_events, kNotifyKeyspace | kNotifyKeyevent | kNotifyAll);
  EXPECT_FALSE(Parse({"--notify-keyspace-events", "KZ"}).ok());
  EXPECT_FALSE(Parse({"--client-output-buffer-limit", "pubsub", "1"}).ok());
}

TEST(OutputLimitConfigTest, NotifyKeyspaceEventsSetAndGet) {
  ServerConfig cfg(Config{});
  EXPECT_EQ(cfg.Set({{"notify-keyspace-events", "Kgx"}}), "");
  EXPECT_EQ(cfg.Get("notify-keyspace-events")[0].second, "gxK");
  EXPECT_EQ(cfg.notify_keyspace_events(), kNotifyKeyspace | kNotifyGeneric | kNotifyExpired);
  EXPECT_EQ(cfg.Set({{"notify-keyspace-events", "ZZ"}}),
            "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
  EXPECT_EQ(cfg.Set({{"notify-keyspace-events", ""}}), "");
  EXPECT_EQ(cfg.notify_keyspace_events(), 0u);
}

}  // namespace
}  // namespace sluice::server
