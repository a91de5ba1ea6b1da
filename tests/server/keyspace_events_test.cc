#include "server/pubsub/keyspace_events.h"

#include <gtest/gtest.h>

namespace sluice::server {
namespace {

TEST(KeyspaceEventFlagsTest, ParsesRedisLetters) {
  EXPECT_EQ(ParseKeyspaceEventFlags(""), 0u);
  EXPECT_EQ(ParseKeyspaceEventFlags("K"), kNotifyKeyspace);
  EXPECT_EQ(ParseKeyspaceEventFlags("E$"), kNotifyKeyevent | kNotifyString);
  EXPECT_EQ(ParseKeyspaceEventFlags("KEA"), kNotifyKeyspace | kNotifyKeyevent | kNotifyAll);
  EXPECT_EQ(ParseKeyspaceEventFlags("Kgx"), kNotifyKeyspace | kNotifyGeneric | kNotifyExpired);
  // Letters of types sluice does not have are accepted.
  EXPECT_EQ(ParseKeyspaceEventFlags("lshzted"), kNotifyList | kNotifySet | kNotifyHash |
                                                    kNotifyZset | kNotifyStream |
                                                    kNotifyEvicted | kNotifyModule);
  EXPECT_EQ(ParseKeyspaceEventFlags("mn"), kNotifyKeyMiss | kNotifyNew);
  // A leaves out key-miss and new.
  EXPECT_EQ(*ParseKeyspaceEventFlags("A") & (kNotifyKeyMiss | kNotifyNew), 0u);
}

TEST(KeyspaceEventFlagsTest, RejectsUnknownLetters) {
  EXPECT_FALSE(ParseKeyspaceEventFlags("Z").has_value());
  EXPECT_FALSE(ParseKeyspaceEventFlags("KEa").has_value());
  EXPECT_FALSE(ParseKeyspaceEventFlags(" K").has_value());
}

TEST(KeyspaceEventFlagsTest, PrintsLikeRedis) {
  // Checked against redis-server 7.0: CONFIG SET then CONFIG GET.
  auto text = [](std::string_view in) { return KeyspaceEventFlagsText(*ParseKeyspaceEventFlags(in)); };
  EXPECT_EQ(text(""), "");
  EXPECT_EQ(text("A"), "A");
  EXPECT_EQ(text("KEA"), "AKE");
  EXPECT_EQ(text("KEA$"), "AKE");
  EXPECT_EQ(text("Kgx"), "gxK");
  EXPECT_EQ(text("En"), "nE");
  EXPECT_EQ(text("gE"), "gE");
  EXPECT_EQ(text("x$lshz"), "$lshzx");
  EXPECT_EQ(text("AKEmn"), "AKEm");
  EXPECT_EQ(text("Ax"), "A");
}

}  // namespace
}  // namespace sluice::server
