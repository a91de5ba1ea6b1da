#include "server/process/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace sluice::server {
namespace {

absl::StatusOr<Config> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "sluice-server");
  return ParseCommandLine(static_cast<int>(args.size()), args.data());
}

std::string WriteFile(const std::string& text) {
  std::string path = ::testing::TempDir() + "/sluice_config_test.conf";
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, Defaults) {
  auto c = Parse({});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 6379);
  EXPECT_EQ(c->bind, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(c->databases, 16);
  EXPECT_GE(c->threads, 1);
  EXPECT_GE(c->shards, 16);
  EXPECT_EQ(c->shards & (c->shards - 1), 0) << "shards must be a power of two";
}

TEST(ConfigTest, CommandLineOptions) {
  auto c = Parse({"--port", "7000", "--bind", "127.0.0.1", "::1", "--threads", "3",
                  "--databases", "4", "--requirepass", "s3cret", "--maxclients", "50",
                  "--timeout", "30", "--loglevel", "warning"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->port, 7000);
  EXPECT_EQ(c->bind, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(c->threads, 3);
  EXPECT_EQ(c->databases, 4);
  EXPECT_EQ(c->requirepass, "s3cret");
  EXPECT_EQ(c->maxclients, 50);
  EXPECT_EQ(c->timeout, 30);
  EXPECT_EQ(c->loglevel, LogLevel::kWarning);
}

TEST(ConfigTest, BadValuesNameTheOption) {
  auto c = Parse({"--port", "abc"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("--port"), std::string::npos);
  EXPECT_NE(std::string(c.status().message()).find("integer"), std::string::npos);

  c = Parse({"--port", "70000"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("between 0 and 65535"), std::string::npos);

  c = Parse({"--no-such-option", "1"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("--no-such-option"), std::string::npos);

  c = Parse({"--loglevel", "loud"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("loglevel"), std::string::npos);

  c = Parse({"--databases", "0"});
  EXPECT_FALSE(c.ok());
  c = Parse({"--shards", "12"});
  EXPECT_FALSE(c.ok());
  c = Parse({"--port"});
  EXPECT_FALSE(c.ok());
  c = Parse({"--port", "1", "2"});
  EXPECT_FALSE(c.ok());
}

TEST(ConfigTest, FileThenCommandLineLaterWins) {
  std::string path = WriteFile(
      "# a comment\n"
      "port 7001\n"
      "\n"
      "requirepass \"with space\"\n"
      "databases 8\n"
      "save \"\"\n"
      "appendonly no\n");
  auto c = Parse({path.c_str(), "--port", "7002"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->port, 7002);
  EXPECT_EQ(c->requirepass, "with space");
  EXPECT_EQ(c->databases, 8);
  EXPECT_EQ(c->config_file, path);
}

TEST(ConfigTest, FileErrorsNameLineAndDirective) {
  std::string path = WriteFile("port 7001\nmaxclients lots\n");
  auto c = Parse({path.c_str()});
  ASSERT_FALSE(c.ok());
  const std::string msg(c.status().message());
  EXPECT_NE(msg.find(":2:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("maxclients lots"), std::string::npos) << msg;

  path = WriteFile("bogus-directive yes\n");
  c = Parse({path.c_str()});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("bogus-directive"), std::string::npos);

  c = Parse({"/nonexistent/sluice.conf"});
  EXPECT_FALSE(c.ok());
}

TEST(ServerConfigTest, GetMatchesGlobPatterns) {
  Config base;
  base.maxclients = 77;
  ServerConfig cfg(base);
  auto got = cfg.Get("maxclients");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second, "77");
  got = cfg.Get("max*");
  EXPECT_GE(got.size(), 3u);  // maxclients, maxmemory, maxmemory-policy
  EXPECT_TRUE(cfg.Get("nothing-like-this").empty());
  got = cfg.Get("PORT");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, "PORT") << "a literal name is echoed as typed";
}

TEST(ServerConfigTest, SetIsAllOrNothingWithRedisErrors) {
  ServerConfig cfg(Config{});
  EXPECT_EQ(cfg.Set({{"maxclients", "10"}, {"timeout", "5"}}), "");
  EXPECT_EQ(cfg.maxclients(), 10);
  EXPECT_EQ(cfg.timeout(), 5);

  std::string err = cfg.Set({{"timeout", "9"}, {"maxclients", "x"}});
  EXPECT_EQ(err,
            "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument "
            "couldn't be parsed into an integer");
  EXPECT_EQ(cfg.timeout(), 5) << "a failed CONFIG SET changes nothing";

  EXPECT_EQ(cfg.Set({{"port", "1"}}),
            "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable "
            "config");
  EXPECT_EQ(cfg.Set({{"nope", "1"}}),
            "ERR Unknown option or number of arguments for CONFIG SET - 'nope'");
  EXPECT_EQ(cfg.Set({{"timeout", "1"}, {"timeout", "2"}}),
            "ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate "
            "parameter");
  EXPECT_EQ(cfg.Set({{"requirepass", "pw"}}), "");
  EXPECT_EQ(cfg.requirepass(), "pw");
}

}  // namespace
}  // namespace sluice::server
