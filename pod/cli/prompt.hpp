// Reading passphrases, recovery keys and secret values from the terminal (echo off) or from
// a file descriptor given on the command line. Never from argv or the environment.
#pragma once

#include <string>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

inline constexpr std::size_t kMaxPassphraseBytes = 4096;
// A new passphrase shorter than this many characters gets a warning (never a refusal).
inline constexpr std::size_t kShortPassphraseChars = 12;

// One line (without its newline) from `fd`, read byte by byte so that a second line on the
// same fd stays there for the next reader.
Result<SecretBuffer> read_line_from_fd(int fd, const std::string& what);
// Asks on /dev/tty with echo off. ErrorCode::usage when there is no terminal.
Result<SecretBuffer> ask_hidden(const std::string& prompt, const std::string& fd_option_hint);
// A new passphrase: one line from `fd` (with `option` naming it in errors), or, when fd < 0,
// asked twice on the terminal. An empty passphrase is refused; one shorter than
// kShortPassphraseChars characters is accepted with a warning.
Result<SecretBuffer> read_new_passphrase(int fd, const std::string& option, const std::string& vault_path);
// Writes `text` on the terminal (/dev/tty) after erasing the line a status line may be on;
// to stderr when there is no terminal.
void say_on_terminal(const std::string& text);
// The number of characters (UTF-8 code points) of a passphrase.
std::size_t passphrase_characters(const SecretBuffer& passphrase);
// Fails with ErrorCode::usage unless `fd` is an open descriptor.
Status check_fd_open(int fd, const std::string& option);

}  // namespace ghostpod
