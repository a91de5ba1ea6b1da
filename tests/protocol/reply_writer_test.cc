#include "protocol/reply_writer.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace sluice::protocol {
namespace {

// Runs `write` against a fresh writer in RESP2 and RESP3 and returns the bytes.
template <typename Write>
std::pair<std::string, std::string> Both(Write write) {
  std::string resp2;
  std::string resp3;
  ReplyWriter w2(&resp2);
  ReplyWriter w3(&resp3);
  w3.set_protocol(3);
  write(w2);
  write(w3);
  return {resp2, resp3};
}

using Bytes = std::pair<std::string, std::string>;

TEST(ReplyWriterTest, ProtocolVersion) {
  std::string out;
  ReplyWriter w(&out);
  EXPECT_EQ(w.protocol(), 2);
  EXPECT_FALSE(w.resp3());
  w.set_protocol(3);
  EXPECT_EQ(w.protocol(), 3);
  EXPECT_TRUE(w.resp3());
  EXPECT_EQ(w.buffer(), &out);
}

TEST(ReplyWriterTest, SimpleStringAndOk) {
  EXPECT_EQ(Both([](ReplyWriter& w) { w.SimpleString("PONG"); }), Bytes("+PONG\r\n", "+PONG\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Ok(); }), Bytes("+OK\r\n", "+OK\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.SimpleString(""); }), Bytes("+\r\n", "+\r\n"));
}

TEST(ReplyWriterTest, Error) {
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Error("ERR syntax error"); }),
            Bytes("-ERR syntax error\r\n", "-ERR syntax error\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Error("ERR bad\r\nthing\n"); }),
            Bytes("-ERR bad  thing \r\n", "-ERR bad  thing \r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Error(""); }), Bytes("-ERR\r\n", "-ERR\r\n"));
}

TEST(ReplyWriterTest, ErrorSanitizesOnlyItsOwnBytes) {
  std::string out = "+A\r\n";
  ReplyWriter w(&out);
  w.Error("ERR x\ry");
  EXPECT_EQ(out, "+A\r\n-ERR x y\r\n");
}

TEST(ReplyWriterTest, Integer) {
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Integer(0); }), Bytes(":0\r\n", ":0\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Integer(-17); }), Bytes(":-17\r\n", ":-17\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Integer(std::numeric_limits<int64_t>::min()); }),
            Bytes(":-9223372036854775808\r\n", ":-9223372036854775808\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Integer(std::numeric_limits<int64_t>::max()); }),
            Bytes(":9223372036854775807\r\n", ":9223372036854775807\r\n"));
}

TEST(ReplyWriterTest, Bulk) {
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Bulk("hello"); }),
            Bytes("$5\r\nhello\r\n", "$5\r\nhello\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Bulk(""); }), Bytes("$0\r\n\r\n", "$0\r\n\r\n"));
  const std::string binary("a\r\n\0b", 5);
  EXPECT_EQ(Both([&](ReplyWriter& w) { w.Bulk(binary); }),
            Bytes("$5\r\n" + binary + "\r\n", "$5\r\n" + binary + "\r\n"));
  const std::string big(100000, 'x');
  EXPECT_EQ(Both([&](ReplyWriter& w) { w.Bulk(big); }).first, "$100000\r\n" + big + "\r\n");
}

TEST(ReplyWriterTest, Nulls) {
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Null(); }), Bytes("$-1\r\n", "_\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.NullArray(); }), Bytes("*-1\r\n", "_\r\n"));
}

TEST(ReplyWriterTest, AggregateHeaders) {
  EXPECT_EQ(Both([](ReplyWriter& w) { w.ArrayHeader(3); }), Bytes("*3\r\n", "*3\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.ArrayHeader(0); }), Bytes("*0\r\n", "*0\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.MapHeader(2); }), Bytes("*4\r\n", "%2\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.MapHeader(0); }), Bytes("*0\r\n", "%0\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.SetHeader(5); }), Bytes("*5\r\n", "~5\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.PushHeader(3); }), Bytes("*3\r\n", ">3\r\n"));
}

