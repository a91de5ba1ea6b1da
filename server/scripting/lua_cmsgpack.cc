// The cmsgpack library for scripts: MessagePack encoding of Lua values, with
// the choices Redis's scripts see (see lua_libs.h and docs/scripting.md).

#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "server/scripting/lua_libs.h"

extern "C" {
#include <lauxlib.h>
}

// As in lua_libs.cc, a Lua error is a longjmp: output grows in a std::string
// owned by a userdata, never in a C++ object on the stack.

namespace sluice::server {
namespace {

// Tables nested deeper than this are packed as nil.
constexpr int kMaxPackNesting = 16;
constexpr const char* kMissingBytes = "Missing bytes in input.";
constexpr const char* kBadFormat = "Bad data format in input.";

// ---- encoding -----------------------------------------------------------

void PutBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutTagged(std::string* out, uint8_t tag, uint64_t v, int bytes) {
  out->push_back(static_cast<char>(tag));
  PutBigEndian(out, v, bytes);
}

void PackInteger(int64_t v, std::string* out) {
  if (v >= 0) {
    const auto u = static_cast<uint64_t>(v);
    if (u <= 0x7f) {
      out->push_back(static_cast<char>(u));
    } else if (u <= 0xff) {
      PutTagged(out, 0xcc, u, 1);
    } else if (u <= 0xffff) {
      PutTagged(out, 0xcd, u, 2);
    } else if (u <= 0xffffffffULL) {
      PutTagged(out, 0xce, u, 4);
    } else {
      PutTagged(out, 0xcf, u, 8);
    }
    return;
  }
  const auto bits = static_cast<uint64_t>(v);
  if (v >= -32) {
    out->push_back(static_cast<char>(bits & 0xff));
  } else if (v >= -128) {
    PutTagged(out, 0xd0, bits & 0xff, 1);
  } else if (v >= -32768) {
    PutTagged(out, 0xd1, bits & 0xffff, 2);
  } else if (v >= INT32_MIN) {
    PutTagged(out, 0xd2, bits & 0xffffffffULL, 4);
  } else {
    PutTagged(out, 0xd3, bits, 8);
  }
}

void PackNumber(double d, std::string* out) {
  // Integral values in the int64 range take the smallest integer form.
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && std::trunc(d) == d) {
    PackInteger(static_cast<int64_t>(d), out);
    return;
  }
  const auto f = static_cast<float>(d);
  if (static_cast<double>(f) == d) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof(bits));
    PutTagged(out, 0xca, bits, 4);
  } else {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof(bits));
    PutTagged(out, 0xcb, bits, 8);
  }
}

void PackString(const char* s, size_t len, std::string* out) {
  if (len <= 31) {
    out->push_back(static_cast<char>(0xa0 | len));
  } else if (len <= 0xff) {
    PutTagged(out, 0xd9, len, 1);
  } else if (len <= 0xffff) {
    PutTagged(out, 0xda, len, 2);
  } else {
    PutTagged(out, 0xdb, len, 4);
  }
  out->append(s, len);
}

void PackHeader(std::string* out, size_t n, uint8_t fix, uint8_t tag16, uint8_t tag32) {
  if (n <= 15) {
    out->push_back(static_cast<char>(fix | n));
  } else if (n <= 0xffff) {
    PutTagged(out, tag16, n, 2);
  } else {
    PutTagged(out, tag32, n, 4);
  }
}

// The length n when the table's keys are exactly 1..n, else -1.
int64_t ArrayLength(lua_State* L, int idx) {
  int64_t count = 0;
  double max = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) {
      lua_pop(L, 1);
      return -1;
    }
    const double k = lua_tonumber(L, -1);
    if (k < 1 || std::floor(k) != k) {
      lua_pop(L, 1);
      return -1;
    }
    ++count;
    if (k > max) max = k;
  }
  return max == static_cast<double>(count) ? count : -1;
}

void PackValue(lua_State* L, int idx, int level, std::string* out);

