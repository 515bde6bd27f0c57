// From argv to a command: global options, the command table, the handler.
#pragma once

namespace ghostpod {

int run_cli(int argc, char** argv);

}  // namespace ghostpod
