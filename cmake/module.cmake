# ferrograph_module(NAME SOURCES a.cc ... DEPS lib ... TESTS a_test.cc ...)
#
# Declares the static library ferrograph_NAME from src/NAME, its dependencies,
# and one GoogleTest executable per module (NAME_test) registered with ctest.
set(FERROGRAPH_WARNINGS -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wno-unused-parameter)

function(ferrograph_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;TESTS;TEST_DEPS" ${ARGN})
  add_library(ferrograph_${name} STATIC ${M_SOURCES})
  target_include_directories(ferrograph_${name} PUBLIC
    ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  target_compile_options(ferrograph_${name} PRIVATE ${FERROGRAPH_WARNINGS})
  target_link_libraries(ferrograph_${name} PUBLIC ${M_DEPS})
  if(M_TESTS)
    add_executable(${name}_test ${M_TESTS})
    target_compile_options(${name}_test PRIVATE ${FERROGRAPH_WARNINGS})
    target_compile_definitions(${name}_test PRIVATE
      FERROGRAPH_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
      FERROGRAPH_BINARY_DIR="${CMAKE_BINARY_DIR}")
    target_link_libraries(${name}_test PRIVATE ferrograph_${name} ${M_TEST_DEPS}
      GTest::gtest GTest::gmock GTest::gtest_main)
    gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60
      PROPERTIES ENVIRONMENT "FERROGRAPH_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  endif()
endfunction()