TEST(ReplyWriterTest, EncodedPushMatchesThePushWrittenPieceByPiece) {
  std::string frame;
  ReplyWriter encoder(&frame);
  encoder.ArrayHeader(3);
  encoder.Bulk("message");
  encoder.Bulk("news");
  encoder.Bulk("");
  const auto piece_by_piece = Both([](ReplyWriter& w) {
    w.PushHeader(3);
    w.Bulk("message");
    w.Bulk("news");
    w.Bulk("");
  });
  EXPECT_EQ(Both([&](ReplyWriter& w) { w.EncodedPush(frame); }), piece_by_piece);
  EXPECT_EQ(piece_by_piece, Bytes("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$0\r\n\r\n",
                                  ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$0\r\n\r\n"));
}

TEST(ReplyWriterTest, Double) {
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Double(1.5); }), Bytes("$3\r\n1.5\r\n", ",1.5\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Double(3.0); }), Bytes("$1\r\n3\r\n", ",3\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Double(0.1); }), Bytes("$3\r\n0.1\r\n", ",0.1\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Double(-2.5e-10); }),
            Bytes("$8\r\n-2.5e-10\r\n", ",-2.5e-10\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Double(1.0 / 3); }),
            Bytes("$18\r\n0.3333333333333333\r\n", ",0.3333333333333333\r\n"));
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Both([&](ReplyWriter& w) { w.Double(inf); }), Bytes("$3\r\ninf\r\n", ",inf\r\n"));
  EXPECT_EQ(Both([&](ReplyWriter& w) { w.Double(-inf); }), Bytes("$4\r\n-inf\r\n", ",-inf\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Double(std::numeric_limits<double>::quiet_NaN()); }),
            Bytes("$3\r\nnan\r\n", ",nan\r\n"));
}

TEST(ReplyWriterTest, Bool) {
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Bool(true); }), Bytes(":1\r\n", "#t\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Bool(false); }), Bytes(":0\r\n", "#f\r\n"));
}

TEST(ReplyWriterTest, Verbatim) {
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Verbatim("txt", "Some string"); }),
            Bytes("$11\r\nSome string\r\n", "=15\r\ntxt:Some string\r\n"));
  EXPECT_EQ(Both([](ReplyWriter& w) { w.Verbatim("mkd", ""); }),
            Bytes("$0\r\n\r\n", "=4\r\nmkd:\r\n"));
}

TEST(ReplyWriterTest, BigNumber) {
  EXPECT_EQ(
      Both([](ReplyWriter& w) { w.BigNumber("3492890328409238509324850943850943825024385"); }),
      Bytes("$43\r\n3492890328409238509324850943850943825024385\r\n",
            "(3492890328409238509324850943850943825024385\r\n"));
}

TEST(ReplyWriterTest, BulkArray) {
  const std::vector<std::string> items = {"a", "bc"};
  EXPECT_EQ(Both([&](ReplyWriter& w) { w.BulkArray(items); }),
            Bytes("*2\r\n$1\r\na\r\n$2\r\nbc\r\n", "*2\r\n$1\r\na\r\n$2\r\nbc\r\n"));
  const std::vector<std::string_view> none;
  EXPECT_EQ(Both([&](ReplyWriter& w) { w.BulkArray(none); }), Bytes("*0\r\n", "*0\r\n"));
}

TEST(ReplyWriterTest, NestedMapReply) {
  // HELLO-style: a map whose values mix types.
  const auto bytes = Both([](ReplyWriter& w) {
    w.MapHeader(2);
    w.Bulk("server");
    w.Bulk("sluice");
    w.Bulk("proto");
    w.Integer(w.protocol());
  });
  EXPECT_EQ(bytes.first, "*4\r\n$6\r\nserver\r\n$6\r\nsluice\r\n$5\r\nproto\r\n:2\r\n");
  EXPECT_EQ(bytes.second, "%2\r\n$6\r\nserver\r\n$6\r\nsluice\r\n$5\r\nproto\r\n:3\r\n");
}

TEST(ReplyWriterTest, AppendsToExistingOutput) {
  std::string out = "+OK\r\n";
  ReplyWriter w(&out);
  w.Integer(5);
  w.Bulk("x");
  EXPECT_EQ(out, "+OK\r\n:5\r\n$1\r\nx\r\n");
}

}  // namespace
}  // namespace sluice::protocol
