#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pod/commands/commands.hpp"
#include "pod/cli/args.hpp"
#include "pod/unlock/unlock.hpp"
#include "pod/unlock/config.hpp"
#include "pod/unlock/trust.hpp"
#include "pod/formats/certs.hpp"
#include "pod/formats/text.hpp"
#include "pod/session/paths.hpp"
#include "pod/cli/messages.hpp"
#include "pod/session/client.hpp"
#include "sandbox/landlock.hpp"
#include "sandbox/process.hpp"
#include "vault/format.hpp"
#include "vault/secret_buffer.hpp"
#include "vault/store.hpp"

namespace ghostpod {
namespace {

// Active swap devices from /proc/swaps, and whether each is dm-crypt (named dm-*).
nlohmann::json swap_posture() {
    nlohmann::json devices = nlohmann::json::array();
    std::ifstream swaps("/proc/swaps");
    std::string line;
    std::getline(swaps, line);  // column titles
    while (std::getline(swaps, line)) {
        std::istringstream fields(line);
        std::string name, type;
        fields >> name >> type;
        if (!name.empty()) devices.push_back({{"device", name}, {"type", type}, {"device_mapper", name.find("/dm-") != std::string::npos}});
    }
    return devices;
}

// /proc/sys/dev/tty/legacy_tiocsti: "1" lets TIOCSTI inject input (the seccomp filter denies it
// to ghost commands either way); absent on kernels before 6.2.
std::string legacy_tiocsti() {
    std::ifstream in("/proc/sys/dev/tty/legacy_tiocsti");
    std::string value;
    return in >> value ? value : "absent";
}

nlohmann::json keyslot_json(const Keyslot& slot) {
    nlohmann::json j = {{"type", slot.type == SlotType::passphrase ? "passphrase" : "recovery-key"}};
    if (slot.kdf == SlotKdf::argon2id) {
        j["kdf"] = "argon2id";
        j["profile"] = profile_name(slot.profile);
        j["t_cost"] = slot.params.t_cost;
        j["m_cost_kib"] = slot.params.m_cost_kib;
        j["parallelism"] = slot.params.parallelism;
    } else {
        j["kdf"] = "blake2b";
    }
    return j;
}

// "exposed:" and a line per secret: where it appears and which profiles get it (names only).
std::string exposure_text(const nlohmann::json& sess) {
    std::ostringstream out;
    std::string view = sess.value("view", "*");
    out << "  exposed:    " << sess["exposed"].size() << " secret(s)"
        << (view == "*" ? " in the full view" : " in profile " + printable(view) + "'s view") << "\n";
    for (const auto& e : sess["exposed"]) {
        std::string where = e["file"].get<std::string>();
        for (const auto& p : e["paths"]) where += ", " + p.get<std::string>();
        for (const auto& v : e["env"]) where += ", $" + v["name"].get<std::string>() + (v["holds"] == "value" ? " (value)" : "");
        std::string profiles;
        for (const auto& p : e["profiles"]) profiles += (profiles.empty() ? "" : ", ") + p.get<std::string>();
        out << "    " << printable(e["name"].get<std::string>()) << "\n      at:       " << printable(where)
            << "\n      profiles: " << (profiles.empty() ? "none" : printable(profiles)) << "\n";
    }
    return out.str();
}

std::string text_report(const nlohmann::json& s) {
    std::ostringstream out;
    const auto& v = s["vault"];
    out << "vault:      " << v["path"].get<std::string>() << " (" << v["origin"].get<std::string>()
        << (v["allowed"] == "not allowed" || v["allowed"] == "changed since allowed" ? ", " + v["allowed"].get<std::string>() + ": see 'ghostpod allow'" : "")
        << ")\n";
    if (v.contains("error")) {
        out << "            " << v["error"].get<std::string>() << "\n";
    } else if (v["exists"].get<bool>()) {
        out << "  size:       " << human_size(v["size"].get<std::uint64_t>()) << "\n"
            << "  entries:    " << v["entries"].get<std::uint64_t>() << "\n"
            << "  generation: " << v["generation"].get<std::uint64_t>() << "\n"
            << "  created:    " << v["created"].get<std::string>() << "\n"
            << "  updated:    " << v["updated"].get<std::string>() << "\n"
            << "  backup:     " << (v["backup"].get<bool>() ? "present (.bak)" : "none yet") << "\n";
        for (const auto& slot : v["keyslots"]) {
            out << "  keyslot:    " << slot["type"].get<std::string>() << ", " << slot["kdf"].get<std::string>();
            if (slot.contains("profile"))
                out << " " << slot["profile"].get<std::string>() << " (" << slot["m_cost_kib"].get<std::uint32_t>() / 1024
                    << " MiB, " << slot["t_cost"].get<std::uint32_t>() << " passes, " << slot["parallelism"].get<std::uint32_t>() << " lanes)";
            out << "\n";
        }
    } else {
        out << "            none yet (create one with 'ghostpod init')\n";
    }
    const auto& c = s["config"];
    out << "config:     " << c["path"].get<std::string>() << " ("
        << (c["exists"].get<bool>() ? "present, " + c["allowed"].get<std::string>() : "absent, defaults apply") << ")\n";
    if (s["config"].contains("error")) out << "            ERROR: " << s["config"]["error"].get<std::string>() << "\n";
    const auto& p = s["posture"];
    const auto& sess = s["session"];
    if (sess.is_object()) {
        out << "session:    running (holder pid " << sess["holder_pid"].get<long>() << ", ghost init pid " << sess["ghost_pid"].get<long>()
            << ")\n  age:        " << sess["age_seconds"].get<std::uint64_t>() << " s of a " << sess["ttl_seconds"].get<std::uint64_t>()
            << " s TTL\n  attached:   " << sess["attached"].get<std::uint64_t>() << " command(s); linger " << sess["linger_seconds"].get<std::uint64_t>()
            << " s\n  RAM mount:  " << sess["ram_mount"].get<std::string>() << ", " << sess["secrets"].get<std::uint64_t>() << " secrets, "
            << human_size(sess["bytes"].get<std::uint64_t>()) << "\n";
        if (sess.contains("profile"))
            out << "  profile:    " << sess["profile"].get<std::string>() << " (this command sees that profile's view only)\n";
        if (sess.contains("exposed")) out << exposure_text(sess);
        if (sess.contains("pull")) {
            const auto& pull = sess["pull"];
            std::uint64_t now = now_seconds();
            out << "  pulled:     " << pull["secrets"].get<std::uint64_t>() << " files from " << pull["host"].get<std::string>() << " ("
                << pull["project_id"].get<std::string>() << ", " << pull["environment"].get<std::string>() << "), fetched "
                << now - std::min(now, pull["fetched"].get<std::uint64_t>()) << " s ago"
                << (pull["source"] == "cache" ? " (offline cache)" : "") << "\n";
            if (pull.contains("token_expires"))
                out << "  token:      renewed " << pull["renewals"].get<std::uint64_t>() << " time(s); expires in "
                    << pull["token_expires"].get<std::uint64_t>() - std::min(now, pull["token_expires"].get<std::uint64_t>())
                    << " s; revoked when the session ends\n";
        }
        if (sess.contains("vault")) {
            const auto& hv = sess["vault"];
            std::uint64_t now = now_seconds();
            std::string ns = hv["namespace"].get<std::string>();
            out << "  vault:      " << hv["secrets"].get<std::uint64_t>() << " files from " << hv["address"].get<std::string>()
                << (ns.empty() ? "" : " (namespace " + ns + ")") << ", fetched " << now - std::min(now, hv["fetched"].get<std::uint64_t>())
                << " s ago" << (hv["source"] == "cache" ? " (offline cache)" : "") << "\n";
            if (hv.contains("token_expires"))
                out << "  token:      renewed " << hv["renewals"].get<std::uint64_t>() << " time(s); expires in "
                    << hv["token_expires"].get<std::uint64_t>() - std::min(now, hv["token_expires"].get<std::uint64_t>())
                    << " s; revoked when the session ends\n";
            for (const auto& cert : hv["certificates"])
                out << "  client cert: " << cert["for"].get<std::string>() << " (" << cert["in"].get<std::string>() << "), "
                    << cert["subject"].get<std::string>() << ", expires " << utc_time(cert["not_after"].get<std::int64_t>())
                    << " with the session\n";
        }
    } else {
        out << "session:    none running\n";
    }
    out << "posture:\n"
        << "  core dumps:    " << (p["core_dumps_disabled"].get<bool>() ? "disabled" : "ENABLED") << "\n"
        << "  memfd_secret:  " << (p["memfd_secret"].get<bool>() ? "available (data key held there)" : "unavailable (sodium_malloc fallback)") << "\n"
        << "  memlock limit: " << p["memlock_limit"].get<std::string>() << "\n"
        << "  swap:          ";
    if (p["swap"].empty()) out << "none active\n";
    for (const auto& d : p["swap"])
        out << d["device"].get<std::string>() << (d["device_mapper"].get<bool>() ? " (device-mapper, possibly encrypted)" : " (NOT encrypted)") << "; ";
    if (!p["swap"].empty()) out << "\n";
    out << "  RAM mount:     " << p["ram_mount"].get<std::string>() << "\n"
        << "  landlock ABI:  " << p["landlock_abi"].get<int>()
        << (p["landlock_abi"].get<int>() > 0 ? " (each command in the ghost has a domain of its own)"
                                             : " (commands in the ghost can read each other's memory)")
        << "\n"
        << "  legacy_tiocsti: " << p["legacy_tiocsti"].get<std::string>() << " (TIOCSTI is denied to ghost commands by seccomp)\n";
    return out.str();
}

}  // namespace

int cmd_status(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("status", "unexpected argument '" + args.positional[0] + "'"));

