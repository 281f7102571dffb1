// SPDX-License-Identifier: Apache-2.0
#include "tests/web/prom_validator.h"

#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace ss::web::testing {

namespace {

bool validUtf8(const std::string& s)
{
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        if (c < 0x80) {
            n = 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
        } else {
            return false;
        }
        if (i + n > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += n;
    }
    return true;
}

struct Family {
    std::string type;
    bool help = false;
    bool hasSamples = false;
    bool closed = false;  // another family's lines came after its samples
};

// The family a sample name belongs to, given the declared types.
std::string familyOf(const std::string& sample, const std::map<std::string, Family>& families)
{
    if (families.count(sample) != 0) {
        return sample;
    }
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string sfx = suffix;
        if (sample.size() > sfx.size() &&
            sample.compare(sample.size() - sfx.size(), sfx.size(), sfx) == 0) {
            const auto base = sample.substr(0, sample.size() - sfx.size());
            const auto it = families.find(base);
            if (it != families.end() &&
                (it->second.type == "histogram" || it->second.type == "summary")) {
                return base;
            }
        }
    }
    return sample;
}

}  // namespace

std::vector<std::string> validateExposition(const std::string& text)
{
    static const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
    static const std::regex kValue(
        R"(([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)|NaN|[+-]Inf)");
    static const std::regex kTimestamp("-?[0-9]+");
    static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                 "untyped"};
    std::vector<std::string> errors;
    std::map<std::string, Family> families;
    std::set<std::string> series;
    std::string current;  // family of the previous sample or HELP/TYPE line
    if (!text.empty() && text.back() != '\n') {
        errors.push_back("the last line does not end with a newline");
    }
    if (!validUtf8(text)) {
        errors.push_back("not valid UTF-8");
    }
    std::istringstream in(text);
    std::string line;
    int n = 0;
    const auto fail = [&](const std::string& what) {
        errors.push_back("line " + std::to_string(n) + ": " + what + ": " + line);
    };
    const auto enter = [&](const std::string& family) {
        if (family != current) {
            if (!current.empty()) {
                families[current].closed = true;
            }
            if (families[family].closed) {
                fail("family " + family + " continues after another family");
            }
            current = family;
        }
    };
    while (std::getline(in, line)) {
        ++n;
        if (line.empty()) {
            fail("empty line");
            continue;
        }
        if (line[0] == '#') {
            std::smatch m;
            static const std::regex kHelp("# HELP ([^ ]+) (.*)");
            static const std::regex kType("# TYPE ([^ ]+) ([^ ]+)");
            if (std::regex_match(line, m, kHelp)) {
                const std::string name = m[1];
                if (!std::regex_match(name, kMetricName)) {
                    fail("bad metric name in HELP");
                }
                enter(name);
                auto& f = families[name];
                if (f.help) {
                    fail("second HELP for " + name);
                }
                if (f.hasSamples) {
                    fail("HELP after samples of " + name);
                }
                f.help = true;
                const std::string doc = m[2];
                for (std::size_t i = 0; i < doc.size(); ++i) {
                    if (doc[i] == '\\' &&
                        (i + 1 >= doc.size() || (doc[i + 1] != '\\' && doc[i + 1] != 'n'))) {
                        fail("bad escape in HELP");
                    }
                    i += doc[i] == '\\' ? 1 : 0;
                }
            } else if (std::regex_match(line, m, kType)) {
                const std::string name = m[1];
                if (!std::regex_match(name, kMetricName)) {
                    fail("bad metric name in TYPE");
                }
                enter(name);
                auto& f = families[name];
                if (!f.type.empty()) {
                    fail("second TYPE for " + name);
                }
                if (f.hasSamples) {
                    fail("TYPE after samples of " + name);
                }
                if (kTypes.count(m[2]) == 0) {
                    fail("unknown type " + std::string(m[2]));
                }
                f.type = m[2];
            } else if (line.rfind("# HELP", 0) == 0 || line.rfind("# TYPE", 0) == 0) {
                fail("malformed HELP or TYPE");
            }
            continue;  // other comments are allowed
        }
        // name [{labels}] value [timestamp]
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ') {
            ++i;
        }
        const std::string name = line.substr(0, i);
        if (!std::regex_match(name, kMetricName)) {
            fail("bad metric name");
            continue;
        }
        std::map<std::string, std::string> labels;
        bool ok = true;
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (ok && i < line.size() && line[i] != '}') {
                std::size_t start = i;
                while (i < line.size() && line[i] != '=') {
                    ++i;
                }
                const std::string label = line.substr(start, i - start);
                if (!std::regex_match(label, kLabelName) || label.rfind("__", 0) == 0) {
                    fail("bad label name '" + label + "'");
                    ok = false;
                    break;
                }
                if (i + 1 >= line.size() || line[i + 1] != '"') {
                    fail("label value not quoted");
                    ok = false;
                    break;
                }
                i += 2;
                std::string value;
                bool closed = false;
                while (i < line.size()) {
                    const char c = line[i++];
                    if (c == '"') {
                        closed = true;
                        break;
                    }
                    if (c == '\\') {
                        if (i >= line.size() ||
                            (line[i] != '\\' && line[i] != '"' && line[i] != 'n')) {
                            fail("bad escape in label value");
                            ok = false;
                            break;
                        }
                        value += line[i] == 'n' ? '\n' : line[i];
                        ++i;
                        continue;
                    }
                    value += c;
                }
                if (!ok || !closed) {
                    if (ok) {
                        fail("unterminated label value");
                    }
                    ok = false;
                    break;
                }
                if (!labels.emplace(label, value).second) {
                    fail("label " + label + " twice");
                }
                if (i < line.size() && line[i] == ',') {
                    ++i;
                    if (i < line.size() && line[i] == '}') {
                        fail("trailing comma in label set");
                    }
                } else if (i < line.size() && line[i] != '}') {
                    fail("expected , or } after a label value");
                    ok = false;
                }
            }
            if (!ok) {
                continue;
            }
            if (i >= line.size()) {
                fail("label set not closed");
                continue;
            }
            ++i;  // '}'
        }
        if (i >= line.size() || line[i] != ' ') {
            fail("no space before the value");
            continue;
        }
        const std::string rest = line.substr(i + 1);
        const auto space = rest.find(' ');
        const std::string value = rest.substr(0, space);
        if (!std::regex_match(value, kValue)) {
            fail("bad value '" + value + "'");
        }
        if (space != std::string::npos && !std::regex_match(rest.substr(space + 1), kTimestamp)) {
            fail("bad timestamp");
        }
        const std::string family = familyOf(name, families);
        enter(family);
        auto& f = families[family];
        if (f.type.empty() || !f.help) {
            fail("sample of " + family + " without HELP and TYPE before it");
        }
        if (f.type == "counter" && !value.empty() && value[0] == '-') {
            fail("negative counter");
        }
        f.hasSamples = true;
        std::string key = name + "{";
        for (const auto& [k, v] : labels) {
            key += k + "=" + v + "\x1f";
        }
        if (!series.insert(key).second) {
            fail("duplicate series");
        }
    }
    return errors;
}

}  // namespace ss::web::testing
