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

int StringBufferGc(lua_State* L) {
  static_cast<std::string*>(lua_touserdata(L, 1))->~basic_string();
  return 0;
}

}  // namespace

std::string* NewStringBuffer(lua_State* L) {
  void* mem = lua_newuserdata(L, sizeof(std::string));
  auto* s = new (mem) std::string();
  if (luaL_newmetatable(L, "sluice.string_buffer") != 0) {
    lua_pushcfunction(L, StringBufferGc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return s;
}

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

}  // namespace sluice::server
