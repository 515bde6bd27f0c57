// A command in the ghost: its environment, a profile's narrowed view, and the fork that runs it
// (the pre-exec hardening itself is sandbox/command.*).
#include "pod/session/command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>

#include "pod/cli/messages.hpp"
#include "pod/session/output_mask.hpp"
#include "pod/session/terminal_relay.hpp"
#include "pod/unlock/config_rules.hpp"
#include "sandbox/ghost.hpp"
#include "sandbox/mounts.hpp"
#include "sandbox/command.hpp"
#include "sandbox/pty.hpp"
#include "sandbox/spawn.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

// Variables a command inherits from the caller; everything else is dropped.
bool inherited(const std::string& name) {
    static const char* const kAllowed[] = {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "COLORTERM", "LANG",
                                           "LANGUAGE", "TZ", "EDITOR", "VISUAL", "PAGER", "NO_COLOR", "SSH_AUTH_SOCK",
                                           "XDG_RUNTIME_DIR"};
    for (const char* allowed : kAllowed)
        if (name == allowed) return true;
    return name.rfind("LC_", 0) == 0;
}

// What else passes from the caller: the proxy variables and AWS's profile and region, which
// tools need as they are and which hold no code; and the config's session.pass_env (names and
// "PREFIX_*" patterns, each match checked against refused_variable).
bool passed_through(const std::string& name, const std::vector<std::string>& pass_env) {
    static const char* const kPassedByDefault[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY",
                                                   "no_proxy", "ALL_PROXY", "all_proxy", "AWS_PROFILE", "AWS_REGION",
                                                   "AWS_DEFAULT_REGION"};
    for (const char* passed : kPassedByDefault)
        if (name == passed) return true;
    return std::any_of(pass_env.begin(), pass_env.end(), [&](const std::string& entry) { return pass_env_allows(entry, name); });
}

// The command's environment as one buffer of NAME=value entries. Values mapped "env_value"
// (read from the ghost's files) are secrets: with any of them, the buffer is secret memory,
// inherited by the fork meant to cross (into the command, which execs with it). Without, it
// holds the caller's own variables (in its plain memory already), ghostpod's paths and the
// prompt's, and is plain memory (wiped when freed, as all of it is): mapping, guarding and
// locking a buffer costs a join ten system calls, more than the rest of its own start.
class CommandEnv {
public:
    static Result<CommandEnv> make(std::size_t expected, bool holds_secrets) {
        CommandEnv env;
        if (!holds_secrets) {
            env.plain_.reserve(expected);
            return env;
        }
        auto secret = SecretBuffer::allocate(expected, SecretBuffer::InChildren::inherited);
        if (!secret) return std::move(secret).error();
        secret->truncate(0);
        env.secret_ = std::move(*secret);
        return env;
    }
    std::size_t size() const { return in_secret() ? secret_.size() : plain_.size(); }
    std::uint8_t* data() { return in_secret() ? secret_.data() : plain_.data(); }
    std::span<const std::uint8_t> bytes() const {
        return in_secret() ? secret_.bytes() : std::span<const std::uint8_t>(plain_.data(), plain_.size());
    }
    Status append(std::span<const std::uint8_t> more) {
        if (in_secret()) return secret_.append(more);
        plain_.insert(plain_.end(), more.begin(), more.end());
        return {};
    }
    Status push_back(std::uint8_t byte) {
        if (in_secret()) return secret_.push_back(byte);
        plain_.push_back(byte);
        return {};
    }
    // Wiped and let go of: the command's copy is its own.
    void release() {
        secret_ = SecretBuffer{};
        sodium_memzero(plain_.data(), plain_.size());
        plain_ = {};
    }

private:
    bool in_secret() const { return secret_.backing() != SecretBuffer::Backing::none; }

    SecretBuffer secret_;
    std::vector<std::uint8_t> plain_;
};

