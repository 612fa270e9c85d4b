# Helpers every component uses, so each src/<component>/CMakeLists.txt stays a few lines long.

# Warnings that are errors in our own code (never applied to third-party headers, which CMake
# includes as SYSTEM through imported targets).
set(LUNAL_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough -Werror)

function(lunal_target_defaults target)
  target_compile_options(${target} PRIVATE ${LUNAL_WARNINGS})
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()

# lunal_component(NAME <name> SOURCES <files...> DEPS <targets...> [PRIVATE_DEPS <targets...>])
#
# Declares the static library lunal_<name> (alias lunal::<name>) from src/<name>/: the folder's
# include/ is the PUBLIC interface (#include "lunal/<name>/x.h"); the folder itself is PRIVATE, so
# other components cannot reach implementation headers.
function(lunal_component)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target lunal_${ARG_NAME})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(lunal::${ARG_NAME} ALIAS ${target})
  target_include_directories(${target}
    PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/include"
    PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  lunal_target_defaults(${target})
endfunction()

# lunal_tests(NAME <name> LABELS <labels...> SOURCES <files...> DEPS <targets...>)
#
# Builds one GoogleTest executable <name>_test from the given *_test.cc files and registers each
# test case with ctest (discovered when ctest runs, so a build never executes test code), labelled
# with LABELS (unit, integration, e2e, slow). The executable runs with the source folder as its
# working directory; lunal::testing knows the source, build and ../shared folders (compiled in,
# overridable by LUNAL_SOURCE_DIR / LUNAL_BINARY_DIR / LUNAL_SHARED_DIR in the environment).
function(lunal_tests)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "LABELS;SOURCES;DEPS" ${ARGN})
  if(NOT LUNAL_BUILD_TESTS)
    return()
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(target ${ARG_NAME}_test)
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  target_include_directories(${target} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
  lunal_target_defaults(${target})
  gtest_discover_tests(${target}
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    DISCOVERY_MODE PRE_TEST
    PROPERTIES
      LABELS "${ARG_LABELS}"
      TIMEOUT ${ARG_TIMEOUT})
endfunction()
