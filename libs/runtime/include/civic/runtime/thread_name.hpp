#pragma once

namespace civic::runtime {

// Names the calling thread for top -H, ps -L, perf and gdb (Linux keeps 15 characters; longer
// names are cut). Best effort: a failure changes nothing else.
void NameThisThread(const char* name);

}  // namespace civic::runtime
