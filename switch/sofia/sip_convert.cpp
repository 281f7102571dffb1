// SPDX-License-Identifier: Apache-2.0
#include "switch/sofia/sip_convert.h"

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_string.h>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <string_view>

namespace ss::sig {

namespace {

// End-to-end headers a carrier expects a B2BUA to carry across (identity, privacy, diversion).
constexpr std::array<std::string_view, 6> kRelayed = {
    "P-Asserted-Identity", "P-Preferred-Identity", "Privacy",
    "Remote-Party-ID",     "Diversion",            "P-Charging-Vector",
};

std::string str(const char* s) { return s == nullptr ? std::string() : std::string(s); }

std::string urlString(const url_t* url)
{
    if (url == nullptr) {
        return {};
    }
    su_home_t home[1] = {SU_HOME_INIT(home)};
    std::string out = str(url_as_string(home, url));
    su_home_deinit(home);
    return out;
}

std::string unquote(const char* display)
{
    std::string out;
    for (const char* p = display; p && *p; ++p) {
        if (*p != '"' && *p != '\\') {
            out.push_back(*p);
        }
    }
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    return out;
}

SipNameAddr nameAddrOf(const sip_addr_t* a)
{
    SipNameAddr out;
    if (a == nullptr) {
        return out;
    }
    out.display = unquote(a->a_display);
    out.user = str(a->a_url->url_user);
    out.uri = urlString(a->a_url);
    out.tag = str(a->a_tag);
    return out;
}

bool isRelayed(std::string_view name)
{
    for (auto relayed : kRelayed) {
        if (relayed.size() == name.size() &&
            strncasecmp(relayed.data(), name.data(), name.size()) == 0) {
            return true;
        }
    }
    return false;
}

void collectHeaders(const sip_t* sip, std::vector<SipHeader>& out)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    auto add = [&](const char* name, const void* header) {
        if (header == nullptr) {
            return;
        }
        if (char* value = sip_header_as_string(home, static_cast<const sip_header_t*>(header))) {
            out.push_back({name, value});
        }
    };
    add("P-Asserted-Identity", sip_p_asserted_identity(sip));
    add("P-Preferred-Identity", sip_p_preferred_identity(sip));
    add("Privacy", sip_privacy(sip));
    add("Remote-Party-ID", sip_remote_party_id(sip));
    for (const sip_unknown_t* un = sip->sip_unknown; un != nullptr; un = un->un_next) {
        if (un->un_name && un->un_value && isRelayed(un->un_name)) {
            out.push_back({un->un_name, un->un_value});
        }
    }
    su_home_deinit(home);
}

void fillBody(const sip_t* sip, std::string& contentType, std::string& body)
{
    if (sip->sip_payload != nullptr && sip->sip_payload->pl_len > 0) {
        body.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
        contentType = sip->sip_content_type ? str(sip->sip_content_type->c_type)
                                            : "application/sdp";
    }
}

void fillTimer(const sip_t* sip, SessionTimerFields& out)
{
    if (sip->sip_session_expires != nullptr) {
        out.sessionExpires = static_cast<std::uint32_t>(
            std::min<unsigned long>(sip->sip_session_expires->x_delta, 0xffffffffUL));
        out.refresher = str(sip->sip_session_expires->x_refresher);
        for (auto& c : out.refresher) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    if (sip->sip_min_se != nullptr) {
        out.minSe = static_cast<std::uint32_t>(
            std::min<unsigned long>(sip->sip_min_se->min_delta, 0xffffffffUL));
    }
    out.supportsTimer = sip_has_feature(sip->sip_supported, "timer") != 0;
    out.requiresTimer = sip_has_feature(sip->sip_require, "timer") != 0;
    if (sip->sip_allow != nullptr) {
        out.allowsUpdate = sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE") != 0;
    }
}

}  // namespace

common::Transport transportOf(const sip_t* sip)
{
    if (sip != nullptr && sip->sip_via != nullptr && sip->sip_via->v_protocol != nullptr &&
        su_casematch(sip->sip_via->v_protocol, sip_transport_tcp)) {
        return common::Transport::Tcp;
    }
    return common::Transport::Udp;
}

SipRequest toRequest(nta_incoming_t* irq, const sip_t* sip)
{
    SipRequest req;
    req.method = str(sip->sip_request->rq_method_name);
    req.requestUri = urlString(sip->sip_request->rq_url);
    req.requestUser = str(sip->sip_request->rq_url->url_user);
    req.from = nameAddrOf(sip->sip_from);
    req.to = nameAddrOf(sip->sip_to);
    req.callId = sip->sip_call_id ? str(sip->sip_call_id->i_id) : std::string();
    req.cseq = sip->sip_cseq ? sip->sip_cseq->cs_seq : 0;
    req.transport = transportOf(sip);
    fillBody(sip, req.contentType, req.body);
    collectHeaders(sip, req.relayHeaders);
    fillTimer(sip, req.timer);
    req.supports100rel = sip_has_feature(sip->sip_supported, "100rel") != 0;
    req.requires100rel = sip_has_feature(sip->sip_require, "100rel") != 0;
    if (sip->sip_expires != nullptr) {
        req.expires = static_cast<std::int64_t>(sip->sip_expires->ex_delta);
    }
    if (sip->sip_if_match != nullptr) {
        req.sipIfMatch = str(sip->sip_if_match->g_string);
    }
    if (sip->sip_event != nullptr) {
        req.event = str(sip->sip_event->o_type);
    }

    msg_t* msg = nta_incoming_getrequest(irq);
    if (msg != nullptr) {
        const su_addrinfo_t* ai = msg_addrinfo(msg);
        if (ai != nullptr && ai->ai_addr != nullptr) {
            char text[INET6_ADDRSTRLEN] = {};
            if (ai->ai_addr->sa_family == AF_INET) {
                const auto* in = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
                inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
                req.sourcePort = ntohs(in->sin_port);
            } else if (ai->ai_addr->sa_family == AF_INET6) {
                const auto* in6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
                inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
                req.sourcePort = ntohs(in6->sin6_port);
            }
            req.sourceIp = text;
        }
        msg_destroy(msg);
    }
    return req;
}

namespace {

/// Error-Info naming `transport-error` (seed 002), however the proxy spelled it: as a URI
/// (`<sip:transport-error@...>`, a parameter) or bare, which sofia cannot parse as a URI and
/// keeps among the erroneous headers.
bool hasTransportErrorInfo(const sip_t* sip)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    bool found = false;
    for (const sip_header_t* h = reinterpret_cast<const sip_header_t*>(sip->sip_error_info);
         h != nullptr && !found; h = h->sh_next) {
        const char* text = sip_header_as_string(home, h);
        found = text != nullptr && su_strcasestr(text, "transport-error") != nullptr;
    }
    for (const sip_error_t* er = sip->sip_error; er != nullptr && !found; er = er->er_next) {
        const char* text = sip_header_as_string(home, reinterpret_cast<const sip_header_t*>(er));
        found = er->er_name != nullptr && su_casematch(er->er_name, "Error-Info") &&
                text != nullptr && su_strcasestr(text, "transport-error") != nullptr;
    }
    su_home_deinit(home);
    return found;
}

}  // namespace

