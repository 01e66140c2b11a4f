#pragma once

// The `backup` subcommand both binaries share: an online, consistent copy of the service's
// database (civic::sqlite::Backup) while the service runs.

#include <ostream>
#include <string>

namespace civic::runtime {

// Copies `db_path` to the new file `dest_path`; prints one line saying what was copied (or, on
// `err`, why not). Returns the process exit code: 0, or 1.
int RunBackup(const std::string& program, const std::string& db_path, const std::string& dest_path,
              std::ostream& out, std::ostream& err);

}  // namespace civic::runtime
