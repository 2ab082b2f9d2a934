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

    [Fact]
    public void Comment_deployment_and_run_fields_are_read_only_where_they_belong_and_escaped_names_count()
    {
        var json = """
            {"issue":{"user":{"login":"issue-author","type":"User"},"number":5,"pull_request":{"url":"u"}},
             "comment":{"reactions":{"type":"nope","login":"nope"},"user":{"type":"Bot","login":"octo-bot"},
                        "performed_via_github_app":{"type":"nope"},"body":"  .deploy to production  \nsecond line"},
             "deployment":{"payload":{"id":1,"environment":"nope"},"id":9,"environment":"staging"},
             "workflow_run":{"head_commit":{"event":"nope"},"event":"workflow_dispatch"},
             "\u0061ction":"created","hook\u005fid":12}
            """;

        var summary = PayloadSummary.Read(Encoding.UTF8.GetBytes(json));

        Assert.Equal("created", summary.Action);
        Assert.Equal(12, summary.HookId);
        Assert.Equal(5, summary.IssueNumber);
        Assert.True(summary.IssueIsPullRequest);
        Assert.Equal("Bot", summary.CommentUserType);
        Assert.Equal("octo-bot", summary.CommentUserLogin);
        Assert.Equal(".deploy to production", summary.CommentFirstLine);
        Assert.Equal(9, summary.DeploymentId);
        Assert.Equal("staging", summary.DeploymentEnvironment);
        Assert.Equal("workflow_dispatch", summary.WorkflowRunEvent);
        Assert.Null(summary.PullRequestNumber);
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
