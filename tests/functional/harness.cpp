#include "harness.hpp"

#include <fcntl.h>
#include <openssl/sha.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace civic::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "civic-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// When CIVIC_CAPTURE_DIR is set, every exchange of a Service::Client() is appended as one JSON
// line to CIVIC_CAPTURE_DIR/<pid>.ndjson, for tests/contract/validate-responses.mjs.
void CaptureExchange(const std::string& dir, const std::string& service,
                     const httplib::Request& request, const httplib::Response& response) {
  const size_t question = request.path.find('?');
  nlohmann::ordered_json line = {
      {"service", service},
      {"method", request.method},
      {"path", request.path.substr(0, question)},
      {"query", question == std::string::npos ? "" : request.path.substr(question + 1)},
      {"status", response.status},
      {"content_type", response.get_header_value("Content-Type")},
      {"body", response.body},
      {"request_content_type", request.get_header_value("Content-Type")},
      {"request_body", request.body},
  };
  nlohmann::ordered_json headers = nlohmann::ordered_json::object();
  for (const auto& [name, value] : response.headers) {
    headers[name] = value;
  }
  line["headers"] = std::move(headers);
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  static std::mutex mu;  // one writer at a time: tests may use clients from several threads
  std::lock_guard<std::mutex> lock(mu);
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::ofstream out(dir + "/" + std::to_string(getpid()) + ".ndjson", std::ios::app);
  out << text;
  if (!out.flush()) {
    throw std::runtime_error("cannot append to the capture file in " + dir);
  }
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

Service::Service(std::string binary, ServiceOptions options) : binary_(std::move(binary)) {
  if (options.data_dir.empty()) {
    own_dir_ = std::make_unique<TempDir>();
    data_dir_ = own_dir_->path() + "/data";
    log_dir_ = own_dir_->path();
  } else {
    data_dir_ = options.data_dir;
    own_dir_ = std::make_unique<TempDir>();
    log_dir_ = own_dir_->path();
  }
  std::vector<std::string> args = {binary_, "--host",     "127.0.0.1", "--port",
                                   "0",     "--data-dir", data_dir_};
  args.insert(args.end(), options.args.begin(), options.args.end());
  const std::string out_path = log_dir_ + "/stdout.log";
  const std::string err_path = log_dir_ + "/stderr.log";

  // posix_spawn, not fork + exec: this process has threads (fake servers, clients), and a child
  // forked while one of them held the allocator's lock hung in setenv/freopen before its exec
  // (seen under ASan: "did not start in time", empty stderr). Everything the child needs is
  // made here, in the parent.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const size_t eq = entry.find('=');
    if (eq != std::string::npos) {
      env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  for (const auto& [key, value] : options.env) {
    env[key] = value;
  }
  // Every test calls from 127.0.0.1, most of them without a key and faster than a browser would:
  // unless a test sets the limits itself, callers without a key get a generous limit (the limits
  // of keys stay the defaults). The rate-limit tests set their own.
  env.emplace(
      binary_ == EventsApiBinary() ? "CIVIC_EVENTS_RATE_LIMITS" : "CIVIC_BALLOT_RATE_LIMITS",
      "*@public=100000:100000");
  if (binary_ == EventsApiBinary()) {
    const bool key_file = env.count("CIVIC_EVENTS_ADMIN_KEY_FILE") != 0 ||
                          std::find(options.args.begin(), options.args.end(), "--admin-key-file") !=
                              options.args.end();
    if (!key_file) {
      env.emplace("CIVIC_EVENTS_ADMIN_KEY", kTestAdminKey);
      admin_key_ = env["CIVIC_EVENTS_ADMIN_KEY"];
    }
  }
  std::vector<std::string> env_entries;
  for (const auto& [key, value] : env) {
    env_entries.push_back(key + "=" + value);
  }
  std::vector<char*> envp;
  for (auto& entry : env_entries) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::fflush(stdout);
  std::fflush(stderr);
  const int spawned =
      posix_spawn(&pid_, binary_.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start " + binary_ + ": " + std::strerror(spawned));
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
  while (std::chrono::steady_clock::now() < deadline) {
    if (options.expect_listening) {
      std::smatch m;
      const std::string out = ReadFile(out_path);
      if (std::regex_search(out, m, listening)) {
        port_ = std::stoi(m[1]);
        return;
      }
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = DecodeStatus(status);
      pid_ = -1;
      if (options.expect_listening) {
        throw std::runtime_error(binary_ + " exited with " + std::to_string(exit_code_) +
                                 " before listening; stderr: " + Stderr());
      }
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error(binary_ + " did not start in time; stderr: " + Stderr());
}

Service::~Service() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

std::string Service::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::unique_ptr<httplib::Client> Service::Client() const { return ClientWithKey(admin_key_); }

std::unique_ptr<httplib::Client> Service::ClientWithKey(const std::string& token) const {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port_);
  client->set_keep_alive(true);
  client->set_tcp_nodelay(true);
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(30, 0);
  client->set_write_timeout(10, 0);
  if (!token.empty()) {
    client->set_bearer_token_auth(token);
  }
  if (const char* dir = std::getenv("CIVIC_CAPTURE_DIR"); dir != nullptr && *dir != '\0') {
    client->set_logger([dir = std::string(dir), service = fs::path(binary_).filename().string()](
                           const httplib::Request& request, const httplib::Response& response) {
      CaptureExchange(dir, service, request, response);
    });
  }
  return client;
}

int Service::WaitExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) {
    return exit_code_;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = DecodeStatus(status);
      pid_ = -1;
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

int Service::Signal(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) {
    return exit_code_;
  }
  kill(pid_, signal);
  return WaitExit(timeout);
}

bool Service::running() {
  if (pid_ <= 0) {
    return false;
  }
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_code_ = DecodeStatus(status);
    pid_ = -1;
    return false;
  }
  return true;
}

std::string Service::Stdout() const { return ReadFile(log_dir_ + "/stdout.log"); }
std::string Service::Stderr() const { return ReadFile(log_dir_ + "/stderr.log"); }

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (const unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xF];
  }
  return hex;
}

std::string EventsApiBinary() { return CIVIC_EVENTS_API_BIN; }
std::string BallotBinary() { return CIVIC_BALLOT_BIN; }
std::string SourceDir() { return CIVIC_SOURCE_DIR; }

httplib::Headers JsonHeaders() { return {{"Connection", "keep-alive"}}; }

nlohmann::json ParseJson(const std::string& body) { return nlohmann::json::parse(body); }

CommandResult RunToEnd(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    throw std::runtime_error("cannot run " + command);
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    result.output.append(buffer, n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace civic::test
