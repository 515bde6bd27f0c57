#include "sandbox/git_exclude.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {
namespace {

constexpr std::size_t kMaxGitFileBytes = 1u << 20;  // an info/exclude, a .git file, a commondir
constexpr char kHeading[] = "# ghostpod: files that exist in the ghost only (this copy of info/exclude is the ghost's)\n";

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string joined(const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; }

// A file's bytes (not following a link at its last component); ENOENT as an empty optional.
Result<std::optional<std::string>> read_small_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
        if (errno == ENOENT) return std::optional<std::string>();
        return sys_error("open " + path);
    }
    std::vector<std::uint8_t> bytes;
    GP_TRY(read_to_end(fd.get(), bytes, kMaxGitFileBytes, "read " + path));
    return std::optional<std::string>(std::string(bytes.begin(), bytes.end()));
}

// "gitdir: D\n" (a .git file) or "D\n" (a commondir file): D, relative to `base` unless absolute.
std::string path_in(const std::string& text, const std::string& base) {
    std::string d = text;
    while (!d.empty() && (d.back() == '\n' || d.back() == '\r')) d.pop_back();
    return !d.empty() && d[0] == '/' ? d : joined(base, d);
}

// Writes the copy's whole text (the original, the heading, the patterns) into its RAM file.
Status write_copy(const RamArea& ram, const GitExcludes::Copy& copy, bool create) {
    std::string text = copy.original;
    if (!text.empty() && text.back() != '\n') text += '\n';
    text += kHeading;
    for (const auto& p : copy.patterns) text += p + "\n";
    int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT | O_EXCL : O_TRUNC);
    UniqueFd fd(::openat(ram.root, copy.ram_name.c_str(), flags, 0644));
    if (!fd.valid()) return sys_error("write the ghost's copy of info/exclude");
    return write_all(fd.get(), text_bytes(text), "write the ghost's copy of info/exclude");
}

}  // namespace

Result<GitRepoOf> git_repo_of(const std::string& target) {
    for (std::string dir = parent_of(target);; dir = parent_of(dir)) {
        std::string dot_git = joined(dir, ".git");
        struct stat st {};
        if (::lstat(dot_git.c_str(), &st) == 0) {
            std::string git_dir;
            if (S_ISDIR(st.st_mode)) {
                git_dir = dot_git;
            } else if (S_ISREG(st.st_mode)) {
                auto text = read_small_file(dot_git);
                if (!text) return std::move(text).error();
                if (!*text || (*text)->rfind("gitdir: ", 0) != 0)
                    return make_error(ErrorCode::runtime, "read " + dot_git, "not a \"gitdir: …\" file, as git writes one");
                git_dir = path_in((*text)->substr(8), dir);
            } else {
                return GitRepoOf{};  // a link or something else: not a repository git would use as is
            }
            // A .git file leading nowhere: git itself refuses that work tree.
            if (::stat(git_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return GitRepoOf{};
            // A linked worktree's info/ is its main repository's (the common directory).
            auto common = read_small_file(joined(git_dir, "commondir"));
            if (!common) return std::move(common).error();
            std::string common_dir = *common ? path_in(**common, git_dir) : git_dir;
            return GitRepoOf{dir, joined(common_dir, "info/exclude")};
        }
        if (errno != ENOENT && errno != ENOTDIR) return sys_error("look for " + dot_git);
        if (dir == "/") return GitRepoOf{};
    }
}

Result<std::string> exact_git_pattern(const std::string& relative) {
    if (relative.find('\n') != std::string::npos || relative.find('\r') != std::string::npos)
        return make_error(ErrorCode::runtime, "keep " + relative + " out of git", "a gitignore pattern cannot hold a line break");
    std::string p = "/";
    for (char c : relative) {
        if (c == '\\' || c == '*' || c == '?' || c == '[') p += '\\';
        p += c;
    }
    // A trailing space is dropped by git unless escaped (leading '!' and '#' cannot occur after '/').
    std::size_t trailing = p.size();
    while (trailing > 1 && p[trailing - 1] == ' ') --trailing;
    std::string out = p.substr(0, trailing);
    for (std::size_t i = trailing; i < p.size(); ++i) out += "\\ ";
    return out;
}

Status exclude_from_git(const RamArea& ram, const std::string& target, GitExcludes& excludes) {
    auto repo = git_repo_of(target);
    if (!repo) return std::move(repo).error();
    if (repo->work_tree.empty()) return {};
    std::string relative = repo->work_tree == "/" ? target.substr(1) : target.substr(repo->work_tree.size() + 1);
    if (relative == ".git" || relative.rfind(".git/", 0) == 0 || relative.find("/.git/") != std::string::npos) return {};
    auto pattern = exact_git_pattern(relative);
    if (!pattern) return std::move(pattern).error();

    auto known = excludes.by_file.find(repo->exclude);
    if (known != excludes.by_file.end()) {
        auto& patterns = known->second.patterns;
        if (std::find(patterns.begin(), patterns.end(), *pattern) != patterns.end()) return {};
        patterns.push_back(*pattern);
        return write_copy(ram, known->second, false);  // the bind shows the same file: updated in place
    }
    // The first file of this repository: copy what is on disk, then cover it.
    std::string info = parent_of(repo->exclude);
    if (::mkdir(info.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("mkdir " + info);
    auto original = read_small_file(repo->exclude);
    if (!original) return std::move(original).error();
    GitExcludes::Copy copy;
    copy.ram_name = std::string(kShadowArea) + "/git-exclude-" + std::to_string(::getpid()) + "-" + std::to_string(++excludes.next);
    copy.original = original->value_or("");
    copy.patterns.push_back(*pattern);
    GP_TRY(write_copy(ram, copy, true));
    if (auto placed = place_file(ram, ram.dir + "/" + copy.ram_name, repo->exclude); !placed) {
        Error e = placed.error();
        e.what = "keep " + target + " out of git (a ghost-only " + repo->exclude + "): " + e.what;
        return e;
    }
    excludes.by_file.emplace(repo->exclude, std::move(copy));
    return {};
}

}  // namespace ghostpod::sandbox
