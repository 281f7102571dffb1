// SPDX-License-Identifier: Apache-2.0
#include "common/provisioning.h"

namespace ss::common {

std::string toString(GatewayRole role)
{
    return role == GatewayRole::Origination ? "origination" : "termination";
}

std::string toString(Transport transport)
{
    return transport == Transport::Tcp ? "tcp" : "udp";
}

bool parseGatewayRole(const std::string& text, GatewayRole& out)
{
    if (text == "origination") {
        out = GatewayRole::Origination;
        return true;
    }
    if (text == "termination") {
        out = GatewayRole::Termination;
        return true;
    }
    return false;
}

bool parseTransport(const std::string& text, Transport& out)
{
    if (text == "udp") {
        out = Transport::Udp;
        return true;
    }
    if (text == "tcp") {
        out = Transport::Tcp;
        return true;
    }
    return false;
}

}  // namespace ss::common
