"""The cmsgpack and struct libraries scripts see: byte-exact encodings, round
trips, offsets, and the errors of bad input.

Every expectation was checked against redis-server 7.0 (SLUICE_SERVER=
/usr/bin/redis-server), which has both libraries built in.
"""

import pytest

from helpers import RespError

# Lua helpers prepended to the scripts below.
HEX = ("local function hex(s) local t = {} for i = 1, #s do "
       "t[#t + 1] = string.format('%02x', s:byte(i)) end return table.concat(t) end ")
# A canonical text of a Lua value: tables with their keys sorted.
DUMP = """
local function dump(v)
  local t = type(v)
  if t == 'string' then return string.format('%q', v) end
  if t == 'number' then return string.format('%.17g', v) end
  if t ~= 'table' then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return dump(a) < dump(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = dump(k) .. '=' .. dump(v[k]) end
  return '{' .. table.concat(parts, ',') .. '}'
end
local function dumpall(...)
  local parts = {}
  for i = 1, select('#', ...) do parts[i] = dump((select(i, ...))) end
  return table.concat(parts, ' ')
end
"""
# Runs a call under pcall: its dumped results, or 'E:' and the error text.
PROTECT = DUMP + """
local function protect(f, ...)
  local r = {pcall(f, ...)}
  if not r[1] then return 'E:' .. tostring(r[2]) end
  return dumpall(unpack(r, 2, table.maxn(r)))
end
"""


def ev(c, body, *args):
    reply = c.call("EVAL", body, 0, *args)
    if isinstance(reply, RespError):
        raise AssertionError("script failed: %s" % reply)
    return reply


def packed(c, expr):
    return ev(c, HEX + "return hex(cmsgpack.pack(%s))" % expr).decode()


def protected(c, call, *args):
    return ev(c, PROTECT + "return protect(%s)" % call, *args).decode()


# ---- cmsgpack: encoding -------------------------------------------------------------------------

PACK_CASES = [
    ("1", "01"), ("127", "7f"), ("128", "cc80"), ("255", "ccff"), ("256", "cd0100"),
    ("65535", "cdffff"), ("65536", "ce00010000"), ("2^32-1", "ceffffffff"),
    ("4294967296", "cf0000000100000000"), ("1e18", "cf0de0b6b3a7640000"),
    ("2^53", "cf0020000000000000"),
    ("-1", "ff"), ("-32", "e0"), ("-33", "d0df"), ("-128", "d080"), ("-129", "d1ff7f"),
    ("-32768", "d18000"), ("-32769", "d2ffff7fff"), ("-2147483648", "d280000000"),
    ("-2147483649", "d3ffffffff7fffffff"), ("-4294967297", "d3fffffffeffffffff"),
    ("-2^53", "d3ffe0000000000000"), ("-2^63", "d38000000000000000"),
    ("3.0", "03"), ("-0.0", "00"),
    # Non-integral numbers: float32 when exact, else float64.
    ("1.5", "ca3fc00000"), ("0.5", "ca3f000000"), ("0.1", "cb3fb999999999999a"),
    ("1e300", "cb7e37e43c8800759c"), ("1e-50", "cb358dee7a4ad4b81f"),
    ("1e20", "cb4415af1d78b58c40"), ("2^63", "ca5f000000"), ("2^64", "ca5f800000"),
    ("3.4028234663852886e38", "ca7f7fffff"),
    ("1/0", "ca7f800000"), ("-1/0", "caff800000"), ("0/0", "cbfff8000000000000"),
    ("'abc'", "a3616263"), ("''", "a0"),
    ("true", "c3"), ("false", "c2"), ("nil", "c0"),
    ("{1,2,3}", "93010203"), ("{}", "90"), ("{a=1}", "81a16101"),
    ("{1,nil,3}", "8201010303"), ("{[1]=1,[2]=2,[4]=4}", "83010102020404"),
    ("{[0]=1}", "810001"), ("{[-1]=5}", "81ff05"), ("{[true]=1}", "81c301"),
    ("{1.5}", "91ca3fc00000"), ("{[1.5]=1}", "81ca3fc0000001"),
    ("1,2,'x'", "0102a178"),
    ("redis.call, {redis.call}", "c091c0"),  # no MessagePack form: nil
]


