#pragma once

#include <string>

namespace civic::runtime {

// Sets the default spdlog logger: stderr, "<time> <level> <service>: <message>", at `level`
// (trace|debug|info|warn|error|critical|off; validated by the config flags).
void InitLogging(const std::string& service, const std::string& level);

}  // namespace civic::runtime
