#include "pod/cli/messages.hpp"

#include <unistd.h>

#include <span>

#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

void say(const std::string& line) {
    auto bytes = text_bytes(line);
    (void)write_all(STDERR_FILENO, bytes, "write to stderr");
}

}  // namespace

int exit_code(ErrorCode code) { return static_cast<int>(code); }

int report(const Error& error) {
    std::string text = "ghostpod: " + error.describe() + "\n";
    if (!error.hint.empty()) text += "hint: " + error.hint + "\n";
    say(text);
    return exit_code(error.code);
}

void warn(const std::string& text) { say("ghostpod: warning: " + text + "\n"); }
void note(const std::string& text) { say("ghostpod: " + text + "\n"); }

void print_stdout(const std::string& text) {
    (void)write_all(STDOUT_FILENO, text_bytes(text), "write to stdout");
}

}  // namespace ghostpod
