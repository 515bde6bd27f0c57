#include "pod/net/json_stream.hpp"

#include <clocale>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <sodium.h>

namespace ghostpod {
namespace {

bool whitespace(std::uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A byte that ends or interrupts a run of plain string bytes.
bool special_in_string(std::uint8_t c) { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80; }

int hex_value(std::uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Number states: where in -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? the parser is.
enum Number { minus = 1, zero, integer, dot, fraction, exponent, exponent_sign, exponent_digits };

bool number_may_end(int state) { return state == zero || state == integer || state == fraction || state == exponent_digits; }

}  // namespace

void JsonPushParser::reset() {
    state_ = State::bom1;
    stack_.clear();
    if (scratch_ready_) scratch_.truncate(0);
    want_low_surrogate_ = false;
    utf8_left_ = 0;
    literal_ = nullptr;
    number_.clear();
    number_state_ = 0;
    failed_ = stopped_by_events_ = too_deep_ = out_of_memory_ = false;
}

bool JsonPushParser::fail() {
    failed_ = true;
    if (scratch_ready_) scratch_.truncate(0);
    return false;
}

bool JsonPushParser::stop() {
    stopped_by_events_ = true;
    return fail();
}

bool JsonPushParser::append_scratch(std::span<const std::uint8_t> bytes) {
    if (!scratch_ready_) {
        auto fresh = SecretBuffer::allocate(0);
        if (!fresh) {
            out_of_memory_ = true;
            return fail();
        }
        scratch_ = std::move(*fresh);
        scratch_ready_ = true;
    }
    if (!scratch_.append(bytes)) {
        out_of_memory_ = true;
        return fail();
    }
    return true;
}

bool JsonPushParser::flush_string_run(const std::uint8_t* from, const std::uint8_t* to) {
    return from == to || append_scratch({from, static_cast<std::size_t>(to - from)});
}

bool JsonPushParser::put_code_point(std::uint32_t cp) {
    std::uint8_t out[4];
    std::size_t n = 0;
    if (cp < 0x80) {
        out[n++] = static_cast<std::uint8_t>(cp);
    } else if (cp < 0x800) {
        out[n++] = static_cast<std::uint8_t>(0xC0 | (cp >> 6));
        out[n++] = static_cast<std::uint8_t>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[n++] = static_cast<std::uint8_t>(0xE0 | (cp >> 12));
        out[n++] = static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F));
        out[n++] = static_cast<std::uint8_t>(0x80 | (cp & 0x3F));
    } else {
        out[n++] = static_cast<std::uint8_t>(0xF0 | (cp >> 18));
        out[n++] = static_cast<std::uint8_t>(0x80 | ((cp >> 12) & 0x3F));
        out[n++] = static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F));
        out[n++] = static_cast<std::uint8_t>(0x80 | (cp & 0x3F));
    }
    bool ok = append_scratch({out, n});
    sodium_memzero(out, sizeof out);
    return ok;
}

bool JsonPushParser::close_value() {
    state_ = stack_.empty() ? State::done : State::after_value;
    return true;
}

bool JsonPushParser::end_string() {
    if (!scratch_ready_ && !append_scratch({})) return false;
    std::span<const std::uint8_t> text = scratch_.bytes();
    bool ok = string_is_key_ ? events_.key(text) : events_.string(text);
    scratch_.truncate(0);  // wiped before the next string
    if (!ok) return stop();
    if (string_is_key_) {
        state_ = State::colon;
        return true;
    }
    return close_value();
}

bool JsonPushParser::end_number() {
    // As nlohmann does: a number must be finite as a double (an integer too large for 64 bits is
    // read as one), so "1e400" is not JSON here either.
    std::string text = number_;
    if (const char* point = std::localeconv()->decimal_point; point && point[0] && point[0] != '.')
        for (char& c : text)
            if (c == '.') c = point[0];
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    number_.clear();
    if (!std::isfinite(value)) return fail();
    if (!events_.scalar()) return stop();
    return close_value();
}

