#include "protocol/errors.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::protocol::errors {
namespace {

std::string Unknown(std::string_view name, const std::vector<std::string_view>& args) {
  return UnknownCommand(name, args.data(), args.size());
}

TEST(ErrorsTest, UnknownCommandQuotesArguments) {
  EXPECT_EQ(Unknown("foo", {"a", "b"}),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
  EXPECT_EQ(Unknown("foo", {}), "ERR unknown command 'foo', with args beginning with: ");
  EXPECT_EQ(Unknown("foo", {""}), "ERR unknown command 'foo', with args beginning with: '' ");
}

TEST(ErrorsTest, UnknownCommandTruncatesLikeRedis) {
  const std::string long_name(200, 'n');
  EXPECT_EQ(Unknown(long_name, {}),
            "ERR unknown command '" + std::string(128, 'n') + "', with args beginning with: ");

  const std::string long_arg(200, 'a');
  EXPECT_EQ(
      Unknown("foo", {long_arg, "next"}),
      "ERR unknown command 'foo', with args beginning with: '" + std::string(128, 'a') + "' ");

  // 100 bytes quoted ("'" + 100 + "' " = 103), so the next argument gets
  // 128 - 103 = 25 bytes, and nothing follows it.
  const std::string first(100, 'x');
  const std::string second(50, 'y');
  EXPECT_EQ(Unknown("foo", {first, second, "z"}),
            "ERR unknown command 'foo', with args beginning with: '" + first + "' '" +
                std::string(25, 'y') + "' ");
}

TEST(ErrorsTest, QuotedInputStopsAtNulLikeRedis) {
  using namespace std::string_view_literals;
  EXPECT_EQ(UserText("a\0b"sv), "a");
  EXPECT_EQ(UserText("\0"sv), "");
  EXPECT_EQ(UserText("plain"), "plain");
  EXPECT_EQ(Unknown("a\0b"sv, {"x\0y"sv}),
            "ERR unknown command 'a', with args beginning with: 'x' ");
  EXPECT_EQ(UnknownSubcommand("client", "x\0y"sv), "ERR unknown subcommand 'x'. Try CLIENT HELP.");
}

TEST(ErrorsTest, UnknownSubcommand) {
  EXPECT_EQ(UnknownSubcommand("config", "foo"), "ERR unknown subcommand 'foo'. Try CONFIG HELP.");
  EXPECT_EQ(UnknownSubcommand("Client", "x"), "ERR unknown subcommand 'x'. Try CLIENT HELP.");
  EXPECT_EQ(UnknownSubcommand("object", std::string(300, 's')),
            "ERR unknown subcommand '" + std::string(128, 's') + "'. Try OBJECT HELP.");
}

TEST(ErrorsTest, WrongArity) {
  EXPECT_EQ(WrongArity("GET"), "ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(WrongArity("Config|Get"), "ERR wrong number of arguments for 'config|get' command");
}

TEST(ErrorsTest, InvalidExpire) {
  EXPECT_EQ(InvalidExpire("SET"), "ERR invalid expire time in 'set' command");
  EXPECT_EQ(InvalidExpire("getex"), "ERR invalid expire time in 'getex' command");
}

TEST(ErrorsTest, CatalogueTexts) {
  EXPECT_EQ(kSyntax, "ERR syntax error");
  EXPECT_EQ(kNotInteger, "ERR value is not an integer or out of range");
  EXPECT_EQ(kNotFloat, "ERR value is not a valid float");
  EXPECT_EQ(kWrongType, "WRONGTYPE Operation against a key holding the wrong kind of value");
}

}  // namespace
}  // namespace sluice::protocol::errors
