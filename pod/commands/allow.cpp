// allow, deny: the user's say on per-directory files found by the search (a repository's
// .ghostpod/config.json, .infisical.json, a .ghostpod/vault link), as direnv's allow and deny.
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "pod/cli/args.hpp"
#include "pod/cli/messages.hpp"
#include "pod/commands/commands.hpp"
#include "pod/unlock/trust.hpp"
#include "pod/unlock/unlock.hpp"

namespace ghostpod {
namespace {

std::string date_text(std::uint64_t t) {
    std::time_t time = static_cast<std::time_t>(t);
    std::tm tm {};
    char out[32];
    if (::gmtime_r(&time, &tm) == nullptr || std::strftime(out, sizeof out, "%Y-%m-%d %H:%M UTC", &tm) == 0) return "?";
    return out;
}

Error nothing_found(const std::optional<std::string>& path) {
    return make_error(ErrorCode::runtime, path ? "allow " + *path : std::string("allow"),
                      path ? "it holds no .ghostpod/config.json, .ghostpod/vault or .infisical.json"
                           : "the search from the working directory finds no .ghostpod directory or .infisical.json",
                      "name the file: 'ghostpod allow PATH'");
}

std::string pad(std::string text, std::size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text;
}

int list_allowed() {
    auto records = list_trust_records();
    if (!records) return report(records.error());
    std::string out;
    for (const auto& r : *records) {
        out += pad(trusted_kind_name(r.kind), 16) + pad(record_state(r), 9) + r.path;
        out += r.kind == TrustedKind::vault_link ? " -> " + r.target : "  sha256 " + r.sha256.substr(0, 16) + "…";
        out += "  (" + date_text(r.allowed_at) + ")\n";
    }
    print_stdout(out);
    return 0;
}

}  // namespace

int cmd_allow(Context&, const ParsedArgs& args) {
    if (args.positional.size() > 1) return report(usage_error("allow", "takes one PATH at most"));
    if (args.has("--list")) {
        if (!args.positional.empty()) return report(usage_error("allow", "--list takes no PATH"));
        return list_allowed();
    }
    std::optional<std::string> path;
    if (!args.positional.empty()) path = args.positional[0];
    auto candidates = trust_candidates(path, now_seconds());
    if (!candidates) return report(candidates.error());
    if (candidates->empty()) return report(nothing_found(path));
    // All or nothing: a file that cannot be read as what it is named is not allowed, and neither
    // are the others of this call.
    for (const auto& c : *candidates)
        if (c.unusable) return report(*c.unusable);
    for (const auto& c : *candidates) {
        if (!c.needed) {
            note(c.shown + " needs no allowing: a vault inside its project is used as it is");
            continue;
        }
        if (auto saved = save_trust_record(c.record); !saved) return report(saved.error());
        note("allowed " + std::string(trusted_kind_name(c.record.kind)) + " " + c.record.path + ": it may " + c.effect);
    }
    return 0;
}

int cmd_deny(Context&, const ParsedArgs& args) {
    if (args.positional.size() > 1) return report(usage_error("deny", "takes one PATH at most"));
    std::optional<std::string> path;
    if (!args.positional.empty()) path = args.positional[0];
    std::vector<std::string> keys;
    auto candidates = trust_candidates(path, now_seconds());
    if (candidates) {
        for (const auto& c : *candidates) keys.push_back(c.record.path);
    } else if (path && candidates.error().errnum == ENOENT) {
        // The file is gone: its record is found by the path it was allowed under.
        char cwd[4096];
        keys.push_back((*path)[0] == '/' || !::getcwd(cwd, sizeof cwd) ? *path : std::string(cwd) + "/" + *path);
    } else {
        return report(candidates.error());
    }
    if (keys.empty()) return report(nothing_found(path));
    for (const auto& key : keys) {
        auto removed = remove_trust_record(key);
        if (!removed) return report(removed.error());
        note(*removed ? "denied " + key + ": it is not used until allowed again" : key + " was not allowed");
    }
    return 0;
}

}  // namespace ghostpod
