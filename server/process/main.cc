// sluice-server: parses the command line, starts the server and runs it
// until SIGINT/SIGTERM or SHUTDOWN.

#include <csignal>
#include <cstdio>

#include "server/process/config.h"
#include "server/process/server.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  auto config = sluice::server::ParseCommandLine(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr, "sluice-server: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  auto server = sluice::server::Server::Create(*std::move(config));
  if (!server.ok()) {
    std::fprintf(stderr, "sluice-server: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  if (absl::Status s = (*server)->Start(); !s.ok()) {
    std::fprintf(stderr, "sluice-server: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  (*server)->Wait();
  (*server)->Log(sluice::server::LogLevel::kWarning, "sluice is now ready to exit, bye bye...");
  return 0;
}
