// Command-line parsing shared by every command, and the command table.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pod/unlock/locate.hpp"
#include "vault/result.hpp"

namespace ghostpod {

struct Context {
    PathOptions paths;
    int passphrase_fd = -1;
    int recovery_key_fd = -1;
};

struct OptionSpec {
    std::string name;  // "--file"
    bool takes_value = false;
};

struct ParsedArgs {
    std::map<std::string, std::string> values;  // options with a value
    std::set<std::string> flags;                // options without one
    std::vector<std::string> positional;
    bool help = false;
    bool has(const std::string& name) const { return values.count(name) || flags.count(name); }
    std::optional<std::string> value(const std::string& name) const {
        auto it = values.find(name);
        return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
};

// Parses a command's arguments. Global options (--vault, --config, --passphrase-fd,
// --recovery-key-fd) are accepted anywhere and stored in `context`.
Result<ParsedArgs> parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& spec,
                              Context& context, const std::string& command);
Result<int> parse_fd(const std::string& option, const std::string& text);
Error usage_error(const std::string& command, const std::string& why);

// Prints the help of `command` ("" for the overview, "secret set" for a subcommand) to stdout.
// Returns false when there is no such command.
bool print_help(const std::string& command);

int run_cli(int argc, char** argv);

// Commands (pod/cmd_*.cpp). Each returns the process exit code.
int cmd_init(Context& context, const std::vector<std::string>& args);
int cmd_secret(Context& context, const std::vector<std::string>& args);
int cmd_passwd(Context& context, const std::vector<std::string>& args);
int cmd_status(Context& context, const std::vector<std::string>& args);
int cmd_run(Context& context, const std::vector<std::string>& args);
int cmd_shell(Context& context, const std::vector<std::string>& args, bool join_only);
int cmd_lock(Context& context, const std::vector<std::string>& args);
int cmd_pull(Context& context, const std::vector<std::string>& args);
int cmd_identity(Context& context, const std::vector<std::string>& args);
int cmd_certs(Context& context, const std::vector<std::string>& args);
int cmd_import(Context& context, const std::vector<std::string>& args);
int cmd_save(Context& context, const std::vector<std::string>& args);

}  // namespace ghostpod
