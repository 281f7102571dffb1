// SPDX-License-Identifier: Apache-2.0
#include "common/text.h"

namespace ss::common {

std::vector<std::string> splitList(std::string_view text, char separator)
{
    std::vector<std::string> out;
    if (text.empty()) {
        return out;
    }
    for (;;) {
        const auto end = text.find(separator);
        std::string_view item = text.substr(0, end);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        out.emplace_back(item);
        if (end == std::string_view::npos) {
            return out;
        }
        text.remove_prefix(end + 1);
    }
}

}  // namespace ss::common
