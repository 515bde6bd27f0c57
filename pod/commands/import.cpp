// ghostpod import tazpod FILE | import dotenv FILE: bring secrets kept elsewhere into the vault,
// decrypting and parsing in secret memory only.
#include <fcntl.h>
#include <unistd.h>

#include <set>

#include "pod/commands/commands.hpp"
#include "pod/cli/args.hpp"
#include "pod/formats/text.hpp"
#include "pod/formats/dotenv.hpp"
#include "pod/formats/tazpod.hpp"
#include "pod/cli/messages.hpp"
#include "pod/cli/prompt.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/payload.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

// A name given twice (stored twice in a tar, defined twice in a .env) counts once, the later
// one winning, as tar extraction and a shell sourcing the file would have it.
template <class Item, class NameOf>
std::vector<const Item*> last_of_each_name(const std::vector<Item>& items, NameOf name_of) {
    std::set<std::string> seen;
    std::vector<const Item*> kept;
    for (auto it = items.rbegin(); it != items.rend(); ++it)
        if (seen.insert(name_of(*it)).second) kept.insert(kept.begin(), &*it);
    return kept;
}

std::string indented(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += "\n  " + line;
    return out;
}

// One value to store: its entry and its bytes, still in the importer's secret memory.
struct Incoming {
    Entry entry;
    std::span<const std::uint8_t> value;
};

Incoming incoming(std::string name, EntryKind kind, std::uint16_t mode, std::string source,
                  std::span<const std::uint8_t> value) {
    Entry entry;
    entry.name = std::move(name);
    entry.kind = kind;
    entry.mode = mode;
    entry.source = std::move(source);
    return {std::move(entry), value};
}

// Stores all of them or none, under the writer lock, and prints one line per item (`lines`).
// Names the vault already holds are refused unless `overwrite`: an import never silently
// replaces a secret.
int store_and_summarise(const Context& context, std::vector<Incoming> items, const std::vector<std::string>& lines,
                        const std::string& what, const std::string& path, bool overwrite) {
    if (items.empty()) {
        note("no " + what + " to import from " + path + "; the vault is unchanged");
        return 0;
    }
    std::string vault_path;
    auto done = change_vault(context, [&](Vault& vault, const std::string& where) -> Status {
        vault_path = where;
        std::vector<std::string> taken;
        for (const auto& item : items)
            if (!overwrite && vault.find(item.entry.name) != nullptr) taken.push_back(item.entry.name);
        if (!taken.empty())
            return make_error(ErrorCode::runtime, "import into " + where,
                              std::to_string(taken.size()) + " name(s) already in the vault, nothing imported:" + indented(taken),
                              "pass --overwrite to replace them, or remove them first with 'ghostpod secret rm NAME'");
        std::uint64_t now = now_seconds();
        for (auto& item : items) {
            item.entry.updated = now;
            GP_TRY(vault.put(std::move(item.entry), item.value));
        }
        return {};
    });
    if (!done) return report(done.error());
    print_stdout("imported " + std::to_string(lines.size()) + " " + what + " from " + path + " into " + vault_path + ":" +
                 indented(lines) + "\n");
    return 0;
}

Result<SecretBuffer> tazpod_passphrase(const ParsedArgs& args, const std::string& path) {
    static const std::string kOption = "--tazpod-passphrase-fd";
    if (auto text = args.value(kOption)) {
        auto fd = parse_fd(kOption, *text);
        if (!fd) return std::move(fd).error();
        GP_TRY(check_fd_open(*fd, kOption));
        return read_line_from_fd(*fd, "the TazPod passphrase from " + kOption);
    }
    return ask_hidden("TazPod passphrase for " + path, kOption + " N");
}

}  // namespace

int cmd_import_tazpod(Context& context, const ParsedArgs& args) {
    if (args.positional.size() != 1) return report(usage_error("import tazpod", "expects exactly one FILE (TazPod's vault.tar.aes)"));
    const std::string& path = args.positional[0];
    // The archive is ciphertext; only what decrypts from it needs secret memory.
    auto archive = read_file(path, kMaxPayloadBytes + kTazpodSaltBytes + kTazpodNonceBytes + kTazpodTagBytes);
    if (!archive) return report(archive.error());
    auto passphrase = tazpod_passphrase(args, path);
    if (!passphrase) return report(passphrase.error());
    auto contents = open_tazpod(*archive, passphrase->bytes());
    passphrase = SecretBuffer();  // wiped: not needed past the decryption
    if (!contents) {
        Error error = std::move(contents).error();
        error.what += " " + path;
        return report(error);
    }
    const TarListing& listing = contents->listing;
    if (listing.had_pass_file)
        note(std::string("left out ") + kTazpodPassFile + " (TazPod's plaintext copy of its passphrase)");
    if (!listing.refused.empty()) {
        std::vector<std::string> lines;
        for (const auto& r : listing.refused) lines.push_back(printable(r.name + ": " + r.why, std::string_view::npos, true));
        std::string count = std::to_string(lines.size()) + " unsafe or unsupported entr" + (lines.size() == 1 ? "y" : "ies");
        if (!args.has("--skip-unsafe"))
            return report(make_error(ErrorCode::runtime, "import " + path, count + ", nothing imported:" + indented(lines),
                                     "pass --skip-unsafe to import the other files and leave these out"));
        warn("skipped " + count + ":" + indented(lines));
    }
    std::vector<Incoming> items;
    std::vector<std::string> lines;
    for (const TarFile* f : last_of_each_name(listing.files, [](const TarFile& f) { return f.name; })) {
        std::uint16_t mode = tazpod_entry_mode(f->mode);
        items.push_back(incoming(f->name, EntryKind::file, mode, "tazpod:" + path, contents->tar.bytes().subspan(f->offset, f->length)));
        lines.push_back(f->name + " (" + octal_mode(mode) + ")");
    }
    return store_and_summarise(context, std::move(items), lines, "file(s)", path, args.has("--overwrite"));
}

int cmd_import_dotenv(Context& context, const ParsedArgs& args) {
    if (args.positional.size() != 1) return report(usage_error("import dotenv", "expects exactly one FILE ('-' for stdin)"));
    const std::string& path = args.positional[0];
    UniqueFd file;
    if (path != "-") {
        file.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!file.valid()) return report(sys_error("open " + path));
    }
    auto text = SecretBuffer::read_fd(path == "-" ? STDIN_FILENO : file.get(), kMaxValueBytes, "read " + path);
    if (!text) return report(text.error());
    auto parsed = parse_dotenv(text->bytes(), "parse " + path);
    text = SecretBuffer();  // wiped: the values now live in parsed->values
    if (!parsed) return report(parsed.error());
    std::vector<Incoming> items;
    std::vector<std::string> names;
    for (const DotenvVariable* v : last_of_each_name(parsed->variables, [](const DotenvVariable& v) { return v.key; })) {
        items.push_back(incoming(v->key, EntryKind::env, kDefaultMode, "dotenv:" + path, parsed->value(*v)));
        names.push_back(v->key);
    }
    int code = store_and_summarise(context, std::move(items), names, "variable(s)", path, args.has("--overwrite"));
    if (code != 0 || names.empty()) return code;
    // env entries are materialised as files like any other; only a config mapping makes a variable.
    note("in a session each is the file $GHOSTPOD_DIR/KEY; to have the variable KEY too, map it in the config: "
         "\"secrets\": {\"KEY\": {\"env\": \"KEY\", \"env_value\": true}} (see ghostpod-config(5))");
    return 0;
}

}  // namespace ghostpod
