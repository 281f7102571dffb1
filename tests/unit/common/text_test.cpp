// SPDX-License-Identifier: Apache-2.0
#include "common/text.h"

#include <gtest/gtest.h>

using ss::common::splitList;
using Items = std::vector<std::string>;

TEST(SplitList, ItemsAreTrimmedAndEmptyOnesKept)
{
    EXPECT_EQ(splitList(""), Items{});
    EXPECT_EQ(splitList("408"), (Items{"408"}));
    EXPECT_EQ(splitList("408, 480 ,5xx"), (Items{"408", "480", "5xx"}));
    EXPECT_EQ(splitList("a,,b"), (Items{"a", "", "b"}));
    EXPECT_EQ(splitList("a,"), (Items{"a", ""}));
    EXPECT_EQ(splitList(","), (Items{"", ""}));
    EXPECT_EQ(splitList("a;b", ';'), (Items{"a", "b"}));
}
