#pragma once
// The helper libraries Redis exposes to scripts, written for sluice:
//   bit    — LuaBitOp's functions on 32-bit integers (tobit, tohex, bnot,
//            band, bor, bxor, lshift, rshift, arshift, rol, ror, bswap).
//   cjson  — encode / decode between Lua values and JSON, with cjson.null,
//            lua-cjson 2.1.0's settings functions, cjson.new and its error
//            texts (lua_cjson.cc).
//   cmsgpack — MessagePack pack / unpack / unpack_one / unpack_limit
//            (lua_cmsgpack.cc), with Redis's encoding choices and errors.
//   struct — pack / unpack / size of binary records (lua_struct.cc).
// Each Open* leaves the library table as a global of that name.

#include <string>

extern "C" {
#include <lua.h>
}

namespace sluice::server {

// Pushes a userdata holding an empty std::string that the garbage collector
// destroys, and returns the string: output that grows across Lua calls
// (which may raise, a longjmp) lives there, so an error cannot leak it.
std::string* NewStringBuffer(lua_State* L);

void OpenBitLibrary(lua_State* L);
void OpenJsonLibrary(lua_State* L);
// Puts the global cjson module's settings back to their defaults when a
// script changed them; called before each script runs.
void ResetJsonSettings(lua_State* L);
void OpenMsgpackLibrary(lua_State* L);
void OpenStructLibrary(lua_State* L);

}  // namespace sluice::server
