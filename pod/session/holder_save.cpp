// The holder's side of 'save': the ghost's changed and new files back into the vault.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>

#include "pod/session/holder_state.hpp"
#include "pod/infisical/pull_cache.hpp"
#include "pod/infisical/pull_settings.hpp"
#include "pod/hcvault/entries.hpp"
#include "pod/unlock/unlock.hpp"
#include "sandbox/ghost.hpp"
#include "vault/store.hpp"

namespace ghostpod {
namespace {

// Names ghostpod owns in the vault (identities, caches, pins), and the folders pulls write to
// (a new file there would clash with the next pull; an existing vault entry there saves as usual).
bool reserved_name(const std::string& name, bool created) {
    if (name.rfind("infisical.", 0) == 0 || name.rfind(kVaultReservedPrefix, 0) == 0 || name.rfind(kPulledPrefix, 0) == 0)
        return true;
    return created && name.rfind(kVaultPulledPrefix, 0) == 0;
}

struct SavePlan {
    std::vector<GhostFileRead> writes;
    std::vector<bool> created;
    nlohmann::json skipped = nlohmann::json::array();
    nlohmann::json removed = nlohmann::json::array();  // vault files no longer in the ghost (kept)
    std::vector<std::string> pulled_changed;  // pulled files edited in the ghost: a pull replaces them
    std::vector<std::string> certificate_files;  // skipped: they hold this session's certificate
};

Result<SavePlan> plan_save(Holder& h) {
    std::vector<GhostFileRead> files;
    std::vector<std::string> unreadable;
    std::size_t count = 0;
    GP_TRY(read_ghost_tree(h.ghost.root_dir.get(), "", 0,
                           [&](GhostFileRead&& f) -> Status {
                               files.push_back(std::move(f));
                               return {};
                           },
                           count, unreadable));
    SavePlan plan;
    for (const auto& name : unreadable) plan.skipped.push_back({{"name", name}, {"why", "not readable by the session"}});
    auto pulled = [&](const std::string& name) {
        return std::find(h.pull.files.begin(), h.pull.files.end(), name) != h.pull.files.end() ||
               std::find(h.vault.files.begin(), h.vault.files.end(), name) != h.vault.files.end();
    };
    // A file holding this session's client certificate: the certificate and its key die with the
    // session, so the file is never written back (its stored version stays as it was).
    auto holds_session_certificate = [&](const std::string& name) {
        return std::any_of(h.vault.certificates.begin(), h.vault.certificates.end(),
                           [&](const IssuedCertificate& c) { return c.target == name; });
    };
    // Before the loop below moves the files (and their names) into the plan.
    for (const auto& name : h.layout.secrets) {
        bool present = std::any_of(files.begin(), files.end(), [&](const GhostFileRead& f) { return f.name == name; });
        if (!present && !pulled(name)) plan.removed.push_back(name);
    }
    for (auto& f : files) {
        auto known = h.layout.facts.find(f.name);
        bool created = known == h.layout.facts.end();
        bool unchanged = !created && known->second.digest == ghost_digest(f.value.bytes());
        if (pulled(f.name)) {  // a pull brings them, the vault keeps only its cache
            if (!unchanged && !holds_session_certificate(f.name)) plan.pulled_changed.push_back(f.name);
            continue;
        }
        if (unchanged) continue;
        if (holds_session_certificate(f.name)) {
            plan.skipped.push_back({{"name", f.name}, {"why", "it holds this session's client certificate (vault.pki)"}});
            plan.certificate_files.push_back(f.name);
            continue;
        }
        if (reserved_name(f.name, created)) {
            plan.skipped.push_back({{"name", f.name}, {"why", "names starting with infisical, vault. or vault/ are ghostpod's own"}});
            continue;
        }
        if (auto valid = validate_entry_name(f.name); !valid) {
            plan.skipped.push_back({{"name", f.name}, {"why", valid.error().describe()}});
            continue;
        }
        plan.created.push_back(created);
        plan.writes.push_back(std::move(f));
    }
    return plan;
}

Error conflict_error(const Holder& h, std::uint64_t on_disk) {
    return make_error(ErrorCode::conflict, "save to " + h.vault_path,
                      "the vault was changed elsewhere since this session unlocked it (generation " +
                          std::to_string(on_disk) + " on disk, " + std::to_string(h.base_generation) + " here)",
                      "see what is there with 'ghostpod secret ls'; 'ghostpod save --force' writes this session's "
                      "changed files over it (other entries stay as they are on disk), or 'ghostpod lock --discard' "
                      "ends the session without saving");
}

}  // namespace

Status save_ghost_changes(Holder& h, bool force, std::string* summary_json) {
    auto plan = plan_save(h);
    if (!plan) return std::move(plan).error();
    nlohmann::json saved = nlohmann::json::array(), created = nlohmann::json::array();
    std::uint64_t generation = h.base_generation;
    if (!plan->writes.empty()) {
        auto lock = VaultLock::acquire(h.vault_path);
        if (!lock) return std::move(lock).error();
        auto vault = reopen_vault(h);
        if (!vault) return std::move(vault).error();
        if (vault->header().generation != h.base_generation && !force) return conflict_error(h, vault->header().generation);
        std::uint64_t now = now_seconds();
        for (std::size_t i = 0; i < plan->writes.size(); ++i) {
            const auto& f = plan->writes[i];
            Entry entry;
            entry.name = f.name;
            entry.updated = now;
            entry.source = "ghost:save";
            // An entry keeps its kind and mode (a file made writable to edit it stays 0400 in
            // the vault); a new file keeps its owner bits, readable at least.
            if (const Entry* old = vault->find(f.name)) {
                entry.kind = old->kind;
                entry.mode = old->mode;
            } else {
                entry.mode = static_cast<std::uint16_t>((f.mode & 0700) | 0400);
            }
            GP_TRY(vault->put(std::move(entry), f.value.bytes()));
        }
        GP_TRY(save_vault(*vault, h.vault_path));
        generation = h.base_generation = vault->header().generation;
        // The ghost now matches the vault: the next save starts from here.
        for (std::size_t i = 0; i < plan->writes.size(); ++i) {
            const auto& f = plan->writes[i];
            h.layout.facts[f.name] = {f.value.size(), ghost_digest(f.value.bytes())};
            if (plan->created[i]) {
                h.layout.secrets.push_back(f.name);
                created.push_back(f.name);
            }
            saved.push_back(f.name);
        }
    }
    if (summary_json) {
        nlohmann::json j = {{"saved", saved},   {"created", created}, {"skipped", plan->skipped},
                            {"removed_in_ghost", plan->removed}, {"generation", generation}, {"vault", h.vault_path}};
        *summary_json = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // a file name need not be UTF-8
    }
    return {};
}

namespace {

// ---- what a lock would lose ----

nlohmann::json lost_entry(const std::string& path, const char* change, bool saveable, const std::string& why = {}) {
    nlohmann::json j = {{"path", path}, {"change", change}, {"saveable", saveable}};
    if (!why.empty()) j["why"] = why;
    return j;
}

}  // namespace

Result<nlohmann::json> unsaved_changes(Holder& h) {
    auto plan = plan_save(h);
    if (!plan) return std::move(plan).error();
    nlohmann::json lost = nlohmann::json::array();
    for (std::size_t i = 0; i < plan->writes.size(); ++i)
        lost.push_back(lost_entry(h.paths.ghost_dir + "/" + plan->writes[i].name, plan->created[i] ? "new" : "changed", true));
    for (const auto& s : plan->skipped) {
        std::string name = s.value("name", std::string());
        if (std::find(plan->certificate_files.begin(), plan->certificate_files.end(), name) != plan->certificate_files.end())
            continue;  // ghostpod's own change: the certificate goes with the session
        lost.push_back(lost_entry(h.paths.ghost_dir + "/" + name, h.layout.facts.count(name) ? "changed" : "new", false,
                                  s.value("why", std::string())));
    }
    for (const auto& name : plan->pulled_changed)
        lost.push_back(lost_entry(h.paths.ghost_dir + "/" + name, "changed", false,
                                  "pulled: the source keeps it, change it there ('save' keeps vault files only)"));
    // New files in a shadowed directory: in the RAM mount only (sandbox::place_file).
    auto ghost_only = sandbox::ghost_only_files_in(h.ghost);
    if (!ghost_only) return std::move(ghost_only).error();
    for (const auto& path : *ghost_only)
        lost.push_back(lost_entry(path, "new", false, "in a directory the ghost shadows, so in the ghost only: 'save' cannot keep it"));
    return lost;
}

bool lock_may_proceed(Holder& h, int conn, const protocol::LockRequest& lock) {
    if (lock.discard) return true;
    if (lock.save || h.settings.save_on_lock) {
        if (auto saved = save_ghost_changes(h, false); !saved) {
            Error e = saved.error();
            e.what = "save the session's changes before locking: " + e.what;
            if (e.code != ErrorCode::conflict) e.hint = "fix that and lock again, or 'ghostpod lock --discard' to end without saving";
            answer(conn, e);
            return false;
        }
        // The user saw what 'save' cannot keep and said yes.
        if (lock.save) return true;
    }
    auto lost = unsaved_changes(h);
    if (!lost) {
        Error e = std::move(lost).error();
        e.what = "find the session's unsaved changes before locking: " + e.what;
        e.hint = "'ghostpod lock --discard' ends the session without looking (and loses them)";
        answer(conn, e);
        return false;
    }
    if (lost->empty()) return true;
    nlohmann::json j = {{"vault", h.vault_path}, {"locked", false}, {"unsaved", *lost}};
    answer(conn, protocol::Unsaved{j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
    return false;
}

void serve_save(Holder& h, int conn, bool force) {
    std::string summary;
    auto saved = save_ghost_changes(h, force, &summary);
    answer(conn, saved ? protocol::Reply(protocol::Saved{summary}) : protocol::Reply(saved.error()));
}

}  // namespace ghostpod
