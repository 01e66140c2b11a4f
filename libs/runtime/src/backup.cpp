#include "civic/runtime/backup.hpp"

#include <chrono>
#include <filesystem>

#include "civic/sqlite/sqlite.hpp"

namespace civic::runtime {

int RunBackup(const std::string& program, const std::string& db_path, const std::string& dest_path,
              std::ostream& out, std::ostream& err) {
  if (!std::filesystem::exists(db_path)) {
    err << program << ": backup: no database at " << db_path << "\n";
    return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  try {
    const uint64_t bytes = sqlite::Backup(db_path, dest_path);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
    out << program << ": backed up " << db_path << " to " << dest_path << " (" << bytes
        << " bytes) in " << took << " ms\n";
    return 0;
  } catch (const std::exception& e) {
    err << program << ": backup: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace civic::runtime
