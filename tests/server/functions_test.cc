// FunctionLibraries: registration rules (names, collisions, REPLACE, the
// RESTORE policies), all-or-nothing changes, and the generation that tells
// each I/O thread's Lua state to drop what is gone.

#include "server/scripting/functions.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::server {
namespace {

Library Lib(std::string name, std::vector<std::string> functions) {
  Library lib;
  lib.name = std::move(name);
  lib.code = "#!lua name=" + lib.name + "\n";
  for (std::string& f : functions) lib.functions.push_back(FunctionInfo{std::move(f), {}, 0});
  return lib;
}

TEST(FunctionLibrariesTest, LoadFindDelete) {
  FunctionLibraries libs;
  uint64_t id = 0;
  EXPECT_EQ(libs.Load(Lib("a", {"f", "g"}), false, &id), "");
  EXPECT_NE(id, 0u);
  size_t index = 99;
  FunctionLibraries::LibraryPtr found = libs.FindFunction("G", &index);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->name, "a");
  EXPECT_EQ(found->id, id);
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(libs.function_count(), 2u);
  EXPECT_EQ(libs.library_count(), 1u);
  EXPECT_TRUE(libs.HasLibrary("a"));
  EXPECT_FALSE(libs.HasLibrary("A"));  // library names are case-sensitive
  EXPECT_TRUE(libs.Delete("a"));
  EXPECT_FALSE(libs.Delete("a"));
  EXPECT_EQ(libs.FindFunction("f", &index), nullptr);
  EXPECT_EQ(libs.function_count(), 0u);
}

TEST(FunctionLibrariesTest, CollisionsAndReplace) {
  FunctionLibraries libs;
  uint64_t first = 0, id = 0;
  ASSERT_EQ(libs.Load(Lib("a", {"f"}), false, &first), "");
  EXPECT_EQ(libs.Load(Lib("a", {"x"}), false, &id), "ERR Library 'a' already exists");
  EXPECT_EQ(libs.Load(Lib("b", {"F"}), false, &id), "ERR Function F already exists");
  // REPLACE may keep or move its own functions, not take another library's.
  ASSERT_EQ(libs.Load(Lib("b", {"g"}), false, &id), "");
  EXPECT_EQ(libs.Load(Lib("a", {"g"}), true, &id), "ERR Function g already exists");
  uint64_t replaced = 0;
  ASSERT_EQ(libs.Load(Lib("a", {"f", "h"}), true, &replaced), "");
  EXPECT_NE(replaced, first);  // a new id: threads load the new code
  size_t index;
  EXPECT_EQ(libs.FindFunction("h", &index)->id, replaced);
  EXPECT_EQ(libs.FindFunction("g", &index)->name, "b");
}

TEST(FunctionLibrariesTest, RestorePolicies) {
  FunctionLibraries libs;
  uint64_t id;
  ASSERT_EQ(libs.Load(Lib("a", {"f"}), false, &id), "");
  ASSERT_EQ(libs.Load(Lib("b", {"g"}), false, &id), "");
  std::vector<Library> incoming;
  incoming.push_back(Lib("a", {"f2"}));
  EXPECT_EQ(libs.Restore(incoming, RestorePolicy::kAppend), "ERR Library a already exists");
  std::vector<Library> collide;
  collide.push_back(Lib("c", {"g"}));
  EXPECT_EQ(libs.Restore(collide, RestorePolicy::kAppend), "ERR Function g already exists");
  EXPECT_EQ(libs.Restore(collide, RestorePolicy::kReplace), "ERR Function g already exists");
  EXPECT_EQ(libs.library_count(), 2u);  // nothing changed
  ASSERT_EQ(libs.Restore(incoming, RestorePolicy::kReplace), "");
  size_t index;
  EXPECT_EQ(libs.FindFunction("f", &index), nullptr);
  EXPECT_NE(libs.FindFunction("f2", &index), nullptr);
  EXPECT_NE(libs.FindFunction("g", &index), nullptr);
  std::vector<Library> only;
  only.push_back(Lib("z", {"g"}));
  ASSERT_EQ(libs.Restore(only, RestorePolicy::kFlush), "");
  EXPECT_EQ(libs.library_count(), 1u);
  EXPECT_EQ(libs.FindFunction("g", &index)->name, "z");
}

TEST(FunctionLibrariesTest, GenerationMovesWithEveryChangeOnly) {
  FunctionLibraries libs;
  uint64_t id;
  uint64_t g = libs.generation();
  ASSERT_EQ(libs.Load(Lib("a", {"f"}), false, &id), "");
  EXPECT_NE(libs.generation(), g);
  g = libs.generation();
  EXPECT_NE(libs.Load(Lib("a", {"f"}), false, &id), "");  // refused: no change
  EXPECT_FALSE(libs.Delete("nosuch"));
  EXPECT_EQ(libs.generation(), g);
  libs.Flush();
  EXPECT_NE(libs.generation(), g);
  EXPECT_TRUE(libs.All().empty());
}

}  // namespace
}  // namespace sluice::server
