// Reading and writing word vectors in the word2vec.c formats.
//
// Text: a "count dimension" header line (absent in GloVe's files), then one line per word:
// the word, then `dimension` decimal numbers, separated by spaces or tabs. Binary (word2vec.c's
// `-binary 1`): the same header line, then per word the UTF-8 word, one space, `dimension`
// little-endian IEEE float32 values, and an optional newline (word2vec.c writes it, gensim does
// not; both are read).
//
// The formats are those of word2vec.c (Mikolov et al., 2013: `-binary 0/1` output, read back by
// its distance.c) and of GloVe's `vectors.txt` (Pennington et al., 2014).
//
// Input arrives in chunks: a parse call consumes whole records only and reports how many bytes it
// used, so the caller keeps the tail and appends the next chunk. Memory is the chunk plus the
// output whatever the file size. Numbers are parsed with std::from_chars (correctly rounded, no
// locale) and written with std::to_chars (the shortest text that reads back as the same float32),
// so a text round trip is exact. Text lines are found serially (a memchr per line), then parsed
// in parallel since each line's row is known. Both directions are O(bytes). Errors throw
// std::invalid_argument naming the line (text) or byte offset (binary) of the first bad record.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"

namespace embedcore {
namespace vecio {

// What one parse call produced. `words` holds each word's bytes followed by '\n'; `positions`
// holds, per row, its 1-based line number (text) or the byte offset of its record (binary).
struct ParseResult {
    std::size_t consumed = 0;
    std::size_t rows = 0;
    std::string words;
    std::vector<std::int64_t> positions;
};

inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

inline bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

inline std::string quoted(const char* begin, const char* end, std::size_t max_len = 40) {
    std::string s(begin, static_cast<std::size_t>(end - begin) < max_len ? end : begin + max_len);
    if (static_cast<std::size_t>(end - begin) > max_len) s += "...";
    return "'" + s + "'";
}

// Parse the decimal number that starts at `begin` (it ends at the first byte that cannot continue
// it, at most at `end`); returns the end of the number, or nullptr when no number starts there.
// Values beyond the float32 range come back infinite (the caller rejects them); values below it
// become zero or subnormal, as a correctly rounded conversion gives.
inline const char* parse_float(const char* begin, const char* end, float& value) {
    if (begin < end && *begin == '+' && end - begin > 1 && begin[1] != '-') ++begin;
    auto r = std::from_chars(begin, end, value);
    if (r.ec == std::errc()) return r.ptr;
    if (r.ec != std::errc::result_out_of_range) return nullptr;
    double wide;
    auto rd = std::from_chars(begin, end, wide);
    if (rd.ec == std::errc::result_out_of_range) {
        // beyond double too: the sign of the exponent says overflow or underflow
        const char* e = begin;
        while (e < rd.ptr && *e != 'e' && *e != 'E') ++e;
        bool tiny = e + 1 < rd.ptr && e[1] == '-';
        wide = tiny ? 0.0 : std::numeric_limits<double>::infinity();
        if (*begin == '-') wide = -wide;
    } else if (rd.ec != std::errc()) {
        return nullptr;
    }
    value = std::fabs(wide) > static_cast<double>(std::numeric_limits<float>::max())
                ? std::copysign(std::numeric_limits<float>::infinity(), static_cast<float>(wide))
                : static_cast<float>(wide);
    return rd.ptr;
}

// One text row: the word, then exactly `dim` numbers, in [begin, stop) (a non-blank line without
// its line end and trailing blanks). Writes the numbers to `row`; returns the end of the word.
inline const char* parse_text_line(const char* begin, const char* stop, std::size_t dim, float* row,
                                   std::int64_t line) {
    if (is_blank(*begin)) {
        throw std::invalid_argument("line " + std::to_string(line) +
                                    ": starts with whitespace (expected a word first)");
    }
    const char* p = begin;
    while (p < stop && !is_blank(*p)) ++p;
    const char* word_end = p;
    std::size_t got = 0;
    while (true) {
        while (p < stop && is_blank(*p)) ++p;
        if (p == stop) break;
        const char* field = p;
        if (got < dim) {
            // parse in place; the number must end where the field does
            float v;
            const char* q = parse_float(field, stop, v);
            if (q == nullptr || (q < stop && !is_blank(*q))) {
                while (p < stop && !is_blank(*p)) ++p;
                throw std::invalid_argument("line " + std::to_string(line) + ": value " +
                                            std::to_string(got + 1) + " " + quoted(field, p) +
                                            " is not a number");
            }
            p = q;
            if (!std::isfinite(v)) {
                throw std::invalid_argument("line " + std::to_string(line) + ": value " +
                                            std::to_string(got + 1) + " " + quoted(field, p) +
                                            " is NaN or infinite (or beyond the float32 range)");
            }
            row[got] = v;
        } else {
            while (p < stop && !is_blank(*p)) ++p;
        }
        ++got;
    }
    if (got != dim) {
        throw std::invalid_argument("line " + std::to_string(line) + ": expected the word and " +
                                    std::to_string(dim) + " values, got the word " +
                                    quoted(begin, word_end) + " and " + std::to_string(got) + " values");
    }
    return word_end;
}

// Text rows from data[0, size). Lines are whole when they end in '\n', or when `final` says the
// data ends the file. At most `max_rows` rows are written to `out` (row-major, `dim` per row).
// `first_line` is the line number of data[0]. Blank lines are accepted only at the end of the file;
// a blank line followed by more data is an error. A first serial pass finds the lines, then
// `threads` threads parse them (each row's place is known), and the error of the earliest bad
// line, if any, is thrown, so the result does not depend on the thread count.
inline ParseResult parse_text(const char* data, std::size_t size, bool final, std::size_t dim,
                              float* out, std::size_t max_rows, std::int64_t first_line, int threads = 1) {
    require(dim > 0, "dimension must be positive");
    ParseResult result;
    std::vector<const char*> spans;  // begin, stop of each line to parse
    std::size_t pos = 0;
    std::int64_t blank_error_line = -1;
    while (spans.size() / 2 < max_rows && pos < size) {
        const char* begin = data + pos;
        const char* nl = static_cast<const char*>(std::memchr(begin, '\n', size - pos));
        if (!nl && !final) break;
        const char* end = nl ? nl : data + size;
        const char* stop = end;
        while (stop > begin && is_blank(stop[-1])) --stop;
        if (stop == begin) {
            // a blank line: fine if only whitespace follows up to the end of the file
            const char* p = end;
            while (p < data + size && (is_blank(*p) || *p == '\n')) ++p;
            if (p < data + size) {
                blank_error_line = first_line + static_cast<std::int64_t>(spans.size() / 2);
            } else if (final) {
                pos = size;
            }
            break;  // without `final`, more data may follow; decide when it comes
        }
        spans.push_back(begin);
        spans.push_back(stop);
        pos = nl ? static_cast<std::size_t>(nl - data) + 1 : size;
    }
    const auto rows = static_cast<std::int64_t>(spans.size() / 2);
    std::vector<const char*> word_ends(static_cast<std::size_t>(rows));
    // the first error of each block; blocks are in line order, so the lowest block's error is the first
    std::vector<std::int64_t> error_row(static_cast<std::size_t>(std::max(threads, 1)), -1);
    std::vector<std::string> error_text(error_row.size());
    const int used = rows >= 4096 ? threads : 1;
    parallel_blocks(rows, used, [&](std::int64_t b, std::int64_t e, int t) {
        for (std::int64_t i = b; i < e; ++i) {
            try {
                word_ends[i] = parse_text_line(spans[2 * i], spans[2 * i + 1], dim, out + i * dim, first_line + i);
            } catch (const std::invalid_argument& err) {
                error_row[t] = i;
                error_text[t] = err.what();
                return;
            }
        }
    });
    std::int64_t first_bad = -1;
    for (std::size_t t = 0; t < error_row.size(); ++t) {
        if (error_row[t] >= 0 && (first_bad < 0 || error_row[t] < error_row[first_bad])) {
            first_bad = static_cast<std::int64_t>(t);
        }
    }
    if (first_bad >= 0) throw std::invalid_argument(error_text[first_bad]);
    if (blank_error_line >= 0) {
        throw std::invalid_argument("line " + std::to_string(blank_error_line) +
                                    ": empty line before the end of the file");
    }
    for (std::int64_t i = 0; i < rows; ++i) {
        result.words.append(spans[2 * i], word_ends[i]);
        result.words.push_back('\n');
        result.positions.push_back(first_line + i);
    }
    result.rows = static_cast<std::size_t>(rows);
    result.consumed = pos;
    return result;
}

inline bool little_endian_host() {
    const std::uint32_t one = 1;
    unsigned char first;
    std::memcpy(&first, &one, 1);
    return first == 1;
}

// The longest word the binary reader accepts; a longer run without a space means the file is not
// in the binary format (or the reader lost its place), and stops the scan early.
constexpr std::size_t MAX_WORD_BYTES = 1 << 16;

// Binary records from data[0, size); `base_offset` is the file offset of data[0].
inline ParseResult parse_binary(const char* data, std::size_t size, bool final, std::size_t dim,
                                float* out, std::size_t max_rows, std::int64_t base_offset) {
    require(dim > 0, "dimension must be positive");
    ParseResult result;
    const bool swap = !little_endian_host();
    const std::size_t body = dim * sizeof(float);
    std::size_t pos = 0;
    while (result.rows < max_rows) {
        std::size_t start = pos;
        while (start < size && data[start] == '\n') ++start;  // the newline after the previous vector
        if (start == size) {
            pos = final ? size : pos;
            break;
        }
        std::int64_t offset = base_offset + static_cast<std::int64_t>(start);
        std::size_t scan = std::min(size - start, MAX_WORD_BYTES + 1);
        const char* sp = static_cast<const char*>(std::memchr(data + start, ' ', scan));
        if (!sp) {
            if (scan > MAX_WORD_BYTES) {
                throw std::invalid_argument("byte offset " + std::to_string(offset) + ": no space within " +
                                            std::to_string(MAX_WORD_BYTES) +
                                            " bytes (expected a word, a space, then the vector)");
            }
            if (!final) break;
            throw std::invalid_argument("byte offset " + std::to_string(offset) +
                                        ": the file ends inside the word of vector " +
                                        std::to_string(result.rows + 1) + " (truncated)");
        }
        const char* word = data + start;
        if (sp == word) {
            throw std::invalid_argument("byte offset " + std::to_string(offset) + ": empty word");
        }
        for (const char* c = word; c < sp; ++c) {
            if (is_ascii_space(*c)) {
                throw std::invalid_argument("byte offset " + std::to_string(offset) +
                                            ": the word contains whitespace (byte " +
                                            std::to_string(c - word) + "); the file is corrupt");
            }
        }
        std::size_t values = static_cast<std::size_t>(sp - data) + 1;
        if (size - values < body) {
            if (!final) break;
            throw std::invalid_argument("byte offset " + std::to_string(offset) + ": the file ends inside vector " +
                                        std::to_string(result.rows + 1) + " (" + std::to_string(size - values) +
                                        " of its " + std::to_string(body) + " bytes present; truncated)");
        }
        float* row = out + result.rows * dim;
        std::memcpy(row, data + values, body);
        if (swap) {
            for (std::size_t j = 0; j < dim; ++j) {
                unsigned char b[4];
                std::memcpy(b, row + j, 4);
                std::swap(b[0], b[3]);
                std::swap(b[1], b[2]);
                std::memcpy(row + j, b, 4);
            }
        }
        for (std::size_t j = 0; j < dim; ++j) {
            if (!std::isfinite(row[j])) {
                throw std::invalid_argument("byte offset " + std::to_string(offset) + ": value " +
                                            std::to_string(j + 1) + " of vector " +
                                            std::to_string(result.rows + 1) + " is NaN or infinite");
            }
        }
        result.words.append(word, sp);
        result.words.push_back('\n');
        result.positions.push_back(offset);
        ++result.rows;
        pos = values + body;
    }
    result.consumed = pos;
    return result;
}

// Format `rows` vectors with their words. `words` holds each word followed by '\n' (no word
// contains whitespace). Text rows are "word v1 ... vd\n" with each value the shortest text that
// reads back as the same float32; binary rows are "word " + raw little-endian float32 + "\n".
inline std::string format_rows(const char* words, std::size_t words_size, const float* vectors,
                               std::size_t rows, std::size_t dim, bool binary) {
    std::string out;
    out.reserve(words_size + rows * (binary ? dim * 4 + 1 : dim * 12));
    const bool swap = !little_endian_host();
    const char* w = words;
    const char* words_end = words + words_size;
    char buf[64];
    for (std::size_t i = 0; i < rows; ++i) {
        const char* nl = static_cast<const char*>(std::memchr(w, '\n', words_end - w));
        require(nl != nullptr, "fewer words than rows");
        out.append(w, nl);
        w = nl + 1;
        const float* row = vectors + i * dim;
        if (binary) {
            out.push_back(' ');
            std::size_t at = out.size();
            out.append(reinterpret_cast<const char*>(row), dim * sizeof(float));
            if (swap) {
                for (std::size_t j = 0; j < dim; ++j) {
                    std::swap(out[at + 4 * j], out[at + 4 * j + 3]);
                    std::swap(out[at + 4 * j + 1], out[at + 4 * j + 2]);
                }
            }
        } else {
            for (std::size_t j = 0; j < dim; ++j) {
                buf[0] = ' ';
                auto r = std::to_chars(buf + 1, buf + sizeof(buf), row[j]);
                out.append(buf, r.ptr);
            }
        }
        out.push_back('\n');
    }
    return out;
}

}  // namespace vecio
}  // namespace embedcore
