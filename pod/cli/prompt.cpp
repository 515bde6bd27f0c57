#include "pod/cli/prompt.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <span>

#include "pod/cli/messages.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

// While echo is off, a Ctrl-C must not leave the user's terminal silent.
int g_tty_fd = -1;
struct termios g_saved_termios;

void restore_tty_and_reraise(int sig) {
    if (g_tty_fd >= 0) ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved_termios);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

Status say_on(int fd, const std::string& text) {
    return write_all(fd, text_bytes(text), "write to terminal");
}

}  // namespace

void say_on_terminal(const std::string& text) {
    UniqueFd tty(::open("/dev/tty", O_WRONLY | O_CLOEXEC | O_NOCTTY));
    if (tty.valid() && ::isatty(tty.get())) {
        (void)say_on(tty.get(), "\r\033[K" + text);
        return;
    }
    (void)write_all(STDERR_FILENO, text_bytes(text), "write to stderr");
}

std::size_t passphrase_characters(const SecretBuffer& passphrase) {
    std::size_t count = 0;
    for (std::uint8_t byte : passphrase.bytes()) count += (byte & 0xC0) != 0x80;
    return count;
}

Status check_fd_open(int fd, const std::string& option) {
    if (fd < 0 || ::fcntl(fd, F_GETFD) < 0)
        return make_error(ErrorCode::usage, option + " " + std::to_string(fd), "that file descriptor is not open",
                          "open it in the shell, e.g. '" + option + " 3 3<file'");
    return {};
}

Result<SecretBuffer> read_line_from_fd(int fd, const std::string& what) {
    auto line = SecretBuffer::allocate(0);
    if (!line) return line;
    bool got_any = false;
    for (;;) {
        std::uint8_t c = 0;
        ssize_t n = ::read(fd, &c, 1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_error("read " + what);
        }
        if (n == 0) break;
        got_any = true;
        if (c == '\n') break;
        if (line->size() >= kMaxPassphraseBytes)
            return make_error(ErrorCode::usage, "read " + what, "longer than " + std::to_string(kMaxPassphraseBytes) + " bytes");
        GP_TRY(line->push_back(c));
    }
    if (!got_any) return make_error(ErrorCode::usage, "read " + what, "nothing to read (end of file)");
    if (!line->empty() && line->data()[line->size() - 1] == '\r') line->truncate(line->size() - 1);
    return line;
}

Result<SecretBuffer> ask_hidden(const std::string& prompt, const std::string& fd_option_hint) {
    UniqueFd tty(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
    if (!tty.valid())
        return make_error(ErrorCode::usage, "cannot ask for " + prompt, "there is no terminal",
                          "pass it on a file descriptor with " + fd_option_hint);
    struct termios saved {};
    bool is_terminal = ::tcgetattr(tty.get(), &saved) == 0;
    if (is_terminal) {
        struct termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        g_saved_termios = saved;
        g_tty_fd = tty.get();
        ::signal(SIGINT, restore_tty_and_reraise);
        ::signal(SIGTERM, restore_tty_and_reraise);
        ::signal(SIGHUP, restore_tty_and_reraise);
        if (::tcsetattr(tty.get(), TCSAFLUSH, &quiet) != 0) return sys_error("turn off terminal echo");
    }
    std::string shown = prompt;
    if (!shown.empty() && shown[0] >= 'a' && shown[0] <= 'z') shown[0] = static_cast<char>(shown[0] - 'a' + 'A');
    (void)say_on(tty.get(), shown + ": ");
    auto line = read_line_from_fd(tty.get(), prompt);
    if (is_terminal) {
        ::tcsetattr(tty.get(), TCSAFLUSH, &saved);
        g_tty_fd = -1;
        ::signal(SIGINT, SIG_DFL);
        ::signal(SIGTERM, SIG_DFL);
        ::signal(SIGHUP, SIG_DFL);
    }
    (void)say_on(tty.get(), "\n");
    return line;
}

namespace {

// Argon2id makes each guess dear; it cannot make a short passphrase one of many. A warning
// only: the choice is the operator's, and scripts may have reasons.
void warn_if_short(const SecretBuffer& passphrase) {
    std::size_t n = passphrase_characters(passphrase);
    if (n >= kShortPassphraseChars) return;
    warn("the new passphrase is only " + std::to_string(n) + " character(s) long; one of " +
         std::to_string(kShortPassphraseChars) + " or more (several words) is much harder to guess");
}

}  // namespace

Result<SecretBuffer> read_new_passphrase(int fd, const std::string& option, const std::string& vault_path) {
    auto empty = [] {
        return make_error(ErrorCode::usage, "set passphrase", "it is empty", "choose a passphrase of several words");
    };
    if (fd >= 0) {
        GP_TRY(check_fd_open(fd, option));
        auto line = read_line_from_fd(fd, "new passphrase from " + option);
        if (line && line->empty()) return empty();
        if (line) warn_if_short(*line);
        return line;
    }
    auto first = ask_hidden("new passphrase for " + vault_path, option + " N");
    if (!first) return first;
    if (first->empty()) return empty();
    auto second = ask_hidden("repeat the new passphrase", option + " N");
    if (!second) return second;
    if (!first->equals(second->bytes()))
        return make_error(ErrorCode::usage, "set passphrase", "the two entries differ", "run the command again");
    warn_if_short(*first);
    return first;
}

}  // namespace ghostpod
