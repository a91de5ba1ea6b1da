// The struct library for scripts: pack / unpack / size of binary records
// described by a format string, with the options and error texts Redis's
// scripts see (see lua_libs.h and docs/scripting.md).

#include <cctype>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "server/scripting/lua_libs.h"

extern "C" {
#include <lauxlib.h>
}

namespace sluice::server {
namespace {

constexpr int kMaxIntSize = 32;
constexpr size_t kDefaultMaxAlign = 8;  // '!' alone: the alignment of a double

struct Format {
  const char* p;
  bool little = true;
  size_t align = 1;
};

// An optional decimal count after an option; dflt when there is none.
int ReadCount(lua_State* L, Format* f, int dflt) {
  if (!std::isdigit(static_cast<unsigned char>(*f->p))) return dflt;
  int n = 0;
  do {
    const int digit = *f->p++ - '0';
    if (n > (INT_MAX - digit) / 10) luaL_error(L, "integral size overflow");
    n = n * 10 + digit;
  } while (std::isdigit(static_cast<unsigned char>(*f->p)));
  return n;
}

// The size an option takes; 0 for those without one (controls, 's').
size_t OptionSize(lua_State* L, char opt, Format* f) {
  switch (opt) {
    case 'b':
    case 'B':
    case 'x':
      return 1;
    case 'h':
    case 'H':
      return 2;
    case 'l':
    case 'L':
    case 'T':
    case 'd':
      return 8;
    case 'f':
      return 4;
    case 'c':
      return static_cast<size_t>(ReadCount(L, f, 1));
    case 'i':
    case 'I': {
      const int n = ReadCount(L, f, 4);
      if (n > kMaxIntSize) {
        luaL_error(L, "integral size %d is larger than limit of %d", n, kMaxIntSize);
      }
      return static_cast<size_t>(n);
    }
    default:
      return 0;
  }
}

// Padding before an item of `size` at offset `len` (Redis's arithmetic, also
// for sizes that are not powers of two).
size_t Padding(size_t len, const Format& f, char opt, size_t size) {
  if (size == 0 || opt == 'c') return 0;
  const size_t a = size < f.align ? size : f.align;
  return (a - (len & (a - 1))) & (a - 1);
}

void ControlOption(lua_State* L, char opt, Format* f) {
  switch (opt) {
    case ' ':
      return;
    case '>':
      f->little = false;
      return;
    case '<':
      f->little = true;
      return;
    case '!': {
      const int a = ReadCount(L, f, static_cast<int>(kDefaultMaxAlign));
      if (a <= 0 || (a & (a - 1)) != 0) luaL_error(L, "alignment %d is not a power of 2", a);
      f->align = static_cast<size_t>(a);
      return;
    }
    default:
      luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", opt));
  }
}

bool IsIntOption(char opt) { return std::strchr("bBhHlLTiI", opt) != nullptr && opt != '\0'; }

// A Lua number to 64 bits as x86-64 converts a double to an unsigned long
// (what Redis's pack does): the low bits of the truncated value, and
// 0x8000000000000000 or 0 where it does not fit.
uint64_t NumberBits(double d) {
  constexpr double kTwo63 = 9223372036854775808.0;
  auto convert = [](double x) -> uint64_t {
    if (!(x >= -kTwo63 && x < kTwo63)) return uint64_t{1} << 63;
    return static_cast<uint64_t>(static_cast<int64_t>(x));
  };
  if (d >= kTwo63) return convert(d - kTwo63) ^ (uint64_t{1} << 63);
  return convert(d);
}

void PutBytes(luaL_Buffer* b, uint64_t v, size_t size, bool little) {
  for (size_t i = 0; i < size; ++i) {
    const size_t k = little ? i : size - 1 - i;  // which byte of v, least first
    luaL_addchar(b, static_cast<char>(k < 8 ? (v >> (8 * k)) & 0xff : 0));
  }
}

uint64_t GetBytes(const unsigned char* p, size_t size, bool little) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) v = (v << 8) | p[little ? size - 1 - i : i];
  return v;
}

// A value to pack. A missing one reads as nil (Redis's text), and never as
// what the output buffer may have pushed above the arguments.
void CheckArgPresent(lua_State* L, int arg, int nargs, const char* type) {
  if (arg > nargs) luaL_argerror(L, arg, lua_pushfstring(L, "%s expected, got nil", type));
}

double ArgNumber(lua_State* L, int arg, int nargs) {
  CheckArgPresent(L, arg, nargs, "number");
  return luaL_checknumber(L, arg);
}