    auto where = locate_vault(context.paths);
    std::string path = resolve_vault_path(where.path);
    nlohmann::json s;
    s["vault"] = {{"path", path}, {"origin", where.origin}, {"exists", file_exists(path)},
                  {"allowed", trust_state_name(vault_trust_state(where))}};
    int rc = 0;
    if (!file_exists(path)) {
        rc = 1;
    } else if (auto bytes = read_vault_file(path); !bytes) {
        s["vault"]["error"] = bytes.error().describe();
        rc = report(bytes.error());
    } else if (auto header = parse_header(*bytes); !header) {
        Error e = header.error();
        e.what = "vault " + path + " is damaged";
        s["vault"]["error"] = e.describe();
        rc = report(e);
    } else {
        auto& v = s["vault"];
        v["size"] = bytes->size();
        v["entries"] = header->entry_count;
        v["generation"] = header->generation;
        v["created"] = iso_time(header->created);
        v["updated"] = iso_time(header->updated);
        v["backup"] = file_exists(backup_path(path));
        v["keyslots"] = nlohmann::json::array();
        for (const auto& slot : header->slots) v["keyslots"].push_back(keyslot_json(slot));
    }
    auto config_where = locate_config(context.paths);
    // Reported, not refused: status reads a repository's config without acting on it.
    auto config = load_config(config_where.path);
    s["config"] = {{"path", config_where.path}, {"origin", config_where.origin},
                   {"exists", config ? config->found : file_exists(config_where.path)},
                   {"allowed", trust_state_name(config_trust_state(config_where))}};
    if (!config) s["config"]["error"] = config.error().describe();
    std::size_t memlock = sandbox::memlock_limit();
    s["posture"] = {{"core_dumps_disabled", sandbox::core_dumps_disabled()},
                    {"memfd_secret", memfd_secret_available()},
                    {"memlock_limit", memlock == SIZE_MAX ? std::string("unlimited") : human_size(memlock)},
                    {"swap", swap_posture()},
                    {"ram_mount", ::geteuid() == 0 ? "tmpfs with noswap (real root)" : "ramfs (never swapped; no size limit of its own: ghostpod bounds what it writes)"},
                    {"landlock_abi", sandbox::landlock_abi()},
                    {"legacy_tiocsti", legacy_tiocsti()}};
    s["session"] = nullptr;
    std::string profile = args.value("--profile").value_or("");
    std::optional<Error> session_error;
    if (file_exists(path)) {
        if (auto paths = session_paths(path)) {
            if (auto answer = request<protocol::StatusReply>(*paths, protocol::StatusRequest{profile})) {
                auto j = nlohmann::json::parse(answer->json, nullptr, false);
                if (!j.is_discarded()) s["session"] = j;
            } else if (!no_session_running(answer.error())) {
                session_error = answer.error();  // a refusal, "no such profile", or a session that did not answer
            }
        }
    }
    if (!profile.empty() && s["session"].is_null() && !session_error)
        session_error = make_error(ErrorCode::session, "status --profile " + printable(profile, 64), "no session is running",
                                   "a profile's view exists in a running session: start one with 'ghostpod shell' or 'ghostpod pull'");
    print_stdout(args.has("--json") ? s.dump(2) + "\n" : text_report(s));
    if (session_error) return report(*session_error);
    return rc;
}

}  // namespace ghostpod
