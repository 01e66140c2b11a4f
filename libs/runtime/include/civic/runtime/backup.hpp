#pragma once

// The `backup` subcommand both binaries share: an online, consistent copy of the service's
// database (civic::sqlite::Backup) while the service runs.

#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>
#include <string>

namespace civic::runtime {

// `backup --to FILE [--data-dir DIR]`, registered on a binary's command line.
class BackupCommand {
 public:
  // Registers the subcommand on `cli`; `db_file` is the database's name in the data dir
  // ("ballot.db"), `env_prefix` the service's ("CIVIC_BALLOT", for the help text).
  BackupCommand(CLI::App& cli, std::string program, std::string db_file,
                const std::string& env_prefix);

  // Whether the command line asked for a backup (after parsing).
  bool requested() const { return command_->parsed(); }
  // Runs it: the data dir is --data-dir when given, else `service_data_dir` (the service's own
  // flag, environment variable or default). Prints one line saying what was copied (or, on
  // `err`, why not). Returns the process exit code: 0, or 1.
  int Run(const std::string& service_data_dir, std::ostream& out, std::ostream& err) const;

 private:
  std::string program_;
  std::string db_file_;
  std::string to_;
  std::string data_dir_;
  CLI::App* command_ = nullptr;
  CLI::Option* data_dir_flag_ = nullptr;
};

}  // namespace civic::runtime
