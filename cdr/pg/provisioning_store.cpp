// SPDX-License-Identifier: Apache-2.0
// Gateways, routes and parameters: the switch's snapshot load and swctl's changes.

#include "cdr/admin_store.h"
#include "cdr/errors.h"
#include "cdr/pg/pg_util.h"
#include "cdr/store.h"
#include "cdr/time_format.h"
#include "common/text.h"
#include "common/params.h"

#include <pqxx/pqxx>

#include <nlohmann/json.hpp>

#include <type_traits>

namespace ss::cdr {

namespace {

using nlohmann::json;

constexpr const char* kGatewayColumns =
    "id, name, role, host, port, transport, capacity, cps, site, prefix_strip, prefix_add, "
    "enabled, options::text";

common::GatewayConfig toGateway(const pqxx::row& row)
{
    common::GatewayConfig gw;
    gw.id = row[0].as<std::int64_t>();
    gw.name = row[1].as<std::string>();
    if (!common::parseGatewayRole(row[2].as<std::string>(), gw.role)) {
        throw ConfigError("gateway " + gw.name + ": unknown role " + row[2].as<std::string>());
    }
    gw.host = row[3].as<std::string>();
    gw.port = static_cast<std::uint16_t>(row[4].as<int>());
    if (!common::parseTransport(row[5].as<std::string>(), gw.transport)) {
        throw ConfigError("gateway " + gw.name + ": unknown transport " +
                          row[5].as<std::string>());
    }
    gw.capacity = row[6].as<int>();
    gw.cps = row[7].as<int>();
    gw.site = row[8].as<std::string>();
    gw.prefixStrip = row[9].as<int>();
    gw.prefixAdd = row[10].as<std::string>();
    gw.enabled = row[11].as<bool>();
    const json options = json::parse(row[12].as<std::string>());
    for (const auto& [key, value] : options.items()) {
        gw.options[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
    return gw;
}

std::string joinSiteOrder(const std::vector<std::string>& sites)
{
    std::string out;
    for (const auto& site : sites) {
        out += (out.empty() ? "" : ",") + site;
    }
    return out;
}

common::RouteConfig toRoute(const pqxx::row& row)
{
    common::RouteConfig route;
    route.id = row[0].as<std::int64_t>();
    route.prefix = row[1].as<std::string>();
    route.gateway = row[2].as<std::string>();
    route.priority = row[3].as<int>();
    route.weight = row[4].as<int>();
    route.siteOrder = common::splitList(row[5].as<std::string>());  // "" = no order
    return route;
}

constexpr const char* kRouteSelect =
    "SELECT r.id, r.prefix, g.name, r.priority, r.weight, r.site_order FROM route r "
    "JOIN gateway g ON g.id = r.gateway_id ";

std::vector<common::GatewayConfig> selectGateways(pqxx::transaction_base& txn)
{
    std::vector<common::GatewayConfig> out;
    for (const auto& row :
         txn.exec(std::string("SELECT ") + kGatewayColumns + " FROM gateway ORDER BY name")) {
        out.push_back(toGateway(row));
    }
    return out;
}

std::vector<common::RouteConfig> selectRoutes(pqxx::transaction_base& txn)
{
    std::vector<common::RouteConfig> out;
    for (const auto& row : txn.exec(std::string(kRouteSelect) +
                                    "ORDER BY r.prefix, r.priority, r.id")) {
        out.push_back(toRoute(row));
    }
    return out;
}

// A CHECK the swctl validation should have caught; still say which value was refused.
[[noreturn]] void refusedByConstraint(const pqxx::sql_error& e, const std::string& what)
{
    throw ValidationError("", "", what + " refused by the database: " + pg::oneLine(e.what()));
}

[[noreturn]] void noSuchGateway(const std::string& name)
{
    throw invalidValue("NAME", name, "the name of an existing gateway (swctl gateway list)");
}

// The gateway `name`, its row locked until `txn` ends (changes to it are read-modify-write).
common::GatewayConfig lockGateway(pqxx::work& txn, const std::string& name)
{
    const auto found = txn.exec_params(std::string("SELECT ") + kGatewayColumns +
                                           " FROM gateway WHERE name = $1 FOR UPDATE",
                                       name);
    if (found.empty()) {
        noSuchGateway(name);
    }
    return toGateway(found[0]);
}

using OptionalText = std::optional<std::string>;

// One audit row (schema/0005), in the transaction of the change it records.
struct AuditEntry {
    const char* action;  // add | set | remove | enable | disable | reset
    const char* kind;    // gateway | route | param
    std::string name;
    OptionalText field;
    OptionalText oldValue;
    OptionalText newValue;
};

void writeAudit(pqxx::transaction_base& txn, const std::string& actor, const AuditEntry& e)
{
    txn.exec_params0("INSERT INTO audit (actor, action, object_kind, object_name, field, "
                     "old_value, new_value) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     actor, e.action, e.kind, e.name, e.field, e.oldValue, e.newValue);
}

// A whole gateway or route as the audit stores an added or removed one: its column values.
std::string auditText(const common::GatewayConfig& gw)
{
    json options = json::object();
    for (const auto& [key, value] : gw.options) {
        options[key] = value;
    }
    return json{{"role", common::toString(gw.role)},
                {"host", gw.host},
                {"port", gw.port},
                {"transport", common::toString(gw.transport)},
                {"capacity", gw.capacity},
                {"cps", gw.cps},
                {"site", gw.site},
                {"prefix_strip", gw.prefixStrip},
                {"prefix_add", gw.prefixAdd},
                {"enabled", gw.enabled},
                {"options", options}}
        .dump();
}

std::string auditText(const common::RouteConfig& route)
{
    return json{{"prefix", route.prefix},
                {"gateway", route.gateway},
                {"priority", route.priority},
                {"weight", route.weight},
                {"site_order", joinSiteOrder(route.siteOrder)}}
        .dump();
}

struct FieldChange {
    std::string field;  // the `swctl gateway set` key
    OptionalText oldValue;
    OptionalText newValue;
};

// Applies `c` to `gw` and returns the fields whose value changed, in key order of
// `swctl gateway set` (then the options by key).
std::vector<FieldChange> applyChanges(common::GatewayConfig& gw, const GatewayChanges& c)
{
    std::vector<FieldChange> out;
    // One field: when a new value is given, note old -> new (if different) and take it.
    const auto text = [](const auto& v) -> std::string {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
            return v;
        } else if constexpr (std::is_same_v<std::decay_t<decltype(v)>, common::Transport>) {
            return common::toString(v);
        } else {
            return std::to_string(v);
        }
    };
    const auto apply = [&](const char* field, auto& current, const auto& wanted) {
        if (!wanted) {
            return;
        }
        if (current != *wanted) {
            out.push_back({field, text(current), text(*wanted)});
        }
        current = *wanted;
    };
    apply("host", gw.host, c.host);
    auto port = c.port;
    if (c.host && !port) {
        // As `gateway add`: an origination gateway without a port matches any source port.
        port = static_cast<std::uint16_t>(gw.role == common::GatewayRole::Origination ? 0 : 5060);
    }
    apply("port", gw.port, port);
    apply("transport", gw.transport, c.transport);
    apply("capacity", gw.capacity, c.capacity);
    apply("cps", gw.cps, c.cps);
    apply("site", gw.site, c.site);
    apply("prefix-strip", gw.prefixStrip, c.prefixStrip);
    apply("prefix-add", gw.prefixAdd, c.prefixAdd);
    for (const auto& [key, value] : c.options) {
        const auto it = gw.options.find(key);
        const OptionalText before = it == gw.options.end() ? OptionalText() : it->second;
        if (before != value) {
            out.push_back({key, before, value});
        }
        if (value) {
            gw.options[key] = *value;
        } else {
            gw.options.erase(key);
        }
    }
    return out;
}

std::optional<std::string> optionalText(const pqxx::field& f)
{
    return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
}

}  // namespace

common::Provisioning loadProvisioning(const std::string& dsn)
{
    pg::requireExpectedSchema(pg::readSchemaVersion(dsn));
    try {
        pqxx::connection conn(dsn);
        // One snapshot for all three tables, so a route never names a gateway we did not load.
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn(conn);
        common::Provisioning out;
        out.gateways = selectGateways(txn);
        out.routes = selectRoutes(txn);
        for (const auto& row : txn.exec("SELECT name, value FROM param")) {
            out.params[row[0].as<std::string>()] = row[1].as<std::string>();
        }
        txn.commit();
        return out;
    } catch (...) {
        pg::rethrowDbError("loading provisioning");
    }
}

AdminStore::AdminStore(std::string dsn) : dsn_(std::move(dsn))
{
    pg::requireExpectedSchema(pg::readSchemaVersion(dsn_));
}

void AdminStore::setActor(std::string actor)
{
    actor_ = actor.empty() ? "unknown" : std::move(actor);
}

common::GatewayConfig AdminStore::addGateway(const common::GatewayConfig& gw)
{
    json options = json::object();
    for (const auto& [key, value] : gw.options) {
        options[key] = value;
    }
    try {
        pqxx::connection conn(dsn_);
        pqxx::work txn(conn);
        const auto row = txn.exec_params1(
            std::string("INSERT INTO gateway (name, role, host, port, transport, capacity, cps, "
                        "site, prefix_strip, prefix_add, enabled, options) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb) "
                        "RETURNING ") +
                kGatewayColumns,
            gw.name, common::toString(gw.role), gw.host, static_cast<int>(gw.port),
            common::toString(gw.transport), gw.capacity, gw.cps, gw.site, gw.prefixStrip,
            gw.prefixAdd, gw.enabled, options.dump());
        auto stored = toGateway(row);
        writeAudit(txn, actor_, {"add", "gateway", stored.name, {}, {}, auditText(stored)});
        txn.commit();
        return stored;
    } catch (const pqxx::unique_violation&) {
        throw invalidValue("NAME", gw.name, "a name no other gateway has (this one exists)");
    } catch (const pqxx::check_violation& e) {
        refusedByConstraint(e, "gateway " + gw.name);
    } catch (const pqxx::data_exception& e) {
        refusedByConstraint(e, "gateway " + gw.name);
    } catch (...) {
        pg::rethrowDbError("adding gateway " + gw.name);
    }
}

std::vector<common::GatewayConfig> AdminStore::listGateways() const
{
    try {
        pqxx::connection conn(dsn_);
        pqxx::read_transaction txn(conn);
        return selectGateways(txn);
    } catch (...) {
        pg::rethrowDbError("listing gateways");
    }
}

std::optional<common::GatewayConfig> AdminStore::findGateway(const std::string& name) const
{
    try {
        pqxx::connection conn(dsn_);
        pqxx::read_transaction txn(conn);
        const auto result = txn.exec_params(
            std::string("SELECT ") + kGatewayColumns + " FROM gateway WHERE name = $1", name);
        if (result.empty()) {
            return std::nullopt;
        }
        return toGateway(result[0]);
    } catch (...) {
        pg::rethrowDbError("reading gateway " + name);
    }
}

void AdminStore::removeGateway(const std::string& name)
{
    try {
        pqxx::connection conn(dsn_);
        pqxx::work txn(conn);
        const auto gw = lockGateway(txn, name);
        const auto routes =
            txn.exec_params1("SELECT count(*) FROM route WHERE gateway_id = $1", gw.id)[0]
                .as<long>();
        if (routes > 0) {
            throw ValidationError("NAME", name,
                                  "NAME: \"" + name + "\" cannot be removed; " +
                                      std::to_string(routes) +
                                      " route(s) still use it (swctl route list; swctl route "
                                      "remove ID)");
        }
        txn.exec_params0("DELETE FROM gateway WHERE id = $1", gw.id);
        writeAudit(txn, actor_, {"remove", "gateway", name, {}, auditText(gw), {}});
        txn.commit();
    } catch (const pqxx::foreign_key_violation&) {
        // A route was added between our check and the delete.
        throw ValidationError("NAME", name,
                              "NAME: \"" + name + "\" cannot be removed; routes still use it");
    } catch (...) {
        pg::rethrowDbError("removing gateway " + name);
    }
}

void AdminStore::setGatewayEnabled(const std::string& name, bool enabled)
{
    try {
        pqxx::connection conn(dsn_);
        pqxx::work txn(conn);
        const bool before = lockGateway(txn, name).enabled;
        if (before == enabled) {
            return;  // nothing to write, so no NOTIFY and no audit row
        }
        txn.exec_params0("UPDATE gateway SET enabled = $2, updated_at = now() WHERE name = $1",
                         name, enabled);
        writeAudit(txn, actor_,
                   {enabled ? "enable" : "disable", "gateway", name, "enabled",
                    before ? "true" : "false", enabled ? "true" : "false"});
        txn.commit();
    } catch (...) {
        pg::rethrowDbError(std::string(enabled ? "enabling" : "disabling") + " gateway " + name);
    }
}

common::GatewayConfig AdminStore::setGateway(const std::string& name,
                                             const GatewayChanges& changes)
{
    try {
        pqxx::connection conn(dsn_);
        pqxx::work txn(conn);
        auto gw = lockGateway(txn, name);
        const auto changed = applyChanges(gw, changes);
        if (changed.empty()) {
            return gw;  // nothing to write, so no NOTIFY and no audit row
        }
        json options = json::object();
        for (const auto& [key, value] : gw.options) {
            options[key] = value;
        }
        const auto row = txn.exec_params1(
            std::string("UPDATE gateway SET host = $2, port = $3, transport = $4, capacity = $5, "
                        "cps = $6, site = $7, prefix_strip = $8, prefix_add = $9, "
                        "options = $10::jsonb, updated_at = now() WHERE id = $1 RETURNING ") +
                kGatewayColumns,
            gw.id, gw.host, static_cast<int>(gw.port), common::toString(gw.transport),
            gw.capacity, gw.cps, gw.site, gw.prefixStrip, gw.prefixAdd, options.dump());
        for (const auto& c : changed) {
            writeAudit(txn, actor_, {"set", "gateway", name, c.field, c.oldValue, c.newValue});
        }
        auto stored = toGateway(row);
        txn.commit();
        return stored;
    } catch (const pqxx::check_violation& e) {
        refusedByConstraint(e, "gateway " + name);
    } catch (const pqxx::data_exception& e) {
        refusedByConstraint(e, "gateway " + name);
    } catch (...) {
        pg::rethrowDbError("changing gateway " + name);
    }
}

common::RouteConfig AdminStore::addRoute(const common::RouteConfig& route)
{
    const std::string siteOrder = joinSiteOrder(route.siteOrder);
    for (const auto& site : route.siteOrder) {
        // {""} would join to "" and silently mean "no ordering"; the CHECK catches the rest.
        if (site.empty()) {
            throw invalidValue("--site-order", siteOrder,
                               "comma-separated site names, none empty (e.g. east,west)");
        }
    }
    try {
        pqxx::connection conn(dsn_);
        pqxx::work txn(conn);
        const auto gw = txn.exec_params("SELECT id, role FROM gateway WHERE name = $1 FOR SHARE",
                                        route.gateway);
        if (gw.empty()) {
            throw invalidValue("--gateway", route.gateway, "the name of an existing gateway");
        }
        if (gw[0][1].as<std::string>() != "termination") {
            throw invalidValue("--gateway", route.gateway,
                               "a termination gateway (this one is " +
                                   gw[0][1].as<std::string>() + ")");
        }
        const auto row = txn.exec_params1(
            "INSERT INTO route (prefix, gateway_id, priority, weight, site_order) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            route.prefix, gw[0][0].as<std::int64_t>(), route.priority, route.weight, siteOrder);
        common::RouteConfig stored = route;
        stored.id = row[0].as<std::int64_t>();
        writeAudit(txn, actor_,
                   {"add", "route", std::to_string(stored.id), {}, {}, auditText(stored)});
        txn.commit();
        return stored;
    } catch (const pqxx::unique_violation&) {
        throw invalidValue("--prefix", route.prefix,
                           "a prefix not yet routed to gateway " + route.gateway);
    } catch (const pqxx::check_violation& e) {
        refusedByConstraint(e, "route " + route.prefix);
    } catch (const pqxx::data_exception& e) {
        refusedByConstraint(e, "route " + route.prefix);
    } catch (...) {
        pg::rethrowDbError("adding route " + route.prefix);
    }
}

std::vector<common::RouteConfig> AdminStore::listRoutes() const
{
    try {
        pqxx::connection conn(dsn_);
        pqxx::read_transaction txn(conn);
        return selectRoutes(txn);
    } catch (...) {
        pg::rethrowDbError("listing routes");
    }
}

void AdminStore::removeRoute(std::int64_t id)
{
    try {
        pqxx::connection conn(dsn_);
        pqxx::work txn(conn);
        const auto removed = txn.exec_params(
            "DELETE FROM route r USING gateway g WHERE r.id = $1 AND g.id = r.gateway_id "
            "RETURNING r.id, r.prefix, g.name, r.priority, r.weight, r.site_order",
            id);
        if (removed.empty()) {
            throw invalidValue("ID", std::to_string(id), "the id of an existing route");
        }
        writeAudit(txn, actor_,
                   {"remove", "route", std::to_string(id), {}, auditText(toRoute(removed[0])), {}});
        txn.commit();
    } catch (...) {
        pg::rethrowDbError("removing route " + std::to_string(id));
    }
}

std::map<std::string, std::string> AdminStore::storedParams() const
{
    try {
        pqxx::connection conn(dsn_);
        pqxx::read_transaction txn(conn);
        std::map<std::string, std::string> out;
        for (const auto& row : txn.exec("SELECT name, value FROM param")) {
            out[row[0].as<std::string>()] = row[1].as<std::string>();
        }
        return out;
    } catch (...) {
        pg::rethrowDbError("reading parameters");
    }
}

std::optional<std::string> AdminStore::setParam(const std::string& name, const std::string& value)
{
    if (const auto error = common::validateParam(name, value)) {
        throw ValidationError(common::findParam(name) == nullptr ? "NAME" : "VALUE", value,
                              *error);
    }
    const std::string normalized = common::normalizeParam(name, value);
    try {
        pqxx::connection conn(dsn_);
        pqxx::work txn(conn);
        const auto old =
            txn.exec_params("SELECT value FROM param WHERE name = $1 FOR UPDATE", name);
        std::optional<std::string> previous;
        if (!old.empty()) {
            previous = old[0][0].as<std::string>();
        }
        if (previous != normalized) {
            txn.exec_params0("INSERT INTO param (name, value) VALUES ($1, $2) "
                             "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, "
                             "updated_at = now()",
                             name, normalized);
            writeAudit(txn, actor_, {"set", "param", name, "value", previous, normalized});
        }
        txn.commit();
        return previous;
    } catch (...) {
        pg::rethrowDbError("setting parameter " + name);
    }
}

std::optional<std::string> AdminStore::resetParam(const std::string& name)
{
    try {
        pqxx::connection conn(dsn_);
        pqxx::work txn(conn);
        const auto removed =
            txn.exec_params("DELETE FROM param WHERE name = $1 RETURNING value", name);
        if (removed.empty()) {
            if (common::findParam(name) == nullptr) {
                throw ValidationError("NAME", name, *common::validateParam(name, ""));
            }
            return std::nullopt;  // already the default; nothing deleted, no NOTIFY sent
        }
        const auto previous = removed[0][0].as<std::string>();
        writeAudit(txn, actor_, {"reset", "param", name, "value", previous, {}});
        txn.commit();
        return previous;
    } catch (...) {
        pg::rethrowDbError("resetting parameter " + name);
    }
}

std::vector<AuditRow> AdminStore::listAudit(const AuditQuery& query) const
{
    try {
        pqxx::connection conn(dsn_);
        pqxx::read_transaction txn(conn);
        const OptionalText since =
            query.since ? OptionalText(formatIsoMillis(*query.since)) : std::nullopt;
        std::vector<AuditRow> out;
        for (const auto& row : txn.exec_params(
                 "SELECT id, (extract(epoch FROM at) * 1000)::bigint, actor, action, "
                 "object_kind, object_name, field, old_value, new_value FROM audit "
                 "WHERE ($1::timestamptz IS NULL OR at >= $1::timestamptz) "
                 "AND ($2 = '' OR object_kind = $2) AND ($3 = '' OR object_name = $3) "
                 "ORDER BY at DESC, id DESC LIMIT $4",
                 since, query.objectKind, query.objectName, query.limit)) {
            AuditRow a;
            a.id = row[0].as<std::int64_t>();
            a.at = fromEpochMillis(row[1].as<std::int64_t>());
            a.actor = row[2].as<std::string>();
            a.action = row[3].as<std::string>();
            a.objectKind = row[4].as<std::string>();
            a.objectName = row[5].as<std::string>();
            a.field = optionalText(row[6]);
            a.oldValue = optionalText(row[7]);
            a.newValue = optionalText(row[8]);
            out.push_back(std::move(a));
        }
        return out;
    } catch (...) {
        pg::rethrowDbError("reading the audit trail");
    }
}

}  // namespace ss::cdr
