#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "pod/commands/commands.hpp"
#include "pod/formats/age_key.hpp"
#include "pod/cli/args.hpp"
#include "pod/unlock/config.hpp"
#include "pod/formats/text.hpp"
#include "pod/cli/messages.hpp"
#include "pod/cli/prompt.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/store.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

Result<std::uint16_t> parse_mode(const std::string& text) {
    std::uint16_t mode = 0;
    if (text.empty() || text.size() > 4) return usage_error("secret set", "--mode must be octal, e.g. 0400");
    for (char c : text) {
        if (c < '0' || c > '7') return usage_error("secret set", "--mode must be octal, e.g. 0400");
        mode = static_cast<std::uint16_t>(mode * 8 + (c - '0'));
    }
    if (mode & 07000) return usage_error("secret set", "--mode may not set setuid, setgid or sticky bits");
    return mode;
}

Result<SecretBuffer> read_value(const ParsedArgs& args, const std::string& name, std::string& source) {
    if (auto path = args.value("--file")) {
        UniqueFd fd(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) return sys_error("open " + *path);
        source = "file:" + *path;
        return SecretBuffer::read_fd(fd.get(), kMaxValueBytes, "read " + *path);
    }
    source = "stdin";
    if (::isatty(STDIN_FILENO)) return ask_hidden("value for " + name, "stdin or --file");
    return SecretBuffer::read_fd(STDIN_FILENO, kMaxValueBytes, "read the value from stdin");
}

Error no_such_secret(const std::string& name, const std::string& path) {
    return make_error(ErrorCode::runtime, "no secret named '" + name + "' in " + path, "",
                      "list them with 'ghostpod secret ls'");
}

}  // namespace

int cmd_secret_set(Context& context, const ParsedArgs& args) {
    if (args.positional.size() != 1) return report(usage_error("secret set", "expects exactly one NAME"));
    const std::string& name = args.positional[0];
    if (auto valid = validate_entry_name(name); !valid) return report(valid.error());
    Entry entry;
    entry.name = name;
    if (auto kind = args.value("--kind")) {
        auto parsed = parse_kind(*kind);
        if (!parsed) return report(usage_error("secret set", "--kind must be file, env, identity or token-cache"));
        entry.kind = *parsed;
    }
    if (auto mode = args.value("--mode")) {
        auto parsed = parse_mode(*mode);
        if (!parsed) return report(parsed.error());
        entry.mode = *parsed;
    }
    entry.updated = now_seconds();
    // On a terminal the passphrase comes first, as every other command asks it: the vault is
    // unlocked (a wrong passphrase asked again), then the value typed while the lock is held.
    if (!args.has("--file") && ::isatty(STDIN_FILENO) && credential_from_terminal(context)) {
        auto done = change_vault(context, [&](Vault& vault, const std::string&) -> Status {
            auto value = read_value(args, name, entry.source);
            if (!value) return std::move(value).error();
            return vault.put(entry, value->bytes());
        });
        return done ? 0 : report(done.error());
    }
    // Otherwise the value is read before the writer lock is taken: a slow pipe must not block
    // other writers.
    auto value = read_value(args, name, entry.source);
    if (!value) return report(value.error());
    auto done = change_vault(context, [&](Vault& vault, const std::string&) { return vault.put(entry, value->bytes()); });
    return done ? 0 : report(done.error());
}

int cmd_secret_get(Context& context, const ParsedArgs& args) {
    if (args.positional.size() != 1) return report(usage_error("secret get", "expects exactly one NAME"));
    std::string path;
    auto vault = read_only_vault(context, path);
    if (!vault) return report(vault.error());
    const Entry* entry = vault->find(args.positional[0]);
    if (entry == nullptr) return report(no_such_secret(args.positional[0], path));
    auto written = write_all(STDOUT_FILENO, entry->value(), "write the secret to stdout");
    return written ? 0 : report(written.error());
}

int cmd_secret_ls(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("secret ls", "takes no NAME"));
    std::string path;
    auto vault = read_only_vault(context, path);
    if (!vault) return report(vault.error());
    std::vector<const Entry*> entries;
    for (const auto& e : vault->entries()) entries.push_back(&e);
    std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->name < b->name; });
    if (args.has("--json")) {
        auto list = nlohmann::json::array();
        for (const Entry* e : entries)
            list.push_back({{"name", e->name}, {"kind", kind_name(e->kind)}, {"size", e->length},
                            {"mode", octal_mode(e->mode)}, {"updated", iso_time(e->updated)}, {"source", e->source}});
        print_stdout(list.dump(2) + "\n");
        return 0;
    }
    std::size_t width = 4;
    for (const Entry* e : entries) width = std::max(width, e->name.size());
    std::string out;
    auto pad = [](std::string s, std::size_t n) { return s.size() < n ? s + std::string(n - s.size(), ' ') : s; };
    out += pad("NAME", width) + "  " + pad("KIND", 11) + "  " + pad("SIZE", 10) + "  MODE  " + pad("UPDATED", 20) + "  SOURCE\n";
    for (const Entry* e : entries)
        out += pad(e->name, width) + "  " + pad(kind_name(e->kind), 11) + "  " + pad(human_size(e->length), 10) + "  " +
               octal_mode(e->mode) + "  " + iso_time(e->updated) + "  " + e->source + "\n";
    print_stdout(out);
    return 0;
}

int cmd_secret_rm(Context& context, const ParsedArgs& args) {
    if (args.positional.size() != 1) return report(usage_error("secret rm", "expects exactly one NAME"));
    const std::string& name = args.positional[0];
    auto done = change_vault(context, [&](Vault& vault, const std::string& path) -> Status {
        if (!vault.remove(name)) return no_such_secret(name, path);
        return {};
    });
    return done ? 0 : report(done.error());
}

// A new age identity, made in secret memory and stored as a 0400 file entry; only the recipient
// is printed. An existing NAME is kept unless --force: replacing an identity loses the old key.
int cmd_secret_generate(Context& context, const ParsedArgs& args) {
    if (args.positional.size() != 2) return report(usage_error("secret generate", "expects a TYPE and a NAME"));
    if (args.positional[0] != "age")
        return report(usage_error("secret generate", "unknown type '" + args.positional[0] + "' (known: age)"));
    const std::string& name = args.positional[1];
    if (auto valid = validate_entry_name(name); !valid) return report(valid.error());
    bool force = args.has("--force");
    auto identity = generate_age_identity(rfc3339_local_now());
    if (!identity) return report(identity.error());
    Entry entry;
    entry.name = name;
    entry.kind = EntryKind::file;
    entry.mode = 0400;
    entry.source = "generated:age";
    entry.updated = now_seconds();
    auto done = change_vault(context, [&](Vault& vault, const std::string& path) -> Status {
        if (!force && vault.find(name) != nullptr)
            return make_error(ErrorCode::usage, "secret generate", "'" + name + "' already exists in " + path,
                              "pass --force to replace it (the old identity is lost), or choose another NAME");
        return vault.put(entry, identity->key_file.bytes());
    });
    if (!done) return report(done.error());
    print_stdout(identity->recipient + "\n");
    // Where the identity appears per the config's mappings (built-in ones if it cannot be read).
    auto config = load_config(locate_config(context.paths).path);
    auto mapping = mapping_for(config ? *config : Config{}, name);
    std::string where = mapping && !mapping->path.empty() ? mapping->path : "$GHOSTPOD_DIR/" + name;
    note("new age identity stored as '" + name + "' (" + where + " in the ghost); its recipient is on stdout");
    return 0;
}

}  // namespace ghostpod
