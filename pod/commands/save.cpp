// 'ghostpod save', and the client side of the holder's "certs" request (used by 'certs' and by
// the expiry warning of 'shell' and 'pull').
#include <ctime>
#include <nlohmann/json.hpp>

#include "pod/formats/text.hpp"
#include "pod/cli/messages.hpp"
#include "pod/session/client.hpp"
#include "pod/session/requests.hpp"
#include "pod/unlock/unlock.hpp"

namespace ghostpod {
namespace {

Result<SessionPaths> paths_for(const Context& context) {
    auto vault_path = existing_vault_path(context);
    if (!vault_path) return std::move(vault_path).error();
    return session_paths(*vault_path);
}

std::string join_names(const nlohmann::json& list) {
    std::string out;
    for (const auto& item : list) {
        std::string name = item.is_string() ? item.get<std::string>() : item.value("name", std::string());
        out += (out.empty() ? "" : ", ") + name;
    }
    return out;
}

}  // namespace

int cmd_save(Context& context, const std::vector<std::string>& args) {
    auto parsed = parse_args(args, {{"--force", false}, {"--json", false}}, context, "save");
    if (!parsed) return report(parsed.error());
    if (parsed->help) return print_help("save") ? 0 : 2;
    if (!parsed->positional.empty()) return report(usage_error("save", "takes no arguments"));
    auto paths = paths_for(context);
    if (!paths) return report(paths.error());
    auto answer = request(*paths, parsed->has("--force") ? "save\nforce" : "save");
    if (!answer) {
        Error e = std::move(answer).error();
        if (e.code == ErrorCode::session) e.hint = "save works on a running session; outside one, use 'ghostpod secret set'";
        return report(e);
    }
    if (answer->rfind("error\n", 0) == 0) return report(error_from_reply(answer->substr(6)));
    if (answer->rfind("saved\n", 0) != 0) return report(make_error(ErrorCode::session, "save", "unexpected answer from the holder"));
    auto summary = nlohmann::json::parse(answer->substr(6), nullptr, false);
    if (!summary.is_object()) return report(make_error(ErrorCode::session, "save", "unreadable answer from the holder"));
    if (parsed->has("--json")) {
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

Result<std::optional<std::vector<CertInfo>>> certs_from_session(const Context& context) {
    auto paths = paths_for(context);
    if (!paths) return std::move(paths).error();
    auto answer = request(*paths, "certs");
    if (!answer) {
        if (answer.error().code == ErrorCode::session) return std::optional<std::vector<CertInfo>>{};
        return std::move(answer).error();
    }
    if (answer->rfind("error\n", 0) == 0) return error_from_reply(answer->substr(6));
    if (answer->rfind("certs\n", 0) != 0) return make_error(ErrorCode::session, "list certificates", "unexpected answer from the holder");
    auto certs = certs_from_json(std::string_view(*answer).substr(6));
    if (!certs) return std::move(certs).error();
    return std::optional<std::vector<CertInfo>>(std::move(*certs));
}

void warn_expiring_certificates(const SessionPaths& paths) {
    auto answer = request(paths, "certs");
    if (!answer || answer->rfind("certs\n", 0) != 0) return;  // a warning, never a failure
    auto certs = certs_from_json(std::string_view(*answer).substr(6));
    if (!certs || certs->empty()) return;
    sort_worst_first(*certs);
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    std::size_t soon = 0;
    for (const auto& c : *certs)
        if (days_left(c, now) < kDefaultCertWarnDays) ++soon;
    if (soon == 0) return;
    const CertInfo& worst = certs->front();
    std::int64_t days = days_left(worst, now);
    std::string when = days < 0 ? "expired " + std::to_string(-days) + " day(s) ago" : "expires in " + std::to_string(days) + " day(s)";
    warn(std::to_string(soon) + " certificate(s) expire within " + std::to_string(kDefaultCertWarnDays) + " days; " +
         printable(worst.source) + " (" + printable(worst.subject) + ") " + when + "; see 'ghostpod certs'");
}

}  // namespace ghostpod
