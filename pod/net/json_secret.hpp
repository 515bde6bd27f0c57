// JSON that carries secrets, for the backends' clients: answers are parsed whole (they are
// small) and every string of the parse tree is zeroed once values are copied to secret memory;
// request bodies are built straight in secret memory.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>

#include "pod/formats/env_export.hpp"  // append_json_string: request bodies' string literals
#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

// Answers nest no deeper than this: a hostile server must not exhaust the stack of recursive
// walks (nlohmann's own parser and dump() recurse).
inline constexpr int kMaxJsonNesting = 32;

// Zeroes every string in a parsed document (keys are not secrets and stay).
void wipe_strings(nlohmann::json& j);
// Whether JSON text nests deeper than `limit`, without parsing it.
bool nests_deeper_than(std::string_view text, int limit);

// A parsed document whose strings are zeroed when it goes.
struct WipedJson {
    nlohmann::json doc;
    WipedJson() = default;
    explicit WipedJson(nlohmann::json j) : doc(std::move(j)) {}
    WipedJson(WipedJson&&) = default;
    WipedJson& operator=(WipedJson&&) = default;
    ~WipedJson() { wipe_strings(doc); }
};

// `text` as a JSON object, or a discarded value when it is not one (or nests too deep).
nlohmann::json parse_json_object(std::string_view text);

}  // namespace ghostpod
