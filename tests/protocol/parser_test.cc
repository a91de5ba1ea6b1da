#include "protocol/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

namespace sluice::protocol {
namespace {

using ::testing::ElementsAre;
using Command = std::vector<std::string>;

// What a parser made of a whole input.
struct Outcome {
  std::vector<Command> commands;
  std::optional<std::string> error;
  // The parser ended between commands (nothing partial left over).
  bool at_boundary = true;
};

Command ToCommand(const CommandArgs& args) {
  Command c;
  for (size_t i = 0; i < args.size(); ++i) c.emplace_back(args[i]);
  return c;
}

// Feeds `pieces` in order to one parser, the way a connection would: after a
// command, the rest of the piece is fed again; kNeedMore moves to the next.
Outcome FeedPieces(const std::vector<std::string_view>& pieces, const ParserLimits& limits,
                   bool authenticated) {
  Parser parser(limits);
  parser.set_authenticated(authenticated);
  CommandArgs args;
  Outcome outcome;
  for (std::string_view piece : pieces) {
    while (true) {
      size_t consumed = 12345;
      const ParseStatus status = parser.Feed(piece, &consumed, &args);
      EXPECT_LE(consumed, piece.size());
      if (status == ParseStatus::kError) {
        outcome.error = parser.error();
        outcome.at_boundary = false;
        // A failed parser keeps failing.
        size_t again = 0;
        EXPECT_EQ(parser.Feed("PING\r\n", &again, &args), ParseStatus::kError);
        return outcome;
      }
      piece.remove_prefix(consumed);
      if (status == ParseStatus::kNeedMore) {
        EXPECT_TRUE(piece.empty()) << "kNeedMore must consume everything";
        outcome.at_boundary = false;
        break;
      }
      EXPECT_FALSE(args.empty()) << "kCommand with no arguments";
      outcome.commands.push_back(ToCommand(args));
      outcome.at_boundary = true;
      if (piece.empty()) break;
    }
  }
  return outcome;
}

std::vector<std::string_view> Split(std::string_view input, size_t chunk) {
  std::vector<std::string_view> pieces;
  for (size_t off = 0; off < input.size(); off += chunk) pieces.push_back(input.substr(off, chunk));
  return pieces;
}

// The piece sizes to try for an input of `size` bytes: every size from 1 up
// (for long inputs, every size up to 256 and then a geometric sequence).
std::vector<size_t> ChunkSizes(size_t size) {
  std::vector<size_t> sizes;
  for (size_t k = 1; k < size; k = (size <= 1024 || k < 256) ? k + 1 : k + k / 4) {
    sizes.push_back(k);
  }
  return sizes;
}

// Parses `input` whole and split into pieces of every size from 1 byte up,
// expects the same outcome every time, and returns it.
Outcome ParseEverySplit(std::string_view input, const ParserLimits& limits = {},
                        bool authenticated = true) {
  const Outcome whole = FeedPieces({input}, limits, authenticated);
  for (size_t chunk : ChunkSizes(input.size())) {
    const Outcome split = FeedPieces(Split(input, chunk), limits, authenticated);
    EXPECT_EQ(split.commands, whole.commands) << "chunk size " << chunk;
    EXPECT_EQ(split.error, whole.error) << "chunk size " << chunk;
    EXPECT_EQ(split.at_boundary, whole.at_boundary) << "chunk size " << chunk;
    if (split.commands != whole.commands || split.error != whole.error) break;
  }
  return whole;
}

std::vector<Command> Commands(std::string_view input) {
  const Outcome o = ParseEverySplit(input);
  EXPECT_FALSE(o.error) << *o.error;
  return o.commands;
}

std::string ErrorOf(std::string_view input, const ParserLimits& limits = {},
                    bool authenticated = true) {
  const Outcome o = ParseEverySplit(input, limits, authenticated);
  EXPECT_TRUE(o.error.has_value()) << "no error for " << ::testing::PrintToString(input);
  return o.error.value_or("");
}

TEST(ParserTest, SingleMultibulkCommand) {
  EXPECT_THAT(Commands("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"),
              ElementsAre(Command{"SET", "key", "value"}));
}

TEST(ParserTest, PipelinedMultibulkCommands) {
  EXPECT_THAT(Commands("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n"),
              ElementsAre(Command{"PING"}, Command{"GET", "k"}, Command{"PING"}));
}

TEST(ParserTest, MixedInlineAndMultibulk) {
  EXPECT_THAT(Commands("PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nGET k\n"),
              ElementsAre(Command{"PING"}, Command{"ECHO", "hi"}, Command{"GET", "k"}));
}

TEST(ParserTest, ConsumedStopsAtTheEndOfEachCommand) {
  const std::string input = "*1\r\n$4\r\nPING\r\nGET k\r\n*1\r\n$1\r\nx";
  Parser parser;
  CommandArgs args;
  size_t consumed = 0;
  ASSERT_EQ(parser.Feed(input, &consumed, &args), ParseStatus::kCommand);
  EXPECT_EQ(consumed, 14u);
  std::string_view rest = std::string_view(input).substr(consumed);
  ASSERT_EQ(parser.Feed(rest, &consumed, &args), ParseStatus::kCommand);
  EXPECT_EQ(consumed, 7u);
  rest.remove_prefix(consumed);
  ASSERT_EQ(parser.Feed(rest, &consumed, &args), ParseStatus::kNeedMore);
  EXPECT_EQ(consumed, rest.size());
  ASSERT_EQ(parser.Feed("\r\n", &consumed, &args), ParseStatus::kCommand);
  EXPECT_EQ(consumed, 2u);
  EXPECT_EQ(ToCommand(args), Command{"x"});
}

TEST(ParserTest, EmptyInputNeedsMore) {
  Parser parser;
  CommandArgs args;
  size_t consumed = 99;
  EXPECT_EQ(parser.Feed("", &consumed, &args), ParseStatus::kNeedMore);
  EXPECT_EQ(consumed, 0u);
}

TEST(ParserTest, PartialCommandNeedsMore) {
  const Outcome o = FeedPieces({"*2\r\n$3\r\nGET\r\n$1\r"}, {}, true);
  EXPECT_TRUE(o.commands.empty());
  EXPECT_FALSE(o.error);
  EXPECT_FALSE(o.at_boundary);
}

TEST(ParserTest, EmptyMultibulkIsSkipped) {
  EXPECT_THAT(Commands("*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n*0\r\n"),
              ElementsAre(Command{"PING"}));
}

TEST(ParserTest, BlankInlineLinesAreSkipped) {
  EXPECT_THAT(Commands("\r\n\n   \r\n\t\nPING\r\n\r\n"), ElementsAre(Command{"PING"}));
}

TEST(ParserTest, EmptyBulkArgument) {
  EXPECT_THAT(Commands("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"), ElementsAre(Command{"ECHO", ""}));
}

TEST(ParserTest, BulkIsBinarySafe) {
  const std::string value("a\r\nb\0c\n\r*1\r\n$", 14);
  const std::string input = "*2\r\n$4\r\nECHO\r\n$14\r\n" + value + "\r\n";
  EXPECT_THAT(Commands(input), ElementsAre(Command{"ECHO", value}));
}

TEST(ParserTest, BulkWithoutCrlfIsAnError) {
  EXPECT_EQ(ErrorOf("*1\r\n$3\r\nfooXY"), "Protocol error: expected '\\r\\n' after bulk data");
  EXPECT_EQ(ErrorOf("*1\r\n$3\r\nfoo\rX"), "Protocol error: expected '\\r\\n' after bulk data");
  EXPECT_EQ(ErrorOf("*1\r\n$3\r\nfoo\n\r"), "Protocol error: expected '\\r\\n' after bulk data");
}

TEST(ParserTest, InvalidMultibulkLength) {
  const std::string kError = "Protocol error: invalid multibulk length";
  EXPECT_EQ(ErrorOf("*abc\r\n"), kError);
  EXPECT_EQ(ErrorOf("*\r\n"), kError);
  EXPECT_EQ(ErrorOf("*01\r\n"), kError);
  EXPECT_EQ(ErrorOf("*+1\r\n"), kError);
  EXPECT_EQ(ErrorOf("* 1\r\n"), kError);
  EXPECT_EQ(ErrorOf("*1 \r\n"), kError);
  EXPECT_EQ(ErrorOf("*1\n$4\r\nPING\r\n"), kError);  // The count line must end in CRLF.
  EXPECT_EQ(ErrorOf("*99999999999999999999\r\n"), kError);
  EXPECT_EQ(ErrorOf("*1048577\r\n"), kError);  // Over the default max_multibulk_len.
  ParserLimits limits;
  limits.max_multibulk_len = 3;
  EXPECT_EQ(ErrorOf("*4\r\n", limits), kError);
  EXPECT_FALSE(ParseEverySplit("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", limits).error);
}

TEST(ParserTest, InvalidBulkLength) {
  const std::string kError = "Protocol error: invalid bulk length";
  EXPECT_EQ(ErrorOf("*1\r\n$-1\r\n"), kError);
  EXPECT_EQ(ErrorOf("*1\r\n$abc\r\n"), kError);
  EXPECT_EQ(ErrorOf("*1\r\n$\r\n"), kError);
  EXPECT_EQ(ErrorOf("*1\r\n$03\r\nfoo\r\n"), kError);
  EXPECT_EQ(ErrorOf("*1\r\n$3\nfoo\r\n"), kError);
  EXPECT_EQ(ErrorOf("*1\r\n$536870913\r\n"), kError);  // Over 512 MiB.
  ParserLimits limits;
  limits.max_bulk_len = 5;
  EXPECT_EQ(ErrorOf("*1\r\n$6\r\n", limits), kError);
  EXPECT_FALSE(ParseEverySplit("*1\r\n$5\r\nhello\r\n", limits).error);
}

TEST(ParserTest, ExpectedDollar) {
  EXPECT_EQ(ErrorOf("*1\r\n:5\r\n"), "Protocol error: expected '$', got ':'");
  EXPECT_EQ(ErrorOf("*2\r\n$3\r\nGET\r\nkey\r\n"), "Protocol error: expected '$', got 'k'");
  EXPECT_EQ(ErrorOf("*1\r\n\r\n"), "Protocol error: expected '$', got '\r'");
}

TEST(ParserTest, TooBigInlineRequest) {
  ParserLimits limits;
  limits.max_inline_len = 16;
  const std::string kError = "Protocol error: too big inline request";
  EXPECT_EQ(ErrorOf(std::string(17, 'a'), limits), kError);
  EXPECT_EQ(ErrorOf(std::string(40, 'a') + "\r\n", limits), kError);
  // Exactly at the limit (counting a trailing '\r') is fine.
  EXPECT_THAT(ParseEverySplit(std::string(15, 'a') + "\r\n", limits).commands,
              ElementsAre(Command{std::string(15, 'a')}));
  // Without a newline, a line at the limit waits for more.
  const Outcome waiting = ParseEverySplit(std::string(16, 'a'), limits);
  EXPECT_FALSE(waiting.error);
  EXPECT_TRUE(waiting.commands.empty());
}

TEST(ParserTest, TooBigCountStrings) {
  ParserLimits limits;
  limits.max_inline_len = 8;
  EXPECT_EQ(ErrorOf("*000000000", limits), "Protocol error: too big mbulk count string");
  EXPECT_EQ(ErrorOf("*1\r\n$000000000", limits), "Protocol error: too big bulk count string");
  EXPECT_EQ(ErrorOf(std::string("*") + std::string(100000, '1')),
            "Protocol error: too big mbulk count string");
  EXPECT_EQ(ErrorOf(std::string("*1\r\n$") + std::string(100000, '1')),
            "Protocol error: too big bulk count string");
}

TEST(ParserTest, HeaderLineLimitAppliesToCompleteLines) {
  ParserLimits limits;
  limits.max_inline_len = 3;  // Counts the header's '$' and '\r', not the '*'.
  EXPECT_EQ(ErrorOf("*1\r\n$10\r\n0123456789\r\n", limits),
            "Protocol error: too big bulk count string");
  EXPECT_EQ(ErrorOf("*100\r\n", limits), "Protocol error: too big mbulk count string");
  EXPECT_THAT(ParseEverySplit("*10\r\n$1\r\na\r\n", limits).commands, ::testing::IsEmpty());
  EXPECT_THAT(ParseEverySplit("*1\r\n$3\r\nabc\r\n", limits).commands, ElementsAre(Command{"abc"}));
}

TEST(ParserTest, UnauthenticatedLimits) {
  std::string eleven = "*11\r\n";
  for (int i = 0; i < 11; ++i) eleven += "$1\r\nx\r\n";
  EXPECT_EQ(ErrorOf(eleven, {}, /*authenticated=*/false),
            "Protocol error: unauthenticated multibulk length");
  EXPECT_EQ(ParseEverySplit(eleven, {}, true).commands.size(), 1u);

  std::string ten = "*10\r\n";
  for (int i = 0; i < 10; ++i) ten += "$1\r\nx\r\n";
  EXPECT_EQ(ParseEverySplit(ten, {}, false).commands.size(), 1u);

  const std::string big = "*1\r\n$16385\r\n" + std::string(16385, 'v') + "\r\n";
  const std::string fits = "*1\r\n$16384\r\n" + std::string(16384, 'v') + "\r\n";
  Outcome o = FeedPieces({big}, {}, false);
  EXPECT_EQ(o.error, "Protocol error: unauthenticated bulk length");
  o = FeedPieces(Split(big, 7), {}, false);
  EXPECT_EQ(o.error, "Protocol error: unauthenticated bulk length");
  EXPECT_EQ(FeedPieces({big}, {}, true).commands.size(), 1u);
  EXPECT_EQ(FeedPieces({fits}, {}, false).commands.size(), 1u);
  EXPECT_EQ(FeedPieces(Split(fits, 1000), {}, false).commands.size(), 1u);

  // Invalid beats unauthenticated, as in Redis.
  EXPECT_EQ(ErrorOf("*1\r\n$-3\r\n", {}, false), "Protocol error: invalid bulk length");
}

TEST(ParserTest, AuthenticationTakesEffectForTheNextHeader) {
  Parser parser;
  parser.set_authenticated(false);
  CommandArgs args;
  size_t consumed = 0;
  ASSERT_EQ(parser.Feed("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n", &consumed, &args),
            ParseStatus::kCommand);
  parser.set_authenticated(true);
  const std::string big = "*1\r\n$20000\r\n" + std::string(20000, 'v') + "\r\n";
  ASSERT_EQ(parser.Feed(big, &consumed, &args), ParseStatus::kCommand);
  EXPECT_EQ(args[0].size(), 20000u);
}

TEST(ParserTest, InlineSplitsOnWhitespace) {
  EXPECT_THAT(Commands("SET  key\tvalue \r\n"), ElementsAre(Command{"SET", "key", "value"}));
  EXPECT_THAT(Commands("a\rb\n"), ElementsAre(Command{"a", "b"}));
  EXPECT_THAT(Commands("  PING\n"), ElementsAre(Command{"PING"}));
}

TEST(ParserTest, InlineStripsOneTrailingCr) {
  EXPECT_THAT(Commands("ECHO \"a\r\"\r\n"), ElementsAre(Command{"ECHO", "a\r"}));
}

TEST(ParserTest, InlineDoubleQuotes) {
  EXPECT_THAT(Commands("SET \"a key\" \"\"\r\n"), ElementsAre(Command{"SET", "a key", ""}));
  EXPECT_THAT(Commands("ECHO \"\\n\\r\\t\\b\\a\\\\\\\"\\q\"\r\n"),
              ElementsAre(Command{"ECHO", "\n\r\t\b\a\\\"q"}));
  EXPECT_THAT(Commands("ECHO \"\\x41\\x7a\\x00\\xff\"\r\n"),
              ElementsAre(Command{"ECHO", std::string("Az\0\xff", 4)}));
  // Not a valid hex escape: the backslash escapes the 'x' alone.
  EXPECT_THAT(Commands("ECHO \"\\xZZ\\x4\"\r\n"), ElementsAre(Command{"ECHO", "xZZx4"}));
  // A quote may open in the middle of a word.
  EXPECT_THAT(Commands("ECHO ab\"c d\"\r\n"), ElementsAre(Command{"ECHO", "abc d"}));
}

TEST(ParserTest, InlineSingleQuotes) {
  EXPECT_THAT(Commands("ECHO 'it\\'s' 'a\\nb' 'x\"y'\r\n"),
              ElementsAre(Command{"ECHO", "it's", "a\\nb", "x\"y"}));
}

TEST(ParserTest, UnbalancedQuotes) {
  const std::string kError = "Protocol error: unbalanced quotes in request";
  EXPECT_EQ(ErrorOf("SET \"foo\r\n"), kError);
  EXPECT_EQ(ErrorOf("SET 'foo\r\n"), kError);
  EXPECT_EQ(ErrorOf("SET \"foo\"bar\r\n"), kError);
  EXPECT_EQ(ErrorOf("SET 'foo'bar\r\n"), kError);
  EXPECT_EQ(ErrorOf("SET \"foo\\\"\r\n"), kError);
  EXPECT_EQ(ErrorOf("SET \"foo\\\r\n"), kError);
}

TEST(ParserTest, LargeBulkSplitRandomly) {
  std::mt19937 rng(42);
  std::string value(3 * 1024 * 1024 + 17, '\0');
  for (char& c : value) c = static_cast<char>(rng());
  const std::string input = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + std::to_string(value.size()) +
                            "\r\n" + value + "\r\n*1\r\n$4\r\nPING\r\n";
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string_view> pieces;
    size_t off = 0;
    while (off < input.size()) {
      const size_t n = std::min<size_t>(input.size() - off, 1 + rng() % (round < 10 ? 64 : 200000));
      pieces.push_back(std::string_view(input).substr(off, n));
      off += n;
    }
    const Outcome o = FeedPieces(pieces, {}, true);
    ASSERT_FALSE(o.error) << *o.error;
    ASSERT_EQ(o.commands.size(), 2u);
    EXPECT_EQ(o.commands[0][2], value);
    EXPECT_EQ(o.commands[1], Command{"PING"});
  }
}

TEST(ParserTest, HugeDeclaredLengthDoesNotAllocateUpFront) {
  // 512 MiB declared, a few bytes sent: must simply wait for more.
  const Outcome o = FeedPieces({"*1\r\n$536870912\r\nabc"}, {}, true);
  EXPECT_FALSE(o.error);
  EXPECT_FALSE(o.at_boundary);
}

TEST(ParserTest, ResetAfterError) {
  Parser parser;
  CommandArgs args;
  size_t consumed = 0;
  ASSERT_EQ(parser.Feed("*x\r\n", &consumed, &args), ParseStatus::kError);
  EXPECT_EQ(parser.error(), "Protocol error: invalid multibulk length");
  parser.Reset();
  EXPECT_EQ(parser.error(), "");
  ASSERT_EQ(parser.Feed("PING\r\n", &consumed, &args), ParseStatus::kCommand);
  EXPECT_EQ(ToCommand(args), Command{"PING"});
}

TEST(ParserTest, ArgsBufferIsReusedAcrossCommands) {
  Parser parser;
  CommandArgs args;
  size_t consumed = 0;
  const std::string cmd = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
  ASSERT_EQ(parser.Feed(cmd, &consumed, &args), ParseStatus::kCommand);
  const char* data = args[0].data();
  ASSERT_EQ(parser.Feed(cmd, &consumed, &args), ParseStatus::kCommand);
  EXPECT_EQ(args[0].data(), data);
  EXPECT_EQ(ToCommand(args), (Command{"SET", "key", "value"}));
}

TEST(CommandArgsTest, PushAndClear) {
  CommandArgs args;
  EXPECT_TRUE(args.empty());
  args.Push("GET");
  args.Push("");
  args.Push(std::string(3 * 1024 * 1024, 'x'));
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[0], "GET");
  EXPECT_EQ(args[1], "");
  EXPECT_EQ(args[2].size(), 3u * 1024 * 1024);
  EXPECT_EQ(args.byte_size(), 3u + 3 * 1024 * 1024);
  args.Clear();
  EXPECT_TRUE(args.empty());
  EXPECT_EQ(args.byte_size(), 0u);
}

TEST(SplitInlineArgsTest, AppendsToExistingArgs) {
  CommandArgs args;
  args.Push("first");
  ASSERT_TRUE(SplitInlineArgs("a 'b c'", &args));
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[2], "b c");
}

TEST(SplitInlineArgsTest, EmptyAndBlank) {
  CommandArgs args;
  EXPECT_TRUE(SplitInlineArgs("", &args));
  EXPECT_TRUE(SplitInlineArgs(" \t\r\n\v\f", &args));
  EXPECT_TRUE(args.empty());
}

TEST(SplitInlineArgsTest, NulSeparatesBareWords) {
  CommandArgs args;
  ASSERT_TRUE(SplitInlineArgs(std::string_view("a\0\0b", 4), &args));
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[0], "a");
  EXPECT_EQ(args[1], "b");
}

}  // namespace
}  // namespace sluice::protocol
