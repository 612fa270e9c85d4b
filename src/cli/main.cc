#include "lunal/cli/app.h"

int main(int argc, char** argv) { return lunal::cli::RunLunal(argc, argv); }
