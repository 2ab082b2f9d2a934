using System.Text.Json.Nodes;
using DeployFunctions.Ledger;
using DeployFunctions.Maintenance;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Maintenance;

/// <summary>The timer functions' work (watchdog, poison watch, delivery sweeper) on real Azurite and the GitHub stand-in.</summary>
public sealed class MaintenanceTests(Azurite azurite) : IClassFixture<Azurite>
{
    [Fact]
    public async Task The_watchdog_turns_a_stuck_deployment_to_error_exactly_once_across_two_concurrent_runs()
    {
        await using var notifications = await RecordingServer.StartAsync();
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s =>
        {
            s["Environments:production:Provider"] = "github-actions";
            s["Environments:production:Workflow"] = "deploy.yml";
            s["Environments:production:WatchdogMinutes"] = "0.005"; // 0.3 s
            s["Notifications:WebhookUrl"] = notifications.Url.ToString();
        });
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await HandedOffAsync(pipeline);
        lock (pipeline.GitHub.State.Gate)
        {
            pipeline.GitHub.State.WorkflowRuns.Clear(); // the run is gone (deleted): nothing will ever settle the deployment
        }

        await Task.Delay(500);

        var reports = await Task.WhenAll(
            pipeline.Services.GetRequiredService<DeploymentWatchdog>().RunAsync(CancellationToken.None),
            pipeline.Services.GetRequiredService<DeploymentWatchdog>().RunAsync(CancellationToken.None));
        var again = await pipeline.Services.GetRequiredService<DeploymentWatchdog>().RunAsync(CancellationToken.None);

