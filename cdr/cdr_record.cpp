// SPDX-License-Identifier: Apache-2.0
#include "cdr/cdr_record.h"

#include <chrono>

namespace ss::cdr {

namespace {

std::int64_t millisBetween(common::SysTime from, common::SysTime to)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

}  // namespace

std::string toString(EndDirection d)
{
    switch (d) {
    case EndDirection::Caller:
        return "caller";
    case EndDirection::Callee:
        return "callee";
    case EndDirection::Switch:
        return "switch";
    }
    return "switch";
}

std::int64_t CdrRecord::pddMs() const
{
    if (ringAt) {
        return millisBetween(setupAt, *ringAt);
    }
    if (answerAt) {
        return millisBetween(setupAt, *answerAt);
    }
    return 0;
}

std::int64_t CdrRecord::holdMs() const
{
    return answerAt ? millisBetween(*answerAt, endAt) : 0;
}

int q850ForSip(int sipCode)
{
    switch (sipCode) {
    case 200:
        return 16;  // normal clearing
    case 400:
    case 405:
    case 406:
    case 415:
    case 420:
    case 421:
    case 423:
    case 505:
    case 513:
        return 127;
    case 401:
    case 402:
    case 403:
    case 407:
    case 603:
        return 21;  // call rejected
    case 404:
    case 604:
        return 1;  // unallocated number
    case 408:
    case 504:
        return 102;  // recovery on timer expiry
    case 410:
        return 22;  // number changed
    case 413:
    case 414:
    case 416:
    case 482:
    case 483:
    case 485:
        return 127;
    case 480:
        return 18;  // no user responding
    case 484:
        return 28;  // invalid number format
    case 486:
    case 600:
        return 17;  // user busy
    case 487:
        return 127;
    case 488:
    case 606:
        return 65;
    case 500:
        return 41;
    case 501:
        return 79;
    case 502:
        return 38;
    case 503:
        return 34;  // no circuit available
    default:
        return sipCode >= 300 ? 31 : 16;
    }
}

}  // namespace ss::cdr
