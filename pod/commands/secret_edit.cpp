// secret edit: a secret in the user's editor, on a copy in RAM that only the editor's mount
// namespace sees (its swap and backup files land there too); saved back when changed. The
// writer lock is held from the unlock to the save, so no other write is lost meanwhile.
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <optional>

#include "pod/cli/args.hpp"
#include "pod/cli/messages.hpp"
#include "pod/commands/commands.hpp"
#include "pod/session/client.hpp"
#include "pod/session/paths.hpp"
#include "pod/unlock/unlock.hpp"
#include "sandbox/scratch.hpp"
#include "vault/unique_fd.hpp"

extern char** environ;

namespace ghostpod {
namespace {

// `word` found in $PATH (or as given when it has a slash); empty when not found.
std::string find_program(const std::string& word) {
    if (word.find('/') != std::string::npos) return ::access(word.c_str(), X_OK) == 0 ? word : "";
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    for (std::size_t start = 0; start <= dirs.size();) {
        std::size_t colon = std::min(dirs.find(':', start), dirs.size());
        std::string candidate = (colon == start ? "." : dirs.substr(start, colon - start)) + "/" + word;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        start = colon + 1;
    }
    return "";
}

// Vim and Neovim keep state of their own outside the file's directory: the viminfo/shada file
// (registers hold deleted and yanked text), and swap, undo and backup files wherever the
// user's 'directory', 'undodir' and 'backupdir' say. For them, all of it is turned off.
std::string vim_family_options(const std::string& command) {
    std::string first = command.substr(0, command.find_first_of(" \t"));
    if (first.find_first_of("'\"\\$`") != std::string::npos) return "";
    std::string found = find_program(first);
    if (found.empty()) return "";
    char real[PATH_MAX];
    std::string resolved = ::realpath(found.c_str(), real) ? real : found;
    std::string base = resolved.substr(resolved.rfind('/') + 1);
    bool vim = base == "vim" || base == "nvim" || base == "gvim" || base.rfind("vim.", 0) == 0;
    return vim ? " -n -i NONE -c 'setlocal noundofile nobackup nowritebackup'" : "";
}

// $EDITOR, else $VISUAL, else vi or nano from $PATH. A command line, run by /bin/sh.
Result<std::string> editor_command() {
    for (const char* name : {"EDITOR", "VISUAL"})
        if (const char* value = std::getenv(name); value && *value) return std::string(value);
    for (const char* fallback : {"vi", "nano"})
        if (!find_program(fallback).empty()) return std::string(fallback);
    return make_error(ErrorCode::usage, "secret edit", "no editor: EDITOR and VISUAL are unset and neither vi nor nano is in PATH",
                      "set EDITOR, e.g. EDITOR=nano ghostpod secret edit NAME");
}

std::string random_hex() {
    unsigned char raw[8];
    randombytes_buf(raw, sizeof raw);
    char hex[sizeof raw * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    return hex;
}

// An empty directory to mount the RAM over, removed when the edit ends.
struct MountPoint {
    std::string path;
    ~MountPoint() {
        if (!path.empty()) ::rmdir(path.c_str());
    }
};

// What the editor left: the new value, or nullopt when it saved no change.
Result<std::optional<SecretBuffer>> run_editor(const std::string& runtime_dir, const std::string& name,
                                               std::span<const std::uint8_t> value) {
    auto command = editor_command();
    if (!command) return std::move(command).error();
    MountPoint mount{runtime_dir + "/edit-" + random_hex()};
    if (::mkdir(mount.path.c_str(), 0700) != 0) {
        mount.path.clear();
        return sys_error("mkdir " + runtime_dir + "/edit-…");
    }
    std::string file = name.substr(name.rfind('/') + 1);
    sandbox::ScratchSpec spec;
    spec.mount_dir = mount.path;
    spec.uid = ::getuid();
    spec.gid = ::getgid();
    spec.real_root = ::geteuid() == 0;
    spec.ram_limit = std::max<std::uint64_t>(64u << 20, value.size() * 4 + (16u << 20));
    // As git runs its editor: the command line may carry arguments ("code --wait").
    spec.argv = {"/bin/sh", "-c", *command + vim_family_options(*command) + " \"$@\"", *command, mount.path + "/" + file};
    for (char** e = environ; *e; ++e)
        if (std::string_view(*e).rfind("TMPDIR=", 0) != 0) spec.env.emplace_back(*e);
    spec.env.push_back("TMPDIR=" + mount.path + "/tmp");
    auto scratch = sandbox::ScratchProcess::prepare(spec);
    if (!scratch) return std::move(scratch).error();
    // However this ends, the copy and whatever the editor wrote are zeroed before the RAM goes.
    struct Wiper {
        sandbox::ScratchProcess& s;
        ~Wiper() { s.wipe(); }
    } wiper{*scratch};
    int root = scratch->root_dir();
    if (::mkdirat(root, "tmp", 0700) != 0) return sys_error("mkdir " + mount.path + "/tmp");
    {
        UniqueFd out(::openat(root, file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!out.valid()) return sys_error("create " + mount.path + "/" + file);
        GP_TRY(write_all(out.get(), value, "write " + mount.path + "/" + file));
    }
    // Ctrl-C and Ctrl-\ on the terminal are the editor's; this process waits for it either way.
    auto old_int = ::signal(SIGINT, SIG_IGN), old_quit = ::signal(SIGQUIT, SIG_IGN);
    Status started = scratch->start();
    Result<int> status = started ? scratch->wait() : Result<int>(std::move(started).error());
    ::signal(SIGINT, old_int);
    ::signal(SIGQUIT, old_quit);
    if (!status) return std::move(status).error();
    const std::string unchanged = "'" + name + "' is unchanged in the vault";
    if (*status != 0)
        return make_error(ErrorCode::runtime, "secret edit " + name, "the editor (" + *command + ") exited with status " +
                                                                         std::to_string(*status), unchanged);
    UniqueFd in(::openat(root, file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!in.valid())
        return make_error(ErrorCode::runtime, "secret edit " + name, "the editor left no file " + file + " behind", unchanged);
    auto edited = SecretBuffer::read_fd(in.get(), kMaxValueBytes, "read the edited " + file);
    if (!edited) return std::move(edited).error();
    if (edited->equals(value)) return std::optional<SecretBuffer>{};
    return std::optional<SecretBuffer>(std::move(*edited));
}

}  // namespace

int cmd_secret_edit(Context& context, const ParsedArgs& args) {
    if (args.positional.size() != 1) return report(usage_error("secret edit", "expects exactly one NAME"));
    const std::string& name = args.positional[0];
    if (auto valid = validate_entry_name(name); !valid) return report(valid.error());
    auto vault_path = existing_vault_path(context);
    if (!vault_path) return report(vault_path.error());
    auto paths = session_paths(*vault_path);
    if (!paths) return report(paths.error());
    bool saved = false, existed = false;
    auto done = update_vault(context, [&](Vault& vault, const std::string&) -> Result<bool> {
        const Entry* old = vault.find(name);
        existed = old != nullptr;
        auto edited = run_editor(paths->runtime_dir, name, old ? old->value() : std::span<const std::uint8_t>{});
        if (!edited) return std::move(edited).error();
        if (!*edited) return false;
        Entry entry;
        if (old) {
            entry.kind = old->kind;
            entry.mode = old->mode;
        }
        entry.name = name;
        entry.source = "editor";
        entry.updated = now_seconds();
        GP_TRY(vault.put(std::move(entry), (*edited)->bytes()));
        saved = true;
        return true;
    });
    if (!done) return report(done.error());
    if (!saved) {
        note("no change: '" + name + "' is " + (existed ? "as it was" : "not stored") + " in " + *vault_path);
        return 0;
    }
    note("saved '" + name + "' to " + *vault_path);
    if (connect_session(*paths))
        warn("a session of this vault is running with the old value; 'ghostpod lock' and start it again to see the new one");
    return 0;
}

}  // namespace ghostpod
