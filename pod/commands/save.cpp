// save: files changed or created in the ghost go back to the vault (the holder writes them).
#include <nlohmann/json.hpp>

#include "pod/commands/commands.hpp"
#include "pod/cli/messages.hpp"
#include "pod/session/client.hpp"
#include "pod/session/requests.hpp"
#include "pod/unlock/unlock.hpp"

namespace ghostpod {
namespace {

std::string join_names(const nlohmann::json& list) {
    std::string out;
    for (const auto& item : list) {
        std::string name = item.is_string() ? item.get<std::string>() : item.value("name", std::string());
        out += (out.empty() ? "" : ", ") + name;
    }
    return out;
}

}  // namespace

int cmd_save(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("save", "takes no arguments"));
    auto paths = session_paths_for(context);
    if (!paths) return report(paths.error());
    auto answer = request<protocol::Saved>(*paths, protocol::SaveRequest{args.has("--force")});
    if (!answer) {
        Error e = std::move(answer).error();
        if (e.code == ErrorCode::session) e.hint = "save works on a running session; outside one, use 'ghostpod secret set'";
        return report(e);
    }
    auto summary = nlohmann::json::parse(answer->json, nullptr, false);
    if (!summary.is_object()) return report(make_error(ErrorCode::session, "save", "unreadable answer from the holder"));
    if (args.has("--json")) {
        print_stdout(summary.dump(2) + "\n");
        return 0;
    }
    const auto& saved = summary["saved"];
    if (saved.empty()) {
        note("nothing to save: the ghost's files match the vault");
    } else {
        note("saved " + std::to_string(saved.size()) + " file(s) to " + summary.value("vault", std::string()) +
             " (generation " + std::to_string(summary.value("generation", std::uint64_t{0})) + "): " + join_names(saved));
    }
    if (!summary["created"].empty()) note("new in the vault: " + join_names(summary["created"]));
    for (const auto& s : summary["skipped"])
        warn("not saved: " + s.value("name", std::string()) + ": " + s.value("why", std::string()));
    if (!summary["removed_in_ghost"].empty())
        warn("removed in the ghost but kept in the vault: " + join_names(summary["removed_in_ghost"]) +
             " (remove them with 'ghostpod secret rm NAME')");
    return 0;
}

}  // namespace ghostpod
