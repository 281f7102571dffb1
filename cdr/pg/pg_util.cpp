// SPDX-License-Identifier: Apache-2.0
#include "cdr/pg/pg_util.h"

#include "cdr/errors.h"
#include "cdr/store.h"

#include <libpq-fe.h>
#include <pqxx/pqxx>

#include <fmt/format.h>

#include <cctype>
#include <map>
#include <memory>

namespace ss::cdr::pg {

std::string oneLine(const std::string& text)
{
    std::string out;
    bool space = false;
    for (const char c : text) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += c;
    }
    return out;
}

std::string quoteConninfo(const std::string& value)
{
    std::string out = "'";
    for (const char c : value) {
        if (c == '\'' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "'";
}

std::string withConnectionDefaults(
    const std::string& dsn, const std::vector<std::pair<std::string, std::string>>& defaults)
{
    char* error = nullptr;
    const std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
        PQconninfoParse(dsn.c_str(), &error), &PQconninfoFree);
    if (!options) {
        PQfreemem(error);
        return dsn;
    }
    std::map<std::string, std::string> values;
    for (const auto* o = options.get(); o->keyword != nullptr; ++o) {
        if (o->val != nullptr) {
            values[o->keyword] = o->val;
        }
    }
    for (const auto& [keyword, value] : defaults) {
        values.emplace(keyword, value);
    }
    std::string out;
    for (const auto& [keyword, value] : values) {
        out += (out.empty() ? "" : " ") + keyword + "=" + quoteConninfo(value);
    }
    return out;
}

void rethrowDbError(const std::string& context)
{
    try {
        throw;
    } catch (const ConfigError&) {
        throw;
    } catch (const ValidationError&) {
        throw;
    } catch (const pqxx::broken_connection& e) {
        throw DbUnavailable(context + ": database unreachable: " + oneLine(e.what()));
    } catch (const pqxx::sql_error& e) {
        throw ConfigError(context + ": " + oneLine(e.what()) +
                          (e.sqlstate().empty() ? "" : " (SQLSTATE " + e.sqlstate() + ")"));
    } catch (const std::exception& e) {
        throw ConfigError(context + ": " + oneLine(e.what()));
    }
}

int readSchemaVersion(const std::string& dsn)
{
    try {
        pqxx::connection conn(dsn);
        pqxx::read_transaction txn(conn);
        const bool exists =
            txn.exec1("SELECT to_regclass('schema_version') IS NOT NULL")[0].as<bool>();
        if (!exists) {
            return 0;
        }
        return txn.exec1("SELECT coalesce(max(version), 0) FROM schema_version")[0].as<int>();
    } catch (...) {
        rethrowDbError("reading the schema version");
    }
}

void requireExpectedSchema(int found)
{
    const int expected = expectedSchemaVersion();
    if (found < expected) {
        throw ConfigError(fmt::format("database schema version is {} but this build needs {}; "
                                      "run `swctl db migrate`",
                                      found, expected));
    }
    if (found > expected) {
        throw ConfigError(fmt::format("database schema version is {}, newer than the {} this "
                                      "build knows; upgrade softswitch",
                                      found, expected));
    }
}

void ensureDatabase(const std::string& dsn, const std::string& name)
{
    try {
        pqxx::connection conn(dsn);
        pqxx::nontransaction txn(conn);
        if (txn.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", name).empty()) {
            // CREATE DATABASE cannot run inside a transaction block; nontransaction is autocommit.
            txn.exec0("CREATE DATABASE " + txn.quote_name(name));
        }
    } catch (...) {
        rethrowDbError("creating database " + name);
    }
}

}  // namespace ss::cdr::pg
