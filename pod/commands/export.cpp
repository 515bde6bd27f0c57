// export: the session's env-style values as a .env file, JSON or YAML, on stdout only. From
// the running session without a passphrase; with none running, from the vault.
#include <unistd.h>

#include <optional>

#include "pod/cli/args.hpp"
#include "pod/cli/messages.hpp"
#include "pod/commands/commands.hpp"
#include "pod/formats/env_export.hpp"
#include "pod/session/export.hpp"
#include "pod/session/launcher.hpp"
#include "pod/session/requests.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

// What a session of this vault and config would export: env entries, and the variables the
// config's (or built-in) mappings fill with a value. No pulled secrets: those are a session's.
ExportCandidates vault_candidates(const Vault& vault, const Config& config) {
    ExportCandidates candidates;
    for (const auto& e : vault.entries()) {
        if (e.kind == EntryKind::identity || e.kind == EntryKind::token_cache) continue;
        if (e.kind == EntryKind::env) candidates.env_entries.push_back(e.name);
        if (auto m = mapping_for(config, e.name); m && m->env_value && !m->env.empty()) candidates.mapped.emplace_back(e.name, m->env);
    }
    return candidates;
}

}  // namespace

int cmd_export(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("export", "unexpected argument '" + args.positional[0] + "'"));
    std::string format_name = args.value("--format").value_or("dotenv");
    auto format = parse_export_format(format_name);
    if (!format) return report(usage_error("export", "--format must be dotenv, dotenv-export, json or yaml, not '" + format_name + "'"));
    auto options = session_options(context, args, "export");
    if (!options) return report(options.error());
    auto paths = session_paths_for(context);
    if (!paths) return report(paths.error());

    std::vector<ExportVariable> variables;
    std::vector<std::string> skipped;
    auto exported = request_export(*paths, options->profile);
    std::optional<Vault> vault;  // outlives `variables`, which point into it
    if (exported) {
        for (const auto& v : exported->variables) variables.push_back({v.name, exported->value(v)});
        skipped = exported->skipped;
    } else if (no_session_running(exported.error())) {
        std::string path;
        auto opened = read_only_vault(context, path);
        if (!opened) return report(opened.error());
        vault = std::move(*opened);
        for (const auto& pick : pick_exports(vault_candidates(*vault, options->config), options->profile, skipped))
            variables.push_back({pick.variable, vault->find(pick.secret)->value()});
    } else {
        return report(exported.error());
    }
    for (const auto& name : skipped) warn("left out the env secret '" + name + "': its name is not a variable name");
    std::erase_if(variables, [&](const ExportVariable& v) {
        auto why = unexportable(v.value, *format);
        if (why) warn("left out " + v.name + ": its value " + *why);
        return why.has_value();
    });
    auto text = format_variables(variables, *format);
    if (!text) return report(text.error());
    auto written = write_all(STDOUT_FILENO, text->bytes(), "write the export to stdout");
    return written ? 0 : report(written.error());
}

}  // namespace ghostpod
