#pragma once
// Loading an RDB snapshot file into the server at start-up.
//
// LoadRdbAtStartup reads the file with persistence::ReadRdbFile on the
// calling thread (decoding every value) while a few inserter threads link the
// decoded entries into their shards, each thread owning a fixed slice of the
// shards, in batches. RESIZEDB hints pre-size the shards' tables. Keys whose
// deadline has already passed are dropped and counted. Function libraries
// are registered as FUNCTION LOAD would (a name already taken is an error).
//
// While it runs, Server::loading() is true (the gate answers -LOADING to
// commands without the kLoading flag) and LoadingState follows its progress
// for INFO persistence. It gives up between records once the server stops
// (SHUTDOWN while loading).
//
// Call once, from Server::Start, with no client able to touch the keyspace
// (every command that could is refused while loading).

#include <string>

#include "absl/status/status.h"

namespace sluice::server {

class Server;

// Loads `path` (an existing file). An error names the file and the offset;
// the keyspace then holds part of the file, and the server must not serve it.
absl::Status LoadRdbAtStartup(Server& server, const std::string& path);

// INFO persistence's lines about loading: rdb_last_load_keys_expired and
// rdb_last_load_keys_loaded (the last load's counts)...
void AppendLastLoadInfo(Server& server, std::string* out);
// ...and, only while a load runs, its progress: loading_start_time,
// loading_total_bytes, loading_rdb_used_mem, loading_loaded_bytes,
// loading_loaded_perc, loading_eta_seconds.
void AppendLoadingProgressInfo(Server& server, std::string* out);

}  // namespace sluice::server
