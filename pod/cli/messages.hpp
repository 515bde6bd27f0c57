// Everything ghostpod says to the user goes through here: errors, warnings, notes.
#pragma once

#include <string>

#include "vault/result.hpp"

namespace ghostpod {

// Prints "ghostpod: what: why" and "hint: …" to stderr; returns the exit code for it.
int report(const Error& error);
void warn(const std::string& text);
void note(const std::string& text);
// Output proper (listings, values, JSON), to stdout.
void print_stdout(const std::string& text);
int exit_code(ErrorCode code);

}  // namespace ghostpod
