# Third-party C code built from sources the install script fetched:
# tree-sitter core and the Rust grammar (npm packages, pinned), and the
# official BLAKE3 C implementation (Debian's librust-blake3-dev).

set(TS_CORE "${FERROGRAPH_THIRD_PARTY}/tree-sitter/vendor/tree-sitter/lib")
set(TS_RUST "${FERROGRAPH_THIRD_PARTY}/tree-sitter-rust/src")
if(NOT EXISTS "${TS_CORE}/src/lib.c" OR NOT EXISTS "${TS_RUST}/parser.c")
  message(FATAL_ERROR "tree-sitter sources missing under ${FERROGRAPH_THIRD_PARTY}: run scripts/install_deps.sh")
endif()

add_library(tree_sitter STATIC "${TS_CORE}/src/lib.c")
target_include_directories(tree_sitter SYSTEM PUBLIC "${TS_CORE}/include" PRIVATE "${TS_CORE}/src")
target_compile_definitions(tree_sitter PRIVATE _POSIX_C_SOURCE=200112L _DEFAULT_SOURCE)
target_compile_options(tree_sitter PRIVATE -O2 -w)

add_library(tree_sitter_rust STATIC "${TS_RUST}/parser.c" "${TS_RUST}/scanner.c")
target_include_directories(tree_sitter_rust PRIVATE "${TS_RUST}")
target_compile_options(tree_sitter_rust PRIVATE -O2 -w)
target_link_libraries(tree_sitter_rust PUBLIC tree_sitter)

file(GLOB BLAKE3_DIRS LIST_DIRECTORIES true "/usr/share/cargo/registry/blake3-*/c")
list(SORT BLAKE3_DIRS COMPARE NATURAL)
list(POP_BACK BLAKE3_DIRS BLAKE3_C)
if(NOT BLAKE3_C OR NOT EXISTS "${BLAKE3_C}/blake3.h")
  message(FATAL_ERROR "BLAKE3 C sources not found (install librust-blake3-dev): run scripts/install_deps.sh")
endif()
message(STATUS "BLAKE3 C sources: ${BLAKE3_C}")
set(BLAKE3_SOURCES "${BLAKE3_C}/blake3.c" "${BLAKE3_C}/blake3_dispatch.c" "${BLAKE3_C}/blake3_portable.c")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  list(APPEND BLAKE3_SOURCES
       "${BLAKE3_C}/blake3_sse2_x86-64_unix.S" "${BLAKE3_C}/blake3_sse41_x86-64_unix.S"
       "${BLAKE3_C}/blake3_avx2_x86-64_unix.S" "${BLAKE3_C}/blake3_avx512_x86-64_unix.S")
  set(BLAKE3_DEFS "")
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  list(APPEND BLAKE3_SOURCES "${BLAKE3_C}/blake3_neon.c")
  set(BLAKE3_DEFS BLAKE3_USE_NEON=1)
else()
  set(BLAKE3_DEFS BLAKE3_NO_SSE2 BLAKE3_NO_SSE41 BLAKE3_NO_AVX2 BLAKE3_NO_AVX512)
endif()
add_library(blake3 STATIC ${BLAKE3_SOURCES})
target_include_directories(blake3 SYSTEM PUBLIC "${BLAKE3_C}")
target_compile_definitions(blake3 PRIVATE ${BLAKE3_DEFS})
target_compile_options(blake3 PRIVATE -O3 -w)
