#include "storage/glob.h"

#include <cctype>
#include <cstddef>
#include <utility>

// Matching scans text and pattern once, remembering only the most recent '*'.
// Every other pattern element consumes exactly one text character, so when a
// mismatch happens it is enough to let that last star absorb one more
// character and retry from just after it: an earlier star could never do
// better. That bounds the work by |pattern| * |text| instead of exponential
// backtracking on patterns such as "a*a*a*a*b".

namespace sluice::storage {
namespace {

unsigned char Fold(char c, bool nocase) {
  const unsigned char u = static_cast<unsigned char>(c);
  return nocase ? static_cast<unsigned char>(std::tolower(u)) : u;
}

// Does the '[' class starting at pattern[p] match c? Sets *next past the
// class. An unterminated class runs to the end of the pattern; "x-y" is a
// range (either order) whenever two more characters follow the 'x'.
bool MatchClass(std::string_view pattern, size_t p, char c, bool nocase, size_t* next) {
  size_t i = p + 1;
  bool negate = false;
  if (i < pattern.size() && pattern[i] == '^') {
    negate = true;
    ++i;
  }
  const unsigned char ch = Fold(c, nocase);
  bool match = false;
  while (i < pattern.size()) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      match |= Fold(pattern[i + 1], nocase) == ch;
      i += 2;
    } else if (pattern[i] == ']') {
      ++i;
      break;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-') {
      unsigned char lo = Fold(pattern[i], nocase);
      unsigned char hi = Fold(pattern[i + 2], nocase);
      if (lo > hi) std::swap(lo, hi);
      match |= ch >= lo && ch <= hi;
      i += 3;
    } else {
      match |= Fold(pattern[i], nocase) == ch;
      ++i;
    }
  }
  *next = i;
  return match != negate;
}

// Does the single-character element at pattern[p] (not '*') match c?
bool MatchElement(std::string_view pattern, size_t p, char c, bool nocase, size_t* next) {
  switch (pattern[p]) {
    case '?':
      *next = p + 1;
      return true;
    case '[':
      return MatchClass(pattern, p, c, nocase, next);
    case '\\':
      if (p + 1 < pattern.size()) {
        *next = p + 2;
        return Fold(pattern[p + 1], nocase) == Fold(c, nocase);
      }
      break;  // a trailing backslash is a literal backslash
    default:
      break;
  }
  *next = p + 1;
  return Fold(pattern[p], nocase) == Fold(c, nocase);
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t p = 0;
  size_t t = 0;
  size_t star_p = kNone;  // pattern position just after the last '*'
  size_t star_t = 0;      // text position that star has absorbed up to
  while (t < text.size()) {
    if (p < pattern.size()) {
      if (pattern[p] == '*') {
        while (p < pattern.size() && pattern[p] == '*') ++p;
        if (p == pattern.size()) return true;
        star_p = p;
        star_t = t;
        continue;
      }
      size_t next;
      if (MatchElement(pattern, p, text[t], nocase, &next)) {
        p = next;
        ++t;
        continue;
      }
    }
    if (star_p == kNone) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace sluice::storage
