// The relay between the user's terminal and a command's pty, and the job control around it,
// after sudo's exec_pty: one poll loop over the master, the terminal and a signalfd; no
// threads. The user's terminal is in raw mode only while the client is its foreground job and
// is restored on every way out: the command's exit, its stop (the client stops with it), a
// signal (all of them arrive through the signalfd), an error.
#include "pod/session/terminal_relay.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "pod/cli/messages.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kChunk = 16 * 1024;      // one read of the master or of the terminal
constexpr std::size_t kDrainLimit = 1u << 20;  // master output still taken after the command exited
constexpr int kBackgroundCheckMs = 200;        // how often a background client looks for the foreground
constexpr int kForwarded[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};

bool is_pipe_or_socket(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

int exit_status(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

class Supervisor {
public:
    Supervisor(CommandChild child, const UserTerminal& terminal, UniqueFd master, MaskedOutput* mask)
        : child_(child), terminal_(terminal), master_(std::move(master)), master_open_(master_.valid()), mask_(mask) {}

    int run(int signal_fd) {
        take_terminal();
        while (!exited_) {
            struct pollfd fds[5];
            nfds_t count = 0;
            fds[count++] = {signal_fd, POLLIN, 0};
            int master_at = -1, input_at = -1;
            if (master_open_) {
                master_at = static_cast<int>(count);
                fds[count++] = {master_.get(), static_cast<short>(POLLIN | (pending_ ? POLLOUT : 0)), 0};
            }
            if (reading_input()) {
                input_at = static_cast<int>(count);
                fds[count++] = {STDIN_FILENO, POLLIN, 0};
            }
            nfds_t pipes_at = count;
            if (mask_)
                for (auto& p : mask_->pipes)
                    if (p.read_end.valid()) fds[count++] = {p.read_end.get(), POLLIN, 0};
            // A job brought to the foreground while running gets no SIGCONT: look now and then.
            bool waiting_for_foreground = terminal_.relay_input && master_open_ && input_open_ && !raw_.active();
            int ready = ::poll(fds, count, poll_timeout(waiting_for_foreground ? kBackgroundCheckMs : -1));
            if (ready < 0 && errno != EINTR) break;
            if (waiting_for_foreground) take_terminal();
            flush_due_masks();
            if (ready <= 0) continue;
            for (nfds_t k = pipes_at; k < count; ++k)
                if (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) relay_masked_pipe(fds[k].fd);
            if (master_at >= 0) {
                short events = fds[master_at].revents;
                if (events & POLLIN) relay_output();
                else if (events & (POLLHUP | POLLERR)) master_open_ = false;  // no slave left open
                if (master_open_ && (events & POLLOUT)) relay_pending_input();
            }
            if (input_at >= 0 && (fds[input_at].revents & (POLLIN | POLLHUP | POLLERR))) read_input();
            if (fds[0].revents & POLLIN) take_signals(signal_fd);
        }
        drain_output();
        if (mask_) drain_masked_pipes(mask_->pipes);
        raw_.restore();
        return status_;
    }

private:
    bool foreground() const {
        // Not our controlling terminal (ENOTTY): no job control applies, the terminal is ours.
        pid_t group = ::tcgetpgrp(terminal_.modes_fd);
        return group < 0 ? errno == ENOTTY : group == ::getpgrp();
    }

    bool reading_input() const {
        return master_open_ && raw_.active() && input_open_ && pending_ == 0;
    }

    // Raw mode (and keys to the pty) while the client is the foreground job; cooked otherwise.
    void take_terminal() {
        if (!master_.valid() || !terminal_.relay_input) return;
        bool ours = foreground();
        if (raw_.active() && !ours) raw_.restore();
        if (!raw_.active() && ours && input_open_) {
            auto raw = sandbox::RawMode::enter(terminal_.modes_fd, terminal_.keep_output_processing);
            if (raw) raw_ = std::move(*raw);
        }
    }

    // The poll timeout: `base`, or sooner when a masked stream's held bytes fall due.
    int poll_timeout(int base) const {
        if (!mask_) return base;
        int timeout = base;
        auto sooner = [&](const MaskedStream& s) {
            int due = s.due_in_ms();
            if (due >= 0 && (timeout < 0 || due < timeout)) timeout = due;
        };
        if (mask_->terminal) sooner(*mask_->terminal);
        for (const auto& p : mask_->pipes)
            if (p.read_end.valid()) sooner(*p.stream);
        return timeout;
    }

    void flush_due_masks() {
        if (!mask_) return;
        if (mask_->terminal && mask_->terminal->due_in_ms() == 0) mask_->terminal->flush();
        for (auto& p : mask_->pipes)
            if (p.read_end.valid() && p.stream->due_in_ms() == 0) p.stream->flush();
    }

    void relay_masked_pipe(int fd) {
        for (auto& p : mask_->pipes) {
            if (p.read_end.get() != fd) continue;
            ssize_t n = p.stream->relay_from(fd);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                p.stream->flush();
                p.read_end.reset();
            }
        }
    }

    void relay_output() {
        if (mask_ && mask_->terminal) {
            ssize_t n = mask_->terminal->relay_from(master_.get());
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) master_open_ = false;
            return;
        }
        std::array<char, kChunk> buffer;
        ssize_t n = ::read(master_.get(), buffer.data(), buffer.size());
        if (n > 0) {
            if (output_open_ && !write_fully(terminal_.output_fd, buffer.data(), static_cast<std::size_t>(n))) output_open_ = false;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            master_open_ = false;  // EIO: every slave descriptor is closed
        }
    }

    // Everything the master holds now: output written just before the command exited, or
    // before it stopped. The kernel flushes the pty's buffer before a read reports none.
    void drain_output() {
        if (!master_.valid()) return;
        if (mask_ && mask_->terminal) {
            for (std::size_t taken = 0; taken < kDrainLimit;) {
                ssize_t n = mask_->terminal->relay_from(master_.get());
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) break;
                taken += static_cast<std::size_t>(n);
            }
            mask_->terminal->flush();
            return;
        }
        std::array<char, kChunk> buffer;
        for (std::size_t taken = 0; taken < kDrainLimit;) {
            ssize_t n = ::read(master_.get(), buffer.data(), buffer.size());
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                break;
            }
            taken += static_cast<std::size_t>(n);
            if (output_open_ && !write_fully(terminal_.output_fd, buffer.data(), static_cast<std::size_t>(n))) output_open_ = false;
        }
    }

    void read_input() {
        ssize_t n = ::read(STDIN_FILENO, input_.data(), input_.size());
        if (n > 0) {
            pending_ = static_cast<std::size_t>(n);
            sent_ = 0;
            relay_pending_input();
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        } else if (n < 0 && errno == EIO && !foreground()) {
            raw_.restore();  // put in the background meanwhile: wait to be the foreground again
        } else {
            input_open_ = false;  // the terminal hung up
        }
    }

    // The master is non-blocking: a command that does not read its input must not stop its
    // output from reaching the user (nor the relay from seeing it exit).
    void relay_pending_input() {
        while (sent_ < pending_) {
            ssize_t n = ::write(master_.get(), input_.data() + sent_, pending_ - sent_);
            if (n > 0) {
                sent_ += static_cast<std::size_t>(n);
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else {
                if (n < 0 && errno == EAGAIN) return;
                sent_ = pending_;  // the pty is gone: the keys have nowhere to go
            }
        }
        pending_ = sent_ = 0;
    }

    void signal_child(int sig) {
        // A command that is our own child leads its own session: a terminal would have
        // signalled its whole group. Our other children pass the signal on themselves.
        // (Until it has taken its own session the group does not exist yet.)
        if (child_.is_command && ::kill(-child_.pid, sig) == 0) return;
        ::kill(child_.pid, sig);
    }

    void take_signals(int signal_fd) {
        struct signalfd_siginfo info;
        while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            int sig = static_cast<int>(info.ssi_signo);
            // A key on the terminal signalled our whole group, the command with us: not twice.
            bool from_terminal = info.ssi_code == SI_KERNEL;
            if (child_.shares_group && from_terminal && sig != SIGCHLD && sig != SIGWINCH && sig != SIGCONT) continue;
            if (sig == SIGCHLD) reap();
            else if (sig == SIGWINCH) {
                if (master_.valid()) (void)sandbox::copy_window_size(terminal_.modes_fd, master_.get());
            } else if (sig == SIGCONT) {
                take_terminal();  // continued after a stop that was not the command's
            } else if (sig == SIGTSTP) {
                // Our own child leads a session: its group is orphaned, and SIGTSTP would do
                // nothing there. The others pass SIGTSTP on to the command's job.
                if (child_.is_command) signal_child(SIGSTOP);
                else signal_child(SIGTSTP);
            } else {
                signal_child(sig);
            }
            if (exited_) return;
        }
    }

    void reap() {
        for (;;) {
            int status = 0;
            pid_t done = ::waitpid(child_.pid, &status, WNOHANG | WUNTRACED);
            if (done < 0 && errno == EINTR) continue;
            if (done <= 0) {
                if (done < 0) exited_ = true;  // ECHILD: nothing left to wait for
                return;
            }
            if (WIFSTOPPED(status)) {
                suspend();
                continue;
            }
            exited_ = true;
            status_ = exit_status(status);
            return;
        }
    }

    // The command stopped: so do we, as sudo does, with the user's terminal as we found it;
    // stopping our whole process group lets a shell without job control see it too.
    void suspend() {
        drain_output();
        raw_.restore();
        sigset_t stop, cont;
        sigemptyset(&stop);
        sigaddset(&stop, SIGTSTP);
        sigemptyset(&cont);
        sigaddset(&cont, SIGCONT);
        ::kill(-::getpgrp(), SIGTSTP);
        ::sigprocmask(SIG_UNBLOCK, &stop, nullptr);  // stops here until SIGCONT
        ::sigprocmask(SIG_BLOCK, &stop, nullptr);
        // The SIGCONT that woke us is handled here, not again by the loop. In an orphaned group
        // SIGTSTP does nothing and no SIGCONT comes: the command continues at once.
        struct timespec now {0, 0};
        (void)::sigtimedwait(&cont, nullptr, &now);
        if (master_.valid()) (void)sandbox::copy_terminal(terminal_.modes_fd, master_.get());
        take_terminal();
        signal_child(SIGCONT);
    }

    CommandChild child_;
    const UserTerminal& terminal_;
    UniqueFd master_;
    sandbox::RawMode raw_;
    bool master_open_ = false;
    bool input_open_ = true;
    bool output_open_ = true;
    bool exited_ = false;
    int status_ = 0;
    MaskedOutput* mask_ = nullptr;
    std::array<char, kChunk> input_{};
    std::size_t pending_ = 0, sent_ = 0;
};

}  // namespace

