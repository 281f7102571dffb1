// SPDX-License-Identifier: Apache-2.0
#include "web/ui_files.h"

#include <fstream>
#include <regex>
#include <sstream>

namespace ss::web {

UiFiles::UiFiles(std::string dir) : dir_(std::move(dir)) {}

std::optional<std::string> UiFiles::read(std::string_view name) const
{
    // A plain name: no '/', no "..", no hidden files, so nothing outside the directory.
    static const std::regex kName("[a-z0-9_-][a-z0-9_.-]{0,63}");
    if (!std::regex_match(name.begin(), name.end(), kName)) {
        return std::nullopt;
    }
    if (dir_.empty()) {
        const auto data = embeddedUiFile(name);
        return data ? std::optional<std::string>(std::string(*data)) : std::nullopt;
    }
    std::ifstream in(dir_ + "/" + std::string(name), std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

const char* uiContentType(std::string_view name)
{
    const auto ends = [&](std::string_view suffix) {
        return name.size() >= suffix.size() &&
               name.substr(name.size() - suffix.size()) == suffix;
    };
    if (ends(".html")) {
        return "text/html; charset=utf-8";
    }
    if (ends(".js") || ends(".mjs")) {
        return "text/javascript; charset=utf-8";
    }
    if (ends(".css")) {
        return "text/css; charset=utf-8";
    }
    if (ends(".svg")) {
        return "image/svg+xml";
    }
    if (ends(".png")) {
        return "image/png";
    }
    if (ends(".ico")) {
        return "image/x-icon";
    }
    return "application/octet-stream";
}

}  // namespace ss::web
