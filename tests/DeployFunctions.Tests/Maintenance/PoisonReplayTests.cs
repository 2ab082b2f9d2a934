using System.Text;
using DeployFunctions.Maintenance;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using GitHubStandIn;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.Maintenance;

/// <summary>The operator's look at the poison queues and the replay after a fix, on real Azurite.</summary>
public sealed class PoisonReplayTests(Azurite azurite) : IClassFixture<Azurite>
{
    [Fact]
    public async Task A_merge_poisoned_by_a_permanent_refusal_deploys_once_after_a_replay_and_leaves_no_poison_copy()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 409, """{"message":"Conflict merging main into topic."}"""));
        var merge = WebhookExamples.DerivedMergedPullRequest();
        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", merge, "poisoned-merge"));
        await Eventually.TrueAsync(() => pipeline.PoisonCountAsync("pull-requests").Result == 1, "the delivery in poison");
        var poison = pipeline.Services.GetRequiredService<PoisonQueues>();

        var look = Assert.Single(await poison.ListAsync(CancellationToken.None));
        Assert.Equal(("poisoned-merge", "pull_request", "closed"), (look.DeliveryId, look.Event, look.Action));
        Assert.Contains("Conflict merging", look.Reason, StringComparison.Ordinal);

        var replay = await poison.ReplayAsync(pipeline.Prefix + "-pull-requests", null, CancellationToken.None);

        Assert.Equal("poisoned-merge", Assert.Single(replay.Replayed).DeliveryId);
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the replayed merge deployed");
        Assert.Equal(0, await pipeline.PoisonCountAsync("pull-requests"));
        Assert.Empty((await poison.ReplayAsync(pipeline.Prefix + "-pull-requests", null, CancellationToken.None)).Replayed);
        await Task.Delay(500);
        Assert.Single(pipeline.Deployments());
    }

    [Fact]
    public async Task The_poison_watch_and_the_look_read_every_message_not_only_the_32_a_peek_shows()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var poisonQueue = pipeline.Azurite.Queues().GetQueueClient(pipeline.Prefix + "-deployments-poison");
        for (var i = 0; i < 40; i++)
        {
            var hostMove = Envelope($"host-move-{i}");
            await poisonQueue.SendCreatingQueueAsync(BinaryData.FromBytes(hostMove.Serialize("{}"u8)), null, CancellationToken.None);
        }

        var notified = await pipeline.Services.GetRequiredService<PoisonWatch>().RunAsync(CancellationToken.None);
        var look = await pipeline.Services.GetRequiredService<PoisonQueues>().ListAsync(CancellationToken.None);

        Assert.Equal(40, notified);
        Assert.Equal(40, look.Select(m => m.DeliveryId).Distinct().Count());
        Assert.All(look, m => Assert.Contains("by the Functions host", m.Reason, StringComparison.Ordinal));
        Assert.Equal(40, await pipeline.PoisonCountAsync("deployments")); // read, never taken: all still there for a replay
    }

    [Fact]
    public async Task A_replay_moves_back_only_the_delivery_named_as_it_was_first_queued_and_leaves_what_is_not_an_envelope()
    {
        var prefix = "replay" + Guid.NewGuid().ToString("N")[..8];
        var names = new StorageNamesOptions { PullRequestsQueue = prefix + "-pull-requests" };
        var queues = azurite.Queues();
        var poisonQueue = queues.GetQueueClient(names.PullRequestsQueue + "-poison");
        var inline = Envelope("inline") with { Attempt = 3, PoisonReason = "GitHub refused: 422" };
        var claimChecked = Envelope("claim-checked") with { PayloadBlob = "webhook-payloads/2026-11-30/abc.json", PoisonReason = "gave up" };
        await poisonQueue.SendCreatingQueueAsync(BinaryData.FromBytes(inline.Serialize("""{"number":7}"""u8)), null, CancellationToken.None);
        await poisonQueue.SendCreatingQueueAsync(BinaryData.FromBytes(claimChecked.Serialize([])), null, CancellationToken.None);
        await poisonQueue.SendCreatingQueueAsync(BinaryData.FromString("not an envelope"), null, CancellationToken.None);
        var poison = new PoisonQueues(queues, Options.Create(names), NullLogger<PoisonQueues>.Instance);

        var first = await poison.ReplayAsync(names.PullRequestsQueue, "inline", CancellationToken.None);
        var second = await poison.ReplayAsync(names.PullRequestsQueue, null, CancellationToken.None);

        Assert.Equal(("inline", 2), (Assert.Single(first.Replayed).DeliveryId, first.Left));
        Assert.Equal(("claim-checked", 1), (Assert.Single(second.Replayed).DeliveryId, second.Left));
        var left = Assert.Single((await poisonQueue.PeekMessagesAsync(32)).Value);
        Assert.Equal("not an envelope", left.Body.ToString());
        var replayed = (await queues.GetQueueClient(names.PullRequestsQueue).ReceiveMessagesAsync(32)).Value
            .Select(m => (Envelope: WebhookEnvelope.Deserialize(m.Body.ToMemory(), out var payload), Payload: Encoding.UTF8.GetString(payload.Span)))
            .OrderBy(m => m.Envelope.DeliveryId, StringComparer.Ordinal).ToList();
        Assert.Equal(2, replayed.Count);
        Assert.Equal(claimChecked with { PoisonReason = null }, replayed[0].Envelope);
        Assert.Equal(inline with { PoisonReason = null, Attempt = 0 }, replayed[1].Envelope);
        Assert.Equal("""{"number":7}""", replayed[1].Payload);
    }

    [Fact]
    public async Task A_replay_onto_a_queue_the_app_does_not_have_is_refused()
    {
        var poison = new PoisonQueues(azurite.Queues(), Options.Create(new StorageNamesOptions()), NullLogger<PoisonQueues>.Instance);

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => poison.ReplayAsync("github-elsewhere", null, CancellationToken.None));

        Assert.Contains("github-pull-requests", refused.Message, StringComparison.Ordinal);
    }

    private static WebhookEnvelope Envelope(string deliveryId) => new()
    {
        DeliveryId = deliveryId, Event = "pull_request", Action = "closed", ReceivedAt = new DateTimeOffset(2026, 11, 30, 3, 0, 0, TimeSpan.Zero),
        Repository = "octo/app", HookId = 1, InstallationId = 2,
    };
}
