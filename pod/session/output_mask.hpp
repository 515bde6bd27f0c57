// run --mask: a command's output with the session's secret values replaced by a marker, as
// `op run` does. The values are read from the command's view of $GHOSTPOD_DIR into secret
// memory; the output passes through secret memory too (a value may sit in it, whole or in part).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {

inline constexpr std::string_view kConcealedMarker = "<concealed by ghostpod>";
// Shorter values are not masked: "1", "yes" or "dev" would turn up all over ordinary output,
// which the marker would garble, and where the marker appeared would tell the value anyway.
inline constexpr std::size_t kMinMaskedBytes = 4;
// How long the start of a value is held back waiting for the rest (a value split across writes);
// after that it is written as it is, so that a prompt that happens to end that way still shows.
inline constexpr std::chrono::milliseconds kMaskHold{1000};

// Writes all of `data` to `fd`, waiting while it is full (non-blocking); false once it is gone.
bool write_fully(int fd, const void* data, std::size_t size);

// The values to conceal, longest first (a value that begins another does not hide its rest).
class MaskValues {
public:
    // The files `names` below `dir` (the command's view of $GHOSTPOD_DIR); one trailing newline
    // of each is left out of its value, so that a value printed without it is found too.
    static Result<MaskValues> read(const std::string& dir, const std::vector<std::string>& names);
    Status add(std::span<const std::uint8_t> value);
    const std::vector<SecretBuffer>& values() const { return values_; }
    std::size_t longest() const { return values_.empty() ? 0 : values_.front().size(); }

private:
    std::vector<SecretBuffer> values_;
};

// One output stream (stdout, stderr, a pty's output) on its way to `out`.
class MaskedStream {
public:
    static Result<MaskedStream> make(const MaskValues& values, int out);
    // Reads once from `in` and passes what came on, values replaced; what may begin a value is
    // held back. Returns what read(2) returned (0 at the end of the stream; -1 with errno).
    ssize_t relay_from(int in);
    // Writes what is held back as it is (the rest did not come in time, or the stream ended).
    void flush();
    // Milliseconds until the held bytes are due (flush), -1 when none are held.
    int due_in_ms() const;
    bool output_open() const { return out_open_; }

private:
    MaskedStream(const MaskValues& values, int out, SecretBuffer buffer)
        : values_(&values), out_(out), buffer_(std::move(buffer)) {}
    void pass_on(bool final);
    void emit(const void* data, std::size_t size);

    const MaskValues* values_;
    int out_;
    SecretBuffer buffer_;  // capacity: one read plus the longest value
    std::size_t held_ = 0;
    std::optional<std::chrono::steady_clock::time_point> held_since_;
    bool out_open_ = true;
};

// A command's stdout or stderr (one that is not the user's terminal) through a pipe, for
// masking: the command writes to `write_end`; the client reads `read_end` (non-blocking).
struct MaskedPipe {
    int target = -1;  // 1 or 2: the client's descriptor the masked output goes to
    UniqueFd read_end, write_end;
    std::optional<MaskedStream> stream;
};
// What the client passes a masked command's output through.
struct MaskedOutput {
    std::optional<MaskedStream> terminal;  // the pty's output, on its way to the user's terminal
    std::vector<MaskedPipe> pipes;         // its stdout and stderr that are not the terminal
};
Result<MaskedPipe> make_masked_pipe(const MaskValues& values, int target);
// Reads every pipe until its end, masking, while `stop` (a descriptor) is not readable; then
// takes what the pipes still hold and flushes. For a command whose exit another loop waits for.
void pump_masked_pipes(std::vector<MaskedPipe>& pipes, int stop);
// Takes what the pipes hold now (the command has exited: its writes are all there; a process it
// left behind holding a pipe is not waited for), flushes and closes them.
void drain_masked_pipes(std::vector<MaskedPipe>& pipes);

}  // namespace ghostpod
