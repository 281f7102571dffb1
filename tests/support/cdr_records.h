// SPDX-License-Identifier: Apache-2.0
#pragma once

// CDR fixtures shared by the cdr unit tests and the PostgreSQL tests.

#include "cdr/cdr_record.h"

#include <filesystem>
#include <string>
#include <vector>

namespace ss::cdr::testing {

/// A complete CDR with call id `call-<n>`, two attempts, every time set (sub-millisecond parts
/// included) from a fixed virtual instant.
CdrRecord makeRecord(int n);

/// Field-by-field equality, times compared exactly.
bool sameRecord(const CdrRecord& a, const CdrRecord& b);

/// A fresh empty directory under the test temp dir, removed by the destructor.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// The non-empty lines of a file; none when it does not exist.
std::vector<std::string> readLines(const std::filesystem::path& path);

}  // namespace ss::cdr::testing
