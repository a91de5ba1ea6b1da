// ReplyCapture and PushOnlyFilter: the sinks that stand in for the RESP writer
// in scripts and for connections with CLIENT REPLY OFF/SKIP.

#include <gtest/gtest.h>

#include <string>

#include "protocol/reply_capture.h"
#include "protocol/reply_reader.h"
#include "protocol/reply_writer.h"

namespace sluice::protocol {
namespace {

// Writes the same nested reply to any sink.
void WriteSample(ReplySink& w) {
  w.MapHeader(2);
  w.Bulk("a");
  w.ArrayHeader(3);
  w.Integer(1);
  w.Null();
  w.SetHeader(0);
  w.SimpleString("b");
  w.Double(1.5);
}

// A capture replayed into a writer gives exactly the bytes the writer gives.
TEST(ReplyCaptureTest, ReplaysToTheSameBytes) {
  for (int resp : {2, 3}) {
    std::string direct, replayed;
    ReplyWriter w(&direct);
    w.set_protocol(resp);
    WriteSample(w);
    ReplyCapture c;
    c.set_protocol(resp);
    WriteSample(c);
    ASSERT_TRUE(c.complete());
    ASSERT_EQ(c.values().size(), 1u);
    ReplyWriter r(&replayed);
    r.set_protocol(resp);
    WriteReplyValue(r, c.values()[0]);
    EXPECT_EQ(replayed, direct) << "resp " << resp;
  }
}

// The tree matches what reading the writer's bytes back gives.
TEST(ReplyCaptureTest, MatchesReadingTheBytesBack) {
  for (int resp : {2, 3}) {
    std::string bytes;
    ReplyWriter w(&bytes);
    w.set_protocol(resp);
    ReplyCapture c;
    c.set_protocol(resp);
    for (ReplySink* s : {static_cast<ReplySink*>(&w), static_cast<ReplySink*>(&c)}) {
      s->PushHeader(2);
      s->Bool(true);
      s->Verbatim("txt", "hi");
      s->Error("ERR bad\r\nthing");
      s->BigNumber("123");
      s->NullArray();
    }
    size_t pos = 0;
    for (const ReplyValue& captured : c.values()) {
      ReplyValue read;
      size_t n = 0;
      ASSERT_TRUE(ReadReply(std::string_view(bytes).substr(pos), &read, &n));
      pos += n;
      EXPECT_EQ(read.type, captured.type);
      EXPECT_EQ(read.str, captured.str);
      EXPECT_EQ(read.elements.size(), captured.elements.size());
      for (size_t i = 0; i < read.elements.size(); ++i) {
        EXPECT_EQ(read.elements[i].type, captured.elements[i].type);
        EXPECT_EQ(read.elements[i].str, captured.elements[i].str);
        EXPECT_EQ(read.elements[i].integer, captured.elements[i].integer);
      }
    }
    EXPECT_EQ(pos, bytes.size());
    EXPECT_EQ(c.values().size(), 4u);
    EXPECT_EQ(c.values()[1].str, "ERR bad  thing");
    EXPECT_EQ(c.errors_written(), 1u);
  }
}

TEST(ReplyCaptureTest, NullArrayReplaysAsNullArray) {
  ReplyCapture c;
  c.NullArray();
  c.Null();
  std::string out;
  ReplyWriter w(&out);
  for (const ReplyValue& v : c.values()) WriteReplyValue(w, v);
  EXPECT_EQ(out, "*-1\r\n$-1\r\n");
}

TEST(PushOnlyFilterTest, DropsRepliesAndForwardsPushes) {
  for (int resp : {2, 3}) {
    std::string out;
    ReplyWriter w(&out);
    w.set_protocol(resp);
    PushOnlyFilter f(w);
    WriteSample(f);  // dropped, nested aggregates and all
    f.Ok();
    f.PushHeader(3);
    f.Bulk("subscribe");
    f.Bulk("ch");
    f.Integer(1);
    f.Integer(7);  // dropped
    f.EncodedPush("*2\r\n$1\r\nx\r\n$1\r\ny\r\n");
    f.ArrayHeader(1);  // dropped, with a push-looking child
    f.PushHeader(0);
    f.Error("ERR x");  // dropped but counted
    const std::string push_header = resp == 3 ? ">" : "*";
    EXPECT_EQ(out, push_header + "3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n" + push_header +
                       "2\r\n$1\r\nx\r\n$1\r\ny\r\n");
    EXPECT_EQ(f.errors_written(), 1u);
  }
}

TEST(PushOnlyFilterTest, PassAllForwardsEverything) {
  std::string out;
  ReplyWriter w(&out);
  bool on = false;
  PushOnlyFilter f(w, &on);
  f.Integer(1);
  on = true;  // CLIENT REPLY ON ran
  f.Ok();
  f.ArrayHeader(1);
  f.Integer(2);
  EXPECT_EQ(out, "+OK\r\n*1\r\n:2\r\n");
}

}  // namespace
}  // namespace sluice::protocol
