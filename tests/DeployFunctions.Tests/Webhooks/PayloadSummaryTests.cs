using System.Text;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;

namespace DeployFunctions.Tests.Webhooks;

public sealed class PayloadSummaryTests
{
    [Fact]
    public void Reads_the_routing_fields_of_a_real_pull_request_payload()
    {
        var example = WebhookExamples.DerivedMergedPullRequest();

        var summary = PayloadSummary.Read(WebhookExamples.Bytes(example));

        Assert.Equal("closed", summary.Action);
        Assert.True(summary.PullRequestMerged);
        Assert.Equal((long)example["pull_request"]!["number"]!, summary.PullRequestNumber);
        Assert.Equal((string?)example["repository"]!["full_name"], summary.RepositoryFullName);
        Assert.Equal((long?)example["installation"]?["id"], summary.InstallationId);
    }

    [Fact]
    public void Reads_the_hook_id_of_a_real_ping()
    {
        var example = WebhookExamples.Get("ping");

        var summary = PayloadSummary.Read(WebhookExamples.Bytes(example));

        Assert.Equal((long)example["hook_id"]!, summary.HookId);
    }

    [Fact]
    public void Nested_fields_with_the_same_names_do_not_confuse_it()
    {
        var json = """
            {"pull_request":{"head":{"repo":{"full_name":"fork/repo","id":9}},"merged":false,"number":7},
             "repository":{"owner":{"id":5},"full_name":"base/repo"},"action":"closed",
             "installation":{"account":{"id":3},"id":42}}
            """;

        var summary = PayloadSummary.Read(Encoding.UTF8.GetBytes(json));

        Assert.Equal("base/repo", summary.RepositoryFullName);
        Assert.Equal(42, summary.InstallationId);
        Assert.Equal(7, summary.PullRequestNumber);
        Assert.False(summary.PullRequestMerged);
    }

    [Theory]
    [InlineData("", "the payload is empty")]
    [InlineData("   ", "the payload is empty")]
    [InlineData("[1,2]", "not an object")]
    [InlineData("\"text\"", "not an object")]
    [InlineData("null", "not an object")]
    [InlineData("{\"action\":\"closed\"", "not valid JSON")]
    [InlineData("{\"action\":\"closed\"} trailing", "not valid JSON")]
    [InlineData("{'action':'closed'}", "not valid JSON")]
    public void Anything_but_one_JSON_object_is_refused_with_a_reason(string json, string reason)
    {
        var exception = Assert.Throws<InvalidPayloadException>(() => PayloadSummary.Read(Encoding.UTF8.GetBytes(json)));

        Assert.Contains(reason, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_is_refused()
    {
        byte[] json = [.. "{\"action\":\""u8, 0xC3, 0x28, .. "\"}"u8];

        Assert.Throws<InvalidPayloadException>(() => PayloadSummary.Read(json));
    }

    [Fact]
    public void Absurdly_deep_nesting_is_refused_not_a_stack_overflow()
    {
        var json = "{\"a\":" + new string('[', 10_000) + new string(']', 10_000) + "}";

        Assert.Throws<InvalidPayloadException>(() => PayloadSummary.Read(Encoding.UTF8.GetBytes(json)));
    }
}
