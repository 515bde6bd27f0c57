#include "pod/cli/dispatch.hpp"

int main(int argc, char** argv) { return ghostpod::run_cli(argc, argv); }
