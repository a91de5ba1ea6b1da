#pragma once
// Glob-style matching with Redis's rules (KEYS, SCAN MATCH, CONFIG GET,
// PSUBSCRIBE): `*`, `?`, `[abc]`, `[a-z]`, `[^x]`, and `\` escaping the next
// character. Matching is linear-time in practice (no exponential backtracking).

#include <string_view>

namespace sluice::storage {

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace sluice::storage
