# civic::warnings: the project's warning flags (and sanitizers) as one INTERFACE target that
# every civic target links.
add_library(civic_warnings INTERFACE)
add_library(civic::warnings ALIAS civic_warnings)
target_compile_options(civic_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${CIVIC_WERROR}>:-Werror>
  # GCC 12 reports false maybe-uninitialized warnings inside libstdc++ (std::regex, std::function)
  # when instrumenting with sanitizers; the Release build keeps the warning.
  $<$<BOOL:${CIVIC_SANITIZE}>:-Wno-maybe-uninitialized>)

if(CIVIC_SANITIZE)
  # Applied to the whole build so that libraries and binaries agree.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# GCC 12 reports false -Wrestrict and -Wstringop-overflow inside libstdc++'s std::string when
# "literal" + std::string or string = "literal" is inlined at -O2 (GCC bugs 105329, 105651);
# GCC 13 fixed both.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(civic_warnings INTERFACE -Wno-restrict -Wno-stringop-overflow)
endif()
