// SPDX-License-Identifier: Apache-2.0
#include "web/url.h"

namespace ss::web {

namespace {

int hexValue(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

std::optional<std::string> percentDecode(std::string_view text, bool plusIsSpace)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) {
                return std::nullopt;
            }
            const int hi = hexValue(text[i + 1]);
            const int lo = hexValue(text[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plusIsSpace) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    if (out.find('\0') != std::string::npos) {
        return std::nullopt;
    }
    return out;
}

std::string percentEncode(std::string_view text)
{
    static const char* const kHex = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                                (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_' ||
                                u == '~';
        if (unreserved) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        }
    }
    return out;
}

std::string loggable(std::string_view text)
{
    static const char* const kHex = "0123456789abcdef";
    std::string out;
    for (const char c : text.substr(0, 200)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '\\') {
            out += "\\x";
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        } else {
            out.push_back(c);
        }
    }
    if (text.size() > 200) {
        out += "...";
    }
    return out;
}

std::optional<Target> parseTarget(std::string_view target)
{
    if (target.empty() || target.front() != '/') {
        return std::nullopt;
    }
    Target out;
    const auto q = target.find('?');
    out.path = std::string(target.substr(0, q));
    if (q == std::string_view::npos) {
        return out;
    }
    std::string_view rest = target.substr(q + 1);
    const auto hash = rest.find('#');  // a fragment is never sent, but do not choke on one
    rest = rest.substr(0, hash);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view piece = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        if (piece.empty()) {
            continue;
        }
        const auto eq = piece.find('=');
        auto name = percentDecode(piece.substr(0, eq), true);
        auto value = percentDecode(
            eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1), true);
        if (!name || !value) {
            return std::nullopt;
        }
        out.query.emplace_back(std::move(*name), std::move(*value));
    }
    return out;
}

}  // namespace ss::web