bool JsonPushParser::begin_value(std::uint8_t c) {
    switch (c) {
        case '{':
        case '[': {
            if (stack_.size() >= kMaxDepth) {
                too_deep_ = true;
                return fail();
            }
            bool object = c == '{';
            stack_.push_back(object);
            if (!(object ? events_.start_object() : events_.start_array())) return stop();
            state_ = object ? State::key_or_end : State::value_or_end;
            return true;
        }
        case '"':
            string_is_key_ = false;
            state_ = State::string;
            return true;
        case 't':
            literal_ = "true";
            break;
        case 'f':
            literal_ = "false";
            break;
        case 'n':
            literal_ = "null";
            break;
        default:
            if (c == '-' || (c >= '0' && c <= '9')) {
                number_.assign(1, static_cast<char>(c));
                number_state_ = c == '-' ? minus : c == '0' ? zero : integer;
                state_ = State::number;
                return true;
            }
            return fail();
    }
    literal_at_ = 1;
    state_ = State::literal;
    return true;
}

bool JsonPushParser::step(std::uint8_t c) {
    switch (state_) {
        case State::bom1:
            if (c == 0xEF) {
                state_ = State::bom2;
                return true;
            }
            state_ = State::value;
            return step(c);
        case State::bom2:
            if (c != 0xBB) return fail();
            state_ = State::bom3;
            return true;
        case State::bom3:
            if (c != 0xBF) return fail();
            state_ = State::value;
            return true;
        case State::value:
            if (whitespace(c)) return true;
            return begin_value(c);
        case State::value_or_end:
            if (whitespace(c)) return true;
            if (c == ']') {
                stack_.pop_back();
                if (!events_.end_array()) return stop();
                return close_value();
            }
            return begin_value(c);
        case State::key_or_end:
        case State::key:
            if (whitespace(c)) return true;
            if (c == '}' && state_ == State::key_or_end) {
                stack_.pop_back();
                if (!events_.end_object()) return stop();
                return close_value();
            }
            if (c != '"') return fail();
            string_is_key_ = true;
            state_ = State::string;
            return true;
        case State::colon:
            if (whitespace(c)) return true;
            if (c != ':') return fail();
            state_ = State::value;
            return true;
        case State::after_value:
            if (whitespace(c)) return true;
            if (c == ',') {
                state_ = stack_.back() ? State::key : State::value;
                return true;
            }
            if (c == (stack_.back() ? '}' : ']')) {
                bool object = stack_.back();
                stack_.pop_back();
                if (!(object ? events_.end_object() : events_.end_array())) return stop();
                return close_value();
            }
            return fail();
        case State::done:
            return whitespace(c) || fail();
        case State::string:
            if (want_low_surrogate_) {
                if (c != '\\') return fail();
                state_ = State::escape;
                return true;
            }
            if (c == '"') return end_string();
            if (c == '\\') {
                state_ = State::escape;
                return true;
            }
            if (c < 0x20) return fail();
            if (c < 0x80) return append_scratch({&c, 1});
            utf8_low_ = 0x80;
            utf8_high_ = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) utf8_left_ = 1;
            else if (c == 0xE0) utf8_left_ = 2, utf8_low_ = 0xA0;
            else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) utf8_left_ = 2;
            else if (c == 0xED) utf8_left_ = 2, utf8_high_ = 0x9F;
            else if (c == 0xF0) utf8_left_ = 3, utf8_low_ = 0x90;
            else if (c >= 0xF1 && c <= 0xF3) utf8_left_ = 3;
            else if (c == 0xF4) utf8_left_ = 3, utf8_high_ = 0x8F;
            else return fail();
            state_ = State::utf8;
            return append_scratch({&c, 1});
        case State::utf8:
            if (c < utf8_low_ || c > utf8_high_) return fail();
            utf8_low_ = 0x80;
            utf8_high_ = 0xBF;
            if (--utf8_left_ == 0) state_ = State::string;
            return append_scratch({&c, 1});
        case State::escape: {
            if (want_low_surrogate_ && c != 'u') return fail();
            std::uint8_t out = 0;
            switch (c) {
                case '"': out = '"'; break;
                case '\\': out = '\\'; break;
                case '/': out = '/'; break;
                case 'b': out = '\b'; break;
                case 'f': out = '\f'; break;
                case 'n': out = '\n'; break;
                case 'r': out = '\r'; break;
                case 't': out = '\t'; break;
                case 'u':
                    unicode_ = 0;
                    unicode_digits_ = 0;
                    state_ = State::unicode;
                    return true;
                default: return fail();
            }
            state_ = State::string;
            return append_scratch({&out, 1});
        }
        case State::unicode: {
            int digit = hex_value(c);
            if (digit < 0) return fail();
            unicode_ = unicode_ << 4 | static_cast<std::uint32_t>(digit);
            if (++unicode_digits_ < 4) return true;
            state_ = State::string;
            std::uint32_t cp = unicode_;
            unicode_ = 0;
            if (want_low_surrogate_) {
                want_low_surrogate_ = false;
                if (cp < 0xDC00 || cp > 0xDFFF) return fail();
                cp = 0x10000 + ((high_surrogate_ - 0xD800) << 10) + (cp - 0xDC00);
                high_surrogate_ = 0;
                return put_code_point(cp);
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                high_surrogate_ = cp;
                want_low_surrogate_ = true;
                return true;
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) return fail();
            return put_code_point(cp);
        }
        case State::literal:
            if (static_cast<char>(c) != literal_[literal_at_]) return fail();
            if (literal_[++literal_at_] != '\0') return true;
            {
                bool ok = literal_[0] == 'n' ? events_.null() : events_.boolean(literal_[0] == 't');
                literal_ = nullptr;
                if (!ok) return stop();
            }
            return close_value();
        case State::number: {
            bool digit = c >= '0' && c <= '9';
            int next = 0;
            switch (number_state_) {
                case minus: next = c == '0' ? zero : digit ? integer : 0; break;
                case zero: next = c == '.' ? dot : (c == 'e' || c == 'E') ? exponent : 0; break;
                case integer: next = digit ? integer : c == '.' ? dot : (c == 'e' || c == 'E') ? exponent : 0; break;
                case dot: next = digit ? fraction : 0; break;
                case fraction: next = digit ? fraction : (c == 'e' || c == 'E') ? exponent : 0; break;
                case exponent: next = (c == '+' || c == '-') ? exponent_sign : digit ? exponent_digits : 0; break;
                case exponent_sign: next = digit ? exponent_digits : 0; break;
                case exponent_digits: next = digit ? exponent_digits : 0; break;
                default: break;
            }
            if (next) {
                number_state_ = next;
                number_.push_back(static_cast<char>(c));
                return true;
            }
            if (!number_may_end(number_state_)) return fail();
            if (!end_number()) return false;
            return step(c);  // the byte after the number is read as what follows it
        }
    }
    return fail();
}

bool JsonPushParser::feed(std::span<const std::uint8_t> bytes) {
    if (failed_) return false;
    const std::uint8_t* p = bytes.data();
    const std::uint8_t* end = p + bytes.size();
    while (p < end) {
        if (state_ == State::string && !want_low_surrogate_) {
            // The common case, a run of plain bytes, is copied in one piece.
            const std::uint8_t* run = p;
            while (p < end && !special_in_string(*p)) ++p;
            if (!flush_string_run(run, p)) return false;
            if (p == end) break;
        }
        if (!step(*p++)) return false;
    }
    return true;
}

bool JsonPushParser::finish() {
    if (failed_) return false;
    if (state_ == State::number) {
        if (!number_may_end(number_state_)) return fail();
        if (!end_number()) return false;
    }
    if (state_ != State::done) return fail();
    return true;
}

}  // namespace ghostpod
