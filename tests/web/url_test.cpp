// SPDX-License-Identifier: Apache-2.0
#include "web/url.h"

#include <gtest/gtest.h>

namespace ss::web {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

TEST(PercentDecode, DecodesEscapesAndOptionallyPlus)
{
    EXPECT_EQ(percentDecode("a%2Fb%40c", false), "a/b@c");
    EXPECT_EQ(percentDecode("a+b", false), "a+b");
    EXPECT_EQ(percentDecode("a+b", true), "a b");
    EXPECT_EQ(percentDecode("%e2%82%AC", false), "\xE2\x82\xAC");
    EXPECT_EQ(percentDecode("", false), "");
}

TEST(PercentDecode, RefusesBrokenEscapesAndNul)
{
    for (const char* bad : {"%", "%2", "a%", "%zz", "%g0", "%00", "ab%0"}) {
        EXPECT_FALSE(percentDecode(bad, false)) << bad;
    }
}

TEST(PercentEncode, RoundTrips)
{
    const std::string raw = "a/b c@d?e=f&g%\xff";
    EXPECT_EQ(percentEncode("AZaz09-._~"), "AZaz09-._~");
    EXPECT_EQ(percentEncode("a/b"), "a%2Fb");
    EXPECT_EQ(percentDecode(percentEncode(raw), false), raw);
}

TEST(ParseTarget, SplitsPathAndDecodesQuery)
{
    const auto t = parseTarget("/api/v1/cdrs?since=-1h&caller=%2B49&&flag&x=a+b#frag");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->path, "/api/v1/cdrs");
    EXPECT_EQ(t->query,
              (Query{{"since", "-1h"}, {"caller", "+49"}, {"flag", ""}, {"x", "a b"}}));
    EXPECT_EQ(parseTarget("/p")->query, Query{});
    EXPECT_EQ(parseTarget("/p?")->query, Query{});
    EXPECT_EQ(parseTarget("/a%2Fb?x=1")->path, "/a%2Fb");  // the path stays encoded
}

TEST(ParseTarget, RefusesWhatIsNotAnOriginFormPath)
{
    for (const char* bad : {"", "*", "http://h/p", "p", "/p?a=%", "/p?%zz=1"}) {
        EXPECT_FALSE(parseTarget(bad)) << bad;
    }
}

TEST(Loggable, EscapesControlBytesAndCutsLongText)
{
    EXPECT_EQ(loggable("/a?b=1"), "/a?b=1");
    EXPECT_EQ(loggable("a\r\nb\xff\\"), "a\\x0d\\x0ab\\xff\\x5c");
    EXPECT_EQ(loggable(std::string(300, 'x')), std::string(200, 'x') + "...");
}

}  // namespace
}  // namespace ss::web