Result<CommandEnv> command_environment(const Attachment& a, const std::vector<std::string>& pass_env,
                                       std::vector<std::size_t>& offsets, const std::vector<ExtraVariable>& extra = {}) {
    // One allocation in the usual case (each growth of secret memory maps, locks, copies and
    // wipes a new area): the caller's variables, ours and the view's, with room for a page of
    // file-held values.
    std::size_t expected = 4096 + a.ghost_dir.size() + a.vault_path.size() + a.config_path.size();
    for (char** e = environ; *e; ++e) expected += std::strlen(*e) + 1;
    for (const auto& x : extra) expected += x.name.size() + x.value.size() + 2;
    for (const auto& e : a.env) expected += e.name.size() + e.path.size() + 2;
    bool holds_secrets = std::any_of(a.env.begin(), a.env.end(), [](const GhostEnv& e) { return e.value_from_file; });
    auto env = CommandEnv::make(expected, holds_secrets);
    if (!env) return env;
    auto add = [&](const std::string& name, std::span<const std::uint8_t> value) -> Status {
        offsets.push_back(env->size());
        GP_TRY(env->append(text_bytes(name)));
        GP_TRY(env->push_back('='));
        GP_TRY(env->append(value));
        return env->push_back('\0');
    };
    // A mapped variable replaces an inherited one of the same name; GHOSTPOD_* are ours.
    // Names the whole view maps count too: inside the ghost, the caller's own environment holds
    // their values, which a profile without the mapping must not inherit.
    auto mapped = [&](const std::string& name) {
        return std::any_of(a.env.begin(), a.env.end(), [&](const GhostEnv& e) { return e.name == name; }) ||
               std::find(a.mapped_names.begin(), a.mapped_names.end(), name) != a.mapped_names.end();
    };
    for (char** e = environ; *e; ++e) {
        std::string entry = *e;
        std::string name = entry.substr(0, entry.find('='));
        if ((inherited(name) || passed_through(name, pass_env)) && !mapped(name)) GP_TRY(add(name, text_bytes(entry.substr(name.size() + 1))));
    }
    GP_TRY(add("GHOSTPOD_DIR", text_bytes(a.ghost_dir)));
    GP_TRY(add("GHOSTPOD_SESSION", text_bytes(session_marker(a))));
    for (const auto& x : extra) GP_TRY(add(x.name, text_bytes(x.value)));
    // 'ghostpod save', 'certs', 'status', 'lock', 'run' run inside find the session (and the
    // config with its profiles) through these.
    if (!a.vault_path.empty()) GP_TRY(add("GHOSTPOD_VAULT", text_bytes(a.vault_path)));
    if (!a.config_path.empty()) GP_TRY(add("GHOSTPOD_CONFIG", text_bytes(a.config_path)));
    for (const auto& e : a.env) {
        if (!e.value_from_file) {
            GP_TRY(add(e.name, text_bytes(e.path)));
            continue;
        }
        const std::string& name = e.name;
        const std::string& path = e.path;
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) return sys_error("open " + path + " for " + name);
        auto value = SecretBuffer::read_fd(fd.get(), kMaxValueBytes, "read " + path);
        if (!value) return std::move(value).error();
        if (std::memchr(value->data(), '\0', value->size()))
            return make_error(ErrorCode::runtime, "set " + name, "the secret holds a NUL byte, which no variable can");
        GP_TRY(add(name, value->bytes()));
    }
    return env;
}

[[noreturn]] void exec_in_ghost(const std::vector<std::string>& argv, CommandEnv& env, const std::vector<std::size_t>& offsets,
                                const std::string& cwd, sandbox::TerminalStep terminal) {
    std::vector<char*> envp;
    for (std::size_t off : offsets) envp.push_back(reinterpret_cast<char*>(env.data() + off));
    envp.push_back(nullptr);
    Error failed = sandbox::exec_command({argv, envp.data(), cwd, terminal});
    report(failed);
    ::_exit(failed.errnum == ENOENT ? 127 : 126);
}

// run --mask: the values of the secrets in the command's view, and the streams its output
// takes through this client: the pty's output (`pty`), and a pipe for each of stdout and
// stderr that is not the user's terminal. Read after joining (the files exist only inside)
// and after narrowing (a profile's command is masked for what it can see).
Status prepare_mask(const Attachment& a, const UserTerminal& terminal, bool pty, MaskValues& values, MaskedOutput& out) {
    auto loaded = MaskValues::read(a.ghost_dir, a.secrets);
    if (!loaded) return std::move(loaded).error();
    values = std::move(*loaded);
    if (pty) {
        auto stream = MaskedStream::make(values, terminal.output_fd);
        if (!stream) return std::move(stream).error();
        out.terminal.emplace(std::move(*stream));
    }
    for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
        if (pty && terminal.is_terminal[fd]) continue;
        auto piped = make_masked_pipe(values, fd);
        if (!piped) return std::move(piped).error();
        out.pipes.push_back(std::move(*piped));
    }
    return {};
}

