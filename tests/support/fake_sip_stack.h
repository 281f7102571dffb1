// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "switch/sip_stack.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ss::testing {

/// A SipStack that records every command, for driving the call layer without sockets.
/// Ids are handed out from one counter; tests inspect `sent` and look up what they need.
class FakeSipStack final : public sig::SipStack {
public:
    enum class Kind { Respond, StartDialog, SendInDialog, Ack, Cancel, Retransmit, SendRequest };
    struct Command {
        Kind kind = Kind::Respond;
        std::uint64_t txn = 0;     // server txn (Respond), client txn otherwise
        std::uint64_t dialog = 0;  // StartDialog / SendInDialog / Ack
        int status = 0;            // Respond
        std::string method;        // StartDialog (INVITE) / SendInDialog
        std::string body;
        sig::SipRequest request;  // StartDialog / SendInDialog
        sig::NewDialog newDialog;  // StartDialog
        sig::SipTarget target;     // SendRequest
        sig::SipResponse response;  // Respond
    };

    sig::DialogId acceptDialog(sig::ServerTxnId txn) override;
    void respond(sig::ServerTxnId txn, const sig::SipResponse& resp) override;
    void releaseServerTxn(sig::ServerTxnId txn) override { liveServer_.erase(txn); }
    Started startDialog(const sig::NewDialog& dialog, const sig::SipRequest& invite) override;
    sig::ClientTxnId sendInDialog(sig::DialogId dialog, const sig::SipRequest& req) override;
    void ack(sig::DialogId dialog, sig::ClientTxnId invite, const std::string& contentType,
             const std::string& body) override;
    bool retransmit(sig::ClientTxnId txn) override;
    sig::ClientTxnId sendRequest(const sig::SipTarget& target, const sig::SipRequest& req) override;
    void cancel(sig::ClientTxnId txn) override;
    void releaseClientTxn(sig::ClientTxnId txn) override { liveClient_.erase(txn); }
    void releaseDialog(sig::DialogId dialog) override { liveDialogs_.erase(dialog); }

    /// A server transaction id for a request the test is about to inject.
    sig::ServerTxnId newServerTxn();
    /// Final (or, with `provisional`, last) status sent on `txn`; 0 when none.
    int lastStatus(sig::ServerTxnId txn) const;
    /// Commands of one kind, in order.
    std::vector<Command> ofKind(Kind kind) const;
    /// The last command of `kind` whose method is `method` (for sends).
    std::optional<Command> lastSend(const std::string& method) const;
    /// Whether the call layer has released every id it was given.
    bool allReleased() const
    {
        return liveServer_.empty() && liveClient_.empty() && liveDialogs_.empty();
    }
    std::size_t liveIds() const
    {
        return liveServer_.size() + liveClient_.size() + liveDialogs_.size();
    }
    /// Makes the next startDialog fail (as when nothing can be sent).
    void failNextStart() { failNextStart_ = true; }

    std::vector<Command> sent;
    /// The dialog acceptDialog() created for each server transaction.
    std::map<sig::ServerTxnId, sig::DialogId> accepted;

private:
    std::uint64_t nextId_ = 1;
    std::set<std::uint64_t> liveServer_;
    std::set<std::uint64_t> liveClient_;
    std::set<std::uint64_t> liveDialogs_;
    std::map<std::uint64_t, int> statusByTxn_;
    bool failNextStart_ = false;
};

}  // namespace ss::testing
