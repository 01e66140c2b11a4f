#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "civic/sqlite/sqlite.hpp"

namespace civic::sqlite {

namespace {

// fsync of a file or a directory; throws naming it.
void SyncPath(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    throw Error(SQLITE_IOERR, SQLITE_IOERR_FSYNC, "sqlite: cannot sync " + path);
  }
  ::close(fd);
}

}  // namespace

uint64_t Backup(const std::string& db_path, const std::string& dest_path) {
  namespace fs = std::filesystem;
  if (fs::exists(dest_path)) {
    throw std::runtime_error(dest_path + " exists already; a backup never overwrites a file");
  }
  const std::string partial = dest_path + ".partial";
  fs::remove(partial);  // of an earlier backup that did not finish
  {
    Options options;
    options.read_only = true;
    Database source = Database::Open(db_path, options);
    source.Prepare("VACUUM INTO ?").Bind(1, partial).Run();
  }
  {
    Options options;
    options.read_only = true;
    Database copy = Database::Open(partial, options);
    Statement check = copy.Prepare("PRAGMA quick_check");
    const std::string verdict = check.Step() ? check.ColumnText(0) : "no answer";
    if (verdict != "ok") {
      throw Error(SQLITE_CORRUPT, SQLITE_CORRUPT,
                  "sqlite: the copy of " + db_path + " failed its check: " + verdict);
    }
  }
  // The copy holds what the database holds (voter hashes, key hashes, contacts): its owner's.
  fs::permissions(partial, fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  SyncPath(partial, false);
  fs::rename(partial, dest_path);
  const fs::path parent = fs::absolute(dest_path).parent_path();
  SyncPath(parent.string(), true);
  return fs::file_size(dest_path);
}

}  // namespace civic::sqlite