UserTerminal find_user_terminal() {
    UserTerminal t;
    for (int fd = 0; fd <= 2; ++fd) t.is_terminal[fd] = ::isatty(fd) == 1;
    if (!t.is_terminal[0] && !t.is_terminal[1] && !t.is_terminal[2]) return t;
    t.modes_fd = t.is_terminal[0] ? 0 : t.is_terminal[1] ? 1 : 2;
    t.output_fd = t.is_terminal[1] ? 1 : t.is_terminal[2] ? 2 : 0;
    t.relay_input = t.is_terminal[0] && (t.is_terminal[1] || !is_pipe_or_socket(STDOUT_FILENO));
    t.keep_output_processing = !t.is_terminal[1];
    return t;
}

sigset_t supervised_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kForwarded) sigaddset(&set, sig);
    for (int sig : {SIGCHLD, SIGWINCH, SIGTSTP, SIGCONT}) sigaddset(&set, sig);
    return set;
}

int supervise(CommandChild child, const sigset_t& previous_mask, const UserTerminal& terminal, UniqueFd master,
              MaskedOutput* mask) {
    // Reading or setting the terminal from the background must fail, not stop the client.
    ::signal(SIGTTIN, SIG_IGN);
    ::signal(SIGTTOU, SIG_IGN);
    sigset_t set = supervised_signals();
    UniqueFd signals(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    int status = 0;
    if (!signals.valid()) {
        report(sys_error("watch signals for the command (signalfd)"));
        ::kill(child.is_command ? -child.pid : child.pid, SIGKILL);
        while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
        }
        status = 126;
    } else {
        Supervisor supervisor(child, terminal, std::move(master), mask);
        status = supervisor.run(signals.get());
    }
    ::sigprocmask(SIG_SETMASK, &previous_mask, nullptr);
    return status;
}

}  // namespace ghostpod
