#include "pod/cli/args.hpp"

int main(int argc, char** argv) { return ghostpod::run_cli(argc, argv); }
