// SPDX-License-Identifier: Apache-2.0
#pragma once

// The operator web page (issue "The web page"): web/ui/ embedded into the binary at build time
// (web/embed_ui.cmake), or read from a directory on every request while the page is being
// worked on (softswitchd with SOFTSWITCH_UI_DIR set).

#include <optional>
#include <string>
#include <string_view>

namespace ss::web {

/// The content of web/ui/NAME as built into the binary; nullopt when there is no such file.
std::optional<std::string_view> embeddedUiFile(std::string_view name);

/// Where the page's files come from.
class UiFiles {
public:
    /// `dir` empty: the embedded files; otherwise the files directly in `dir`.
    explicit UiFiles(std::string dir = {});

    /// The file NAME (a plain file name: [a-z0-9_-][a-z0-9_.-]*, anything else is nullopt).
    std::optional<std::string> read(std::string_view name) const;

private:
    std::string dir_;
};

/// The Content-Type of a page file, by its extension.
const char* uiContentType(std::string_view name);

}  // namespace ss::web
