// The `lunal` command line. main() only calls RunLunal; tests run the built binary.
#pragma once

namespace lunal::cli {

// Parses argv, runs the command and returns the process exit code (see output.h).
int RunLunal(int argc, char** argv);

}  // namespace lunal::cli
