// SPDX-License-Identifier: Apache-2.0
// GET /metrics: the exposition checked by a strict validator (and by promtool when present).

#include "tests/web/fake_backend.h"
#include "tests/web/prom_validator.h"
#include "web/api.h"
#include "web/metrics.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

namespace ss::web {
namespace {

using namespace ss::web::testing;
namespace http = boost::beast::http;

std::string joined(const std::vector<std::string>& errors)
{
    std::string out;
    for (const auto& e : errors) {
        out += e + "\n";
    }
    return out;
}

bool contains(const std::string& text, const std::string& line)
{
    return text.find("\n" + line + "\n") != std::string::npos ||
           text.rfind(line + "\n", 0) == 0;
}

// Gateway names and reasons with every character the format must escape.
common::LiveState hostileState()
{
    auto s = sampleLiveState();
    s.gateways[0].name = "we\"ird\\gw\nx";
    s.gateways[0].addresses[0].addr = "[2001:db8::1]:5060";
    s.gateways[1].addresses = {{"bad\xff" "utf8", "probe_down", 1.0, ""}};
    s.counters.endReasons["quote\"reason"] = 1;
    return s;
}

TEST(Metrics, EveryFamilyIsThereWithHelpAndType)
{
    const auto text = renderMetrics(sampleLiveState());
    EXPECT_EQ(joined(validateExposition(text)), "");
    for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
             {"softswitch_calls_active", "gauge"},
             {"softswitch_calls_offered_total", "counter"},
             {"softswitch_calls_answered_total", "counter"},
             {"softswitch_calls_ended_total", "counter"},
             {"softswitch_cps", "gauge"},
             {"softswitch_sip_receive_wait_seconds", "gauge"},
             {"softswitch_gateway_attempts_total", "counter"},
             {"softswitch_gateway_attempt_outcomes_total", "counter"},
             {"softswitch_gateway_active_calls", "gauge"},
             {"softswitch_gateway_cps", "gauge"},
             {"softswitch_gateway_up", "gauge"},
             {"softswitch_sip_retransmissions_total", "counter"},
             {"softswitch_cdr_queue_depth", "gauge"},
             {"softswitch_cdr_spool_bytes", "gauge"},
             {"softswitch_cdr_delivered_total", "counter"},
             {"softswitch_reloads_total", "counter"}}) {
        EXPECT_TRUE(contains(text, "# TYPE " + name + " " + type)) << name;
        EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
    }
}

TEST(Metrics, SamplesCarryTheLiveValues)
{
    const auto text = renderMetrics(sampleLiveState());
    for (const auto& line : {
             "softswitch_calls_active 2",
             "softswitch_calls_offered_total 12",
             "softswitch_calls_answered_total 5",
             "softswitch_calls_ended_total{reason=\"callee_bye\"} 4",
             "softswitch_calls_ended_total{reason=\"no_route\"} 6",
             "softswitch_cps 3",
             "softswitch_sip_receive_wait_seconds 1.042",
             "softswitch_gateway_attempts_total{gateway=\"term1\"} 7",
             "softswitch_gateway_attempt_outcomes_total{gateway=\"term1\",outcome=\"answered\"} 5",
             "softswitch_gateway_active_calls{gateway=\"term1\"} 1",
             "softswitch_gateway_cps{gateway=\"term1\"} 3",
             "softswitch_gateway_up{gateway=\"term1\",addr=\"10.0.1.1:5060\"} 1",
             "softswitch_gateway_up{gateway=\"term1\",addr=\"10.0.1.2:5060\"} 0",
             "softswitch_sip_retransmissions_total 9",
             "softswitch_cdr_queue_depth 1",
             "softswitch_cdr_spool_bytes 0",
             "softswitch_cdr_delivered_total 10",
             "softswitch_reloads_total 2",
         }) {
        EXPECT_TRUE(contains(text, line)) << line << "\nin:\n" << text;
    }
}

