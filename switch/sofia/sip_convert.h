// SPDX-License-Identifier: Apache-2.0
#pragma once

// Conversions between sofia's parsed messages and the call layer's value types. Internal to the
// sofia adapter: only switch/sofia/*.cpp include this, and sofia types appear here only as
// forward declarations.

#include "switch/sip_stack.h"

#include <string>
#include <vector>

struct sip_s;
struct nta_incoming_s;
struct nta_outgoing_s;

namespace ss::sig {

/// What we answer in Allow (RFC 3261 §20.5).
inline constexpr const char* kAllow = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, PUBLISH";
/// What we answer in Supported (RFC 3261 §20.37).
inline constexpr const char* kSupported = "timer";
inline constexpr const char* kSupported100rel = "timer, 100rel";

/// The request `sip` received on `irq`, with its transport source address.
SipRequest toRequest(nta_incoming_s* irq, const sip_s* sip);
/// The response `sip` to `orq` (`sip` may be null: then the status comes from `orq` and the
/// response counts as stack-generated).
SipResponse toResponse(nta_outgoing_s* orq, const sip_s* sip);
/// The transport of the top Via.
common::Transport transportOf(const sip_s* sip);
/// "Name: value\r\n..." for SIPTAG_HEADER_STR; empty when `headers` is empty. Header values
/// with CR or LF are dropped (no header injection).
std::string headerBlock(const std::vector<SipHeader>& headers);
/// headerBlock(relay) followed by timerHeaders(timer).
std::string extraHeaders(const std::vector<SipHeader>& relay, const SessionTimerFields& timer);
/// "Session-Expires: …\r\nMin-SE: …\r\nRequire: timer" as far as `timer` asks for them.
std::string timerHeaders(const SessionTimerFields& timer);
/// `"Display" <uri>`, or `<uri>` without a display name; quotes and backslashes in the display
/// name are dropped.
std::string nameAddr(const std::string& display, const std::string& uri);

}  // namespace ss::sig
