#include "pod/unlock/config_rules.hpp"

#include <charconv>

namespace ghostpod {
namespace {

// Read as code, a command, or a list of places to load code from, by the shells, ld.so, libc
// and the tools a ghost runs; or moving where a program finds its configuration and start-up
// files. A mapped variable holds a secret's path or value, so any of these would let whoever
// writes the config (or the pulled value) choose what runs in the ghost.
constexpr std::string_view kRefusedNames[] = {
    // shells, readline and editors that run what a variable says at start-up
    "ENV", "IFS", "SHELLOPTS", "BASHOPTS", "GLOBIGNORE", "PS0", "PS1", "PS2", "PS3", "PS4", "PROMPT", "RPROMPT", "ZDOTDIR",
    "FCEDIT", "INPUTRC", "TERMINFO", "TERMINFO_DIRS", "VIMINIT", "GVIMINIT", "EXINIT", "MYVIMRC", "MYGVIMRC", "WGETRC",
    "SCREENRC",
    // libc, the resolver and the dynamic loader: locale, character set, host name and temp files
    "LANG", "LANGUAGE", "HOSTALIASES", "LOCALDOMAIN", "RES_OPTIONS", "TZDIR", "TMPDIR",
    // programs that run another program, or a service they talk to, named by a variable
    "VISUAL", "BROWSER", "SSH_AUTH_SOCK", "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS",
    "KUBECTL_EXTERNAL_DIFF", "HELM_PLUGINS", "DOCKER_CONFIG", "TF_PLUGIN_CACHE_DIR", "TERRAFORM_CONFIG",
    // build and language tools
    "CLASSPATH", "CC", "CXX", "CPP", "LD", "AR", "MAKE", "RUSTC", "RUSTC_WRAPPER", "GOENV", "GOTOOLCHAIN", "GOPROXY",
    "GOSUMDB", "GONOSUMDB", "GOINSECURE", "GOROOT",
};

constexpr std::string_view kRefusedPrefixes[] = {
    "LD_",   "DYLD_", "GLIBC_", "MALLOC_", "LC_",  "BASH_", "XDG_", "GCONV_", "PYTHON", "PERL",  "RUBY",     "GEM_",
    "BUNDLE_", "NODE_", "NPM_", "YARN_",   "PIP_", "GIT_",  "JAVA_", "_JAVA_", "JDK_",  "CARGO_", "RUSTUP_", "LUA_",
    "LESS",  "OPENSSL_", "PROMPT_", "TF_CLI_", "GHOSTPOD_",
};

// …PATH (PATH, CDPATH, LD_LIBRARY_PATH, NODE_PATH, MANPATH, GOPATH, …), …HOME (HOME, JAVA_HOME,
// GNUPGHOME, CURL_HOME, …), …EDITOR (EDITOR, GIT_EDITOR, KUBE_EDITOR), …PAGER, …SHELL,
// …ASKPASS, …_COMMAND, …_CMD (SOPS_AGE_KEY_CMD), …_OPTIONS, …_OPTS, …FLAGS, …_PRELOAD.
constexpr std::string_view kRefusedSuffixes[] = {
    "PATH", "HOME", "EDITOR", "PAGER", "SHELL", "ASKPASS", "_COMMAND", "_CMD", "_OPTIONS", "_OPTS", "FLAGS", "_PRELOAD",
};

// Directories every program loads code and configuration from; and the kernel's own.
constexpr std::string_view kRefusedRoots[] = {
    "/proc", "/sys", "/dev", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/run", "/var/run",
};

// Files under ~/ that a shell or readline runs or reads as commands when it starts.
constexpr std::string_view kRefusedHomeFiles[] = {
    ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zshenv", ".zprofile", ".zlogin",
    ".zlogout", ".kshrc", ".mkshrc", ".cshrc", ".tcshrc", ".login", ".inputrc", ".config/fish",
};

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

bool under(std::string_view path, std::string_view root) {
    return path == root || (path.starts_with(root) && path.size() > root.size() && path[root.size()] == '/');
}

}  // namespace

std::optional<std::string> refused_variable(std::string_view name) {
    std::string n = upper(name);
    const std::string why = " changes how programs load or run (see ghostpod-config(5), Mapped variables)";
    for (auto refused : kRefusedNames)
        if (n == refused) return std::string(name) + why;
    for (auto prefix : kRefusedPrefixes)
        if (n.starts_with(prefix))
            return prefix == "GHOSTPOD_" ? "GHOSTPOD_* variables are ghostpod's own" : std::string(prefix) + "* variables: " + std::string(name) + why;
    for (auto suffix : kRefusedSuffixes)
        if (n.ends_with(suffix)) return "*" + std::string(suffix) + " variables: " + std::string(name) + why;
    return std::nullopt;
}

std::optional<std::string> refused_ghost_path(std::string_view path, std::string_view home_dir) {
    bool home = path.starts_with("~/");
    if (!home && !path.starts_with("/")) return "must be absolute or start with ~/";
    for (unsigned char c : path)
        if (c < 0x20 || c == 0x7f) return "must not contain control characters (a tab, a newline, …)";
    if (path.find(':') != std::string_view::npos) return "must not contain ':' (it would read as a list of paths)";
    std::string_view rest = path.substr(home ? 2 : 1);
    if (rest.empty()) return "names no file";
    for (std::size_t start = 0; start <= rest.size();) {
        std::size_t slash = rest.find('/', start);
        std::string_view part = rest.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (part.empty() || part == "." || part == "..")
            return "must be a plain path: no empty, '.' or '..' components";
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    if (!home) {
        for (auto root : kRefusedRoots)
            if (under(path, root)) return "must not be under " + std::string(root) + " (a system directory)";
        // The same file named from the root: $HOME/.bashrc is ~/.bashrc.
        while (home_dir.size() > 1 && home_dir.ends_with('/')) home_dir.remove_suffix(1);
        if (home_dir.size() <= 1 || !under(path, home_dir)) return std::nullopt;
        rest = path.substr(home_dir.size() + 1);
    }
    for (auto file : kRefusedHomeFiles)
        if (under(rest, file)) return "must not be ~/" + std::string(file) + " (a shell's start-up file)";
    return std::nullopt;
}

std::optional<std::string> refused_pass_env(std::string_view entry) {
    bool pattern = entry.ends_with('*');
    std::string_view name = pattern ? entry.substr(0, entry.size() - 1) : entry;
    bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) plain = false;
    if (!plain || (pattern && (name.size() < 2 || !name.ends_with('_'))))
        return "expected a variable name or a prefix pattern such as \"KUBE_*\" (letters, digits and '_', ending in \"_*\")";
    // A prefix is refused when it lies inside a refused family ("LD_PRE*" is LD_*). A wider one
    // ("TF_*" holds TF_CLI_*) and the suffix rules (…PATH, …_CMD) are checked on the names
    // themselves, as pass_env_allows does.
    if (pattern) {
        std::string n = upper(name);
        for (auto prefix : kRefusedPrefixes)
            if (n.starts_with(prefix))
                return "\"" + std::string(entry) + "\" would pass " + std::string(prefix) + "* variables, which change how programs load or run";
        return std::nullopt;
    }
    return refused_variable(name);
}

bool pass_env_allows(std::string_view entry, std::string_view name) {
    bool match = entry.ends_with('*') ? name.starts_with(entry.substr(0, entry.size() - 1)) : name == entry;
    return match && !refused_pass_env(entry) && !refused_variable(name);
}

std::optional<std::uint64_t> parse_duration(const std::string& text) {
    if (text.empty()) return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc()) return std::nullopt;
    std::string unit(end, text.data() + text.size());
    std::uint64_t scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
    if (scale == 0 || value > kMaxDurationSeconds / scale) return std::nullopt;
    return value * scale;
}

}  // namespace ghostpod
