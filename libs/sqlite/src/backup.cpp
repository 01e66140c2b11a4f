#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
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
  // Made empty, for its owner only, before a byte is written into it (the copy holds what the
  // database holds: voter hashes, key hashes, contacts); VACUUM INTO fills an empty file.
  const int fd =
      ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot create " + partial + ": " + std::strerror(errno));
  }
  ::close(fd);
  struct RemoveUnlessKept {
    const std::string& path;
    bool kept = false;
    ~RemoveUnlessKept() {
      if (!kept) {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
      }
    }
  } cleanup{partial};
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
  SyncPath(partial, false);
  // Renamed only where nothing is: a file made at dest_path meanwhile is not replaced.
  if (::renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, dest_path.c_str(), RENAME_NOREPLACE) != 0) {
    throw std::runtime_error("cannot move the copy to " + dest_path + ": " + std::strerror(errno));
  }
  cleanup.kept = true;
  const fs::path parent = fs::absolute(dest_path).parent_path();
  SyncPath(parent.string(), true);
  return fs::file_size(dest_path);
}

}  // namespace civic::sqlite
