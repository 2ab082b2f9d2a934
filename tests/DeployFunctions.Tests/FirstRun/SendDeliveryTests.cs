using System.Text.Json;
using System.Text.Json.Nodes;
using DeployFunctions.Tests.Support;
using GitHubStandIn;
using Octokit.Webhooks.Events.PullRequest;

namespace DeployFunctions.Tests.FirstRun;

/// <summary>The send-delivery command against the real ingress (its function behind Kestrel, real Azurite).</summary>
public sealed class SendDeliveryTests(Azurite azurite) : IClassFixture<Azurite>
{
    [Fact]
    public async Task Built_in_merged_pull_request_is_a_merged_pull_request_with_a_fresh_merge_commit()
    {
        var first = DeliverySender.MergedPullRequest();
        var second = DeliverySender.MergedPullRequest();

        var merged = JsonSerializer.Deserialize<PullRequestClosedEvent>(first.Body)!;
        Assert.Equal("closed", merged.Action);
        Assert.True(merged.PullRequest.Merged);
        Assert.Equal(merged.Repository!.DefaultBranch, merged.PullRequest.Base.Ref);
        Assert.NotEqual(merged.PullRequest.MergeCommitSha,
            JsonSerializer.Deserialize<PullRequestClosedEvent>(second.Body)!.PullRequest.MergeCommitSha);
    }

    [Fact]
    public async Task Merge_command_is_queued_by_the_ingress()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        using var http = new HttpClient();

        var (status, answer) = await DeliverySender.SendAsync(http, pipeline.Ingress.WebhookUrl, DeliverySender.MergedPullRequest("octo/app"), Deliveries.Secret);

        Assert.Equal(202, status);
        Assert.Equal("queued", (string?)JsonNode.Parse(answer)!["status"]);
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment");
        Assert.Equal("octo/app", pipeline.Deployments()[0].Repository.FullName);
    }

    [Fact]
    public async Task A_delivery_saved_from_GitHubs_recent_deliveries_is_signed_again_and_accepted()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        using var http = new HttpClient();
        var payload = WebhookExamples.Get("pull_request", "opened").ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        var saved = $"""
            Request URL: https://example.com/api/github/webhooks
            Request method: POST
            Accept: */*
            content-type: application/json
            User-Agent: GitHub-Hookshot/c9d6c0a
            X-GitHub-Delivery: 0b989ba4-242f-11e5-81e1-c7b6966d2516
            X-GitHub-Event: pull_request
            X-GitHub-Hook-ID: 292430182
            X-Hub-Signature-256: sha256=0000000000000000000000000000000000000000000000000000000000000000

            {payload}
            """;

        var delivery = DeliverySender.Parse(saved);
        var (status, answer) = await DeliverySender.SendAsync(http, pipeline.Ingress.WebhookUrl, delivery, Deliveries.Secret);

        Assert.Equal("0b989ba4-242f-11e5-81e1-c7b6966d2516", delivery.DeliveryId);
        Assert.Equal(200, status);
        Assert.Equal("ignored", (string?)JsonNode.Parse(answer)!["status"]);
        Assert.Contains("'opened' is not handled", (string?)JsonNode.Parse(answer)!["reason"], StringComparison.Ordinal);
    }

    [Fact]
    public void A_saved_delivery_without_a_blank_line_or_event_is_refused_with_a_reason()
    {
        Assert.Contains("blank line", Assert.Throws<FormatException>(() => DeliverySender.Parse("X-GitHub-Event: ping")).Message, StringComparison.Ordinal);
        Assert.Contains("X-GitHub-Event", Assert.Throws<FormatException>(() => DeliverySender.Parse("Accept: */*\n\n{}")).Message, StringComparison.Ordinal);
    }
}
