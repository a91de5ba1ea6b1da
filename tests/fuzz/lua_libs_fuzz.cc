// libFuzzer target for the cjson and cmsgpack decoders and the struct
// library, which decode untrusted bytes inside a Lua VM. Input: the first byte picks the
// unpack_limit limit; then a struct format up to the first NUL, and the whole
// input is the data. Invariants: no crash or sanitizer report, every call
// returns or raises a Lua error, and what cmsgpack.unpack decodes packs again
// into a message that decodes (but for keys nested past the pack limit,
// which pack as nil), and what cjson.decode decodes encodes again into text
// that decodes (but for inf and nan, which encode only as an error).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "server/scripting/lua_libs.h"

extern "C" {
#include <lauxlib.h>
#include <lualib.h>
}

namespace {

constexpr const char* kScript = R"(
local data, limit, fmt = ...
local values = {pcall(cmsgpack.unpack, data)}
if values[1] and table.maxn(values) > 1 and table.maxn(values) < 200 then
  local again = cmsgpack.pack(unpack(values, 2, table.maxn(values)))
  local ok, err = pcall(cmsgpack.unpack, again)
  -- A table key nested past the pack limit packs as nil: the one failure allowed.
  if not ok and err ~= 'table index is nil' then error('repacked message does not decode: ' .. tostring(err), 0) end
end
local offset = 0
for _ = 1, 64 do
  local r = {pcall(cmsgpack.unpack_limit, data, limit, offset)}
  if not r[1] or r[2] == -1 or limit == 0 then break end
  offset = r[2]
end
pcall(cmsgpack.unpack_one, data, limit)
pcall(struct.size, fmt)
local s = {pcall(struct.unpack, fmt, data)}
if s[1] then pcall(struct.pack, fmt, unpack(s, 2, table.maxn(s))) end
pcall(struct.unpack, fmt, data, limit + 1)
cjson.decode_invalid_numbers(limit % 2 == 0)
local ok, v = pcall(cjson.decode, data)
if ok then
  local eok, text = pcall(cjson.encode, v)
  if eok then
    local dok, err = pcall(cjson.decode, text)
    if not dok then error('re-encoded JSON does not decode: ' .. tostring(err), 0) end
  elseif not string.find(text, 'NaN or Inf', 1, true) then
    error('decoded JSON does not encode: ' .. tostring(text), 0)
  end
end
)";

lua_State* Vm() {
  static lua_State* L = [] {
    lua_State* s = luaL_newstate();
    luaL_openlibs(s);
    sluice::server::OpenJsonLibrary(s);
    sluice::server::OpenMsgpackLibrary(s);
    sluice::server::OpenStructLibrary(s);
    if (luaL_loadstring(s, kScript) != 0) std::abort();
    lua_setfield(s, LUA_REGISTRYINDEX, "sluice.fuzz_script");
    return s;
  }();
  return L;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  lua_State* L = Vm();
  const auto* text = reinterpret_cast<const char*>(data);
  const void* nul = std::memchr(text, '\0', size);
  const size_t fmt_len = nul ? static_cast<size_t>(static_cast<const char*>(nul) - text) : size;
  lua_getfield(L, LUA_REGISTRYINDEX, "sluice.fuzz_script");
  lua_pushlstring(L, text, size);
  lua_pushinteger(L, data[0] % 8);
  lua_pushlstring(L, text, fmt_len < 64 ? fmt_len : 64);
  if (lua_pcall(L, 3, 0, 0) != 0) {
    // Only the repack invariant raises outside a pcall.
    std::fprintf(stderr, "lua_libs_fuzz: %s\n", lua_tostring(L, -1));
    std::abort();
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
