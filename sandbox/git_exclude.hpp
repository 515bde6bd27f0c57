// Keeping the ghost's own files out of git. A file placed inside a git work tree (a .tfvars
// file, a tool's config) exists in the ghost only, and a `git add -A` run there would write its
// secret into the repository on disk. In the placing mount namespace only, the repository's
// info/exclude is covered by a copy in the RAM mount: the original's bytes, then one anchored
// pattern per such file. The file on disk is never written.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sandbox/mounts.hpp"
#include "vault/result.hpp"

namespace ghostpod::sandbox {

// What one mount namespace has covered so far (ghost init's, or a profile view's builder's).
struct GitExcludes {
    struct Copy {
        std::string ram_name;  // below the RAM mount's root
        std::string original;  // the bytes of the file on disk when it was covered
        std::vector<std::string> patterns;
    };
    std::map<std::string, Copy> by_file;  // info/exclude path -> its RAM copy
    unsigned next = 0;
};

// The work tree `target` lies in, the way git finds it (the nearest .git upward: a directory, or
// a file saying "gitdir: D" as in linked worktrees and submodules), and the info/exclude git
// reads for it (of the common directory, for a linked worktree). Empty when there is none.
struct GitRepoOf {
    std::string work_tree;
    std::string exclude;
};
Result<GitRepoOf> git_repo_of(const std::string& target);

// The gitignore pattern that matches exactly `relative` (a path below the work tree): anchored,
// with wildcards, a leading '!' or '#' and trailing spaces escaped.
Result<std::string> exact_git_pattern(const std::string& relative);

// Once `target` is placed (place_file): when it lies in a git work tree, its info/exclude (in
// this mount namespace) lists it too. A missing info/exclude is created in a shadow of info/
// (a missing info/ directory is made on disk, empty, as `git init` makes it).
Status exclude_from_git(const RamArea& ram, const std::string& target, GitExcludes& excludes);

}  // namespace ghostpod::sandbox
