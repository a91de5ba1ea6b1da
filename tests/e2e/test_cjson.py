"""cjson in scripts: lua-cjson 2.1.0's behaviour as Redis embeds it.

Decoding (the tokens an error names and the character it points at, what
numbers strtod accepts, escapes and surrogates), encoding (number precision,
sparse arrays, nesting, key types), and the settings functions and cjson.new.
Every expectation was recorded from redis-server 7.0 and the file passes
against it (SLUICE_SERVER=/usr/bin/redis-server). Scripts that change settings
do it on a cjson.new() instance, so that none leaks into the next script on
Redis (which keeps the global module's settings until SCRIPT FLUSH).
"""

import pytest
import redis


class ERR:
    """An expected error reply: its text before Redis's ' script: ...' suffix."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return "ERR(%r)" % self.text


def run(rb, script, *args):
    try:
        return rb.eval(script, 0, *args)
    except redis.ResponseError as e:
        return ERR(str(e).split(" script:")[0])


def check(got, expected):
    if isinstance(expected, ERR):
        assert isinstance(got, ERR), got
        assert got.text == expected.text
    else:
        assert got == expected


# Decodes ARGV[1]; a table comes back re-encoded, null as 'NULL'.
DECODE = ("local v = cjson.decode(ARGV[1]) if type(v)=='table' then return cjson.encode(v) end "
          "if v == cjson.null then return 'NULL' end return tostring(v)")
# The same with decode_invalid_numbers off, on a fresh instance.
DECODE_STRICT = ("local c = cjson.new() c.decode_invalid_numbers(false) local v = c.decode(ARGV[1]) "
                 "if type(v)=='table' then return c.encode(v) end "
                 "if v == c.null then return 'NULL' end return tostring(v)")

DECODE_CASES = [
    ('[1,2,3]', b'[1,2,3]'),
    ('{"a":[1,2,{"b":null}]}', b'{"a":[1,2,{"b":null}]}'),
    ('"\\u00e9"', b'\xc3\xa9'),
    ('"\\ud83d\\ude00"', b'\xf0\x9f\x98\x80'),
    ('"\\u0000x"', b'\x00x'),
    ('"\\/"', b'/'),
    ('"\\b\\f\\n\\r\\t"', b'\x08\x0c\n\r\t'),
    ('"a\x01b"', b'a\x01b'),
    (b'"\xc3\xbf"', b'\xc3\xbf'),
    ('[true,false,null]', b'[true,false,null]'),
    ('{"":1}', b'{"":1}'),
    ('\t[1]\n', b'[1]'),
    ('[]', b'{}'),
    ('{}', b'{}'),
    ('null', b'NULL'),
    ('true', b'true'),
    ('"abc', ERR('user_script:1: Expected value but found unexpected end of string at character 5')),
    ('["abc', ERR('user_script:1: Expected value but found unexpected end of string at character 6')),
    ('{"abc', ERR('user_script:1: Expected object key string but found unexpected end of string at character 6')),
    ('  "\\x"', ERR('user_script:1: Expected value but found invalid escape code at character 4')),
    ('["\\x"]', ERR('user_script:1: Expected value but found invalid escape code at character 3')),
    ('"ab\\u12"', ERR('user_script:1: Expected value but found invalid unicode escape code at character 4')),
    ('"\\u00zz"', ERR('user_script:1: Expected value but found invalid unicode escape code at character 2')),
    ('"\\ud800"', ERR('user_script:1: Expected value but found invalid unicode escape code at character 2')),
    ('"\\ud800x"', ERR('user_script:1: Expected value but found invalid unicode escape code at character 2')),
    ('"\\ud800\\u0041"', ERR('user_script:1: Expected value but found invalid unicode escape code at character 2')),
    ('"\\udc00"', ERR('user_script:1: Expected value but found invalid unicode escape code at character 2')),
    ('"\\U0041"', ERR('user_script:1: Expected value but found invalid escape code at character 2')),
    ('"abc\\', ERR('user_script:1: Expected value but found invalid escape code at character 5')),
    ('"\\u', ERR('user_script:1: Expected value but found invalid unicode escape code at character 2')),
    ('"\\ud800\\', ERR('user_script:1: Expected value but found invalid unicode escape code at character 2')),
    ('"\\ud800\\udc0', ERR('user_script:1: Expected value but found invalid unicode escape code at character 2')),
    ('"ab\\"', ERR('user_script:1: Expected value but found unexpected end of string at character 6')),
    ('"\\ud800\\ud800"', ERR('user_script:1: Expected value but found invalid unicode escape code at character 2')),
    ('["a",  "\\q"]', ERR('user_script:1: Expected value but found invalid escape code at character 9')),
    ('{"a":"\\q"}', ERR('user_script:1: Expected value but found invalid escape code at character 7')),
    ('{"\\q":1}', ERR('user_script:1: Expected object key string but found invalid escape code at character 3')),
    ('"a\x00b"', ERR('user_script:1: Expected value but found unexpected end of string at character 3')),
    ('\x00', ERR('user_script:1: Expected value but found T_END at character 1')),
    ('[1]\x00', b'[1]'),
    ('nul\x00', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('1\x002', ERR('user_script:1: JSON parser does not support UTF-16 or UTF-32')),
    ('\x001', ERR('user_script:1: JSON parser does not support UTF-16 or UTF-32')),
    ('+1', b'1'),
    ('+', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('-', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('--1', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('- 1', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('-a', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('1e', ERR('user_script:1: Expected the end but found invalid token at character 2')),
    ('1e+', ERR('user_script:1: Expected the end but found invalid token at character 2')),
    ('1.', b'1'),
    ('.5', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('01', b'1'),
    ('00', b'0'),
    ('0x10', b'16'),
    ('0X1f', b'31'),
    ('-0x10', b'-16'),
    ('0x', ERR('user_script:1: Expected the end but found invalid token at character 2')),
    ('1x', ERR('user_script:1: Expected the end but found invalid token at character 2')),
    ('1.5.5', ERR('user_script:1: Expected the end but found invalid token at character 4')),
    ('inf', b'inf'),
    ('INF', b'inf'),
    ('infinity', b'inf'),
    ('-Infinity', b'-inf'),
    ('nan', b'nan'),
    ('NaN', b'nan'),
    ('nanx', ERR('user_script:1: Expected the end but found invalid token at character 4')),
    ('1e999', b'inf'),
    ('-1e999', b'-inf'),
    ('1e-999', b'0'),
    ('-0', b'-0'),
    ('-0.0', b'-0'),
    ('1E+2', b'100'),
    ('12345678901234567890', b'1.2345678901235e+19'),
    ('0x1p3', b'8'),
    ('-.5', b'-0.5'),
    ('0x1g', ERR('user_script:1: Expected the end but found invalid token at character 4')),
    ('1_0', ERR('user_script:1: Expected the end but found invalid token at character 2')),
    ('iNf', b'inf'),
    ('in', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('na', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('n', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('i', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('[n]', ERR('user_script:1: Expected value but found invalid token at character 2')),
    ('-i', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('0001.5', b'1.5'),
    ('[01]', b'[1]'),
    ('1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111', b'inf'),
    ('[1,2', ERR('user_script:1: Expected comma or array end but found T_END at character 5')),
    ('{"a"', ERR('user_script:1: Expected colon but found T_END at character 5')),
    ('{"a":1', ERR('user_script:1: Expected comma or object end but found T_END at character 7')),
    ('{"a":1 "b"', ERR('user_script:1: Expected comma or object end but found T_STRING at character 8')),
    ('tru', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('true1', ERR('user_script:1: Expected the end but found T_NUMBER at character 5')),
    ('truex', ERR('user_script:1: Expected the end but found invalid token at character 5')),
    ('nul', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('nullx', ERR('user_script:1: Expected the end but found invalid token at character 5')),
    ('fals', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('x', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('@', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('[', ERR('user_script:1: Expected value but found T_END at character 2')),
    ('{', ERR('user_script:1: Expected object key string but found T_END at character 2')),
    (']', ERR('user_script:1: Expected value but found T_ARR_END at character 1')),
    ('}', ERR('user_script:1: Expected value but found T_OBJ_END at character 1')),
    (',', ERR('user_script:1: Expected value but found T_COMMA at character 1')),
    (':', ERR('user_script:1: Expected value but found T_COLON at character 1')),
    ('[]]', ERR('user_script:1: Expected the end but found T_ARR_END at character 3')),
    ('[,]', ERR('user_script:1: Expected value but found T_COMMA at character 2')),
    ('{,}', ERR('user_script:1: Expected object key string but found T_COMMA at character 2')),
    ('[1,]', ERR('user_script:1: Expected value but found T_ARR_END at character 4')),
    ('{"a":}', ERR('user_script:1: Expected value but found T_OBJ_END at character 6')),
    ('{1:2}', ERR('user_script:1: Expected object key string but found T_NUMBER at character 2')),
    ('{"a":1,}', ERR('user_script:1: Expected object key string but found T_OBJ_END at character 8')),
    ('{"a":1,,}', ERR('user_script:1: Expected object key string but found T_COMMA at character 8')),
    ('[1 2]', ERR('user_script:1: Expected comma or array end but found T_NUMBER at character 4')),
    ('["a" "b"]', ERR('user_script:1: Expected comma or array end but found T_STRING at character 6')),
    ('{"a" 1}', ERR('user_script:1: Expected colon but found T_NUMBER at character 6')),
    ('[1]\x0b', ERR('user_script:1: Expected the end but found invalid token at character 4')),
    ('\x0c1', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('true false', ERR('user_script:1: Expected the end but found T_BOOLEAN at character 6')),
    ('{"a":1}x', ERR('user_script:1: Expected the end but found invalid token at character 8')),
    ('1 2', ERR('user_script:1: Expected the end but found T_NUMBER at character 3')),
    ('  ', ERR('user_script:1: Expected value but found T_END at character 3')),
    ('', ERR('user_script:1: Expected value but found T_END at character 1')),
    ('\n', ERR('user_script:1: Expected value but found T_END at character 2')),
]

DECODE_STRICT_CASES = [
    ('-inf', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('-nan', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('-01', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('0.5', b'0.5'),
    ('-0', b'-0'),
    ('00', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('+inf', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('+0x10', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('+1', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('0x1p3', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('nan(1)', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('[inf,1]', ERR('user_script:1: Expected value but found invalid token at character 2')),
    ('[-Infinity]', ERR('user_script:1: Expected value but found invalid number at character 2')),
    ('1e5', b'100000'),
    ('-.5', b'-0.5'),
    ('0x1g', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('iNf', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('0001.5', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('[01]', ERR('user_script:1: Expected value but found invalid number at character 2')),
    ('0x10', ERR('user_script:1: Expected value but found invalid number at character 1')),
    ('inf', ERR('user_script:1: Expected value but found invalid token at character 1')),
    ('0.', b'0'),
    ('-0.e1', b'-0'),
]

SCRIPT_CASES = [
    ('return cjson.encode({})', b'{}'),
    ('return cjson.encode({1,2,3})', b'[1,2,3]'),
    ('return cjson.encode({a=1})', b'{"a":1}'),
    ('return cjson.encode(1/0)', ERR('user_script:1: Cannot serialise number: must not be NaN or Inf')),
    ('return cjson.encode(-1/0)', ERR('user_script:1: Cannot serialise number: must not be NaN or Inf')),
    ('return cjson.encode(0/0)', ERR('user_script:1: Cannot serialise number: must not be NaN or Inf')),
    ('return cjson.encode(0.1)', b'0.1'),
    ('return cjson.encode(1e300)', b'1e+300'),
    ('return cjson.encode(123456789012345)', b'1.2345678901234e+14'),
    ('return cjson.encode(1e15)', b'1e+15'),
    ('return cjson.encode(1e16)', b'1e+16'),
    ('return cjson.encode(-0)', b'-0'),
    ('return cjson.encode(3.14159265358979)', b'3.1415926535898'),
    ("return cjson.encode('a/b')", b'"a\\/b"'),
    ("return cjson.encode('\\1\\31\\127')", b'"\\u0001\\u001f\\u007f"'),
    ('return cjson.encode(\'"\\\\\')', b'"\\"\\\\"'),
    ("return cjson.encode('\\b\\f\\n\\r\\t')", b'"\\b\\f\\n\\r\\t"'),
    ("return cjson.encode('\\128\\255')", b'"\x80\xff"'),
    ("return cjson.encode('\\0')", b'"\\u0000"'),
    ('return cjson.encode(true)', b'true'),
    ('return cjson.encode(nil)', b'null'),
    ('return cjson.encode(cjson.null)', b'null'),
    ('return cjson.encode({[1]=1,[3]=3})', b'[1,null,3]'),
    ('return cjson.encode({[1]=1,[20]=3})', ERR('user_script:1: Cannot serialise table: excessively sparse array')),
    ('return cjson.encode({[1.5]=1})', b'{"1.5":1}'),
    ('return cjson.encode({[true]=1})', ERR('user_script:1: Cannot serialise boolean: table key must be a number or string')),
    ('return cjson.encode({[{}]=1})', ERR('user_script:1: Cannot serialise table: table key must be a number or string')),
    ('return cjson.encode({[cjson.null]=1})', ERR('user_script:1: Cannot serialise userdata: table key must be a number or string')),
    ('return cjson.encode(function() end)', ERR('user_script:1: Cannot serialise function: type not supported')),
    ('return cjson.encode({f=function() end})', ERR('user_script:1: Cannot serialise function: type not supported')),
    ('return cjson.encode(coroutine.create(function() end))', ERR('user_script:1: Cannot serialise thread: type not supported')),
    ('local t={} t[1]=t return cjson.encode(t)', ERR('user_script:1: Cannot serialise, excessive nesting (1001)')),
    ('return cjson.encode({a={b={c={}}}})', b'{"a":{"b":{"c":{}}}}'),
    ('return cjson.encode()', ERR("user_script:1: bad argument #1 to 'encode' (expected 1 argument)")),
    ('return cjson.encode(1,2)', ERR("user_script:1: bad argument #1 to 'encode' (expected 1 argument)")),
    ("return cjson.encode(string.rep('x',3), nil)", ERR("user_script:1: bad argument #1 to 'encode' (expected 1 argument)")),
    ('return cjson.encode({[0]=1})', b'{"0":1}'),
    ('return cjson.encode({[-1]=1})', b'{"-1":1}'),
    ('return cjson.encode({1,nil,3})', b'[1,null,3]'),
    ("return cjson.encode({'x', a=1})", b'{"1":"x","a":1}'),
    ('return cjson.encode({[3]=1, a=2})', b'{"3":1,"a":2}'),
    ('return cjson.encode({[1]=1,[2]=2,[3]=3,[5]=5,[6]=6,[7]=7,[8]=8,[9]=9,[10]=10,[11]=11,[23]=1})', ERR('user_script:1: Cannot serialise table: excessively sparse array')),
    ('return cjson.encode({[1]=1,[2]=2,[3]=3,[5]=5,[6]=6,[7]=7,[8]=8,[9]=9,[10]=10,[11]=11,[22]=1})', b'[1,2,3,null,5,6,7,8,9,10,11,null,null,null,null,null,null,null,null,null,null,1]'),
    ('return cjson.encode({[1]=1,[11]=1})', ERR('user_script:1: Cannot serialise table: excessively sparse array')),
    ('return cjson.encode({[10]=1})', b'[null,null,null,null,null,null,null,null,null,1]'),
    ('return cjson.encode({[11]=1})', ERR('user_script:1: Cannot serialise table: excessively sparse array')),
    ('return cjson.encode({[1.5]=1,[2]=2})', b'{"1.5":1,"2":2}'),
    ('return cjson.encode({[1/0]=1})', ERR('user_script:1: Cannot serialise number: must not be NaN or Inf')),
    ('return cjson.encode({[2^53]=1})', b'{"9.007199254741e+15":1}'),
    ('return cjson.encode({[2^31]=1})', b'{"2147483648":1}'),
    ('return cjson.encode(12345678901234567890)', b'1.2345678901235e+19'),
    ('return cjson.encode(0.30000000000000004)', b'0.3'),
    ('return cjson.encode(2^53)', b'9.007199254741e+15'),
    ('return cjson.encode(1e-5)', b'1e-05'),
    ('return cjson.encode(-1e100)', b'-1e+100'),
    ('return cjson.encode(5e-324)', b'4.9406564584125e-324'),
    ('return cjson.encode(2^63)', b'9.2233720368548e+18'),
    ('return cjson.encode(1e14)', b'1e+14'),
    ('return cjson.encode(setmetatable({}, {__index=function() return 1 end}))', b'{}'),
    ('return cjson.encode({[1]={[1]={}}})', b'[[{}]]'),
    ('return cjson.decode()', ERR("user_script:1: bad argument #1 to 'decode' (expected 1 argument)")),
    ('return cjson.decode(1)', 1),
    ('return cjson.decode(12)', 12),
    ('return cjson.decode({})', ERR("user_script:1: bad argument #1 to 'decode' (string expected, got table)")),
    ('return cjson.decode(nil)', ERR("user_script:1: bad argument #1 to 'decode' (string expected, got nil)")),
    ('return cjson.decode(true)', ERR("user_script:1: bad argument #1 to 'decode' (string expected, got boolean)")),
    ("return cjson.decode('1', 2)", ERR("user_script:1: bad argument #1 to 'decode' (expected 1 argument)")),
    ("return cjson.decode(string.rep('[',1001)..string.rep(']',1001))", ERR('user_script:1: Found too many nested data structures (1001) at character 1001')),
    ("return cjson.decode(string.rep('[',1000)..string.rep(']',1000)) and 1", 1),
    ("return cjson.encode(cjson.encode(string.rep('[',1001)..string.rep(']',1001)))", b'"\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\\""'),
    ('local t = {} local c = t for i = 1, 1000 do c[1] = {} c = c[1] end return cjson.encode(t)', ERR('user_script:1: Cannot serialise, excessive nesting (1001)')),
    ('local t = {} local c = t for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(t)', 2000),
    ("return #cjson.decode('[1,null,3]')", 3),
    ("return cjson.decode('[1,null,3]')[2] == cjson.null and 1 or 0", 1),
    ('return cjson.encode(cjson.decode(\'{"1":1}\'))', b'{"1":1}'),
    ("return type(getmetatable(cjson.decode('[]')))", b'nil'),
    ('return cjson.decode(\'{"a":1,"a":2}\').a', 2),
    ('return cjson.decode(\'"\\\\u0000"\'):len()', 1),
    ('return cjson._NAME', b'cjson'),
    ('return cjson._VERSION', b'2.1.0'),
    ('return type(cjson.new)', b'function'),
    ('return cjson.new()._NAME', b'cjson'),
    ('return cjson.new().null == cjson.null and 1 or 0', 1),
    ('return cjson.new == cjson.new().new and 1 or 0', 0),
    ('return type(cjson.new(1))', b'table'),
    ('local c=cjson.new() c.x=1 return c.x', 1),
    ('cjson.encode = nil', ERR('user_script:1: Attempt to modify a readonly table')),
    ('cjson.foo = 1', ERR('user_script:1: Attempt to modify a readonly table')),
    ('local c = cjson.new() return {c.encode_sparse_array()}', [None, 2, 10]),
    ('local c = cjson.new() return {c.encode_sparse_array(true)}', [1, 2, 10]),
    ('local c = cjson.new() c.encode_sparse_array(true) return c.encode({[1]=1,[20]=2})', b'{"1":1,"20":2}'),
    ('local c = cjson.new() return {c.encode_sparse_array(false, 3)}', [None, 3, 10]),
    ("local c = cjson.new() return {c.encode_sparse_array('on')}", [1, 2, 10]),
    ("local c = cjson.new() return {c.encode_sparse_array('off', 0)}", [None, 0, 10]),
    ('local c = cjson.new() c.encode_sparse_array(false, 0) return c.encode({[100]=1})', b'[null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,1]'),
    ('local c = cjson.new() c.encode_sparse_array(false, 2, 100) return c.encode({[100]=1})', b'[null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,1]'),
    ('local c = cjson.new() return {c.encode_sparse_array(false, 1.5)}', [None, 1, 10]),
    ('local c = cjson.new() return {c.encode_sparse_array(nil)}', [None, 2, 10]),
    ('local c = cjson.new() return {c.encode_sparse_array(true,nil,nil)}', [1, 2, 10]),
    ("return cjson.new().encode_sparse_array('x')", ERR("user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option 'x')")),
    ('return cjson.new().encode_sparse_array(1)', ERR("user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option '1')")),
    ('return cjson.new().encode_sparse_array({})', ERR("user_script:1: bad argument #1 to 'encode_sparse_array' (string expected, got table)")),
    ('return cjson.new().encode_sparse_array(false,-1)', ERR("user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)")),
    ("return cjson.new().encode_sparse_array(false,'a')", ERR("user_script:1: bad argument #2 to 'encode_sparse_array' (number expected, got string)")),
    ('return cjson.new().encode_sparse_array(false,2,-1)', ERR("user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)")),
    ('return cjson.new().encode_sparse_array(false, 2, 2147483648)', ERR("user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)")),
    ('return cjson.new().encode_sparse_array(false, 2, 10, 1)', ERR("user_script:1: bad argument #4 to 'encode_sparse_array' (found too many arguments)")),
    ('local c = cjson.new() return {c.encode_max_depth(5)}', [5]),
    ('local c = cjson.new() c.encode_max_depth(5) return c.encode({{{{{{1}}}}}})', ERR('user_script:1: Cannot serialise, excessive nesting (6)')),
    ('local c = cjson.new() c.encode_max_depth(5) return c.encode({{{{{1}}}}})', b'[[[[[1]]]]]'),
    ('local c = cjson.new() c.encode_max_depth(1) return c.encode({a={}, b={1}})', ERR('user_script:1: Cannot serialise, excessive nesting (2)')),
    ("return cjson.new().encode_max_depth('x')", ERR("user_script:1: bad argument #1 to 'encode_max_depth' (number expected, got string)")),
    ('return cjson.new().encode_max_depth(1.5)', 1),
    ('return cjson.new().encode_max_depth(0.5)', ERR("user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)")),
    ('return cjson.new().encode_max_depth(2147483648)', ERR("user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)")),
    ('return cjson.new().encode_max_depth(-1)', ERR("user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)")),
    ('return cjson.new().encode_max_depth(true)', ERR("user_script:1: bad argument #1 to 'encode_max_depth' (number expected, got boolean)")),
    ('return cjson.new().encode_max_depth({})', ERR("user_script:1: bad argument #1 to 'encode_max_depth' (number expected, got table)")),
    ("return cjson.new().encode_max_depth('0x10')", 16),
    ("return cjson.new().encode_max_depth(' 5 ')", 5),
    ('return cjson.new().encode_max_depth(nil)', 1000),
    ('return cjson.new().encode_max_depth()', 1000),
    ('local c = cjson.new() return {c.decode_max_depth(3)}', [3]),
    ("local c = cjson.new() c.decode_max_depth(3) return c.decode('[[[1]]]')[1][1][1]", 1),
    ("local c = cjson.new() c.decode_max_depth(3) return c.decode('[[[[1]]]]')", ERR('user_script:1: Found too many nested data structures (4) at character 4')),
    ('local c = cjson.new() c.decode_max_depth(2) return c.decode(\'{"a": {"b": {}}}\')', ERR('user_script:1: Found too many nested data structures (3) at character 13')),
    ('return cjson.new().decode_max_depth(0)', ERR("user_script:1: bad argument #1 to 'decode_max_depth' (expected integer between 1 and 2147483647)")),
    ('return cjson.new().decode_max_depth(1,2)', ERR("user_script:1: bad argument #2 to 'decode_max_depth' (found too many arguments)")),
    ('return cjson.new().decode_max_depth()', 1000),
    ('local c = cjson.new() c.encode_number_precision(3) return c.encode(1/3)', b'0.333'),
    ('local c = cjson.new() c.encode_number_precision(1) return c.encode({1/3, 12345, 0.5})', b'[0.3,1e+04,0.5]'),
    ('return cjson.new().encode_number_precision(15)', ERR("user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)")),
    ('return cjson.new().encode_number_precision(0)', ERR("user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)")),
    ("return cjson.new().encode_number_precision('a')", ERR("user_script:1: bad argument #1 to 'encode_number_precision' (number expected, got string)")),
    ('return cjson.new().encode_number_precision(1.5)', 1),
    ("return cjson.new().encode_number_precision('5')", 5),
    ('return cjson.new().encode_number_precision(1,2)', ERR("user_script:1: bad argument #2 to 'encode_number_precision' (found too many arguments)")),
    ('return cjson.new().encode_number_precision()', 14),
    ('local c = cjson.new() return {c.encode_invalid_numbers(true)}', [1]),
    ('local c = cjson.new() c.encode_invalid_numbers(true) return c.encode({1/0, -1/0, 0/0, -(0/0)})', b'[inf,-inf,nan,nan]'),
    ('local c = cjson.new() c.encode_invalid_numbers(true) return c.encode({[1/0]=1})', b'{"inf":1}'),
    ("local c = cjson.new() return {c.encode_invalid_numbers('null')}", [b'null']),
    ("local c = cjson.new() c.encode_invalid_numbers('null') return c.encode({1/0, -1/0, 0/0})", b'[null,null,null]'),
    ("local c = cjson.new() c.encode_invalid_numbers('null') return c.encode({[1/0]=1})", b'{"null":1}'),
    ("return cjson.new().encode_invalid_numbers('x')", ERR("user_script:1: bad argument #1 to 'encode_invalid_numbers' (invalid option 'x')")),
    ('return cjson.new().encode_invalid_numbers(1)', ERR("user_script:1: bad argument #1 to 'encode_invalid_numbers' (invalid option '1')")),
    ('return {cjson.new().encode_invalid_numbers(false)}', [None]),
    ("return {cjson.new().encode_invalid_numbers('on')}", [1]),
    ("return {cjson.new().encode_invalid_numbers('off')}", [None]),
    ('return cjson.new().encode_invalid_numbers(true, 1)', ERR("user_script:1: bad argument #2 to 'encode_invalid_numbers' (found too many arguments)")),
    ('return cjson.new().encode_invalid_numbers()', None),
    ('return {cjson.new().decode_invalid_numbers(false)}', [None]),
    ("return {cjson.new().decode_invalid_numbers('on')}", [1]),
    ("return cjson.new().decode_invalid_numbers('x')", ERR("user_script:1: bad argument #1 to 'decode_invalid_numbers' (invalid option 'x')")),
    ('return cjson.new().decode_invalid_numbers()', 1),
    ('return {cjson.new().encode_keep_buffer(false)}', [None]),
    ("return {cjson.new().encode_keep_buffer('on')}", [1]),
    ("return {cjson.new().encode_keep_buffer('off')}", [None]),
    ("return cjson.new().encode_keep_buffer('x')", ERR("user_script:1: bad argument #1 to 'encode_keep_buffer' (invalid option 'x')")),
    ('return cjson.new().encode_keep_buffer(1)', ERR("user_script:1: bad argument #1 to 'encode_keep_buffer' (invalid option '1')")),
    ('return cjson.new().encode_keep_buffer({})', ERR("user_script:1: bad argument #1 to 'encode_keep_buffer' (string expected, got table)")),
    ('return cjson.new().encode_keep_buffer(true, nil)', ERR("user_script:1: bad argument #2 to 'encode_keep_buffer' (found too many arguments)")),
    ('return cjson.new().encode_keep_buffer()', 1),
    ('local a, b = cjson.new(), cjson.new() a.encode_number_precision(2) return {a.encode(1/3), b.encode(1/3)}', [b'0.33', b'0.33333333333333']),
]


@pytest.mark.parametrize("text,expected", DECODE_CASES)
def test_decode(rb, text, expected):
    check(run(rb, DECODE, text), expected)


@pytest.mark.parametrize("text,expected", DECODE_STRICT_CASES)
def test_decode_without_invalid_numbers(rb, text, expected):
    check(run(rb, DECODE_STRICT, text), expected)


@pytest.mark.parametrize("script,expected", SCRIPT_CASES)
def test_script(rb, script, expected):
    check(run(rb, script), expected)


def test_global_settings_change_within_a_script(rb):
    script = ("local before = cjson.encode(1/3) cjson.encode_number_precision(3) "
              "local during = cjson.encode(1/3) cjson.encode_number_precision(14) "
              "return {before, during, cjson.encode(1/3)}")
    assert rb.eval(script, 0) == [b"0.33333333333333", b"0.333", b"0.33333333333333"]


@pytest.mark.sluice_only
def test_global_settings_are_reset_before_the_next_script(rb):
    # Redis keeps them in its one Lua VM until SCRIPT FLUSH; sluice has a Lua
    # state per I/O thread, so a setting lasts for the script that made it.
    assert rb.eval("return cjson.encode_number_precision(3)", 0) == 3
    for _ in range(4):  # whichever I/O thread runs it
        assert rb.eval("return cjson.encode(1/3)", 0) == b"0.33333333333333"
    rb.eval("cjson.encode_sparse_array(true) cjson.encode_invalid_numbers(true) return 1", 0)
    assert rb.eval("return {pcall(cjson.encode, 1/0)}", 0)[0] is None