        var deployment = Assert.Single(pipeline.Deployments());
        Assert.Equal(["in_progress", "error"], pipeline.StatesOf(deployment));
        Assert.Equal(1, reports.Sum(r => r.Settled));
        Assert.Equal(0, again.Settled);
        Assert.Contains("No result within 0 minutes", deployment.Statuses.Last().Description, StringComparison.Ordinal);
        // One notification of the error, by the status log when GitHub's deployment_status event comes back; none besides.
        await Eventually.TrueAsync(() => notifications.Received.Any(n => n.Body.Contains("watchdog", StringComparison.Ordinal)), "the notification");
        await Task.Delay(1000);
        Assert.Single(notifications.Received, n => n.Body.Contains("watchdog", StringComparison.Ordinal));
        var entry = await pipeline.Services.GetRequiredService<IDeploymentLedger>().FindDeploymentAsync(
            "Codertocat/Hello-World", "production", deployment.Id, CancellationToken.None);
        Assert.Equal(LedgerState.Errored, entry!.State);
    }

    [Fact]
    public async Task A_watchdog_run_that_died_between_its_claim_and_the_status_is_finished_by_the_next_run()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s =>
        {
            s["Environments:production:Provider"] = "github-actions";
            s["Environments:production:Workflow"] = "deploy.yml";
            s["Environments:production:WatchdogMinutes"] = "0.005";
        });
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await Eventually.TrueAsync(() => pipeline.GitHub.State.Requests.Any(r => r.Path.EndsWith("/dispatches", StringComparison.Ordinal)), "the dispatch");
        var ledger = pipeline.Services.GetRequiredService<IDeploymentLedger>();
        var deployment = Assert.Single(pipeline.Deployments());
        await Eventually.TrueAsync(async () => (await ledger.FindDeploymentAsync("Codertocat/Hello-World", "production", deployment.Id, CancellationToken.None))!.State == LedgerState.HandedOff, "handed off");
        var entry = await ledger.FindDeploymentAsync("Codertocat/Hello-World", "production", deployment.Id, CancellationToken.None);
        // The crash: a run claimed it and died before posting anything.
        await ledger.UpdateAsync(entry! with { State = LedgerState.TimedOut, ResultDescription = "No result within 0 minutes (DeployFunctions watchdog)" }, CancellationToken.None);

        var next = await pipeline.Services.GetRequiredService<DeploymentWatchdog>().RunAsync(CancellationToken.None);
        var after = await pipeline.Services.GetRequiredService<DeploymentWatchdog>().RunAsync(CancellationToken.None);

        Assert.Equal((1, 0), (next.Settled, after.Settled));
        Assert.Equal(["in_progress", "error"], pipeline.StatesOf(deployment));
        Assert.Equal(LedgerState.Errored, (await ledger.FindDeploymentAsync("Codertocat/Hello-World", "production", deployment.Id, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task The_watchdog_settles_a_deployment_whose_workflow_run_completed_when_the_runs_event_was_lost()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s =>
        {
            s["Environments:production:Provider"] = "github-actions";
            s["Environments:production:Workflow"] = "deploy.yml";
            s["Environments:production:WatchdogMinutes"] = "0.005";
        });
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await HandedOffAsync(pipeline);
        var deployment = Assert.Single(pipeline.Deployments());
        lock (pipeline.GitHub.State.Gate)
        {
            // The run ended on GitHub; its workflow_run delivery never arrived.
            var run = pipeline.GitHub.State.WorkflowRuns.Single();
            (run.Status, run.Conclusion) = ("completed", "success");
        }

        var report = await pipeline.Services.GetRequiredService<DeploymentWatchdog>().RunAsync(CancellationToken.None);

        Assert.Equal((0, 1), (report.Settled, report.Reported));
        Assert.Equal(["in_progress", "success"], pipeline.StatesOf(deployment));
        Assert.Contains("/actions/runs/", deployment.Statuses.Last().LogUrl, StringComparison.Ordinal);
        var entry = await pipeline.Services.GetRequiredService<IDeploymentLedger>().FindDeploymentAsync(
            "Codertocat/Hello-World", "production", deployment.Id, CancellationToken.None);
        Assert.Equal((LedgerState.Succeeded, true), (entry!.State, entry.Reported));
    }

    [Fact]
    public async Task The_watchdog_lets_a_workflow_run_that_is_still_running_wait()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s =>
        {
            s["Environments:production:Provider"] = "github-actions";
            s["Environments:production:Workflow"] = "deploy.yml";
            s["Environments:production:WatchdogMinutes"] = "0.005";
        });
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await HandedOffAsync(pipeline);
        await Task.Delay(500); // past the limit, but its run is still queued

        var report = await pipeline.Services.GetRequiredService<DeploymentWatchdog>().RunAsync(CancellationToken.None);

        Assert.Equal((0, 0), (report.Settled, report.Reported));
        Assert.Equal(["in_progress"], pipeline.StatesOf(Assert.Single(pipeline.Deployments())));
    }

    /// <summary>Waits until the merge's deployment was handed to its workflow run (recorded in the ledger with the run).</summary>
    private static async Task HandedOffAsync(Support.Pipeline pipeline)
    {
        var ledger = pipeline.Services.GetRequiredService<IDeploymentLedger>();
        await Eventually.TrueAsync(async () => pipeline.Deployments().Count == 1 &&
            (await ledger.FindDeploymentAsync("Codertocat/Hello-World", "production", pipeline.Deployments()[0].Id, CancellationToken.None)) is { State: LedgerState.HandedOff, RunId: not null },
            "handed to its workflow run");
    }

    [Fact]
    public async Task A_poisoned_message_is_notified_once_with_its_delivery_and_reason()
    {
        await using var notifications = await RecordingServer.StartAsync();
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s => s["Notifications:WebhookUrl"] = notifications.Url.ToString());
        var envelope = new WebhookEnvelope
        {
            DeliveryId = "poisoned-by-the-app", Event = "pull_request", Action = "closed", ReceivedAt = DateTimeOffset.UtcNow, Repository = "octo/app",
        };
        var retries = pipeline.Services.GetRequiredService<IDeliveryRetries>();
        await retries.PoisonAsync(DeliveryQueueKind.PullRequests, new QueuedDelivery(envelope, "{}"u8.ToArray()), CancellationToken.None,
            "GitHub refused: merge conflict");
        // The host's own move: the original message, unchanged, with no reason.
        var hostMove = envelope with { DeliveryId = "poisoned-by-the-host", Event = "deployment", Action = "created" };
        await pipeline.Azurite.Queues().GetQueueClient(pipeline.Prefix + "-deployments-poison")
            .SendCreatingQueueAsync(BinaryData.FromBytes(hostMove.Serialize("{}"u8)), null, CancellationToken.None);

        var watch = pipeline.Services.GetRequiredService<PoisonWatch>();
        var first = await Task.WhenAll(watch.RunAsync(CancellationToken.None), watch.RunAsync(CancellationToken.None));
        var second = await watch.RunAsync(CancellationToken.None);

        Assert.Equal((2, 0), (first.Sum(), second));
        await Eventually.TrueAsync(() => notifications.Received.Count == 2, "two notifications");
        var texts = notifications.Received.Select(n => (string)JsonNode.Parse(n.Body)!["text"]!).ToList();
        Assert.Contains(texts, t => t.Contains("poisoned-by-the-app", StringComparison.Ordinal) && t.Contains("merge conflict", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.Contains("poisoned-by-the-host", StringComparison.Ordinal) && t.Contains("by the Functions host", StringComparison.Ordinal));
        Assert.Equal(1, await pipeline.PoisonCountAsync("pull-requests")); // peeked, never taken: still there for a replay
    }

    [Fact]
    public async Task The_sweeper_redelivers_a_failed_delivery_once_and_leaves_a_delivered_one()
    {
        await using var down = await RecordingServer.StartAsync();
        down.Status = 503; // the app during a storage outage
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s => s["Sweeper:Hooks"] = "Codertocat/Hello-World#424242");
        var gitHub = pipeline.GitHub;
        gitHub.Send("ping", new JsonObject { ["zen"] = "Keep it logically awesome.", ["hook_id"] = 424242 });
        await Eventually.TrueAsync(() => gitHub.State.DeliveryLog().Count == 1, "the ping delivered");
        gitHub.WebhookUrl = down.Url;
        gitHub.Send("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await Eventually.TrueAsync(() => gitHub.State.DeliveryLog().Count == 2, "the merge's failed delivery");
        Assert.Equal(503, gitHub.State.DeliveryLog()[1].StatusCode);
        gitHub.WebhookUrl = pipeline.Ingress.WebhookUrl; // storage is back

        var sweeper = pipeline.Services.GetRequiredService<DeliverySweeper>();
        var reports = await Task.WhenAll(sweeper.RunAsync(CancellationToken.None), sweeper.RunAsync(CancellationToken.None));
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the merge deployed from the redelivery");
        var later = await sweeper.RunAsync(CancellationToken.None);

        Assert.Equal(1, reports.Sum(r => r.Redelivered));
        Assert.Equal(0, later.Redelivered);
        Assert.Equal(1, gitHub.State.Redeliveries);
        var merges = gitHub.State.DeliveryLog().Where(d => d.Event == "pull_request").ToList();
        Assert.Equal(2, merges.Count);
        Assert.Equal((merges[0].DeliveryGuid, true, 202), (merges[1].DeliveryGuid, merges[1].Redelivery, merges[1].StatusCode)); // same GUID, as GitHub redelivers
        Assert.Single(gitHub.State.DeliveryLog(), d => d.Event == "ping"); // delivered: never asked again
        Assert.Single(down.Received);
    }

    [Fact]
    public async Task The_sweepers_three_day_window_counts_from_a_deliverys_first_failed_attempt_not_its_last()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s => s["Sweeper:Hooks"] = "Codertocat/Hello-World#424242");
        var state = pipeline.GitHub.State;
        var payload = WebhookExamples.DerivedMergedPullRequest();
        // First attempt four days ago, a redelivery an hour ago: both failed. GitHub no longer redelivers it.
        state.RecordDelivery(new GitHubStandIn.StandInDelivery(state.NextId(), "old-guid", "pull_request", "closed", 503, DateTimeOffset.UtcNow.AddDays(-4), false, payload));
        state.RecordDelivery(new GitHubStandIn.StandInDelivery(state.NextId(), "old-guid", "pull_request", "closed", 503, DateTimeOffset.UtcNow.AddHours(-1), true, payload));

        var report = await pipeline.Services.GetRequiredService<DeliverySweeper>().RunAsync(CancellationToken.None);

        Assert.Equal((1, 0), (report.FailedSeen, report.Redelivered));
        Assert.Equal(0, state.Redeliveries);
    }

    [Theory]
    [InlineData(DeliveryQueueKind.Commands)]
    [InlineData(DeliveryQueueKind.ProtectionRules)]
    [InlineData(DeliveryQueueKind.DeploymentStatuses)]
    public async Task The_poison_watch_reads_every_queues_poison_queue(DeliveryQueueKind queue)
    {
        await using var notifications = await RecordingServer.StartAsync();
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s => s["Notifications:WebhookUrl"] = notifications.Url.ToString());
        var envelope = new WebhookEnvelope { DeliveryId = "poisoned-" + queue, Event = "issue_comment", Action = "created", ReceivedAt = DateTimeOffset.UtcNow, Repository = "octo/app" };
        await pipeline.Services.GetRequiredService<IDeliveryRetries>().PoisonAsync(queue, new QueuedDelivery(envelope, "{}"u8.ToArray()), CancellationToken.None, "gave up");

        Assert.Equal(1, await pipeline.Services.GetRequiredService<PoisonWatch>().RunAsync(CancellationToken.None));

        await Eventually.TrueAsync(() => notifications.Received.Any(n => n.Body.Contains("poisoned-" + queue, StringComparison.Ordinal)), "the notification");
    }
}
