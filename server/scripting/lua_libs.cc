#include "server/scripting/lua_libs.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

extern "C" {
#include <lauxlib.h>
}

// Every function here may raise a Lua error (a longjmp), so none keeps a C++
// object with a destructor on its stack across a Lua call: growing output
// lives in a userdata that the garbage collector frees.

namespace sluice::server {
namespace {

// ---- bit ----------------------------------------------------------------

// A Lua number to a 32-bit integer, as LuaBitOp does: rounded, modulo 2^32.
int32_t ToBit(lua_State* L, int idx) {
  double d = luaL_checknumber(L, idx);
  if (!std::isfinite(d)) return 0;
  d = std::fmod(std::nearbyint(d), 4294967296.0);
  if (d < 0) d += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(d));
}

int PushBit(lua_State* L, uint32_t v) {
  lua_pushnumber(L, static_cast<int32_t>(v));
  return 1;
}

int BitToBit(lua_State* L) { return PushBit(L, ToBit(L, 1)); }
int BitNot(lua_State* L) { return PushBit(L, ~static_cast<uint32_t>(ToBit(L, 1))); }

template <int kOp>
int BitFold(lua_State* L) {
  uint32_t v = static_cast<uint32_t>(ToBit(L, 1));
  for (int i = lua_gettop(L); i > 1; --i) {
    const uint32_t x = static_cast<uint32_t>(ToBit(L, i));
    if (kOp == 0) v &= x;
    if (kOp == 1) v |= x;
    if (kOp == 2) v ^= x;
  }
  return PushBit(L, v);
}

template <int kOp>
int BitShift(lua_State* L) {
  const uint32_t v = static_cast<uint32_t>(ToBit(L, 1));
  const int n = ToBit(L, 2) & 31;
  switch (kOp) {
    case 0:
      return PushBit(L, v << n);
    case 1:
      return PushBit(L, v >> n);
    case 2:
      return PushBit(L, static_cast<uint32_t>(static_cast<int32_t>(v) >> n));
    case 3:
      return PushBit(L, n == 0 ? v : (v << n) | (v >> (32 - n)));
    default:
      return PushBit(L, n == 0 ? v : (v >> n) | (v << (32 - n)));
  }
}

int BitSwap(lua_State* L) {
  const uint32_t v = static_cast<uint32_t>(ToBit(L, 1));
  return PushBit(L, (v >> 24) | ((v >> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24));
}

int BitToHex(lua_State* L) {
  uint32_t v = static_cast<uint32_t>(ToBit(L, 1));
  // 64 bits, so that negating -2^31 cannot overflow (that crashed the server).
  int64_t n = lua_isnoneornil(L, 2) ? 8 : ToBit(L, 2);
  const char* digits = "0123456789abcdef";
  if (n < 0) {
    n = -n;
    digits = "0123456789ABCDEF";
  }
  if (n > 8) n = 8;
  char buf[8];
  for (int64_t i = n - 1; i >= 0; --i) {
    buf[i] = digits[v & 15];
    v >>= 4;
  }
  lua_pushlstring(L, buf, static_cast<size_t>(n));
  return 1;
}

// ---- cjson --------------------------------------------------------------

constexpr int kMaxDepth = 1000;
constexpr const char* kBufferMeta = "sluice.json_buffer";

// A std::string owned by a userdata, so a Lua error cannot leak it.
std::string* NewBuffer(lua_State* L) {
  void* mem = lua_newuserdata(L, sizeof(std::string));
  auto* s = new (mem) std::string();
  luaL_getmetatable(L, kBufferMeta);
  lua_setmetatable(L, -2);
  return s;
}

int BufferGc(lua_State* L) {
  static_cast<std::string*>(lua_touserdata(L, 1))->~basic_string();
  return 0;
}

bool IsNull(lua_State* L, int idx) {
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == nullptr;
}

void EncodeNumber(lua_State* L, double d, std::string* out) {
  if (!std::isfinite(d)) luaL_error(L, "Cannot serialise number: must not be NaN or Inf");
  char buf[32];
  const int n = std::snprintf(buf, sizeof(buf), "%.14g", d);
  out->append(buf, static_cast<size_t>(n));
}

void EncodeString(lua_State* L, int idx, std::string* out) {
  size_t len;
  const char* s = lua_tolstring(L, idx, &len);
  out->push_back('"');
  for (size_t i = 0; i < len; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '/':
        out->append("\\/");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// The array length of the table at `idx`, or -1 when it is an object (some
// key is not a positive integer). Raises for excessively sparse arrays.
int ArrayLength(lua_State* L, int idx) {
  double max = 0;
  int items = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TNUMBER) {
      const double k = lua_tonumber(L, -1);
      if (k == std::floor(k) && k >= 1) {
        if (k > max) max = k;
        ++items;
        continue;
      }
    }
    lua_pop(L, 1);
    return -1;
  }
  // lua-cjson's default: more than 10 slots and over half of them empty.
  if (max > 10 && max > items * 2.0) {
    luaL_error(L, "Cannot serialise table: excessively sparse array");
  }
  return static_cast<int>(max);
}

void EncodeValue(lua_State* L, int idx, int depth, std::string* out);

void EncodeTable(lua_State* L, int idx, int depth, std::string* out) {
  if (depth > kMaxDepth) luaL_error(L, "Cannot serialise, excessive nesting (%d)", depth);
  luaL_checkstack(L, 4, "json encode");
  const int len = ArrayLength(L, idx);
  if (len > 0) {
    out->push_back('[');
    for (int i = 1; i <= len; ++i) {
      if (i > 1) out->push_back(',');
      lua_rawgeti(L, idx, i);
      EncodeValue(L, lua_gettop(L), depth + 1, out);
      lua_pop(L, 1);
    }
    out->push_back(']');
    return;
  }
  out->push_back('{');
  bool first = true;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (!first) out->push_back(',');
    first = false;
    const int key_type = lua_type(L, -2);
    if (key_type == LUA_TSTRING) {
      EncodeString(L, lua_gettop(L) - 1, out);
    } else if (key_type == LUA_TNUMBER) {
      out->push_back('"');
      EncodeNumber(L, lua_tonumber(L, -2), out);
      out->push_back('"');
    } else {
      luaL_error(L, "Cannot serialise table: table key must be a number or string");
    }
    out->push_back(':');
    EncodeValue(L, lua_gettop(L), depth + 1, out);
    lua_pop(L, 1);
  }
  out->push_back('}');
}

void EncodeValue(lua_State* L, int idx, int depth, std::string* out) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      out->append("null");
      return;
    case LUA_TBOOLEAN:
      out->append(lua_toboolean(L, idx) ? "true" : "false");
      return;
    case LUA_TNUMBER:
      EncodeNumber(L, lua_tonumber(L, idx), out);
      return;
    case LUA_TSTRING:
      EncodeString(L, idx, out);
      return;
    case LUA_TTABLE:
      EncodeTable(L, idx, depth, out);
      return;
    case LUA_TLIGHTUSERDATA:
      if (IsNull(L, idx)) {
        out->append("null");
        return;
      }
      [[fallthrough]];
    default:
      luaL_error(L, "Cannot serialise %s: type not supported", luaL_typename(L, idx));
  }
}

