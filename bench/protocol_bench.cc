// Micro-benchmarks for the RESP parser and reply writer.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/parser.h"
#include "protocol/reply_writer.h"

namespace sluice::protocol {
namespace {

constexpr size_t kPiece = 4096;

// `count` pipelined `SET key:<i> <16-byte value>` commands.
std::string PipelinedSets(int count) {
  std::string input;
  for (int i = 0; i < count; ++i) {
    const std::string key = "key:" + std::to_string(100000 + i);
    input += "*3\r\n$3\r\nSET\r\n$" + std::to_string(key.size()) + "\r\n" + key +
             "\r\n$16\r\n0123456789abcdef\r\n";
  }
  return input;
}

std::string OneBigSet(size_t value_size) {
  return "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$" + std::to_string(value_size) + "\r\n" +
         std::string(value_size, 'v') + "\r\n";
}

// Parses all of `input`, fed in pieces of at most `piece` bytes.
size_t ParseAll(Parser& parser, CommandArgs& args, std::string_view input, size_t piece) {
  size_t commands = 0;
  for (size_t offset = 0; offset < input.size(); offset += piece) {
    std::string_view rest = input.substr(offset, piece);
    while (true) {
      size_t consumed = 0;
      const ParseStatus status = parser.Feed(rest, &consumed, &args);
      if (status != ParseStatus::kCommand) break;
      ++commands;
      benchmark::DoNotOptimize(args[0].data());
      rest.remove_prefix(consumed);
    }
  }
  return commands;
}

void RunParser(benchmark::State& state, const std::string& input, size_t piece) {
  Parser parser;
  CommandArgs args;
  size_t commands = 0;
  for (auto _ : state) commands += ParseAll(parser, args, input, piece);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(static_cast<int64_t>(commands));
}

void BM_ParsePipelinedSetsWhole(benchmark::State& state) {
  const std::string input = PipelinedSets(1000);
  RunParser(state, input, input.size());
}
BENCHMARK(BM_ParsePipelinedSetsWhole);

void BM_ParsePipelinedSets4K(benchmark::State& state) {
  RunParser(state, PipelinedSets(1000), kPiece);
}
BENCHMARK(BM_ParsePipelinedSets4K);

void BM_ParseBigValueWhole(benchmark::State& state) {
  const std::string input = OneBigSet(1024 * 1024);
  RunParser(state, input, input.size());
}
BENCHMARK(BM_ParseBigValueWhole);

void BM_ParseBigValue4K(benchmark::State& state) {
  RunParser(state, OneBigSet(1024 * 1024), kPiece);
}
BENCHMARK(BM_ParseBigValue4K);

void BM_ParseInline(benchmark::State& state) {
  std::string input;
  for (int i = 0; i < 1000; ++i) input += "SET key:" + std::to_string(i) + " \"some value\"\r\n";
  RunParser(state, input, input.size());
}
BENCHMARK(BM_ParseInline);

// Writes `replies` replies per iteration into a reused buffer.
template <typename Write>
void RunWriter(benchmark::State& state, int protocol, Write write) {
  std::string out;
  constexpr int kReplies = 1000;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    ReplyWriter w(&out);
    w.set_protocol(protocol);
    for (int i = 0; i < kReplies; ++i) write(w, i);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kReplies));
}

void BM_WriteBulk(benchmark::State& state) {
  const std::string value(static_cast<size_t>(state.range(0)), 'v');
  RunWriter(state, 2, [&](ReplyWriter& w, int) { w.Bulk(value); });
}
BENCHMARK(BM_WriteBulk)->Arg(16)->Arg(1024);

void BM_WriteInteger(benchmark::State& state) {
  RunWriter(state, 2, [](ReplyWriter& w, int i) { w.Integer(int64_t{1} << (i % 63)); });
}
BENCHMARK(BM_WriteInteger);

void BM_WriteArray(benchmark::State& state) {
  const std::vector<std::string> items = {"alpha", "beta", "gamma", "delta", "epsilon"};
  RunWriter(state, 2, [&](ReplyWriter& w, int) { w.BulkArray(items); });
}
BENCHMARK(BM_WriteArray);

void BM_WriteDouble(benchmark::State& state) {
  RunWriter(state, static_cast<int>(state.range(0)),
            [](ReplyWriter& w, int i) { w.Double(i * 1.0001); });
}
BENCHMARK(BM_WriteDouble)->Arg(2)->Arg(3);

}  // namespace
}  // namespace sluice::protocol
