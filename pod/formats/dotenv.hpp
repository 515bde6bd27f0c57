// Parsing a .env file in secret memory: KEY=value lines, as docker compose and dotenv read them,
// without variable expansion ($OTHER stays as written).
//
//   # comment                 full-line comments and blank lines are skipped
//   export KEY=value          an optional "export " prefix
//   KEY=  value   # note      unquoted: trimmed; " #" or "\t#" starts a comment
//   KEY='lit\eral $X'         single quotes: every byte literal, may span lines
//   KEY="a\nb \"c\""          double quotes: \n \t \r \" \\ escapes, and \$ \` as a shell reads
//                             them (what 'ghostpod export' writes); may span lines
//
// Keys are [A-Za-z_][A-Za-z0-9_]*. CRLF line ends read as LF, inside quoted values too.
// Errors carry the line number and never any text of the file.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

struct DotenvVariable {
    std::string key;
    std::size_t offset = 0;  // the value is [offset, offset + length) of DotenvFile::values
    std::size_t length = 0;
    std::size_t line = 0;    // where it was defined (1-based)
};

struct DotenvFile {
    SecretBuffer values;
    std::vector<DotenvVariable> variables;  // in file order, a key defined twice listed twice (the last counts)

    std::span<const std::uint8_t> value(const DotenvVariable& v) const { return values.bytes().subspan(v.offset, v.length); }
};

// `what` names the file in errors ("parse .env"). ErrorCode::usage for malformed input.
Result<DotenvFile> parse_dotenv(std::span<const std::uint8_t> text, const std::string& what);

}  // namespace ghostpod