// The command's side of the fork: its masked stdout and stderr become the pipes' write ends.
void take_masked_pipes(MaskedOutput& out) {
    for (auto& p : out.pipes) {
        p.read_end.reset();
        // A caller started with that descriptor closed got the pipe on it: it stays, made inheritable.
        if (p.write_end.get() == p.target) {
            if (::fcntl(p.target, F_SETFD, 0) != 0) ::_exit(126);
            (void)p.write_end.release();
            continue;
        }
        if (::dup2(p.write_end.get(), p.target) < 0) ::_exit(126);
        p.write_end.reset();
    }
}

sandbox::RamKind ram_kind() { return ::geteuid() == 0 ? sandbox::RamKind::tmpfs_noswap : sandbox::RamKind::ramfs; }

// Narrows the attachment to a profile's secrets and gives the command a view of its own: a
// nested mount namespace in which the other secrets' paths are as outside the ghost, registered
// with the holder (so that its processes get only this view from the control socket), and a
// nested pid namespace so it cannot reach the full view through another process's /proc/PID/root.
// `proc_self` is this process's /proc/PID from before it joined the ghost.
Status apply_profile(Attachment& a, const SessionOptions& options, int proc_self) {
    a.narrow(narrow_view(a.view(), *options.profile));
    a.profile = options.profile_name;  // the view is that profile's now (GHOSTPOD_SESSION says so)
    if (::unshare(CLONE_NEWNS) != 0) return sys_error("unshare a mount namespace for the profile");
    GP_TRY(sandbox::build_profile_view(profile_mounts(a.view()), ram_kind(), proc_self));
    UniqueFd mnt(::openat(proc_self, "ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!mnt.valid()) return sys_error("open the profile's mount namespace");
    return register_profile(a, options.profile_name, *options.profile, mnt.get());
}

// run --mask in a profile from inside the ghost: ghost init's command writes to our pipes; a
// thread of ours (with every signal blocked: they are relay_spawned's) masks them on their way
// to our stdout and stderr while relay_spawned waits for the command.
int relay_spawned_masked(int control, UniqueFd command_write, const std::vector<std::string>& argv, const std::string& cwd,
                         CommandEnv& env, MaskedOutput& masked) {
    for (auto& p : masked.pipes) p.write_end.reset();
    (void)sandbox::send_command(std::move(command_write), argv, cwd, env.bytes());
    env.release();
    int stop[2];
    if (::pipe2(stop, O_CLOEXEC) != 0) return report(sys_error("pipe for the masked output"));
    UniqueFd stop_read(stop[0]), stop_write(stop[1]);
    sigset_t all, previous;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, &previous);
    std::thread pump([&] { pump_masked_pipes(masked.pipes, stop_read.get()); });
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    int status = sandbox::relay_spawned(control, [](const Error& e) { report(e); });
    stop_write.reset();  // the command has exited: the pump takes what is left and ends
    pump.join();
    return status;
}

// From inside the ghost, where this process has no privilege to build a profile's view: ghost
// init builds it and starts the command there with our stdio; we hand it the command line and
// environment, relay signals and pass its exit status on.
int run_spawned(Attachment& a, const std::vector<std::string>& argv, const SessionOptions& options, const std::string& cwd,
                const std::vector<ExtraVariable>& extra) {
    a.narrow(narrow_view(a.view(), *options.profile));
    a.profile = options.profile_name;
    std::vector<std::size_t> offsets;
    auto env = command_environment(a, a.pass_env, offsets, extra);
    if (!env) return report(env.error());
    int control[2], command[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control) != 0) return report(sys_error("socketpair for the command"));
    UniqueFd ours(control[0]), theirs(control[1]);
    if (::pipe2(command, O_CLOEXEC) != 0) return report(sys_error("pipe for the command"));
    UniqueFd command_read(command[0]), command_write(command[1]);
    MaskValues mask_values;
    MaskedOutput masked;
    if (options.mask)
        if (auto prepared = prepare_mask(a, UserTerminal{}, false, mask_values, masked); !prepared) return report(prepared.error());
    int out = options.mask ? masked.pipes[0].write_end.get() : STDOUT_FILENO;
    int err = options.mask ? masked.pipes[1].write_end.get() : STDERR_FILENO;
    // The seam for a pseudo-terminal of the command's own: its slave instead of our 0, 1, 2.
    if (auto spawned = spawn_in_profile(a, options.profile_name, *options.profile,
                                        {STDIN_FILENO, out, err, theirs.get(), command_read.get()});
        !spawned)
        return report(spawned.error());
    theirs.reset();
    command_read.reset();
    if (options.mask) return relay_spawned_masked(ours.get(), std::move(command_write), argv, cwd, *env, masked);
    // A failure here shows as the command's own (it reports why it did not run).
    (void)sandbox::send_command(std::move(command_write), argv, cwd, env->bytes());
    env->release();
    return sandbox::relay_spawned(ours.get(), [](const Error& e) { report(e); });
}

