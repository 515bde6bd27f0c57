// The shell completions in completions/, run for real.
#pragma once

#include <string>

namespace ghostpod::test {

// The bash completion function run in a plain bash for the words typed so far ("" = a new
// word), e.g. "ghostpod secret ''"; its COMPREPLY one per line.
std::string bash_complete(const std::string& words);
// Whether `text` has `line` as one of its lines.
bool has_line(const std::string& text, const std::string& line);

}  // namespace ghostpod::test