int StructPack(lua_State* L) {
  Format f{luaL_checkstring(L, 1)};
  const int nargs = lua_gettop(L);
  int arg = 2;
  size_t total = 0;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  while (*f.p != '\0') {
    const char opt = *f.p++;
    size_t size = OptionSize(L, opt, &f);
    const size_t pad = Padding(total, f, opt, size);
    for (size_t i = 0; i < pad; ++i) luaL_addchar(&b, '\0');
    total += pad;
    if (IsIntOption(opt)) {
      PutBytes(&b, NumberBits(ArgNumber(L, arg++, nargs)), size, f.little);
    } else if (opt == 'x') {
      luaL_addchar(&b, '\0');
    } else if (opt == 'f') {
      const auto v = static_cast<float>(ArgNumber(L, arg++, nargs));
      uint32_t bits;
      std::memcpy(&bits, &v, sizeof(bits));
      PutBytes(&b, bits, 4, f.little);
    } else if (opt == 'd') {
      const double v = ArgNumber(L, arg++, nargs);
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof(bits));
      PutBytes(&b, bits, 8, f.little);
    } else if (opt == 'c' || opt == 's') {
      size_t len;
      CheckArgPresent(L, arg, nargs, "string");
      const char* s = luaL_checklstring(L, arg++, &len);
      if (size == 0) size = len;
      // Redis names the argument after this one.
      luaL_argcheck(L, len >= size, arg, "string too short");
      luaL_addlstring(&b, s, size);
      if (opt == 's') {
        luaL_addchar(&b, '\0');
        ++size;
      }
    } else {
      ControlOption(L, opt, &f);
    }
    total += size;
  }
  luaL_pushresult(&b);
  return 1;
}

int StructUnpack(lua_State* L) {
  Format f{luaL_checkstring(L, 1)};
  size_t len;
  const auto* data = reinterpret_cast<const unsigned char*>(luaL_checklstring(L, 2, &len));
  // Read as unsigned: a negative offset is a huge one, past the data.
  auto pos = static_cast<size_t>(luaL_optinteger(L, 3, 1));
  luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
  --pos;
  int n = 0;
  while (*f.p != '\0') {
    const char opt = *f.p++;
    size_t size = OptionSize(L, opt, &f);
    pos += Padding(pos, f, opt, size);
    luaL_argcheck(L, pos <= len && size <= len - pos, 2, "data string too short");
    luaL_checkstack(L, 2, "too many results");
    if (IsIntOption(opt)) {
      uint64_t v = GetBytes(data + pos, size, f.little);
      if (std::islower(static_cast<unsigned char>(opt))) {
        if (size > 0 && size < 8 && (v >> (8 * size - 1)) != 0) v |= ~uint64_t{0} << (8 * size);
        lua_pushnumber(L, static_cast<double>(static_cast<int64_t>(v)));
      } else {
        lua_pushnumber(L, static_cast<double>(v));
      }
      ++n;
    } else if (opt == 'f') {
      const auto bits = static_cast<uint32_t>(GetBytes(data + pos, 4, f.little));
      float v;
      std::memcpy(&v, &bits, sizeof(v));
      lua_pushnumber(L, v);
      ++n;
    } else if (opt == 'd') {
      const uint64_t bits = GetBytes(data + pos, 8, f.little);
      double v;
      std::memcpy(&v, &bits, sizeof(v));
      lua_pushnumber(L, v);
      ++n;
    } else if (opt == 'c') {
      if (size == 0) {
        // 'c0' takes its length from the value unpacked just before, which it replaces.
        if (n == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
        // Converted as Redis's cast does on x86-64: a negative size is past any
        // data, 2^64 wraps to 0.
        size = static_cast<size_t>(NumberBits(lua_tonumber(L, -1)));
        lua_pop(L, 1);
        --n;
        luaL_argcheck(L, size <= len - pos, 2, "data string too short");
      }
      lua_pushlstring(L, reinterpret_cast<const char*>(data + pos), size);
      ++n;
    } else if (opt == 's') {
      const void* end = std::memchr(data + pos, '\0', len - pos);
      if (end == nullptr) luaL_error(L, "unfinished string in data");
      size = static_cast<size_t>(static_cast<const unsigned char*>(end) - (data + pos));
      lua_pushlstring(L, reinterpret_cast<const char*>(data + pos), size);
      ++size;
      ++n;
    } else if (opt != 'x') {
      ControlOption(L, opt, &f);
    }
    pos += size;
  }
  lua_pushnumber(L, static_cast<double>(pos + 1));
  return n + 1;
}

int StructSize(lua_State* L) {
  Format f{luaL_checkstring(L, 1)};
  size_t total = 0;
  while (*f.p != '\0') {
    const char opt = *f.p++;
    const size_t size = OptionSize(L, opt, &f);
    total += Padding(total, f, opt, size);
    if (opt == 's') {
      luaL_argerror(L, 1, "option 's' has no fixed size");
    } else if (opt == 'c' && size == 0) {
      luaL_argerror(L, 1, "option 'c0' has no fixed size");
    }
    // Unknown letters count for nothing here, as in Redis.
    if (!std::isalnum(static_cast<unsigned char>(opt))) ControlOption(L, opt, &f);
    total += size;
  }
  lua_pushnumber(L, static_cast<double>(total));
  return 1;
}

}  // namespace

void OpenStructLibrary(lua_State* L) {
  static const luaL_Reg kFuncs[] = {
      {"pack", StructPack}, {"unpack", StructUnpack}, {"size", StructSize}, {nullptr, nullptr}};
  luaL_register(L, "struct", kFuncs);
  lua_pop(L, 1);
}

}  // namespace sluice::server