@pytest.mark.parametrize("expr,expected", PACK_CASES)
def test_cmsgpack_pack_bytes(c, expr, expected):
    assert packed(c, expr) == expected


def test_cmsgpack_pack_string_and_container_headers(c):
    assert packed(c, "string.rep('a', 31)") == "bf" + "61" * 31
    assert packed(c, "string.rep('a', 32)") == "d920" + "61" * 32
    assert packed(c, "string.rep('a', 255)") == "d9ff" + "61" * 255
    assert ev(c, HEX + "return hex(cmsgpack.pack(string.rep('a', 256))):sub(1, 8)") == b"da010061"
    assert ev(c, HEX + "return hex(cmsgpack.pack(string.rep('x', 70000))):sub(1, 12)") == \
        b"db0001117078"
    assert ev(c, HEX + "local t = {} for i = 1, 16 do t[i] = i end "
                       "return hex(cmsgpack.pack(t)):sub(1, 10)") == b"dc00100102"
    assert ev(c, HEX + "local t = {} for i = 1, 70000 do t[i] = 1 end "
                       "return hex(cmsgpack.pack(t)):sub(1, 12)") == b"dd0001117001"
    assert ev(c, HEX + "local m = {} for i = 1, 16 do m['k' .. i] = i end "
                       "return hex(cmsgpack.pack(m)):sub(1, 6)") == b"de0010"


def test_cmsgpack_pack_nesting_limit(c):
    # Tables nested deeper than 16 become nil; so do cycles.
    assert ev(c, HEX + "local t = {} local x = t for i = 1, 20 do x[1] = {} x = x[1] end "
                       "return hex(cmsgpack.pack(t))") == b"91" * 16 + b"c0"
    assert ev(c, HEX + "local t = {} t[1] = t return hex(cmsgpack.pack(t))") == \
        b"91" * 16 + b"c0"
    assert ev(c, HEX + "local t = {} t.a = t return hex(cmsgpack.pack(t))") == \
        b"81a161" * 16 + b"c0"


def test_cmsgpack_pack_needs_input(c):
    assert protected(c, "cmsgpack.pack") == \
        "E:bad argument #0 to '?' (MessagePack pack needs input.)"
    reply = c.call("EVAL", "return cmsgpack.pack()", 0)
    assert isinstance(reply, RespError)
    assert str(reply).startswith(
        "ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)")


# ---- cmsgpack: decoding -------------------------------------------------------------------------