// Waits for `child` and passes its exit status on; the signals the client forwards go on to it.
// A `job` (the command, in a process group of its own under us) gets them as its group, and
// when it stops we stop too, so the client sees it: our whole group takes SIGSTOP, as pid 1
// of a profile's namespace cannot stop itself (the process that started it stops instead).
// The client's SIGCONT then reaches us (through that process) and we continue the job.
[[noreturn]] void wait_and_pass_on(pid_t child, bool job) {
    static pid_t s_child;
    static bool s_job;
    static volatile sig_atomic_t s_continued;
    s_child = child;
    s_job = job;
    struct sigaction forward {};
    forward.sa_handler = [](int sig) {
        if (sig == SIGCONT && s_job) s_continued = 1;
        else ::kill(s_job ? -s_child : s_child, sig);
    };
    sigemptyset(&forward.sa_mask);
    for (int sig : {SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGTSTP, SIGCONT}) ::sigaction(sig, &forward, nullptr);
    sigset_t cont, wait_mask;
    sigemptyset(&cont);
    sigaddset(&cont, SIGCONT);
    ::sigprocmask(SIG_BLOCK, &cont, &wait_mask);
    sigdelset(&wait_mask, SIGCONT);
    if (!job) ::sigprocmask(SIG_UNBLOCK, &cont, nullptr);
    for (;;) {
        int status = 0;
        pid_t done = ::waitpid(-1, &status, job ? WUNTRACED : 0);
        if (done < 0 && errno != EINTR) ::_exit(126);
        if (done != child) continue;
        if (WIFSTOPPED(status)) {
            s_continued = 0;
            ::kill(0, SIGSTOP);
            while (!s_continued) ::sigsuspend(&wait_mask);
            ::kill(-child, SIGCONT);
            continue;
        }
        ::_exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
    }
}

// Hands the pty's slave to the command's side of the fork: it replaces every one of fds 0-2
// that is the user's terminal. Returns that descriptor (-1 without a pty).
int take_slave(const UserTerminal& terminal, std::optional<sandbox::Pty>& pty) {
    if (!pty) return -1;
    int tty = -1;
    for (int fd = 0; fd <= 2; ++fd) {
        if (!terminal.is_terminal[fd]) continue;
        if (::dup2(pty->slave.get(), fd) < 0) ::_exit(126);
        if (tty < 0) tty = fd;
    }
    pty.reset();
    return tty;
}

// Starts the command in a child that shares this process's memory until it execs (vfork: no
// page tables copied, no copy-on-write faults on either side; they were most of a warm join's
// cost beyond nsenter's). The child writes no object of the caller's: exec_in_ghost reads its
// arguments and execs or _exits; its credentials, signal handlers, descriptors and filters are
// its own (vfork shares none of fs, files, sighand or the thread group). Used by the plain
// case of run_attached (no pty, no mask, no profile to narrow; the others' children move
// descriptors out of the caller's objects and run on, so they fork), the pty's session leader
// and a profile's init (which only wait afterwards). `mask`, when given, is the child's.
// No memory of ours reaches the command: the exec replaces what the child shares, and until
// then the child is as non-dumpable as we are (dumpability belongs to the shared memory).
pid_t vfork_exec_in_ghost(const std::vector<std::string>& argv, CommandEnv& env, const std::vector<std::size_t>& offsets,
                          const std::string& cwd, sandbox::TerminalStep step, const sigset_t* mask) {
    pid_t child = ::vfork();
    if (child == 0) {
        if (mask) ::sigprocmask(SIG_SETMASK, mask, nullptr);
        exec_in_ghost(argv, env, offsets, cwd, step);
    }
    return child;
}

