// What a pull puts in the ghost, from every source at once: Infisical's keys (and the tfvars
// file), Vault's KV keys, and the session's client certificates written into their kubeconfig
// or talosconfig. Where two pulled keys map to the same path or variable, the later source wins:
// Vault after Infisical, a later KV path after an earlier one; pulled files beat stored ones.
#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "pod/formats/client_cert.hpp"
#include "pod/session/holder_state.hpp"

namespace ghostpod {
namespace {

enum class Origin { infisical, vault, stored };

struct Composed {
    std::vector<GhostFile> files;
    std::vector<Origin> origin;
    std::deque<SecretBuffer> owned;  // values made here (tfvars, files with a certificate): stable addresses
    void add(GhostFile f, Origin o) {
        files.push_back(std::move(f));
        origin.push_back(o);
    }
};

// Appends value as an HCL string literal: quotes and backslashes escaped, control characters
// as escapes, and "${" / "%{" doubled so terraform reads them literally.
Status append_hcl_string(SecretBuffer& out, std::span<const std::uint8_t> value) {
    GP_TRY(out.push_back('"'));
    for (std::size_t i = 0; i < value.size(); ++i) {
        std::uint8_t c = value[i];
        bool template_start = i + 1 < value.size() && value[i + 1] == '{' && (c == '$' || c == '%');
        if (c == '"' || c == '\\') {
            GP_TRY(out.push_back('\\'));
            GP_TRY(out.push_back(c));
        } else if (c == '\n') {
            GP_TRY(out.append(text_bytes("\\n")));
        } else if (c == '\r') {
            GP_TRY(out.append(text_bytes("\\r")));
        } else if (c == '\t') {
            GP_TRY(out.append(text_bytes("\\t")));
        } else {
            GP_TRY(out.push_back(c));
            if (template_start) GP_TRY(out.push_back(c));
        }
    }
    return out.push_back('"');
}

// The .tfvars file: `name = "value"` per configured variable, built in secret memory.
Result<SecretBuffer> tfvars_file(const PullSettings& s, const PulledSecrets& pulled, std::vector<std::string>& missing) {
    auto out = SecretBuffer::allocate(0);
    if (!out) return out;
    GP_TRY(out->append(text_bytes("# written by ghostpod pull; exists only inside the ghost\n")));
    for (const auto& [variable, key] : s.tfvars) {
        const PulledSecret* secret = pulled.find(key);
        if (!secret) {
            missing.push_back(key);
            continue;
        }
        GP_TRY(out->append(text_bytes(variable + " = ")));
        GP_TRY(append_hcl_string(*out, pulled.value(*secret)));
        GP_TRY(out->push_back('\n'));
    }
    return out;
}

std::string expand_home(const std::string& path, const std::string& home) {
    return path.rfind("~/", 0) == 0 ? home + path.substr(1) : path;
}

// A path or variable that two pulled files map to goes to the later one; the earlier keeps its
// file in $GHOSTPOD_DIR and loses only that mapping.
void resolve_clashes(Composed& c, const std::string& home, std::vector<std::string>& warnings) {
    std::map<std::string, std::size_t> path_owner, env_owner;
    for (std::size_t i = 0; i < c.files.size(); ++i) {
        const auto& m = c.files[i].mapping;
        if (!m) continue;
        if (!m->path.empty()) path_owner[expand_home(m->path, home)] = i;
        if (!m->env.empty()) env_owner[m->env] = i;
    }
    for (std::size_t i = 0; i < c.files.size(); ++i) {
        auto& m = c.files[i].mapping;
        if (!m) continue;
        if (!m->path.empty()) {
            std::size_t winner = path_owner[expand_home(m->path, home)];
            if (winner != i) {
                warnings.push_back(c.files[i].name + " and " + c.files[winner].name + " both map to " + m->path + ": " +
                                   c.files[winner].name + " is placed there");
                m->path.clear();
            }
        }
        if (!m->env.empty() && env_owner[m->env] != i) {
            warnings.push_back(c.files[i].name + " and " + c.files[env_owner[m->env]].name + " both set " + m->env + ": " +
                               c.files[env_owner[m->env]].name + " does");
            m->env.clear();
            m->env_value = false;
        }
        if (m->path.empty() && m->env.empty()) m.reset();
    }
}

// The session's certificates into the files they are for: a pulled file each time it is
// pulled, a stored one (a vault entry) when its certificate is new.
Status apply_certificates(Holder& h, const PullContents& contents, Composed& c) {
    if (!contents.certificates || contents.certificates->empty()) return {};
    std::optional<Vault> vault;
    for (IssuedCertificate& cert : *contents.certificates) {
        const VaultPkiConfig& p = contents.settings->vault->pki[cert.pki_index];
        ClientCertPlace place{p.format, p.format == ClientCertFormat::kubeconfig ? p.user : p.context};
        auto named = [&](const GhostFile& f) { return f.name == cert.target; };
        auto pulled = std::find_if(c.files.begin(), c.files.end(), named);
        std::span<const std::uint8_t> source;
        GhostFile stored;
        if (pulled != c.files.end()) {
            source = pulled->value;
        } else if (contents.new_certificates) {
            if (!vault) {
                auto opened = reopen_vault(h);
                if (!opened) return std::move(opened).error();
                vault = std::move(*opened);
            }
            const Entry* entry = vault->find(cert.target);
            if (!entry || entry->kind == EntryKind::identity || entry->kind == EntryKind::token_cache)
                return make_error(ErrorCode::usage, "put the session's client certificate into " + cert.target,
                                  "no such file: it is neither in the vault nor pulled",
                                  "name the kubeconfig or talosconfig file in vault.pki[" + std::to_string(cert.pki_index) +
                                      "].for as it appears below $GHOSTPOD_DIR (e.g. kube/config)");
            source = entry->value();
            stored = {cert.target, {}, entry->mode, boxed(mapping_for(h.config, cert.target))};
        } else {
            continue;  // a stored file got it when it was issued, and a refresh leaves it alone
        }
        auto written = set_client_certificate(source, place, text_bytes(cert.certificate_pem), cert.private_key_pem.bytes(),
                                              &cert.chosen);
        if (!written) {
            Error e = std::move(written).error();
            e.what = "put the session's client certificate into " + cert.target;
            return e;
        }
        c.owned.push_back(std::move(*written));
        if (pulled != c.files.end()) {
            pulled->value = c.owned.back().bytes();
        } else {
            stored.value = c.owned.back().bytes();
            c.add(std::move(stored), Origin::stored);
        }
    }
    return {};
}

// Whether an existing file's placements and variables differ from `mapping` (a clash now won
// by another file): it is then removed and written anew.
bool mapping_differs(const Materialised& layout, const GhostFile& f, const std::string& home) {
    std::set<std::string> had, wants;
    for (const auto& p : layout.placements)
        if (p.secret == f.name) had.insert("path " + p.target);
    for (const auto& e : layout.env)
        if (e.secret == f.name) had.insert("env " + e.name + (e.value_from_file ? " value" : ""));
    if (f.mapping && !f.mapping->path.empty()) wants.insert("path " + expand_home(f.mapping->path, home));
    if (f.mapping && !f.mapping->env.empty()) wants.insert("env " + f.mapping->env + (f.mapping->env_value ? " value" : ""));
    return had != wants;
}

}  // namespace

Status fill_ghost(Holder& h, const PullContents& contents, std::vector<std::string>& warnings, PullChanges& changes) {
    const PullSettings& s = *contents.settings;
    Composed c;
    // One entry per file, reserved: 10,000 of them regrown by doubling would briefly hold two copies.
    std::size_t expected = (contents.infisical ? contents.infisical->secrets.size() + 1 : 0) +
                           (contents.vault ? contents.vault->secrets.size() : 0) +
                           (contents.certificates ? contents.certificates->size() : 0);
    c.files.reserve(expected);
    c.origin.reserve(expected);
    if (contents.infisical) {
        const PulledSecrets& pulled = *contents.infisical;
        for (const auto& secret : pulled.secrets)
            c.add({kPulledPrefix + secret.key, pulled.value(secret), 0400, boxed(pulled_mapping_for(s, secret.key))}, Origin::infisical);
        if (!s.tfvars_path.empty()) {
            std::vector<std::string> missing;
            auto built = tfvars_file(s, pulled, missing);
            if (!built) return std::move(built).error();
            c.owned.push_back(std::move(*built));
            for (const auto& key : missing) warnings.push_back("infisical.tfvars names " + key + ", which the pull did not return");
            c.add({"infisical.auto.tfvars", c.owned.back().bytes(), 0400, std::make_unique<SecretMapping>(SecretMapping{s.tfvars_path, "", false})}, Origin::infisical);
        }
    }
    if (contents.vault) {
        for (const auto& secret : contents.vault->secrets)
            c.add({secret.ghost_name(), contents.vault->value(secret), 0400, boxed(vault_mapping_for(*s.vault, secret))}, Origin::vault);
    }
    resolve_clashes(c, s.home, warnings);
    GP_TRY(apply_certificates(h, contents, c));

    // What goes: pulled files no source returns this time (a key deleted upstream), and
    // existing files whose placement or variable changed hands.
    // Sets of names are sorted views of the names c.files holds (no more are added from here):
    // a std::set would copy each of 10,000 names into a node of its own.
    // (indices into c.files, 4 bytes a name).
    auto sorted_files = [&](auto wanted) {
        std::vector<std::uint32_t> out;
        for (std::size_t i = 0; i < c.files.size(); ++i)
            if (wanted(c.origin[i])) out.push_back(static_cast<std::uint32_t>(i));
        std::sort(out.begin(), out.end(), [&](std::uint32_t a, std::uint32_t b) { return c.files[a].name < c.files[b].name; });
        return out;
    };
    auto in_files = [&](const std::vector<std::uint32_t>& sorted, std::string_view name) {
        auto at = std::lower_bound(sorted.begin(), sorted.end(), name,
                                   [&](std::uint32_t i, std::string_view n) { return c.files[i].name < n; });
        return at != sorted.end() && c.files[*at].name == name;
    };
    auto in = [](const std::vector<std::string_view>& sorted, std::string_view name) {
        return std::binary_search(sorted.begin(), sorted.end(), name);
    };
    const std::vector<std::uint32_t> now = sorted_files([](Origin o) { return o != Origin::stored; });
    std::vector<std::string> gone;
    for (const auto* list : {&h.pull.files, &h.vault.files})
        for (const auto& name : *list)
            if (!in_files(now, name)) gone.push_back(name);
    for (const auto& f : c.files)
        if (h.layout.facts.count(f.name) && mapping_differs(h.layout, f, s.home)) gone.push_back(f.name);

    GhostWriter writer = h.writer(s.home);
    // Checked before anything is touched, counting what goes: a refresh that cannot fit leaves
    // the ghost as it was.
    std::uint64_t total = h.layout.bytes;
    for (const auto& name : gone) total -= h.layout.facts[name].size;
    for (const auto& f : c.files) {
        bool stays = h.layout.facts.count(f.name) && std::find(gone.begin(), gone.end(), f.name) == gone.end();
        total = total - (stays ? h.layout.facts[f.name].size : 0) + f.value.size();
    }
    if (total > writer.ram_limit)
        return make_error(ErrorCode::runtime, "write the pulled secrets into the ghost",
                          "they need " + std::to_string(total >> 20) + " MiB, more than the RAM limit of " +
                              std::to_string(writer.ram_limit >> 20) + " MiB; the ghost keeps its previous contents",
                          "raise session.ram_limit_mib in the config");
    std::vector<bool> existed(c.files.size());  // by index: no second copy of 10,000 names
    for (std::size_t i = 0; i < c.files.size(); ++i) existed[i] = h.layout.facts.count(c.files[i].name) != 0;
    std::vector<std::string> rewritten;  // only the files whose digest changed are written, in order
    Status written = remove_ghost_files(writer, gone, h.layout);
    if (written) written = write_ghost_files(writer, c.files, h.layout, &rewritten);
    // What changed, by name: stored files that only took a certificate are not the pull's news.
    std::vector<const GhostFile*> fresh_files;
    for (std::size_t i = 0, next = 0; i < c.files.size() && next < rewritten.size(); ++i) {
        if (c.files[i].name != rewritten[next]) continue;
        ++next;
        fresh_files.push_back(&c.files[i]);
        if (c.origin[i] == Origin::stored) continue;
        (existed[i] ? changes.changed : changes.added).push_back(c.files[i].name);
    }
    for (const auto& name : gone)
        if (!in_files(now, name) && std::find(changes.removed.begin(), changes.removed.end(), name) == changes.removed.end())
            changes.removed.push_back(name);
    // The session's first pull also looks at the vault's own files, written when it started.
    std::optional<Vault> stored_vault;
    std::vector<GhostFile> stored;
    if (!h.pull.active && !h.vault.active) {
        if (auto opened = reopen_vault(h)) {
            stored_vault = std::move(*opened);
            stored = vault_files(*stored_vault, h.config);
            for (const auto& f : stored) fresh_files.push_back(&f);
        }
    }
    check_certificates(h, fresh_files, warnings);
    // Whatever happened, the lists of pulled files are what the ghost now holds.
    auto keep = [&](std::vector<std::string>& list, Origin origin) {
        // This source's files now: `now` itself when every pulled file is this source's.
        std::vector<std::uint32_t> own;
        std::size_t of_origin = std::count(c.origin.begin(), c.origin.end(), origin);
        if (of_origin != now.size()) own = sorted_files([&](Origin o) { return o == origin; });
        const std::vector<std::uint32_t>& fresh = of_origin == now.size() ? now : own;
        // The old list, sorted, only when a name is not fresh (a file no source returned).
        std::optional<std::vector<std::string_view>> before;
        auto kept = [&](const std::string& name) {
            if (in_files(fresh, name)) return true;
            if (!before) {
                before.emplace(list.begin(), list.end());
                std::sort(before->begin(), before->end());
            }
            return in(*before, name) && !in_files(now, name);
        };
        // A refresh that brought no new and lost no name keeps the list as it is.
        std::size_t same = 0;
        bool differs = false;
        for (const auto& name : h.layout.secrets) {
            if (!kept(name)) continue;
            if (same < list.size() && list[same] == name) ++same;
            else differs = true;
            if (differs) break;
        }
        if (!differs && same == list.size()) return;
        std::vector<std::string> next;
        for (const auto& name : h.layout.secrets)
            if (kept(name)) next.push_back(name);
        list.swap(next);
    };
    keep(h.pull.files, Origin::infisical);
    keep(h.vault.files, Origin::vault);
    return written;
}

}  // namespace ghostpod