UNPACK_CASES = [
    (b"", ""),
    (b"\x01\x02\x03", "1 2 3"),
    (b"\xc0\xc2\xc3", "nil false true"),
    (b"\xe0\xff\xd0\x80", "-32 -1 -128"),
    (b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "-1"),  # read as signed
    (b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00", "-9.2233720368547758e+18"),
    (b"\xcd\x01\x00\xce\x00\x01\x00\x00\xd1\xff\x7f\xd2\xff\xff\x7f\xff", "256 65536 -129 -32769"),
    (b"\xca\x3f\xc0\x00\x00\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a", "1.5 0.10000000000000001"),
    (b"\xa3abc\xd9\x01x\xda\x00\x01y\xdb\x00\x00\x00\x01z", '"abc" "x" "y" "z"'),
    (b"\x93\x01\xa1a\x90", '{1=1,2="a",3={}}'),
    (b"\x92\xc0\x01", "{2=1}"),
    (b"\xdc\x00\x01\x05\xdd\x00\x00\x00\x01\x06", "{1=5} {1=6}"),
    (b"\x82\x01\x02\x03\x04", "{1=2,3=4}"),
    (b"\xde\x00\x01\x01\x02\xdf\x00\x00\x00\x01\xa1k\xc3", '{1=2} {"k"=true}'),
    (b"\x81\xa1a\x92\x01\xa1b", '{"a"={1=1,2="b"}}'),
    (b"\x81\xca\x3f\xc0\x00\x00\x05", "{1.5=5}"),
    (b"\x91" * 30 + b"\x01", "{1=" * 30 + "1" + "}" * 30),
]


@pytest.mark.parametrize("data,expected", UNPACK_CASES)
def test_cmsgpack_unpack(c, data, expected):
    assert protected(c, "cmsgpack.unpack, ARGV[1]", data) == expected


BAD_INPUT = [
    (b"\x91", "Missing bytes in input."),
    (b"\x93\x01", "Missing bytes in input."),
    (b"\xd9\x05ab", "Missing bytes in input."),
    (b"\xcb\x01", "Missing bytes in input."),
    (b"\x81\x01", "Missing bytes in input."),
    (b"\xdd\xff\xff\xff\xff", "Missing bytes in input."),
    (b"\xdf\xff\xff\xff\xff", "Missing bytes in input."),
    (b"\xdb\xff\xff\xff\xffab", "Missing bytes in input."),
    (b"\xc1", "Bad data format in input."),
    (b"\x01\xc1", "Bad data format in input."),
    # bin and ext are not decoded.
    (b"\xc4\x03abc", "Bad data format in input."),
    (b"\xc5\x00\x02ab", "Bad data format in input."),
    (b"\xc6\x00\x00\x00\x01z", "Bad data format in input."),
    (b"\xd4\x01\x02", "Bad data format in input."),
    (b"\xd5\x01ab", "Bad data format in input."),
    (b"\xd6\x01abcd", "Bad data format in input."),
    (b"\xd7\x01abcdefgh", "Bad data format in input."),
    (b"\xd8\x01" + b"a" * 16, "Bad data format in input."),
    (b"\xc7\x02\x05ab", "Bad data format in input."),
    (b"\xc8\x00\x01\x01a", "Bad data format in input."),
    (b"\xc9\x00\x00\x00\x01\x01a", "Bad data format in input."),
    (b"\xdd\x00\x00\x00\x05\xc1", "Bad data format in input."),
    (b"\x81\xc0\x01", "table index is nil"),
    (b"\x81\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00\x01", "table index is NaN"),
    (b"\x91" * 5000 + b"\x01", "stack overflow (in function mp_decode_to_lua_array)"),
    (b"\x90" * 100000, "stack overflow (in function mp_decode_to_lua_array)"),
]


@pytest.mark.parametrize("data,error", BAD_INPUT)
def test_cmsgpack_unpack_bad_input(c, data, error):
    assert protected(c, "cmsgpack.unpack, ARGV[1]", data) == "E:" + error


def test_cmsgpack_unpack_too_many_values(c):
    reply = c.call("EVAL", "return #{cmsgpack.unpack(ARGV[1])}", 0, b"\x01" * 100000)
    assert isinstance(reply, RespError)
    assert "stack overflow (too many return values at once; use unpack_one or unpack_limit " \
        "instead.)" in str(reply)
    assert ev(c, "local n, off = 0, 0 repeat local v off, v = cmsgpack.unpack_one(ARGV[1], off) "
                 "n = n + (v and 1 or 0) until off == -1 return n", b"\x01" * 100000) == 100000


def test_cmsgpack_unpack_argument_errors(c):
    assert protected(c, "cmsgpack.unpack") == \
        "E:bad argument #1 to '?' (string expected, got no value)"
    assert protected(c, "cmsgpack.unpack, {}") == \
        "E:bad argument #1 to '?' (string expected, got table)"
    assert protected(c, "cmsgpack.unpack, 1") == "49"  # the string "1"
    assert protected(c, "cmsgpack.unpack_limit, ARGV[1]", "\x01") == \
        "E:bad argument #2 to '?' (number expected, got no value)"
    assert protected(c, "cmsgpack.unpack_one, ARGV[1], 'x'", "\x01") == \
        "E:bad argument #2 to '?' (number expected, got string)"


MSG = b"\x01\xa2ab\x93\x01\x02\x03\xc3"  # 1, "ab", {1, 2, 3}, true: 9 bytes


@pytest.mark.parametrize("call,expected", [
    ("cmsgpack.unpack_one, ARGV[1]", "1 1"),
    ("cmsgpack.unpack_one, ARGV[1], 0", "1 1"),
    ("cmsgpack.unpack_one, ARGV[1], nil", "1 1"),
    ("cmsgpack.unpack_one, ARGV[1], 1", '4 "ab"'),
    ("cmsgpack.unpack_one, ARGV[1], 1.7", '4 "ab"'),
    ("cmsgpack.unpack_one, ARGV[1], 2", "3 97"),  # mid-string: the byte 'a'
    ("cmsgpack.unpack_one, ARGV[1], 4", "8 {1=1,2=2,3=3}"),
    ("cmsgpack.unpack_one, ARGV[1], 8", "-1 true"),
    ("cmsgpack.unpack_one, ARGV[1], 9", "-1"),
    ("cmsgpack.unpack_one, ''", "-1"),
    ("cmsgpack.unpack_one, ARGV[1], 10", "E:Start offset 10 greater than input length 9."),
    ("cmsgpack.unpack_one, ARGV[1], -1",
     "E:Invalid request to unpack with offset of -1 and limit of 9."),
    ("cmsgpack.unpack_limit, ARGV[1], 2", '4 1 "ab"'),
    ("cmsgpack.unpack_limit, ARGV[1], 1.5", "1 1"),
    ("cmsgpack.unpack_limit, ARGV[1], 2, 3", "8 98 {1=1,2=2,3=3}"),
    ("cmsgpack.unpack_limit, ARGV[1], 10", '-1 1 "ab" {1=1,2=2,3=3} true'),
    ("cmsgpack.unpack_limit, ARGV[1], 0", '1 "ab" {1=1,2=2,3=3} true'),  # all, no offset
    ("cmsgpack.unpack_limit, '', 1", "-1"),
    ("cmsgpack.unpack_limit, ARGV[1], -1",
     "E:Invalid request to unpack with offset of 0 and limit of 9."),
    ("cmsgpack.unpack_limit, ARGV[1], -1, 100",
     "E:Invalid request to unpack with offset of 100 and limit of 9."),
    ("cmsgpack.unpack_limit, ARGV[1], 1, 100", "E:Start offset 100 greater than input length 9."),
    ("cmsgpack.unpack_one, '\\145'", "E:Missing bytes in input."),
])
def test_cmsgpack_unpack_one_and_limit(c, call, expected):
    assert protected(c, call, MSG) == expected


def test_cmsgpack_round_trips(c):
    script = PROTECT + """
local values = {
  {1, 2, {3, {4, {5, 'five'}}}, {a = {b = {c = true}}}},
  {name = 'job', data = {attempts = 3, delay = 1.5, tags = {'x', 'y'}}, opts = {}},
  {-1, -200, 70000, -70000, 2^40, -2^40, 0.25, 1e100, string.rep('z', 300)},
  {[1] = 'a', [3] = 'c', [-2] = 'neg', [2.5] = 'frac'},
}
local out = {}
for i, v in ipairs(values) do
  local again = cmsgpack.unpack(cmsgpack.pack(v))
  out[i] = (dump(again) == dump(v)) and 'same' or (dump(v) .. ' became ' .. dump(again))
end
local a, b, c = cmsgpack.unpack(cmsgpack.pack('x', {1}, false))
out[#out + 1] = dumpall(a, b, c)
return out
"""
    assert ev(c, script) == [b"same"] * 4 + [b'"x" {1=1} false']


def test_cmsgpack_bullmq_style_round_trip(c):
    # Scripts pack options in the client and unpack them in Lua, and back.
    opts = b"\x83\xa8attempts\x03\xa5delay\xcd\x03\xe8\xa4lifo\xc2"
    assert protected(c, "cmsgpack.unpack, ARGV[1]", opts) == \
        '{"attempts"=3,"delay"=1000,"lifo"=false}'
    assert ev(c, "local o = cmsgpack.unpack(ARGV[1]) o.delay = o.delay + 1 "
                 "return cmsgpack.unpack(cmsgpack.pack(o)).delay", opts) == 1001


def test_libraries_are_readonly_globals(c):
    for body in ["cmsgpack.pack = nil", "struct.x = 1", "cmsgpack = 1", "struct = nil"]:
        reply = c.call("EVAL", body, 0)
        assert isinstance(reply, RespError)
        assert str(reply).startswith("ERR user_script:1: Attempt to modify a readonly table")
    assert ev(c, "return {type(cmsgpack.unpack_one), type(cmsgpack.unpack_limit), "
                 "type(struct.pack), type(struct.unpack), type(struct.size)}") == \
        [b"function"] * 5
    assert ev(c, "return {cmsgpack._NAME, cmsgpack._VERSION}") == \
        [b"cmsgpack", b"lua-cmsgpack 0.4.0"]


# ---- struct -------------------------------------------------------------------------------------

STRUCT_PACK_CASES = [
    ("'>i', 1", "00000001"), ("'<i', 1", "01000000"), ("'i', -2", "feffffff"),
    ("'>h', -2", "fffe"), ("'<H', 65535", "ffff"), ("'b', -1", "ff"), ("'B', 255", "ff"),
    ("'B', 256", "00"), ("'b', 200", "c8"), ("'b', 1.7", "01"), ("'b', -1.7", "ff"),
    ("'l', 1", "0100000000000000"), ("'>L', 1", "0000000000000001"),
    ("'T', 3", "0300000000000000"), ("'>i3', 0x010203", "010203"), ("'<i3', -1", "ffffff"),
    ("'>i8', -1", "ffffffffffffffff"), ("'>I16', 5", "00" * 15 + "05"),
    ("'<i16', -5", "fb" + "ff" * 7 + "00" * 8), ("'i32', 1", "01" + "00" * 31), ("'i0', 1", ""),
    ("'i01', 1", "01"),
    ("'>I4', 2^32", "00000000"), ("'>I4', -1", "ffffffff"), ("'>i4', 2^31", "80000000"),
    ("'>i4', 3000000000", "b2d05e00"), ("'>I8', 2^63", "8000000000000000"),
    ("'>i8', 2^63", "8000000000000000"), ("'>i8', -2^63", "8000000000000000"),
    ("'>i8', 1e20", "0000000000000000"), ("'>i8', 0/0", "8000000000000000"),
    ("'>i4', 1/0", "00000000"),
    ("'>f', 1.5", "3fc00000"), ("'<d', 1.5", "000000000000f83f"),
    ("'>d', 0.1", "3fb999999999999a"),
    ("'s', 'ab'", "616200"), ("'s', 5", "3500"), ("'c3', 'abcdef'", "616263"),
    ("'c0', 'hello'", "68656c6c6f"), ("'c', 'xy'", "78"), ("'x'", "00"), ("'xxb', 1", "000001"),
    ("'ic0', 2, 'ab'", "020000006162"), ("'bx', 1, 2", "0100"),
    # Alignment with '!': up to the item's size, Redis's arithmetic for odd sizes.
    ("'>!4bi', 1, 2", "0100000000000002"), ("'!bd', 1, 2", "01" + "00" * 13 + "0040"),
    ("'!2bd', 1, 2", "01000000000000000040"), ("'!8bi', 1, 2", "0100000002000000"),
    ("'!bi', 1, 2", "0100000002000000"), ("'<!4 b x i', 1, 2", "0100000002000000"),
    ("'!b i3', 1, 2", "010000020000"), ("'!bbi3', 1, 2, 3", "0102030000"),
    ("'!bi5', 1, 2", "01000000000200000000"), ("'!bi6', 1, 2", "010000000000020000000000"),
    ("'!bbbi6', 1, 2, 3, 4", "0102030000000000040000000000"),
    ("'!bbbi3', 1, 2, 3, 4", "010203040000"), ("'!64bi', 1, 2", "0100000002000000"),
    ("'!1bi', 1, 2", "0102000000"), ("'!bc3', 1, 'abc'", "01616263"),
    ("'!bs', 1, 'a'", "016100"), ("'!bf', 1, 2", "0100000000000040"),
    ("'!bh', 1, 2", "01000200"), ("'!16i', 1", "01000000"),
    ("'!i17', 1", "01" + "00" * 16),
]


@pytest.mark.parametrize("args,expected", STRUCT_PACK_CASES)
def test_struct_pack_bytes(c, args, expected):
    assert ev(c, HEX + "return hex(struct.pack(%s))" % args).decode() == expected


@pytest.mark.parametrize("args,error", [
    ("'i33', 1", "integral size 33 is larger than limit of 32"),
    ("'c3', 'ab'", "bad argument #3 to '?' (string too short)"),
    ("'bc3', 1, 'ab'", "bad argument #4 to '?' (string too short)"),
    ("'c2147483647', 'x'", "bad argument #3 to '?' (string too short)"),
    ("'!3bi', 1, 2", "alignment 3 is not a power of 2"),
    ("'!0bi', 1, 2", "alignment 0 is not a power of 2"),
    ("'!20bi', 1, 2", "alignment 20 is not a power of 2"),
    ("'z', 1", "bad argument #1 to '?' (invalid format option 'z')"),
    ("'=i', 1", "bad argument #1 to '?' (invalid format option '=')"),
    ("'1', 1", "bad argument #1 to '?' (invalid format option '1')"),
    ("'i', 'x'", "bad argument #2 to '?' (number expected, got string)"),
    ("'i'", "bad argument #2 to '?' (number expected, got nil)"),
    ("'bb', 1", "bad argument #3 to '?' (number expected, got nil)"),
    ("'>i99999999999', 1", "integral size overflow"),
    ("'c99999999999', 'x'", "integral size overflow"),
    ("'!2147483648b', 1", "integral size overflow"),
])
def test_struct_pack_errors(c, args, error):
    assert protected(c, "struct.pack, " + args) == "E:" + error


@pytest.mark.parametrize("args,expected", [
    ("'>i', '\\0\\0\\0\\1'", "1 5"), ("'<i', '\\1\\0\\0\\0'", "1 5"),
    ("'b', '\\255'", "-1 2"), ("'B', '\\255'", "255 2"), ("'>h', '\\255\\254'", "-2 3"),
    ("'<i3', '\\255\\255\\255'", "-1 4"), ("'<I3', '\\255\\255\\255'", "16777215 4"),
    ("'>i8', string.rep('\\255', 8)", "-1 9"),
    ("'>I8', string.rep('\\255', 8)", "1.8446744073709552e+19 9"),
    ("'>i9', '\\0\\0\\0\\0\\0\\0\\0\\0\\1'", "1 10"),
    ("'>i9', '\\1\\0\\0\\0\\0\\0\\0\\0\\1'", "1 10"),
    ("'>i9', string.rep('\\255', 9)", "-1 10"),
    ("'s', 'ab\\0cd'", '"ab" 4'), ("'c2', 'abc'", '"ab" 3'), ("'c', 'ab'", '"a" 2'),
    ("'bc0', '\\2abc'", '"ab" 4'), ("'ic0', '\\2\\0\\0\\0ab'", '"ab" 7'),
    ("'Bxc0', '\\1xab'", '"a" 4'), ("'Bc0b', '\\0\\7'", '"" 7 3'),
    ("'sc0', '5\\0abcdefg'", '"abcde" 8'), ("'c1c0', '5abcdefg'", '"abcde" 7'),
    ("'b', 'abc', 2", "98 3"), ("'b', 'abc', 3", "99 4"),
    ("'>f', '\\63\\192\\0\\0'", "1.5 5"), ("'d', 'abcdefgh'", "8.5408832230361244e+194 9"),
    ("'x', 'a'", "2"), ("'!4bi', '\\1\\0\\0\\0\\0\\0\\0\\2'", "1 33554432 9"),
    ("'!bi', '\\1\\0\\0\\0\\2\\0\\0\\0'", "1 2 9"), ("'bb', '\\1\\2'", "1 2 3"),
    ("'>i2i2', '\\0\\1'", "E:bad argument #2 to '?' (data string too short)"),
    ("'>i', '\\0\\0\\1'", "E:bad argument #2 to '?' (data string too short)"),
    ("'c2', 'a'", "E:bad argument #2 to '?' (data string too short)"),
    ("'Bc0', '\\5ab'", "E:bad argument #2 to '?' (data string too short)"),
    ("'!4bd', '\\1'", "E:bad argument #2 to '?' (data string too short)"),
    ("'x', ''", "E:bad argument #2 to '?' (data string too short)"),
    ("'b', 'abc', 4", "E:bad argument #2 to '?' (data string too short)"),
    ("'b', 'abc', -1", "E:bad argument #2 to '?' (data string too short)"),
    ("'b', 'abc', 0", "E:bad argument #3 to '?' (offset must be 1 or greater)"),
    ("'s', 'abc'", "E:unfinished string in data"), ("'s', 'a', 2", "E:unfinished string in data"),
    ("'s', 'a', 3", "E:bad argument #2 to '?' (data string too short)"),
    ("'bc0', '\\255abc'", "E:bad argument #2 to '?' (data string too short)"),
    ("'dc0', struct.pack('d', 2.7) .. 'abc'", '"ab" 11'),
    ("'Tc0', string.rep('\\255', 8) .. 'abc'", '"" 9'),  # 2^64 converts to 0
    ("'c0', 'abc'", "E:format 'c0' needs a previous size"),
    ("'c0', 'abc', 1", "E:format 'c0' needs a previous size"),
    ("'sc0', 'ab\\0cd'", "E:format 'c0' needs a previous size"),
    ("'z', 'a'", "E:bad argument #1 to '?' (invalid format option 'z')"),
    ("'i'", "E:bad argument #2 to '?' (string expected, got no value)"),
    ("'b', nil", "E:bad argument #2 to '?' (string expected, got nil)"),
    ("'b', 'a', 'x'", "E:bad argument #3 to '?' (number expected, got string)"),
])
def test_struct_unpack(c, args, expected):
    assert protected(c, "struct.unpack, " + args) == expected


@pytest.mark.parametrize("fmt,expected", [
    ("i", "4"), ("bi", "5"), ("!bi", "8"), ("!bd", "16"), ("!8bd", "16"), ("!4bh", "4"),
    ("!bi3", "6"), ("c5", "5"), ("c", "1"), ("bxxh", "5"), ("", "0"), ("i3b", "4"),
    (" b ", "1"), ("b2", "1"), ("i0", "0"), ("!", "0"),
    ("z", "0"), ("q", "0"), ("Z", "0"), ("1", "0"),  # unknown letters and digits count 0
    ("s", "E:bad argument #1 to '?' (option 's' has no fixed size)"),
    ("c0", "E:bad argument #1 to '?' (option 'c0' has no fixed size)"),
    ("bc0", "E:bad argument #1 to '?' (option 'c0' has no fixed size)"),
    ("i40", "E:integral size 40 is larger than limit of 32"),
    ("=", "E:bad argument #1 to '?' (invalid format option '=')"),
    ("#", "E:bad argument #1 to '?' (invalid format option '#')"),
    ("!3", "E:alignment 3 is not a power of 2"),
])
def test_struct_size(c, fmt, expected):
    assert protected(c, "struct.size, ARGV[1]", fmt) == expected


def test_struct_round_trips(c):
    script = PROTECT + """
local fmts = {
  {'>bBhHiIlLfd', -5, 250, -300, 60000, -70000, 4000000000, -2^40, 2^50, 0.5, 0.1},
  {'<!4 b i3 h c4 s', 1, -2, 3, 'abcd', 'zero terminated'},
  {'>I5i7', 2^39 + 7, -2^50},
  {'Bc0', 3, 'xyz'},
}
local out = {}
for i, f in ipairs(fmts) do
  local s = struct.pack(unpack(f))
  local back = {struct.unpack(f[1], s)}
  local next_pos = table.remove(back)
  local want = {unpack(f, 2)}
  if f[1] == 'Bc0' then want = {'xyz'} end
  local ok = dump(back) == dump(want) and next_pos == #s + 1
  if f[1] ~= 'Bc0' and not f[1]:find('s') then ok = ok and struct.size(f[1]) == #s end
  out[i] = ok and 'same' or (dump(want) .. ' became ' .. dump(back) .. ' at ' .. next_pos)
end
return out
"""
    assert ev(c, script) == [b"same"] * 4


@pytest.mark.parametrize("args,error", [
    ("'s'", "bad argument #2 to '?' (string expected, got nil)"),
    ("'bc2', 1", "bad argument #3 to '?' (string expected, got nil)"),
    ("'f'", "bad argument #2 to '?' (number expected, got nil)"),
    # Past the output buffer's first block: still the missing argument.
    ("'c9000i', string.rep('a', 9000)", "bad argument #3 to '?' (number expected, got nil)"),
])
def test_struct_pack_missing_values(c, args, error):
    assert protected(c, "struct.pack, " + args) == "E:" + error


# ---- bit ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,expected", [
    ("-2147483648", "ABCDEF12"), ("-2^31-1", "abcdef12"), ("2^31", "ABCDEF12"), ("-8", "ABCDEF12"),
    ("-3", "F12"), ("9", "abcdef12"), ("2147483647", "abcdef12"), ("0", ""), ("2^32", ""),
])
def test_bit_tohex_widths(c, n, expected):
    # bit.tohex(x, -2^31) once crashed the server (LuaBitOp's CVE-2024-31449 shape).
    assert ev(c, "return bit.tohex(0xabcdef12, %s)" % n).decode() == expected