// The first process of the pty's session: it leads the session and starts the command as a
// job under it, so the job has a parent in its session and Ctrl-Z stops it (a session
// leader's own group is orphaned: terminal stop signals do nothing there).
[[noreturn]] void lead_pty_session(int tty, const std::vector<std::string>& argv, CommandEnv& env,
                                   const std::vector<std::size_t>& offsets, const std::string& cwd) {
    if (auto led = sandbox::lead_terminal_session(tty); !led) {
        report(led.error());
        ::_exit(126);
    }
    pid_t command = vfork_exec_in_ghost(argv, env, offsets, cwd, sandbox::TerminalStep::foreground_job, nullptr);
    if (command < 0) ::_exit(126);
    env.release();  // the command has its environment; we wait for as long as it runs
    ::setpgid(command, command);  // also here: a signal passed on before the child's own setpgid finds the group
    wait_and_pass_on(command, true);
}

// pid 1 of a profile's pid namespace: a fresh /proc, then the command as its child, a job of
// its own; reaps and passes the command's status on.
[[noreturn]] void profile_init(const std::vector<std::string>& argv, CommandEnv& env, const std::vector<std::size_t>& offsets,
                               const std::string& cwd, bool on_pty) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (auto proc = sandbox::mount_proc(); !proc) {
        report(proc.error());
        ::_exit(126);
    }
    pid_t command = vfork_exec_in_ghost(argv, env, offsets, cwd,
                                        on_pty ? sandbox::TerminalStep::foreground_job : sandbox::TerminalStep::new_group, nullptr);
    if (command < 0) ::_exit(126);
    env.release();
    ::setpgid(command, command);
    wait_and_pass_on(command, true);
}

// A profile's command gets a pid namespace of its own. The client joined the ghost's with
// setns, after which the kernel refuses it a new one, so this child (already inside) makes it.
// It first leaves the user's session (leading the pty's, when there is one).
[[noreturn]] void start_profile_pid_namespace(int tty, const std::vector<std::string>& argv, CommandEnv& env,
                                              const std::vector<std::size_t>& offsets, const std::string& cwd) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    auto session = tty >= 0 ? sandbox::lead_terminal_session(tty) : sandbox::leave_terminal_session();
    if (!session) {
        report(session.error());
        ::_exit(126);
    }
    if (::unshare(CLONE_NEWPID) != 0) {
        report(sys_error("unshare a pid namespace for the profile"));
        ::_exit(126);
    }
    pid_t init = ::fork();
    if (init < 0) ::_exit(126);
    if (init == 0) profile_init(argv, env, offsets, cwd, tty >= 0);
    env.release();
    wait_and_pass_on(init, false);
}

bool g_joined_ghost = false;

}  // namespace

