// SPDX-License-Identifier: Apache-2.0
#include "web/metrics.h"

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

namespace ss::web {

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Exposition {
public:
    void family(const char* name, const char* type, const char* help)
    {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;  // constant text without backslashes or newlines
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }

    void sample(const char* name, const Labels& labels, std::uint64_t value)
    {
        sampleText(name, labels, std::to_string(value));
    }

    void sample(const char* name, std::uint64_t value) { sample(name, {}, value); }

    /// A gauge in seconds (the base unit) from milliseconds: "0.125".
    void sampleSeconds(const char* name, std::int64_t millis)
    {
        const std::uint64_t ms = millis < 0 ? 0 : static_cast<std::uint64_t>(millis);
        std::string fraction = std::to_string(ms % 1000);
        sampleText(name, {}, std::to_string(ms / 1000) + '.' +
                                 std::string(3 - fraction.size(), '0') + fraction);
    }

    std::string take() { return std::move(out_); }

private:
    void sampleText(const char* name, const Labels& labels, const std::string& value)
    {
        std::string series = name;
        if (!labels.empty()) {
            series += '{';
            for (std::size_t i = 0; i < labels.size(); ++i) {
                series += (i == 0 ? "" : ",") + labels[i].first + "=\"" +
                          escapeLabelValue(labels[i].second) + '"';
            }
            series += '}';
        }
        // The state should never hold two series with the same labels (two gateways of one
        // name); if it does, the first one counts and the exposition stays valid.
        if (!seen_.insert(series).second) {
            return;
        }
        out_ += series;
        out_ += ' ';
        out_ += value;
        out_ += '\n';
    }

    std::string out_;
    std::set<std::string> seen_;
};

std::uint64_t nonNegative(int v)
{
    return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}

void gatewayFamilies(Exposition& e, const std::vector<common::LiveGateway>& gateways)
{
    e.family("softswitch_gateway_attempts_total", "counter",
             "Call attempts sent to the gateway since start.");
    for (const auto& g : gateways) {
        e.sample("softswitch_gateway_attempts_total", {{"gateway", g.name}}, g.attempts);
    }
    e.family("softswitch_gateway_attempt_outcomes_total", "counter",
             "Call attempts to the gateway since start, by outcome.");
    for (const auto& g : gateways) {
        for (const auto& [outcome, count] : g.outcomes) {
            e.sample("softswitch_gateway_attempt_outcomes_total",
                     {{"gateway", g.name}, {"outcome", outcome}}, count);
        }
    }
    e.family("softswitch_gateway_active_calls", "gauge", "Calls now using the gateway.");
    for (const auto& g : gateways) {
        e.sample("softswitch_gateway_active_calls", {{"gateway", g.name}},
                 nonNegative(g.activeCalls));
    }
    e.family("softswitch_gateway_cps", "gauge", "New calls of the gateway within the last second.");
    for (const auto& g : gateways) {
        e.sample("softswitch_gateway_cps", {{"gateway", g.name}}, nonNegative(g.callsLastSecond));
    }
    e.family("softswitch_gateway_up", "gauge",
             "1 when the gateway address is healthy (up), 0 when blacklisted or probed down.");
    for (const auto& g : gateways) {
        for (const auto& a : g.addresses) {
            e.sample("softswitch_gateway_up", {{"gateway", g.name}, {"addr", a.addr}},
                     a.health == "up" ? 1 : 0);
        }
    }
}

// The length of the valid UTF-8 sequence at the start of `s`, 0 when it is not one.
std::size_t utf8Length(std::string_view s)
{
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
    const unsigned char c = b(0);
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return cont(1) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2) || (c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3) || (c == 0xF0 && b(1) < 0x90) ||
            (c == 0xF4 && b(1) > 0x8F)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

}  // namespace

std::string escapeLabelValue(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    // Label values are UTF-8 (exposition format 0.0.4); other bytes become U+FFFD.
    for (std::size_t i = 0; i < value.size();) {
        const std::size_t n = utf8Length(value.substr(i));
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
            continue;
        }
        if (n > 1) {
            out.append(value.substr(i, n));
            i += n;
            continue;
        }
        const char c = value[i++];
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string renderMetrics(const common::LiveState& state)
{
    const auto& c = state.counters;
    Exposition e;
    e.family("softswitch_calls_active", "gauge", "Calls in progress.");
    e.sample("softswitch_calls_active", state.calls.size());
    e.family("softswitch_calls_offered_total", "counter", "INVITEs that created a call.");
    e.sample("softswitch_calls_offered_total", c.callsOffered);
    e.family("softswitch_calls_answered_total", "counter", "Calls answered.");
    e.sample("softswitch_calls_answered_total", c.callsAnswered);
    e.family("softswitch_calls_ended_total", "counter", "Calls ended, by end_reason.");
    for (const auto& [reason, count] : c.endReasons) {
        e.sample("softswitch_calls_ended_total", {{"reason", reason}}, count);
    }
    e.family("softswitch_calls_shed_total", "counter",
             "New calls refused with 503 by the overload guard (no CDR).");
    e.sample("softswitch_calls_shed_total", c.callsShed);
    e.family("softswitch_overloaded", "gauge",
             "1 while the overload guard refuses new calls, else 0.");
    e.sample("softswitch_overloaded", c.overloaded ? 1 : 0);
    e.family("softswitch_sip_receive_wait_seconds", "gauge",
             "How long the oldest unread SIP datagram had waited in the receive queues at the "
             "last overload probe (every 10 ms); the guard sheds above 0.05.");
    e.sampleSeconds("softswitch_sip_receive_wait_seconds", c.sipReceiveWaitMs);
    e.family("softswitch_cps", "gauge", "New calls within the last second.");
    e.sample("softswitch_cps", nonNegative(c.callsLastSecond));
    gatewayFamilies(e, state.gateways);
    e.family("softswitch_sip_retransmissions_total", "counter",
             "SIP requests and responses resent by the stack.");
    e.sample("softswitch_sip_retransmissions_total", c.retransmissions);
    e.family("softswitch_cdr_queue_depth", "gauge", "CDRs waiting for the writer.");
    e.sample("softswitch_cdr_queue_depth", c.cdrQueueDepth);
    e.family("softswitch_cdr_spool_bytes", "gauge",
             "Bytes in the local CDR spool (the database is not keeping up).");
    e.sample("softswitch_cdr_spool_bytes", c.cdrSpoolBytes);
    e.family("softswitch_cdr_delivered_total", "counter", "CDRs in PostgreSQL or the spool.");
    e.sample("softswitch_cdr_delivered_total", c.cdrDelivered);
    e.family("softswitch_reloads_total", "counter",
             "Provisioning snapshots installed, start-up included.");
    e.sample("softswitch_reloads_total", c.reloads);
    return e.take();
}

}  // namespace ss::web
