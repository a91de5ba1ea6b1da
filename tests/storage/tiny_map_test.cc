#include "storage/types/tiny_map.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs Decode(std::string_view bytes) {
  Pairs out;
  tiny_map::ForEach(bytes, [&](std::string_view f, std::string_view v) {
    out.emplace_back(f, v);
    return true;
  });
  return out;
}

TEST(TinyMapTest, EmptyMap) {
  const std::string empty = tiny_map::Empty();
  EXPECT_EQ(empty.size(), 1u);
  EXPECT_EQ(tiny_map::Count(empty), 0u);
  EXPECT_TRUE(Decode(empty).empty());
}

TEST(TinyMapTest, RoundTripsEveryLength) {
  Pairs pairs;
  for (size_t i = 0; i < tiny_map::kMaxPairs; ++i) {
    pairs.emplace_back(std::string(i * 2 % 16, static_cast<char>('a' + i)),
                       std::string(tiny_map::kMaxLength - i, '\0'));
  }
  const std::string bytes = tiny_map::Encode(pairs);
  size_t payload = 0;
  for (const auto& [f, v] : pairs) payload += f.size() + v.size();
  EXPECT_EQ(bytes.size(), 1 + pairs.size() + payload);
  EXPECT_EQ(tiny_map::Count(bytes), pairs.size());
  EXPECT_EQ(Decode(bytes), pairs);
}

TEST(TinyMapTest, FitsOnlyShortStrings) {
  EXPECT_TRUE(tiny_map::Fits("", ""));
  EXPECT_TRUE(tiny_map::Fits(std::string(15, 'f'), std::string(15, 'v')));
  EXPECT_FALSE(tiny_map::Fits(std::string(16, 'f'), "v"));
  EXPECT_FALSE(tiny_map::Fits("f", std::string(16, 'v')));
}

TEST(TinyMapTest, ForEachStopsWhenTheVisitorSaysSo) {
  const std::string bytes = tiny_map::Encode(Pairs{{"a", "1"}, {"b", "2"}, {"c", "3"}});
  int visited = 0;
  tiny_map::ForEach(bytes, [&](std::string_view f, std::string_view) {
    ++visited;
    return f != "b";
  });
  EXPECT_EQ(visited, 2);
}

}  // namespace
}  // namespace sluice::storage