int run_attached(Attachment& a, const std::vector<std::string>& argv, const SessionOptions& options,
                 const std::vector<ExtraVariable>& extra) {
    char cwd[PATH_MAX];
    std::string where = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
    // In a profile's view this process sees no more than it has, and asks for no more.
    if (a.place == protocol::Place::profile && options.profile && options.profile_name != a.profile)
        return report(make_error(ErrorCode::session, "open profile " + options.profile_name,
                                 "this command runs in profile " + a.profile + "'s view, which cannot open another",
                                 "run it from a shell of the full session, or outside the ghost"));
    bool narrow_here = options.profile && a.place == protocol::Place::outside;
    if (options.profile && a.place == protocol::Place::ghost) return run_spawned(a, argv, options, where, extra);
    // Read before joining: once in the ghost's mount namespace, its /proc does not show us.
    UniqueFd proc_self(narrow_here ? ::open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1);
    if (narrow_here && !proc_self.valid()) return report(sys_error("open /proc/self"));
    // Namespaces this process is already in (a command in the ghost) are not joined again.
    if (auto joined = sandbox::join_ghost(a.ns_user.get(), a.ns_mnt.get(), a.ns_ipc.get(), a.ns_pid.get(), a.place == protocol::Place::outside);
        !joined)
        return report(joined.error());
    g_joined_ghost = true;
    if (narrow_here)
        if (auto narrowed = apply_profile(a, options, proc_self.get()); !narrowed) return report(narrowed.error());
    // The environment reads value-mapped files, which exist only inside: built after joining.
    std::vector<std::size_t> offsets;
    auto env = command_environment(a, a.pass_env, offsets, extra);
    if (!env) return report(env.error());
    // The pty comes from the ghost's /dev/ptmx (after joining), before the fork that needs it.
    // From inside the ghost the terminal is already one of its ptys, which the command shares
    // with its caller as any program run from a shell does (the filter denies a pty of its own
    // the TIOCSCTTY it would need): it stays in our process group.
    bool inside = a.place == protocol::Place::ghost && !narrow_here;
    UserTerminal terminal = inside ? UserTerminal{} : find_user_terminal();
    MaskValues mask_values;
    MaskedOutput masked;
    if (options.mask)
        if (auto prepared = prepare_mask(a, terminal, terminal.any(), mask_values, masked); !prepared) return report(prepared.error());
    std::optional<sandbox::Pty> pty;
    if (terminal.any()) {
        auto opened = sandbox::open_pty();
        if (!opened) return report(opened.error());
        pty = std::move(*opened);
        // Modes and size as the user's terminal has them: the command starts as it would there.
        if (auto copied = sandbox::copy_terminal(terminal.modes_fd, pty->slave.get()); !copied) return report(copied.error());
    }
    sigset_t supervised = supervised_signals(), previous;
    ::sigprocmask(SIG_BLOCK, &supervised, &previous);
    auto step = inside ? sandbox::TerminalStep::same_group : sandbox::TerminalStep::new_session;
    pid_t child = !narrow_here && !pty && !options.mask ? vfork_exec_in_ghost(argv, *env, offsets, where, step, &previous) : ::fork();
    if (child < 0) {
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        // fork() into a pid namespace whose init has gone fails with ENOMEM: the session ended
        // (a lock, its TTL) between our joining and the command's start.
        auto e = sys_error("fork the command");
        if (e.errnum == ENOMEM) {
            e.code = ErrorCode::session;
            e.hint = "the session probably ended (lock, TTL) as this command joined it; run the command again";
        }
        return report(e);
    }
    if (child == 0) {
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        int tty = take_slave(terminal, pty);
        take_masked_pipes(masked);
        if (narrow_here) start_profile_pid_namespace(tty, argv, *env, offsets, where);
        if (tty >= 0) lead_pty_session(tty, argv, *env, offsets, where);
        exec_in_ghost(argv, *env, offsets, where, step);
    }
    env->release();  // the command's copy is its own; none stays here while it runs
    UniqueFd master;
    if (pty) {
        master = std::move(pty->master);
        pty.reset();  // the slave lives on only in the command's side
    }
    for (auto& p : masked.pipes) p.write_end.reset();
    return supervise({child, !narrow_here && !terminal.any() && !inside, inside}, previous, terminal, std::move(master),
                     options.mask ? &masked : nullptr);
}

namespace {

std::string marker_name(const std::string& name) {
    std::string out;
    for (char c : name.substr(0, 64))
        out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '+' || c == '@' ? c : '_';
    return out.empty() ? "_" : out;
}

}  // namespace

std::string vault_display_name(const std::string& vault_path) {
    std::string dir = vault_path.substr(0, vault_path.find_last_of('/') == std::string::npos ? 0 : vault_path.find_last_of('/'));
    auto base = [](const std::string& p) { return p.substr(p.find_last_of('/') == std::string::npos ? 0 : p.find_last_of('/') + 1); };
    if (base(dir) == ".ghostpod" && dir.find('/') != std::string::npos) return base(dir.substr(0, dir.find_last_of('/')));
    return base(vault_path);
}

MarkerNames marker_names(const Attachment& a) {
    return {marker_name(vault_display_name(a.vault_path)), a.profile.empty() ? "*" : marker_name(a.profile)};
}

std::string session_marker(const Attachment& a) {
    MarkerNames names = marker_names(a);
    return "vault=" + names.vault + ";profile=" + names.profile;
}

std::string user_shell() {
    const char* shell = std::getenv("SHELL");
    return shell && *shell ? shell : "/bin/bash";
}

#if defined(__SANITIZE_ADDRESS__)
// LeakSanitizer's exit-time check stops the process's threads through a helper task created in
// the pid namespace a setns chose for children, where it cannot find them, and spins. A client
// that has joined the ghost skips the check (sanitizer builds only).
extern "C" int __lsan_is_turned_off() { return g_joined_ghost ? 1 : 0; }
#endif

}  // namespace ghostpod