TEST(Metrics, LabelValuesAreEscaped)
{
    EXPECT_EQ(escapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_EQ(escapeLabelValue("\xff"), "\xEF\xBF\xBD");
    EXPECT_EQ(escapeLabelValue("\xC3\xA9t\xC3\xA9"), "\xC3\xA9t\xC3\xA9");  // été stays
    const auto text = renderMetrics(hostileState());
    EXPECT_EQ(joined(validateExposition(text)), "");
    EXPECT_TRUE(contains(
        text, "softswitch_gateway_attempts_total{gateway=\"we\\\"ird\\\\gw\\nx\"} 7"))
        << text;
    EXPECT_TRUE(contains(text, "softswitch_calls_ended_total{reason=\"quote\\\"reason\"} 1"));
}

TEST(Metrics, EmptyStateIsStillValid)
{
    const auto text = renderMetrics(common::LiveState{});
    EXPECT_EQ(joined(validateExposition(text)), "");
    EXPECT_TRUE(contains(text, "softswitch_calls_active 0"));
}

TEST(Metrics, DuplicateGatewaysDoNotDuplicateSeries)
{
    auto s = sampleLiveState();
    s.gateways.push_back(s.gateways[0]);
    EXPECT_EQ(joined(validateExposition(renderMetrics(s))), "");
}

TEST(PromValidator, RefusesWhatScrapersRefuse)
{
    const std::vector<std::string> bad = {
        "x 1\n",                                                     // no HELP/TYPE
        "# HELP x h\n# TYPE x gauge\nx 1\nx 2\n",                    // duplicate series
        "# HELP x h\n# TYPE x gauge\nx{a=\"1\"} 1\n",               // ok... made bad below
        "# HELP 1x h\n# TYPE 1x gauge\n1x 1\n",                      // bad name
        "# HELP x h\n# TYPE x gauge\nx{a=\"q\"q\"} 1\n",            // unescaped quote
        "# HELP x h\n# TYPE x gauge\nx{a=\"\\t\"} 1\n",             // bad escape
        "# HELP x h\n# TYPE x gauge\nx{a=\"1\",} 1\n",              // trailing comma
        "# HELP x h\n# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n",       // label twice
        "# HELP x h\n# TYPE x gauge\nx one\n",                       // bad value
        "# HELP x h\n# TYPE x gauge\nx 1",                           // no final newline
        "# HELP x h\n# TYPE x gauge\nx 1\n# TYPE x gauge\n",         // second TYPE
        "# HELP x h\n# TYPE x gauge\n# HELP y h\n# TYPE y gauge\ny 1\nx 1\n",  // x after y
        "# HELP x h\n# TYPE x counter\nx -1\n",                      // negative counter
        "# HELP x h\n# TYPE x widget\nx 1\n",                        // unknown type
        "# HELP x h\n# TYPE x gauge\nx{__a=\"1\"} 1\n",             // reserved label
        "# HELP x h\n# TYPE x gauge\n\nx 1\n",                       // empty line
    };
    for (std::size_t i = 0; i < bad.size(); ++i) {
        if (i == 2) {
            EXPECT_TRUE(validateExposition(bad[i]).empty()) << bad[i];
            continue;
        }
        EXPECT_FALSE(validateExposition(bad[i]).empty()) << i << ": " << bad[i];
    }
    EXPECT_TRUE(validateExposition("# HELP x h\n# TYPE x gauge\nx{a=\"\\\\\\\"\\n\"} +Inf 17\n")
                    .empty());
}

TEST(Metrics, EndpointNeedsTheTokenAndServesTextFormat)
{
    common::ManualClock clock;
    ApiBackend backend;
    backend.live = [] { return sampleLiveState(); };
    backend.metricsExtra = [] {
        return std::string("# HELP softswitch_extra_total x\n# TYPE softswitch_extra_total "
                           "counter\nsoftswitch_extra_total 1\n");
    };
    Api api(backend, kToken, clock);
    EXPECT_EQ(api.handle(makeRequest(http::verb::get, "/metrics", "")).result(),
              http::status::unauthorized);
    const auto res = api.handle(makeRequest(http::verb::get, "/metrics"));
    ASSERT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(joined(validateExposition(res.body())), "");
    EXPECT_TRUE(contains(res.body(), "softswitch_extra_total 1"));
    // Extra metrics that fail are left out; the rest is served.
    backend.metricsExtra = []() -> std::string { throw std::runtime_error("no"); };
    Api failing(backend, kToken, clock);
    const auto partial = failing.handle(makeRequest(http::verb::get, "/metrics"));
    EXPECT_EQ(partial.result(), http::status::ok);
    EXPECT_EQ(partial.body(), renderMetrics(sampleLiveState()));
}

// promtool (Debian package prometheus) when it is installed, or SS_PROMTOOL names it.
std::string promtool()
{
    if (const char* path = std::getenv("SS_PROMTOOL"); path != nullptr && *path != '\0') {
        return path;
    }
    for (const char* dir : {"/usr/bin", "/usr/local/bin"}) {
        const auto path = std::filesystem::path(dir) / "promtool";
        if (std::filesystem::exists(path)) {
            return path.string();
        }
    }
    return "";
}

TEST(Metrics, PromtoolAcceptsTheExposition)
{
    const auto tool = promtool();
    if (tool.empty()) {
        GTEST_SKIP() << "promtool not installed (Debian package prometheus, or SS_PROMTOOL)";
    }
    const auto file = std::filesystem::path(::testing::TempDir()) / "ss_web_metrics.txt";
    for (const auto& state : {sampleLiveState(), hostileState()}) {
        std::ofstream(file, std::ios::binary) << renderMetrics(state);
        const std::string command = "'" + tool + "' check metrics < '" + file.string() + "' 2>&1";
        FILE* pipe = ::popen(command.c_str(), "r");
        ASSERT_NE(pipe, nullptr);
        std::string output;
        char buffer[512];
        while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
            output += buffer;
        }
        const int status = ::pclose(pipe);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
        EXPECT_EQ(output, "");
    }
    std::filesystem::remove(file);
}

}  // namespace
}  // namespace ss::web