void PackTable(lua_State* L, int idx, int level, std::string* out) {
  luaL_checkstack(L, 3, "cmsgpack: table too deep");
  const int64_t n = ArrayLength(L, idx);
  if (n >= 0) {
    PackHeader(out, static_cast<size_t>(n), 0x90, 0xdc, 0xdd);
    for (int64_t i = 1; i <= n; ++i) {
      lua_rawgeti(L, idx, static_cast<int>(i));
      PackValue(L, lua_gettop(L), level + 1, out);
      lua_pop(L, 1);
    }
    return;
  }
  size_t pairs = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    ++pairs;
  }
  PackHeader(out, pairs, 0x80, 0xde, 0xdf);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    const int top = lua_gettop(L);
    PackValue(L, top - 1, level + 1, out);
    PackValue(L, top, level + 1, out);
    lua_pop(L, 1);
  }
}

void PackValue(lua_State* L, int idx, int level, std::string* out) {
  switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
      out->push_back(static_cast<char>(lua_toboolean(L, idx) ? 0xc3 : 0xc2));
      return;
    case LUA_TNUMBER:
      PackNumber(lua_tonumber(L, idx), out);
      return;
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, idx, &len);
      PackString(s, len, out);
      return;
    }
    case LUA_TTABLE:
      if (level < kMaxPackNesting) {
        PackTable(L, idx, level, out);
        return;
      }
      break;
    default:
      break;
  }
  out->push_back(static_cast<char>(0xc0));  // nil, and what has no MessagePack form
}

