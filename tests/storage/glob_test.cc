#include "storage/glob.h"

#include <string>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

TEST(GlobTest, Literals) {
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "a"));
  EXPECT_TRUE(GlobMatch("hello", "hello"));
  EXPECT_FALSE(GlobMatch("hello", "hell"));
  EXPECT_FALSE(GlobMatch("hell", "hello"));
}

TEST(GlobTest, StarAndQuestionMark) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("h*llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h*llo", "heeeello"));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_TRUE(GlobMatch("user:*:name", "user:1000:name"));
  EXPECT_FALSE(GlobMatch("user:*:name", "user:1000:email"));
  EXPECT_TRUE(GlobMatch("**a**", "bab"));
  EXPECT_TRUE(GlobMatch("*a", "aaa"));
  EXPECT_FALSE(GlobMatch("*a", "aab"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(GlobMatch("?", ""));
  EXPECT_TRUE(GlobMatch("*?", "x"));
  EXPECT_FALSE(GlobMatch("*??", "x"));
}

TEST(GlobTest, Classes) {
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hbllo"));
  EXPECT_FALSE(GlobMatch("h[a-b]llo", "hcllo"));
  EXPECT_TRUE(GlobMatch("[z-a]", "m"));  // reversed ranges work
  EXPECT_FALSE(GlobMatch("[z-a]", "A"));
  EXPECT_TRUE(GlobMatch("[0-9][0-9]", "42"));
  EXPECT_FALSE(GlobMatch("[^0-9]", "5"));
  EXPECT_FALSE(GlobMatch("[]", "]"));   // an empty class matches nothing
  EXPECT_TRUE(GlobMatch("[abc", "b"));  // unterminated: runs to the end
  EXPECT_FALSE(GlobMatch("[abc", "d"));
  EXPECT_TRUE(GlobMatch("[\\]]", "]"));  // escaped ']' inside a class
  EXPECT_TRUE(GlobMatch("[\\-]", "-"));
  EXPECT_TRUE(GlobMatch("[a-]", "^"));  // 'a'..']' read as a range, swapped
  EXPECT_TRUE(GlobMatch("*[0-9]", "abc7"));
}

TEST(GlobTest, Escapes) {
  EXPECT_TRUE(GlobMatch("\\*", "*"));
  EXPECT_FALSE(GlobMatch("\\*", "a"));
  EXPECT_TRUE(GlobMatch("\\?", "?"));
  EXPECT_FALSE(GlobMatch("\\?", "x"));
  EXPECT_TRUE(GlobMatch("a\\[b", "a[b"));
  EXPECT_TRUE(GlobMatch("\\\\", "\\"));
  EXPECT_TRUE(GlobMatch("abc\\", "abc\\"));  // trailing backslash is literal
  EXPECT_TRUE(GlobMatch("*\\*", "star*"));
}

TEST(GlobTest, NoCase) {
  EXPECT_TRUE(GlobMatch("HeLLo", "hello", true));
  EXPECT_FALSE(GlobMatch("HeLLo", "hello", false));
  EXPECT_TRUE(GlobMatch("[A-C]x", "bX", true));
  EXPECT_FALSE(GlobMatch("[A-C]x", "bX", false));
  EXPECT_TRUE(GlobMatch("[^a]", "B", true));
  EXPECT_FALSE(GlobMatch("[^a]", "A", true));
  EXPECT_TRUE(GlobMatch("MAXMEMORY*", "maxmemory-policy", true));
}

TEST(GlobTest, BinarySafe) {
  const std::string key("a\0b", 3);
  EXPECT_TRUE(GlobMatch(std::string("a\0?", 3), key));
  EXPECT_TRUE(GlobMatch("a*", key));
  EXPECT_FALSE(GlobMatch("a", key));
}

TEST(GlobTest, PathologicalPatternsFinish) {
  // Exponential for a naive backtracking matcher; quadratic at worst here.
  std::string pattern;
  for (int i = 0; i < 30; ++i) pattern += "a*";
  pattern += "b";
  const std::string text(5000, 'a');
  EXPECT_FALSE(GlobMatch(pattern, text));
  EXPECT_TRUE(GlobMatch(pattern.substr(0, pattern.size() - 1), text));
  std::string classes;
  for (int i = 0; i < 30; ++i) classes += "*[a-z]";
  classes += "1";
  EXPECT_FALSE(GlobMatch(classes, text));
  EXPECT_TRUE(GlobMatch(classes, text + "1"));
}

}  // namespace
}  // namespace sluice::storage
