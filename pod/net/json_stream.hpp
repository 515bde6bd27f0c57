// A push parser for JSON that carries secrets: it takes an answer in pieces as they arrive (a
// libcurl write callback), so a large answer is never held whole, and hands each string,
// unescaped, to its events from a buffer in secret memory that it wipes before reuse. It
// accepts exactly what nlohmann::json's strict parser accepts (RFC 8259, strict UTF-8, a leading
// byte-order mark, finite numbers) but for a NUL byte after the document, which nlohmann takes
// for the end of the input and this parser refuses; it bounds nesting; no recursion, no tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

// What the parser found, in document order. Returning false stops the parse (the events keep
// their own reason).
class JsonEvents {
public:
    virtual ~JsonEvents() = default;
    virtual bool scalar() = 0;  // a number, and by default null, true and false: none is kept
    virtual bool null() { return scalar(); }
    virtual bool boolean(bool value) {
        (void)value;
        return scalar();
    }
    // The unescaped bytes (valid UTF-8), valid until the call returns; wiped afterwards.
    virtual bool string(std::span<const std::uint8_t> text) = 0;
    virtual bool key(std::span<const std::uint8_t> text) = 0;
    virtual bool start_object() = 0;
    virtual bool end_object() = 0;
    virtual bool start_array() = 0;
    virtual bool end_array() = 0;
};

class JsonPushParser {
public:
    // Deeper nesting than this is refused (nests_too_deep() tells it from a syntax error).
    static constexpr std::size_t kMaxDepth = 512;

    explicit JsonPushParser(JsonEvents& events) : events_(events) {}
    // Takes the next piece. False once the input is not JSON, an event refused, or secret
    // memory ran out; every later call is false too.
    bool feed(std::span<const std::uint8_t> bytes);
    // The input ended: true when it held exactly one complete JSON value.
    bool finish();
    // Starts over, as for a new document (what a retried download needs).
    void reset();

    bool failed() const { return failed_; }
    bool stopped_by_events() const { return stopped_by_events_; }
    bool nests_too_deep() const { return too_deep_; }
    bool out_of_memory() const { return out_of_memory_; }

private:
    enum class State : std::uint8_t {
        bom1, bom2, bom3,  // a leading byte-order mark
        value,             // a value must come (the document's, an array element after ',', an object member after ':')
        value_or_end,      // just after '[': a value or ']'
        key_or_end,        // just after '{': a key or '}'
        key,               // after ',' in an object
        colon,
        after_value,       // ',' or the closing bracket, or the end of the document
        string, escape, unicode, utf8,
        literal, number,
        done,
    };
    bool step(std::uint8_t c);
    bool begin_value(std::uint8_t c);
    bool close_value();  // a value just ended
    bool fail();
    bool stop();
    bool flush_string_run(const std::uint8_t* from, const std::uint8_t* to);
    bool append_scratch(std::span<const std::uint8_t> bytes);
    bool put_code_point(std::uint32_t cp);
    bool end_string();
    bool end_number();

    JsonEvents& events_;
    State state_ = State::bom1;
    std::vector<bool> stack_;  // true: an object
    SecretBuffer scratch_;     // the string being read
    bool scratch_ready_ = false;
    bool string_is_key_ = false;
    std::uint32_t unicode_ = 0;      // the \u escape being read
    int unicode_digits_ = 0;
    std::uint32_t high_surrogate_ = 0;  // a \uD8xx waiting for its low half
    bool want_low_surrogate_ = false;
    int utf8_left_ = 0;              // continuation bytes a multi-byte sequence still needs
    std::uint8_t utf8_low_ = 0x80, utf8_high_ = 0xBF;  // the range of its next byte
    const char* literal_ = nullptr;  // "true", "false", "null"
    std::size_t literal_at_ = 0;
    std::string number_;             // a number's text: checked finite as nlohmann does
    int number_state_ = 0;
    bool failed_ = false, stopped_by_events_ = false, too_deep_ = false, out_of_memory_ = false;
};

}  // namespace ghostpod
