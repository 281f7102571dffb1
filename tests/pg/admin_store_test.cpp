// SPDX-License-Identifier: Apache-2.0
#include "cdr/admin_store.h"
#include "cdr/errors.h"
#include "pg_fixture.h"

#include <gmock/gmock.h>

namespace ss::pgtest {
namespace {

using ::testing::HasSubstr;

common::GatewayConfig termination(const std::string& name)
{
    common::GatewayConfig gw;
    gw.name = name;
    gw.role = common::GatewayRole::Termination;
    gw.host = "10.0.1.1";
    return gw;
}

class AdminStore : public PgTest {
protected:
    void SetUp() override
    {
        PgTest::SetUp();
        if (!IsSkipped() && !HasFailure()) {
            migrateSchema();
            store_.emplace(dsn_);
        }
    }
    cdr::AdminStore& store() { return *store_; }
    std::optional<cdr::AdminStore> store_;
};

// The message of the ValidationError `f` throws; fails the test if it throws nothing else.
template <class F>
std::string validationMessage(F&& f)
{
    try {
        f();
    } catch (const cdr::ValidationError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no ValidationError";
    return "";
}

TEST_F(AdminStore, AddsFindsListsAndRemovesGateways)
{
    auto gw = termination("term1");
    gw.options = {{"enable-100rel", "on"}};
    const auto stored = store().addGateway(gw);
    EXPECT_GT(stored.id, 0);
    EXPECT_EQ(stored.name, "term1");
    EXPECT_EQ(stored.options, gw.options);
    store().addGateway(termination("a-first"));

    const auto list = store().listGateways();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].name, "a-first");
    EXPECT_EQ(list[1].name, "term1");
    ASSERT_TRUE(store().findGateway("term1").has_value());
    EXPECT_EQ(store().findGateway("term1")->id, stored.id);
    EXPECT_FALSE(store().findGateway("nope").has_value());

    store().removeGateway("term1");
    EXPECT_FALSE(store().findGateway("term1").has_value());
    EXPECT_EQ(store().listGateways().size(), 1u);
}

TEST_F(AdminStore, ADuplicateGatewayNameIsRefusedAndChangesNothing)
{
    store().addGateway(termination("term1"));
    auto again = termination("term1");
    again.host = "10.9.9.9";
    EXPECT_THAT(validationMessage([&] { store().addGateway(again); }),
                HasSubstr("NAME: \"term1\" is not allowed"));
    ASSERT_EQ(store().listGateways().size(), 1u);
    EXPECT_EQ(store().listGateways()[0].host, "10.0.1.1");
}

TEST_F(AdminStore, AValueTheSchemaRefusesIsAValidationError)
{
    auto gw = termination("term1");
    gw.capacity = -1;
    EXPECT_THAT(validationMessage([&] { store().addGateway(gw); }), HasSubstr("term1"));
    EXPECT_TRUE(store().listGateways().empty());
}

TEST_F(AdminStore, RoutesNeedAnExistingTerminationGateway)
{
    store().addGateway(termination("term1"));
    auto orig = termination("orig1");
    orig.role = common::GatewayRole::Origination;
    store().addGateway(orig);

    EXPECT_THAT(validationMessage([&] { store().addRoute({0, "49", "nope", 100, 100, {}}); }),
                HasSubstr("--gateway: \"nope\" is not allowed"));
    EXPECT_THAT(validationMessage([&] { store().addRoute({0, "49", "orig1", 100, 100, {}}); }),
                HasSubstr("termination"));
    EXPECT_TRUE(store().listRoutes().empty());

    const auto route = store().addRoute({0, "49", "term1", 5, 7, {}});
    EXPECT_GT(route.id, 0);
    EXPECT_THAT(validationMessage([&] { store().addRoute({0, "49", "term1", 1, 1, {}}); }),
                HasSubstr("--prefix: \"49\""));
    const auto routes = store().listRoutes();
    ASSERT_EQ(routes.size(), 1u);
    EXPECT_EQ(routes[0].id, route.id);
    EXPECT_EQ(routes[0].gateway, "term1");
    EXPECT_EQ(routes[0].priority, 5);
    EXPECT_EQ(routes[0].weight, 7);
}

TEST_F(AdminStore, AGatewayThatRoutesUseCannotBeRemoved)
{
    store().addGateway(termination("term1"));
    const auto route = store().addRoute({0, "49", "term1", 100, 100, {}});
    EXPECT_THAT(validationMessage([&] { store().removeGateway("term1"); }),
                HasSubstr("1 route(s) still use it"));
    EXPECT_TRUE(store().findGateway("term1").has_value());

    store().removeRoute(route.id);
    EXPECT_TRUE(store().listRoutes().empty());
    store().removeGateway("term1");
    EXPECT_TRUE(store().listGateways().empty());
}

TEST_F(AdminStore, RemovingWhatDoesNotExistIsAValidationError)
{
    EXPECT_THAT(validationMessage([&] { store().removeGateway("nope"); }),
                HasSubstr("NAME: \"nope\""));
    EXPECT_THAT(validationMessage([&] { store().removeRoute(12345); }),
                HasSubstr("ID: \"12345\""));
}

TEST_F(AdminStore, RefusesAnUnmigratedDatabase)
{
    sql("DROP TABLE schema_version");
    EXPECT_THROW(cdr::AdminStore{dsn_}, ConfigError);
}

TEST(AdminStoreOffline, UnreachableDatabaseIsDbUnavailable)
{
    EXPECT_THROW(cdr::AdminStore{kUnreachableDsn}, cdr::DbUnavailable);
}

}  // namespace
}  // namespace ss::pgtest
