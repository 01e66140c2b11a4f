#pragma once

// Shared helpers of the functional tests: a temporary directory, a real service process on
// 127.0.0.1 and port 0, and an HTTP client set up the way our clients must be.

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eventually.hpp"

namespace civic::test {

// A fresh directory under /tmp, removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ServiceOptions {
  std::vector<std::string> args;           // extra flags
  std::map<std::string, std::string> env;  // extra environment variables
  std::string data_dir;                    // empty: a fresh TempDir owned by the process
  bool expect_listening = true;            // false: the process is expected to exit
};

// A service binary started with --host 127.0.0.1 --port 0 --data-dir DIR; callers without a key
// get a rate limit of 100,000 requests per second unless `env` sets CIVIC_*_RATE_LIMITS itself. The
// constructor waits (up to 20 s) for the "listening on http://127.0.0.1:PORT" line, or for the
// process to exit when `expect_listening` is false. The destructor kills a process still running.
class Service {
 public:
  Service(std::string binary, ServiceOptions options = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  int port() const { return port_; }
  std::string base_url() const;
  const std::string& data_dir() const { return data_dir_; }
  // A client with keep-alive, TCP_NODELAY and timeouts set. With CIVIC_CAPTURE_DIR set, it also
  // records every exchange there for the contract test (tests/contract); use it for every call.
  // For the events API it carries the admin key the service was started with (admin_key()).
  std::unique_ptr<httplib::Client> Client() const;
  // The same with `token` as its bearer token; "" for none (a public caller).
  std::unique_ptr<httplib::Client> ClientWithKey(const std::string& token) const;
  // The events API's bootstrap admin key: kTestAdminKey unless the test gave its own through
  // CIVIC_EVENTS_ADMIN_KEY; "" for other binaries or when a key file was given.
  const std::string& admin_key() const { return admin_key_; }
  // Sends `signal` and waits up to `timeout` for the exit. Returns the exit code (128+n if killed
  // by signal n), or -1 on timeout.
  int Signal(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Waits for an exit without sending anything (for processes expected to stop by themselves).
  int WaitExit(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool running();
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  std::string binary_;
  std::string admin_key_;
  std::unique_ptr<TempDir> own_dir_;
  std::string data_dir_;
  std::string log_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
};

// The admin key functional tests start the events API with (CIVIC_EVENTS_ADMIN_KEY).
inline constexpr const char* kTestAdminKey = "civ_test-admin-key-0123456789abcdefghij";

std::string EventsApiBinary();
std::string BallotBinary();
std::string SourceDir();

// SHA-256 of `text` as 64 lowercase hex digits (how the events API stores a key's token).
std::string Sha256Hex(const std::string& text);

// What a command run to its end printed on stdout, and its exit code.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
// Runs `command` through the shell to its end: the binaries' one-shot modes (recount,
// --print-routes), the seed tool, promtool. Append "2>&1" to capture stderr too.
CommandResult RunToEnd(const std::string& command);

// Default headers for JSON calls.
httplib::Headers JsonHeaders();
nlohmann::json ParseJson(const std::string& body);

}  // namespace civic::test
