// SPDX-License-Identifier: Apache-2.0
#include "tests/support/fake_sip_stack.h"

namespace ss::testing {

sig::ServerTxnId FakeSipStack::newServerTxn()
{
    const auto id = nextId_++;
    liveServer_.insert(id);
    return id;
}

sig::DialogId FakeSipStack::acceptDialog(sig::ServerTxnId txn)
{
    const auto id = nextId_++;
    liveDialogs_.insert(id);
    accepted[txn] = id;
    return id;
}

void FakeSipStack::respond(sig::ServerTxnId txn, const sig::SipResponse& resp)
{
    Command c;
    c.kind = Kind::Respond;
    c.txn = txn;
    c.status = resp.status;
    c.body = resp.body;
    c.response = resp;
    sent.push_back(c);
    statusByTxn_[txn] = resp.status;
}

sig::SipStack::Started FakeSipStack::startDialog(const sig::NewDialog& dialog,
                                                 const sig::SipRequest& invite)
{
    if (failNextStart_) {
        failNextStart_ = false;
        return {};
    }
    const auto d = nextId_++;
    const auto t = nextId_++;
    liveDialogs_.insert(d);
    liveClient_.insert(t);
    Command c;
    c.kind = Kind::StartDialog;
    c.txn = t;
    c.dialog = d;
    c.method = invite.method;
    c.body = invite.body;
    c.request = invite;
    c.newDialog = dialog;
    sent.push_back(c);
    return {d, t};
}

sig::ClientTxnId FakeSipStack::sendInDialog(sig::DialogId dialog, const sig::SipRequest& req)
{
    const auto t = nextId_++;
    liveClient_.insert(t);
    Command c;
    c.kind = Kind::SendInDialog;
    c.txn = t;
    c.dialog = dialog;
    c.method = req.method;
    c.body = req.body;
    c.request = req;
    sent.push_back(c);
    return t;
}

sig::ClientTxnId FakeSipStack::sendRequest(const sig::SipTarget& target,
                                           const sig::SipRequest& req)
{
    const auto t = nextId_++;
    liveClient_.insert(t);
    Command c;
    c.kind = Kind::SendRequest;
    c.txn = t;
    c.method = req.method;
    c.request = req;
    c.target = target;
    sent.push_back(c);
    return t;
}

void FakeSipStack::ack(sig::DialogId dialog, sig::ClientTxnId invite, const std::string&,
                       const std::string& body)
{
    Command c;
    c.kind = Kind::Ack;
    c.txn = invite;
    c.dialog = dialog;
    c.body = body;
    sent.push_back(c);
}

bool FakeSipStack::retransmit(sig::ClientTxnId txn)
{
    Command c;
    c.kind = Kind::Retransmit;
    c.txn = txn;
    sent.push_back(c);
    return liveClient_.count(txn) != 0;
}

void FakeSipStack::cancel(sig::ClientTxnId txn)
{
    Command c;
    c.kind = Kind::Cancel;
    c.txn = txn;
    sent.push_back(c);
}

int FakeSipStack::lastStatus(sig::ServerTxnId txn) const
{
    auto it = statusByTxn_.find(txn);
    return it == statusByTxn_.end() ? 0 : it->second;
}

std::vector<FakeSipStack::Command> FakeSipStack::ofKind(Kind kind) const
{
    std::vector<Command> out;
    for (const auto& c : sent) {
        if (c.kind == kind) {
            out.push_back(c);
        }
    }
    return out;
}

std::optional<FakeSipStack::Command> FakeSipStack::lastSend(const std::string& method) const
{
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
        if ((it->kind == Kind::SendInDialog || it->kind == Kind::StartDialog ||
             it->kind == Kind::SendRequest) &&
            it->method == method) {
            return *it;
        }
    }
    return std::nullopt;
}

}  // namespace ss::testing
