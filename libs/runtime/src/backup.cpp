#include "civic/runtime/backup.hpp"

#include <chrono>
#include <filesystem>

#include "civic/sqlite/sqlite.hpp"

namespace civic::runtime {

BackupCommand::BackupCommand(CLI::App& cli, std::string program, std::string db_file,
                             const std::string& env_prefix)
    : program_(std::move(program)), db_file_(std::move(db_file)) {
  command_ = cli.add_subcommand(
      "backup", "Copy the database, consistent, while the service runs (to a new file), then exit");
  command_->add_option("--to", to_, "The new file to write; an existing one is refused")
      ->required();
  data_dir_flag_ =
      command_->add_option("--data-dir", data_dir_,
                           "Directory of the database (default: the service's --data-dir or " +
                               env_prefix + "_DATA_DIR)");
}

int BackupCommand::Run(const std::string& service_data_dir, std::ostream& out,
                       std::ostream& err) const {
  const std::string dir = data_dir_flag_->count() > 0 ? data_dir_ : service_data_dir;
  const std::string db_path = dir + "/" + db_file_;
  if (!std::filesystem::exists(db_path)) {
    err << program_ << ": backup: no database at " << db_path << "\n";
    return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  try {
    const uint64_t bytes = sqlite::Backup(db_path, to_);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
    out << program_ << ": backed up " << db_path << " to " << to_ << " (" << bytes << " bytes) in "
        << took << " ms\n";
    return 0;
  } catch (const std::exception& e) {
    err << program_ << ": backup: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace civic::runtime