int JsonEncode(lua_State* L) {
  luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
  std::string* out = NewBuffer(L);
  EncodeValue(L, 1, 1, out);
  lua_pushlstring(L, out->data(), out->size());
  return 1;
}

// Decoder: a cursor over the text; errors name the 1-based character.
struct Decoder {
  lua_State* L;
  const char* s;
  size_t len;
  size_t pos;
  std::string* scratch;

  [[noreturn]] void Fail(const char* what) {
    luaL_error(L, "Expected %s but found invalid token at character %d", what,
               static_cast<int>(pos + 1));
    __builtin_unreachable();
  }
  void SkipSpace() {
    while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r')) {
      ++pos;
    }
  }
  bool Literal(const char* word) {
    const size_t n = std::strlen(word);
    if (len - pos >= n && std::memcmp(s + pos, word, n) == 0) {
      pos += n;
      return true;
    }
    return false;
  }
  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool Hex4(unsigned* out) {
    if (len - pos < 4) return false;
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = Hex(s[pos + i]);
      if (h < 0) return false;
      v = v * 16 + static_cast<unsigned>(h);
    }
    pos += 4;
    *out = v;
    return true;
  }
  void AppendUtf8(unsigned cp) {
    std::string& o = *scratch;
    if (cp < 0x80) {
      o.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      o.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      o.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      o.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      o.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      o.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      o.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      o.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      o.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      o.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  void String() {
    ++pos;  // opening quote
    scratch->clear();
    while (true) {
      if (pos >= len) Fail("string end");
      const char c = s[pos++];
      if (c == '"') break;
      if (c != '\\') {
        scratch->push_back(c);
        continue;
      }
      if (pos >= len) Fail("escape");
      const char e = s[pos++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          scratch->push_back(e);
          break;
        case 'b':
          scratch->push_back('\b');
          break;
        case 'f':
          scratch->push_back('\f');
          break;
        case 'n':
          scratch->push_back('\n');
          break;
        case 'r':
          scratch->push_back('\r');
          break;
        case 't':
          scratch->push_back('\t');
          break;
        case 'u': {
          unsigned cp;
          if (!Hex4(&cp)) Fail("unicode escape");
          if (cp >= 0xd800 && cp < 0xdc00) {
            unsigned lo;
            if (!(Literal("\\u") && Hex4(&lo) && lo >= 0xdc00 && lo < 0xe000)) {
              Fail("surrogate pair");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          AppendUtf8(cp);
          break;
        }
        default:
          Fail("escape");
      }
    }
    lua_pushlstring(L, scratch->data(), scratch->size());
  }
  void Number() {
    const size_t start = pos;
    if (pos < len && s[pos] == '-') ++pos;
    while (pos < len && std::strchr("0123456789.eE+-", s[pos]) != nullptr) ++pos;
    scratch->assign(s + start, pos - start);
    char* end = nullptr;
    const double d = std::strtod(scratch->c_str(), &end);
    if (scratch->empty() || end != scratch->c_str() + scratch->size()) {
      pos = start;
      Fail("value");
    }
    lua_pushnumber(L, d);
  }
  void Value(int depth) {
    if (depth > kMaxDepth) {
      luaL_error(L, "Found too many nested data structures (%d) at character %d", depth,
                 static_cast<int>(pos + 1));
    }
    luaL_checkstack(L, 4, "json decode");
    SkipSpace();
    if (pos >= len) {
      luaL_error(L, "Expected value but found T_END at character %d", static_cast<int>(pos + 1));
    }
    const char c = s[pos];
    if (c == '"') return String();
    if (c == '-' || (c >= '0' && c <= '9')) return Number();
    if (Literal("true")) return lua_pushboolean(L, 1);
    if (Literal("false")) return lua_pushboolean(L, 0);
    if (Literal("null")) return lua_pushlightuserdata(L, nullptr);
    if (c == '[') {
      ++pos;
      lua_newtable(L);
      SkipSpace();
      if (pos < len && s[pos] == ']') {
        ++pos;
        return;
      }
      for (int i = 1;; ++i) {
        Value(depth + 1);
        lua_rawseti(L, -2, i);
        SkipSpace();
        if (pos < len && s[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < len && s[pos] == ']') {
          ++pos;
          return;
        }
        Fail("comma or array end");
      }
    }
    if (c == '{') {
      ++pos;
      lua_newtable(L);
      SkipSpace();
      if (pos < len && s[pos] == '}') {
        ++pos;
        return;
      }
      while (true) {
        SkipSpace();
        if (pos >= len || s[pos] != '"') Fail("object key string");
        String();
        SkipSpace();
        if (pos >= len || s[pos] != ':') Fail("colon");
        ++pos;
        Value(depth + 1);
        lua_rawset(L, -3);
        SkipSpace();
        if (pos < len && s[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < len && s[pos] == '}') {
          ++pos;
          return;
        }
        Fail("comma or object end");
      }
    }
    Fail("value");
  }
};

int JsonDecode(lua_State* L) {
  luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
  size_t len;
  const char* s = luaL_checklstring(L, 1, &len);
  std::string* scratch = NewBuffer(L);
  Decoder d{L, s, len, 0, scratch};
  d.Value(1);
  d.SkipSpace();
  if (d.pos != len) d.Fail("the end");
  return 1;
}

}  // namespace

void OpenBitLibrary(lua_State* L) {
  static const luaL_Reg kFuncs[] = {
      {"tobit", BitToBit},     {"bnot", BitNot},         {"band", BitFold<0>},
      {"bor", BitFold<1>},     {"bxor", BitFold<2>},     {"lshift", BitShift<0>},
      {"rshift", BitShift<1>}, {"arshift", BitShift<2>}, {"rol", BitShift<3>},
      {"ror", BitShift<4>},    {"bswap", BitSwap},       {"tohex", BitToHex},
      {nullptr, nullptr}};
  luaL_register(L, "bit", kFuncs);
  lua_pop(L, 1);
}

void OpenJsonLibrary(lua_State* L) {
  luaL_newmetatable(L, kBufferMeta);
  lua_pushcfunction(L, BufferGc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  static const luaL_Reg kFuncs[] = {
      {"encode", JsonEncode}, {"decode", JsonDecode}, {nullptr, nullptr}};
  luaL_register(L, "cjson", kFuncs);
  lua_pushlightuserdata(L, nullptr);
  lua_setfield(L, -2, "null");
  lua_pop(L, 1);
}

}  // namespace sluice::server
