// Command-line parsing shared by every command: the global options and one command's own.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pod/unlock/locate.hpp"
#include "vault/result.hpp"

namespace ghostpod {

// What the global options say, for every command.
struct Context {
    PathOptions paths;
    int passphrase_fd = -1;
    int recovery_key_fd = -1;
};

struct OptionSpec {
    std::string name;           // "--file"
    bool takes_value = false;
    std::string_view value_name;  // "PATH" in the help; empty for a flag (a literal's view)
    std::string_view doc;         // one line for the help; empty: not listed (a literal's view)
    std::string short_name;     // "-q": the same option (stored under `name`)
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

// The global options (--vault, --config, --passphrase-fd, --recovery-key-fd).
const std::vector<OptionSpec>& global_options();
// Applies one global option to `context`.
Status apply_global(const std::string& name, const std::string& value, Context& context);

// Parses a command's arguments. Global options are accepted anywhere and stored in `context`.
Result<ParsedArgs> parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& spec,
                              Context& context, const std::string& command);
Result<int> parse_fd(const std::string& option, const std::string& text);
Error usage_error(const std::string& command, const std::string& why);
// The same with "did you mean …?" (suggest.hpp) before the pointer to --help, when not empty.
Error usage_error(const std::string& command, const std::string& why, const std::string& suggestion);

}  // namespace ghostpod