int MsgpackPack(lua_State* L) {
  const int n = lua_gettop(L);
  if (n == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  std::string* out = NewStringBuffer(L);
  for (int i = 1; i <= n; ++i) PackValue(L, i, 0, out);
  lua_pushlstring(L, out->data(), out->size());
  return 1;
}

// ---- decoding -----------------------------------------------------------

struct Reader {
  const uint8_t* data;
  size_t len;
  size_t pos;
};

const uint8_t* Take(lua_State* L, Reader* r, size_t n) {
  if (r->len - r->pos < n) luaL_error(L, "%s", kMissingBytes);
  const uint8_t* p = r->data + r->pos;
  r->pos += n;
  return p;
}

uint64_t TakeBigEndian(lua_State* L, Reader* r, int bytes) {
  const uint8_t* p = Take(L, r, static_cast<size_t>(bytes));
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

void DecodeValue(lua_State* L, Reader* r);

void DecodeArray(lua_State* L, Reader* r, uint64_t n) {
  // Each level holds its table and the pending index: about 4000 levels fit
  // in Lua's stack, about as many as in Redis.
  luaL_checkstack(L, 2, "in function mp_decode_to_lua_array");
  // Every element takes a byte at least: never preallocate past the input.
  const uint64_t hint = n < r->len - r->pos ? n : r->len - r->pos;
  lua_createtable(L, static_cast<int>(hint < 1u << 20 ? hint : 1u << 20), 0);
  for (uint64_t i = 1; i <= n; ++i) {
    lua_pushnumber(L, static_cast<double>(i));
    DecodeValue(L, r);
    lua_rawset(L, -3);
  }
}

void DecodeMap(lua_State* L, Reader* r, uint64_t n) {
  luaL_checkstack(L, 3, "too many return values at once; use unpack_one or unpack_limit instead.");
  lua_newtable(L);
  for (uint64_t i = 0; i < n; ++i) {
    DecodeValue(L, r);
    DecodeValue(L, r);
    lua_rawset(L, -3);
  }
}

void DecodeString(lua_State* L, Reader* r, uint64_t n) {
  const uint8_t* p = Take(L, r, static_cast<size_t>(n));
  lua_pushlstring(L, reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

void DecodeValue(lua_State* L, Reader* r) {
  const uint8_t tag = *Take(L, r, 1);
  if (tag <= 0x7f) {
    lua_pushnumber(L, tag);
  } else if (tag <= 0x8f) {
    DecodeMap(L, r, tag & 0x0f);
  } else if (tag <= 0x9f) {
    DecodeArray(L, r, tag & 0x0f);
  } else if (tag <= 0xbf) {
    DecodeString(L, r, tag & 0x1f);
  } else if (tag >= 0xe0) {
    lua_pushnumber(L, static_cast<int8_t>(tag));
  } else {
    switch (tag) {
      case 0xc0:
        lua_pushnil(L);
        break;
      case 0xc2:
      case 0xc3:
        lua_pushboolean(L, tag == 0xc3);
        break;
      case 0xca: {
        const auto bits = static_cast<uint32_t>(TakeBigEndian(L, r, 4));
        float f;
        std::memcpy(&f, &bits, sizeof(f));
        lua_pushnumber(L, f);
        break;
      }
      case 0xcb: {
        const uint64_t bits = TakeBigEndian(L, r, 8);
        double d;
        std::memcpy(&d, &bits, sizeof(d));
        lua_pushnumber(L, d);
        break;
      }
      case 0xcc:
      case 0xcd:
      case 0xce:
        lua_pushnumber(L, static_cast<double>(TakeBigEndian(L, r, 1 << (tag - 0xcc))));
        break;
      case 0xcf:  // read as signed, as Redis does
        lua_pushnumber(L, static_cast<double>(static_cast<int64_t>(TakeBigEndian(L, r, 8))));
        break;
      case 0xd0:
        lua_pushnumber(L, static_cast<int8_t>(TakeBigEndian(L, r, 1)));
        break;
      case 0xd1:
        lua_pushnumber(L, static_cast<int16_t>(TakeBigEndian(L, r, 2)));
        break;
      case 0xd2:
        lua_pushnumber(L, static_cast<int32_t>(TakeBigEndian(L, r, 4)));
        break;
      case 0xd3:
        lua_pushnumber(L, static_cast<double>(static_cast<int64_t>(TakeBigEndian(L, r, 8))));
        break;
      case 0xd9:
      case 0xda:
      case 0xdb:
        DecodeString(L, r, TakeBigEndian(L, r, 1 << (tag - 0xd9)));
        break;
      case 0xdc:
      case 0xdd:
        DecodeArray(L, r, TakeBigEndian(L, r, tag == 0xdc ? 2 : 4));
        break;
      case 0xde:
      case 0xdf:
        DecodeMap(L, r, TakeBigEndian(L, r, tag == 0xde ? 2 : 4));
        break;
      default:  // 0xc1, and bin / ext, which Redis's cmsgpack does not decode
        luaL_error(L, "%s", kBadFormat);
    }
  }
}

// Decodes up to limit values (0: all) from offset; with a limit, the next
// offset (-1 at the end) comes first.
int Unpack(lua_State* L, lua_Integer limit, lua_Integer offset) {
  size_t len;
  const char* s = luaL_checklstring(L, 1, &len);
  if (offset < 0 || limit < 0) {
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                      static_cast<int>(offset), static_cast<int>(len));
  }
  if (static_cast<size_t>(offset) > len) {
    return luaL_error(L, "Start offset %d greater than input length %d.", static_cast<int>(offset),
                      static_cast<int>(len));
  }
  Reader r{reinterpret_cast<const uint8_t*>(s), len, static_cast<size_t>(offset)};
  int count = 0;
  while (r.pos < r.len && (limit == 0 || count < limit)) {
    luaL_checkstack(L, 1,
                    "too many return values at once; use unpack_one or unpack_limit instead.");
    DecodeValue(L, &r);
    ++count;
  }
  if (limit == 0) return count;
  lua_pushnumber(L, r.pos == r.len ? -1.0 : static_cast<double>(r.pos));
  lua_insert(L, -(count + 1));
  return count + 1;
}

int MsgpackUnpack(lua_State* L) { return Unpack(L, 0, 0); }
int MsgpackUnpackOne(lua_State* L) { return Unpack(L, 1, luaL_optinteger(L, 2, 0)); }
int MsgpackUnpackLimit(lua_State* L) {
  return Unpack(L, luaL_checkinteger(L, 2), luaL_optinteger(L, 3, 0));
}

}  // namespace

void OpenMsgpackLibrary(lua_State* L) {
  static const luaL_Reg kFuncs[] = {{"pack", MsgpackPack},
                                    {"unpack", MsgpackUnpack},
                                    {"unpack_one", MsgpackUnpackOne},
                                    {"unpack_limit", MsgpackUnpackLimit},
                                    {nullptr, nullptr}};
  luaL_register(L, "cmsgpack", kFuncs);
  lua_pushliteral(L, "cmsgpack");
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, "lua-cmsgpack 0.4.0");  // the version scripts see in Redis 7
  lua_setfield(L, -2, "_VERSION");
  lua_pop(L, 1);
}

}  // namespace sluice::server
