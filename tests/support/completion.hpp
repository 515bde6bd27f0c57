// The shell completions in completions/, run for real.
#pragma once

#include <string>

namespace ghostpod::test {

// The bash completion function run in a plain bash for the words typed so far ("" = a new
// word), e.g. "ghostpod secret ''"; its COMPREPLY one per line.
std::string bash_complete(const std::string& words);
// The same in directory `cwd`, with HOME there too and no GHOSTPOD_CONFIG or XDG_CONFIG_HOME
// (the config is found as ghostpod finds it).
std::string bash_complete_in(const std::string& words, const std::string& cwd);
// The zsh completion's profile names (completions/_ghostpod's _ghostpod_profile_names on the
// config found from `cwd`), one a line.
std::string zsh_profile_names(const std::string& cwd);
// Whether `text` has `line` as one of its lines.
bool has_line(const std::string& text, const std::string& line);

}  // namespace ghostpod::test