SipResponse toResponse(nta_outgoing_t* orq, const sip_t* sip)
{
    SipResponse resp;
    if (sip == nullptr || sip->sip_status == nullptr) {
        resp.status = nta_outgoing_status(orq);
        resp.internal = true;
        return resp;
    }
    resp.status = sip->sip_status->st_status;
    resp.reason = str(sip->sip_status->st_phrase);
    resp.internal = nta_sip_is_internal(sip) != 0;
    fillBody(sip, resp.contentType, resp.body);
    collectHeaders(sip, resp.relayHeaders);
    fillTimer(sip, resp.timer);
    resp.reliable = sip->sip_rseq != nullptr;
    resp.transportErrorInfo = hasTransportErrorInfo(sip);
    return resp;
}

std::string timerHeaders(const SessionTimerFields& timer)
{
    std::string out;
    if (timer.sessionExpires != 0) {
        out += "Session-Expires: " + std::to_string(timer.sessionExpires);
        if (!timer.refresher.empty()) {
            out += ";refresher=" + timer.refresher;
        }
    }
    if (timer.minSe != 0) {
        out += std::string(out.empty() ? "" : "\r\n") + "Min-SE: " + std::to_string(timer.minSe);
    }
    if (timer.requiresTimer) {
        out += std::string(out.empty() ? "" : "\r\n") + "Require: timer";
    }
    return out;
}

std::string extraHeaders(const std::vector<SipHeader>& relay, const SessionTimerFields& timer)
{
    std::string out = headerBlock(relay);
    const std::string timers = timerHeaders(timer);
    if (!timers.empty()) {
        out += (out.empty() ? "" : "\r\n") + timers;
    }
    return out;
}

std::string headerBlock(const std::vector<SipHeader>& headers)
{
    std::string out;
    for (const auto& h : headers) {
        if (h.name.find_first_of("\r\n:") != std::string::npos ||
            h.value.find_first_of("\r\n") != std::string::npos) {
            continue;
        }
        if (!out.empty()) {
            out += "\r\n";
        }
        out += h.name + ": " + h.value;
    }
    return out;
}

std::string nameAddr(const std::string& display, const std::string& uri)
{
    std::string clean;
    for (char c : display) {
        if (c != '"' && c != '\\' && c != '\r' && c != '\n') {
            clean.push_back(c);
        }
    }
    return clean.empty() ? "<" + uri + ">" : "\"" + clean + "\" <" + uri + ">";
}

}  // namespace ss::sig
