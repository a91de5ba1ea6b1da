// cjson: JSON encode / decode for scripts, with the behaviour, settings and
// error texts of the lua-cjson 2.1.0 that Redis embeds (checked against
// redis-server, not derived from its code).
//
// Decoding is a lexer producing one token at a time and a recursive parser
// over the tokens, so that an error names what was expected and what was
// found ("Expected comma or array end but found T_STRING at character 6"),
// as scripts and their tests see from Redis.
//
// Each module table (the global `cjson`, and every `cjson.new()`) has its
// own settings, a userdata upvalue of its functions. The global one's
// settings are reset before each script (see ResetJsonSettings), where Redis
// keeps them in its single Lua VM until SCRIPT FLUSH.
//
// Every function here may raise a Lua error (a longjmp), so none keeps a C++
// object with a destructor on its stack across a Lua call: output and scratch
// strings live in userdata that the garbage collector frees.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <string>

#include "server/scripting/lua_libs.h"

extern "C" {
#include <lauxlib.h>
}

namespace sluice::server {
namespace {

// Registry key of the global module's settings (ResetJsonSettings).
char kGlobalSettingsKey;

enum class InvalidNumbers : uint8_t { kError, kRaw, kNull };

struct JsonSettings {
  bool sparse_convert = false;
  int sparse_ratio = 2;
  int sparse_safe = 10;
  int encode_max_depth = 1000;
  int decode_max_depth = 1000;
  int precision = 14;
  InvalidNumbers encode_invalid = InvalidNumbers::kError;
  bool decode_invalid = true;
  bool keep_buffer = true;
  bool changed = false;  // a setter ran since the last reset
};

JsonSettings* Settings(lua_State* L) {
  return static_cast<JsonSettings*>(lua_touserdata(L, lua_upvalueindex(1)));
}

bool IsNull(lua_State* L, int idx) {
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == nullptr;
}

// ---- settings -----------------------------------------------------------

void CheckArgCount(lua_State* L, int max) {
  if (lua_gettop(L) > max) luaL_argerror(L, max + 1, "found too many arguments");
}

// An integer setting at argument `arg`: absent or nil leaves it. lua-cjson
// names argument 1 in the range error whichever argument it was.
void IntegerOption(lua_State* L, int arg, int* value, int min, int max) {
  if (lua_isnoneornil(L, arg)) return;
  const lua_Integer v = luaL_checkinteger(L, arg);
  if (v < min || v > max) {
    luaL_argerror(L, 1, lua_pushfstring(L, "expected integer between %d and %d", min, max));
  }
  *value = static_cast<int>(v);
}

// An on/off setting: a boolean or "on"/"off" (and "null" where `allow_null`);
// returns the chosen index (0 off, 1 on, 2 null), or -1 when absent or nil.
int SwitchOption(lua_State* L, int arg, bool allow_null) {
  if (lua_isnoneornil(L, arg)) return -1;
  if (lua_isboolean(L, arg)) return lua_toboolean(L, arg) ? 1 : 0;
  static const char* const kWithNull[] = {"off", "on", "null", nullptr};
  static const char* const kPlain[] = {"off", "on", nullptr};
  return luaL_checkoption(L, arg, nullptr, allow_null ? kWithNull : kPlain);
}

int PushSwitch(lua_State* L, bool on) {
  lua_pushboolean(L, on ? 1 : 0);
  return 1;
}

int CfgSparseArray(lua_State* L) {
  JsonSettings* cfg = Settings(L);
  CheckArgCount(L, 3);
  if (const int on = SwitchOption(L, 1, false); on >= 0) cfg->sparse_convert = on == 1;
  IntegerOption(L, 2, &cfg->sparse_ratio, 0, std::numeric_limits<int>::max());
  IntegerOption(L, 3, &cfg->sparse_safe, 0, std::numeric_limits<int>::max());
  cfg->changed = true;
  lua_pushboolean(L, cfg->sparse_convert ? 1 : 0);
  lua_pushinteger(L, cfg->sparse_ratio);
  lua_pushinteger(L, cfg->sparse_safe);
  return 3;
}

template <int JsonSettings::*kField, int kMin, int kMax>
int CfgInteger(lua_State* L) {
  JsonSettings* cfg = Settings(L);
  CheckArgCount(L, 1);
  IntegerOption(L, 1, &(cfg->*kField), kMin, kMax);
  cfg->changed = true;
  lua_pushinteger(L, cfg->*kField);
  return 1;
}

template <bool JsonSettings::*kField>
int CfgSwitch(lua_State* L) {
  JsonSettings* cfg = Settings(L);
  CheckArgCount(L, 1);
  if (const int on = SwitchOption(L, 1, false); on >= 0) cfg->*kField = on == 1;
  cfg->changed = true;
  return PushSwitch(L, cfg->*kField);
}

int CfgEncodeInvalidNumbers(lua_State* L) {
  JsonSettings* cfg = Settings(L);
  CheckArgCount(L, 1);
  if (const int on = SwitchOption(L, 1, true); on >= 0) {
    cfg->encode_invalid = on == 0 ? InvalidNumbers::kError
                          : on == 1 ? InvalidNumbers::kRaw
                                    : InvalidNumbers::kNull;
  }
  cfg->changed = true;
  if (cfg->encode_invalid == InvalidNumbers::kNull) {
    lua_pushliteral(L, "null");
    return 1;
  }
  return PushSwitch(L, cfg->encode_invalid == InvalidNumbers::kRaw);
}

// ---- encode -------------------------------------------------------------

void EncodeNumber(lua_State* L, const JsonSettings& cfg, double d, std::string* out) {
  if (!std::isfinite(d)) {
    switch (cfg.encode_invalid) {
      case InvalidNumbers::kError:
        luaL_error(L, "Cannot serialise number: must not be NaN or Inf");
        return;
      case InvalidNumbers::kNull:
        out->append("null");
        return;
      case InvalidNumbers::kRaw:
        out->append(std::isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
        return;
    }
  }
  char buf[40];
  const int n = std::snprintf(buf, sizeof(buf), "%.*g", cfg.precision, d);
  out->append(buf, static_cast<size_t>(n));
}

void EncodeString(lua_State* L, int idx, std::string* out) {
  size_t len;
  const char* s = lua_tolstring(L, idx, &len);
  out->push_back('"');
  for (size_t i = 0; i < len; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const char* escape = nullptr;
    switch (c) {
      case '"': escape = "\\\""; break;
      case '\\': escape = "\\\\"; break;
      case '/': escape = "\\/"; break;
      case '\b': escape = "\\b"; break;
      case '\f': escape = "\\f"; break;
      case '\n': escape = "\\n"; break;
      case '\r': escape = "\\r"; break;
      case '\t': escape = "\\t"; break;
      default: break;
    }
    if (escape != nullptr) {
      out->append(escape);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out->append(buf);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

// The array length of the table at `idx`, or -1 when it is to be an object
// (some key is not a positive integer, or it is an excessively sparse array
// and sparse arrays convert). Raises for excessively sparse arrays.
int ArrayLength(lua_State* L, const JsonSettings& cfg, int idx) {
  double max = 0;
  double items = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TNUMBER) {
      const double k = lua_tonumber(L, -1);
      // A key past INT_MAX (inf included) makes an object, as in lua-cjson.
      if (k == std::floor(k) && k >= 1 && k <= std::numeric_limits<int>::max()) {
        if (k > max) max = k;
        ++items;
        continue;
      }
    }
    lua_pop(L, 1);
    return -1;
  }
  if (cfg.sparse_ratio > 0 && max > items * cfg.sparse_ratio && max > cfg.sparse_safe) {
    if (cfg.sparse_convert) return -1;
    luaL_error(L, "Cannot serialise table: excessively sparse array");
  }
  return static_cast<int>(max);
}

void EncodeValue(lua_State* L, const JsonSettings& cfg, int idx, int depth, std::string* out);

void EncodeTable(lua_State* L, const JsonSettings& cfg, int idx, int depth, std::string* out) {
  if (depth > cfg.encode_max_depth) {
    luaL_error(L, "Cannot serialise, excessive nesting (%d)", depth);
  }
  luaL_checkstack(L, 4, "json encode");
  const int len = ArrayLength(L, cfg, idx);
  if (len > 0) {
    out->push_back('[');
    for (int i = 1; i <= len; ++i) {
      if (i > 1) out->push_back(',');
      lua_rawgeti(L, idx, i);
      EncodeValue(L, cfg, lua_gettop(L), depth + 1, out);
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
      EncodeNumber(L, cfg, lua_tonumber(L, -2), out);
      out->push_back('"');
    } else {
      luaL_error(L, "Cannot serialise %s: table key must be a number or string",
                 luaL_typename(L, -2));
    }
    out->push_back(':');
    EncodeValue(L, cfg, lua_gettop(L), depth + 1, out);
    lua_pop(L, 1);
  }
  out->push_back('}');
}

void EncodeValue(lua_State* L, const JsonSettings& cfg, int idx, int depth, std::string* out) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      out->append("null");
      return;
    case LUA_TBOOLEAN:
      out->append(lua_toboolean(L, idx) ? "true" : "false");
      return;
    case LUA_TNUMBER:
      EncodeNumber(L, cfg, lua_tonumber(L, idx), out);
      return;
    case LUA_TSTRING:
      EncodeString(L, idx, out);
      return;
    case LUA_TTABLE:
      EncodeTable(L, cfg, idx, depth, out);
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
  const JsonSettings& cfg = *Settings(L);
  luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
  std::string* out = NewStringBuffer(L);
  EncodeValue(L, cfg, 1, 1, out);
  lua_pushlstring(L, out->data(), out->size());
  return 1;
}

// ---- decode -------------------------------------------------------------

enum class Tok : uint8_t {
  kObjBegin, kObjEnd, kArrBegin, kArrEnd, kString, kNumber, kBoolean, kNull,
  kColon, kComma, kEnd, kError,
};

const char* TokName(Tok t) {
  static const char* const kNames[] = {
      "T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER",
      "T_BOOLEAN",   "T_NULL",    "T_COLON",     "T_COMMA",   "T_END",    "T_ERROR"};
  return kNames[static_cast<int>(t)];
}

struct Token {
  Tok type = Tok::kEnd;
  size_t index = 0;              // where it starts (0-based)
  const char* error = nullptr;   // kError: what is wrong
  double number = 0;             // kNumber
  bool boolean = false;          // kBoolean
  // kString: the decoded text is in the decoder's scratch buffer.
};

bool StartsWithNoCase(const char* p, const char* word) {
  for (; *word != '\0'; ++p, ++word) {
    if ((*p | 0x20) != *word) return false;
  }
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The text is a Lua string, so s[len] is a NUL: like lua-cjson, the lexer
// treats the first NUL as the end of the text.
struct Decoder {
  lua_State* L;
  const JsonSettings& cfg;
  const char* s;
  size_t pos = 0;
  std::string* scratch;

  [[noreturn]] void Fail(const char* expected, const Token& found) {
    luaL_error(L, "Expected %s but found %s at character %d", expected,
               found.type == Tok::kError ? found.error : TokName(found.type),
               static_cast<int>(found.index + 1));
    __builtin_unreachable();
  }

  static void SetError(Token* t, size_t index, const char* what) {
    t->type = Tok::kError;
    t->index = index;
    t->error = what;
  }

  // Four hex digits at s + at, or -1.
  int Hex4(size_t at) const {
    int v = 0;
    for (size_t i = 0; i < 4; ++i) {
      const int h = HexDigit(s[at + i]);  // stops at the NUL: it is not a digit
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    return v;
  }

  void AppendUtf8(uint32_t cp) {
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

  // A \u escape at s + at (the backslash); returns the characters it took,
  // or 0 when it is invalid (a lone or unpaired surrogate included).
  size_t UnicodeEscape(size_t at) {
    const int hi = Hex4(at + 2);
    if (hi < 0 || (hi >= 0xdc00 && hi < 0xe000)) return 0;
    if (hi < 0xd800 || hi >= 0xdc00) {
      AppendUtf8(static_cast<uint32_t>(hi));
      return 6;
    }
    if (s[at + 6] != '\\' || s[at + 7] != 'u') return 0;
    const int lo = Hex4(at + 8);
    if (lo < 0xdc00 || lo >= 0xe000) return 0;
    AppendUtf8(0x10000 + ((static_cast<uint32_t>(hi) - 0xd800) << 10) +
               (static_cast<uint32_t>(lo) - 0xdc00));
    return 12;
  }

  void LexString(Token* t) {
    scratch->clear();
    size_t p = pos + 1;
    while (true) {
      const char c = s[p];
      if (c == '\0') return SetError(t, p, "unexpected end of string");
      if (c == '"') break;
      if (c != '\\') {
        scratch->push_back(c);
        ++p;
        continue;
      }
      char decoded;
      switch (s[p + 1]) {
        case '"': decoded = '"'; break;
        case '\\': decoded = '\\'; break;
        case '/': decoded = '/'; break;
        case 'b': decoded = '\b'; break;
        case 'f': decoded = '\f'; break;
        case 'n': decoded = '\n'; break;
        case 'r': decoded = '\r'; break;
        case 't': decoded = '\t'; break;
        case 'u': {
          const size_t took = UnicodeEscape(p);
          if (took == 0) return SetError(t, p, "invalid unicode escape code");
          p += took;
          continue;
        }
        default:
          return SetError(t, p, "invalid escape code");
      }
      scratch->push_back(decoded);
      p += 2;
    }
    t->type = Tok::kString;
    pos = p + 1;
  }

  // Whether the text at `p` starts a number (with decode_invalid_numbers,
  // also '+', hexadecimal, inf and nan, which strtod reads).
  bool StartsNumber(const char* p) const {
    if (*p == '-' || (*p >= '0' && *p <= '9')) return true;
    if (!cfg.decode_invalid) return false;
    return *p == '+' || StartsWithNoCase(p, "inf") || StartsWithNoCase(p, "nan");
  }

  // What decode_invalid_numbers off refuses: hexadecimal, leading zeros,
  // inf and nan.
  static bool InvalidJsonNumber(const char* p) {
    if (*p == '-') ++p;
    if (*p == '0') {
      const char next = p[1];
      return (next | 0x20) == 'x' || (next >= '0' && next <= '9');
    }
    return StartsWithNoCase(p, "inf") || StartsWithNoCase(p, "nan");
  }

  void LexNumber(Token* t) {
    const char* start = s + pos;
    if (!cfg.decode_invalid && InvalidJsonNumber(start)) {
      return SetError(t, pos, "invalid number");
    }
    char* end = nullptr;
    const double d = std::strtod(start, &end);
    if (end == start) return SetError(t, pos, "invalid number");
    t->type = Tok::kNumber;
    t->number = d;
    pos += static_cast<size_t>(end - start);
  }

  Token Next() {
    while (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r') ++pos;
    Token t;
    t.index = pos;
    const char c = s[pos];
    auto single = [&](Tok type) {
      t.type = type;
      ++pos;
    };
    switch (c) {
      case '\0': t.type = Tok::kEnd; return t;
      case '{': single(Tok::kObjBegin); return t;
      case '}': single(Tok::kObjEnd); return t;
      case '[': single(Tok::kArrBegin); return t;
      case ']': single(Tok::kArrEnd); return t;
      case ',': single(Tok::kComma); return t;
      case ':': single(Tok::kColon); return t;
      case '"': LexString(&t); return t;
      default: break;
    }
    if (StartsNumber(s + pos)) {
      LexNumber(&t);
    } else if (std::strncmp(s + pos, "true", 4) == 0) {
      t.type = Tok::kBoolean;
      t.boolean = true;
      pos += 4;
    } else if (std::strncmp(s + pos, "false", 5) == 0) {
      t.type = Tok::kBoolean;
      pos += 5;
    } else if (std::strncmp(s + pos, "null", 4) == 0) {
      t.type = Tok::kNull;
      pos += 4;
    } else {
      SetError(&t, pos, "invalid token");
    }
    return t;
  }

  void EnterContainer(int* depth, const Token& t) {
    if (++*depth > cfg.decode_max_depth) {
      luaL_error(L, "Found too many nested data structures (%d) at character %d", *depth,
                 static_cast<int>(t.index + 1));
    }
    luaL_checkstack(L, 4, "json decode");
  }

  void Array(int depth) {
    lua_newtable(L);
    Token t = Next();
    if (t.type == Tok::kArrEnd) return;
    for (int i = 1;; ++i) {
      Value(t, depth);
      lua_rawseti(L, -2, i);
      t = Next();
      if (t.type == Tok::kArrEnd) return;
      if (t.type != Tok::kComma) Fail("comma or array end", t);
      t = Next();
    }
  }

  void Object(int depth) {
    lua_newtable(L);
    Token t = Next();
    if (t.type == Tok::kObjEnd) return;
    while (true) {
      if (t.type != Tok::kString) Fail("object key string", t);
      lua_pushlstring(L, scratch->data(), scratch->size());
      t = Next();
      if (t.type != Tok::kColon) Fail("colon", t);
      Value(Next(), depth);
      lua_rawset(L, -3);
      t = Next();
      if (t.type == Tok::kObjEnd) return;
      if (t.type != Tok::kComma) Fail("comma or object end", t);
      t = Next();
    }
  }

  // Pushes the value that starts with token `t`.
  void Value(const Token& t, int depth) {
    switch (t.type) {
      case Tok::kString:
        lua_pushlstring(L, scratch->data(), scratch->size());
        return;
      case Tok::kNumber:
        lua_pushnumber(L, t.number);
        return;
      case Tok::kBoolean:
        lua_pushboolean(L, t.boolean ? 1 : 0);
        return;
      case Tok::kNull:
        lua_pushlightuserdata(L, nullptr);
        return;
      case Tok::kArrBegin:
        EnterContainer(&depth, t);
        return Array(depth);
      case Tok::kObjBegin:
        EnterContainer(&depth, t);
        return Object(depth);
      default:
        Fail("value", t);
    }
  }
};

int JsonDecode(lua_State* L) {
  const JsonSettings& cfg = *Settings(L);
  luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
  size_t len;
  const char* s = luaL_checklstring(L, 1, &len);
  // A NUL in the first two bytes is how UTF-16 and UTF-32 text looks.
  if (len >= 2 && (s[0] == '\0' || s[1] == '\0')) {
    luaL_error(L, "JSON parser does not support UTF-16 or UTF-32");
  }
  std::string* scratch = NewStringBuffer(L);
  Decoder d{L, cfg, s, 0, scratch};
  d.Value(d.Next(), 0);
  const Token end = d.Next();
  if (end.type != Tok::kEnd) d.Fail("the end", end);
  return 1;
}

int JsonNew(lua_State* L);

// Pushes a new module table with default settings.
void PushModule(lua_State* L) {
  lua_newtable(L);
  auto* cfg = static_cast<JsonSettings*>(lua_newuserdata(L, sizeof(JsonSettings)));
  new (cfg) JsonSettings();  // trivially destructible: no __gc needed
  static const luaL_Reg kFuncs[] = {
      {"encode", JsonEncode},
      {"decode", JsonDecode},
      {"encode_sparse_array", CfgSparseArray},
      {"encode_max_depth", CfgInteger<&JsonSettings::encode_max_depth, 1,
                                      std::numeric_limits<int>::max()>},
      {"decode_max_depth", CfgInteger<&JsonSettings::decode_max_depth, 1,
                                      std::numeric_limits<int>::max()>},
      {"encode_number_precision", CfgInteger<&JsonSettings::precision, 1, 14>},
      {"encode_keep_buffer", CfgSwitch<&JsonSettings::keep_buffer>},
      {"encode_invalid_numbers", CfgEncodeInvalidNumbers},
      {"decode_invalid_numbers", CfgSwitch<&JsonSettings::decode_invalid>},
      {"new", JsonNew},
      {nullptr, nullptr}};
  for (const luaL_Reg* f = kFuncs; f->name != nullptr; ++f) {
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, f->func, 1);
    lua_setfield(L, -3, f->name);
  }
  lua_pop(L, 1);  // the settings
  lua_pushlightuserdata(L, nullptr);
  lua_setfield(L, -2, "null");
  lua_pushliteral(L, "cjson");
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, "2.1.0");
  lua_setfield(L, -2, "_VERSION");
}

int JsonNew(lua_State* L) {
  PushModule(L);
  return 1;
}

}  // namespace

void OpenJsonLibrary(lua_State* L) {
  PushModule(L);
  // Remember the global module's settings for ResetJsonSettings.
  lua_getfield(L, -1, "encode");
  lua_getupvalue(L, -1, 1);
  lua_pushlightuserdata(L, &kGlobalSettingsKey);
  lua_insert(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);  // encode
  lua_setfield(L, LUA_GLOBALSINDEX, "cjson");
}

void ResetJsonSettings(lua_State* L) {
  lua_pushlightuserdata(L, &kGlobalSettingsKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  auto* cfg = static_cast<JsonSettings*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  if (cfg != nullptr && cfg->changed) *cfg = JsonSettings();
}

}  // namespace sluice::server
