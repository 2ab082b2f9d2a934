using System.Text.Json.Nodes;
using DeployFunctions.Deployments;
using DeployFunctions.Ledger;
using DeployFunctions.Maintenance;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using GitHubStandIn;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Maintenance;

/// <summary>
/// What the watchdog must leave alone (legitimate waits), what it must repair (a result whose status never reached GitHub),
/// and that one entry GitHub refuses never stops a timer's run for the rest.
/// </summary>
public sealed class WatchdogWaitsTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string Repository = "Codertocat/Hello-World";
    private const string MergeSha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";

    private static Task<WatchdogReport> WatchAsync(Support.Pipeline pipeline) =>
        pipeline.Services.GetRequiredService<DeploymentWatchdog>().RunAsync(CancellationToken.None);

    [Fact]
    public async Task A_merge_the_runner_holds_through_a_freeze_that_began_after_its_approval_is_left_waiting()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s =>
        {
            s["Environments:production:WatchdogMinutes"] = "0.005"; // 0.3 s
            s["Commands:LockWaitMinutes"] = "0";
        });
        pipeline.GitHub.State.OpenPullRequest(pipeline.GitHub.State.Repository("Codertocat", "Hello-World", "master"), 2, MergeSha).State = "closed";
        // GitHub creates the deployment but its answer is lost; meanwhile a freeze begins in the repository's file.
        pipeline.GitHub.State.AddFault(new Fault("POST", "/repos/Codertocat/Hello-World/deployments", 0) { AfterHandling = true, Delay = TimeSpan.FromSeconds(8) });
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment created");
        pipeline.GitHub.State.Files[(Repository, ".github/deployfunctions.yml")] =
            $"environments:\n  production:\n    freezes:\n      - from: {DateTimeOffset.UtcNow.AddMinutes(-1):O}\n        until: {DateTimeOffset.UtcNow.AddHours(1):O}\n        reason: late freeze\n";
        var ledger = pipeline.Services.GetRequiredService<IDeploymentLedger>();
        var id = pipeline.Deployments()[0].Id;
        await Eventually.TrueAsync(async () => await ledger.FindDeploymentAsync(Repository, "production", id, CancellationToken.None) is { HeldFor: not null },
            "the runner holding it for the freeze");
        await Task.Delay(500); // well past the watchdog's limit

        var report = await WatchAsync(pipeline);

        Assert.Equal(0, report.Settled);
        Assert.DoesNotContain("error", pipeline.StatesOf(pipeline.Deployments()[0]));
        var held = await ledger.FindDeploymentAsync(Repository, "production", id, CancellationToken.None);
        Assert.Equal(LedgerState.Created, held!.State);
        Assert.Contains("late freeze", held.HeldFor, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_whose_runner_still_holds_the_environments_lease_is_not_stuck_and_one_whose_runner_died_is()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s => s["Environments:production:WatchdogMinutes"] = "1");
        var entry = await StartedAsync(pipeline, DateTimeOffset.UtcNow.AddMinutes(-10));
        var leases = pipeline.Services.GetRequiredService<ILeaseLocks>();

        await using (var runner = await leases.TryAcquireAsync(LockKeys.Environment(Repository, "production"), CancellationToken.None))
        {
            Assert.NotNull(runner); // its runner is at work (a hook within its own timeout)
            Assert.Equal(0, (await WatchAsync(pipeline)).Settled);
        }

        var after = await WatchAsync(pipeline); // the runner's process died: its lease lapsed

        Assert.Equal(1, after.Settled);
        Assert.Equal(["error"], pipeline.StatesOf(pipeline.Deployments().Single(d => d.Id == entry.DeploymentId)));
    }

    [Fact]
    public async Task A_result_whose_status_post_failed_is_posted_by_the_watchdog()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s => s["Environments:production:WatchdogMinutes"] = "0.005");
        var entry = await StartedAsync(pipeline, DateTimeOffset.UtcNow.AddSeconds(-5));
        var ledger = pipeline.Services.GetRequiredService<IDeploymentLedger>();
        // A hook's report was recorded; the post of its status then failed (GitHub down), and nobody asked again.
        await ledger.UpdateAsync(entry with { State = LedgerState.Succeeded, ResultDescription = "Deployed by the hook" }, CancellationToken.None);
        await Task.Delay(500);

        var report = await WatchAsync(pipeline);
        var again = await WatchAsync(pipeline);

        Assert.Equal((1, 0), (report.Repaired, again.Repaired));
        Assert.Equal(["success"], pipeline.StatesOf(pipeline.Deployments().Single(d => d.Id == entry.DeploymentId)));
        Assert.True((await ledger.FindDeploymentAsync(Repository, "production", entry.DeploymentId!.Value, CancellationToken.None))!.Reported);
    }

    [Fact]
    public async Task One_repository_GitHub_refuses_does_not_stop_the_watchdog_for_the_others()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s => s["Environments:production:WatchdogMinutes"] = "0.005");
        var broken = await StartedAsync(pipeline, DateTimeOffset.UtcNow.AddMinutes(-1), "aaa/uninstalled"); // listed first
        var healthy = await StartedAsync(pipeline, DateTimeOffset.UtcNow.AddMinutes(-1));
        pipeline.GitHub.State.AddFault(new Fault("POST", $"/repos/aaa/uninstalled/deployments/{broken.DeploymentId}/statuses", 404, """{"message":"Not Found"}"""));

        var report = await WatchAsync(pipeline);

        Assert.Equal((1, 1), (report.Settled, report.Failed));
        Assert.Equal(["error"], pipeline.StatesOf(pipeline.Deployments().Single(d => d.Id == healthy.DeploymentId)));
    }

    [Fact]
    public async Task One_hook_GitHub_refuses_does_not_stop_the_sweeper_for_the_others()
    {
        await using var down = await RecordingServer.StartAsync();
        down.Status = 503;
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s => s["Sweeper:Hooks"] = "gone/repository#1;Codertocat/Hello-World#424242");
        var gitHub = pipeline.GitHub;
        gitHub.WebhookUrl = down.Url;
        gitHub.Send("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await Eventually.TrueAsync(() => gitHub.State.DeliveryLog().Count == 1, "the merge's failed delivery");
        gitHub.WebhookUrl = pipeline.Ingress.WebhookUrl;

        var report = await pipeline.Services.GetRequiredService<DeliverySweeper>().RunAsync(CancellationToken.None);

        Assert.Equal((1, 1), (report.Failed, report.Redelivered)); // the first hook is gone (404); the second is swept
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the merge deployed from the redelivery");
    }

    [Fact]
    public async Task A_deployment_still_queued_gets_the_lock_wait_on_top_of_its_limit_before_it_is_called_stuck()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s =>
        {
            s["Environments:production:WatchdogMinutes"] = "0.005"; // 0.3 s
            s["Commands:LockWaitMinutes"] = "120"; // it may be waiting for a lock the runner has not recorded yet
        });
        var started = await StartedAsync(pipeline, DateTimeOffset.UtcNow.AddMinutes(-1));
        var ledger = pipeline.Services.GetRequiredService<IDeploymentLedger>();
        var queued = await ledger.UpdateAsync(started with { State = LedgerState.Created, StartedAt = null }, CancellationToken.None);
        await Task.Delay(500);

        Assert.Equal(0, (await WatchAsync(pipeline)).Settled);

        await ledger.UpdateAsync(queued with { State = LedgerState.Started, StartedAt = DateTimeOffset.UtcNow.AddMinutes(-1) }, CancellationToken.None);
        Assert.Equal(1, (await WatchAsync(pipeline)).Settled); // a started one gets no lock wait: its limit is its limit
    }

    /// <summary>A ledger deployment of <paramref name="repository"/> (created on the stand-in) that started at <paramref name="at"/>.</summary>
    private static async Task<LedgerEntry> StartedAsync(Support.Pipeline pipeline, DateTimeOffset at, string repository = Repository)
    {
        var (owner, name) = DeployFunctions.GitHub.GitHubNames.Split(repository);
        var deployment = new StandInDeployment
        {
            Id = pipeline.GitHub.State.NextDeploymentId(), Repository = pipeline.GitHub.State.Repository(owner, name), Sha = MergeSha, Ref = MergeSha,
            Task = "deploy", Environment = "production", Creator = StandInState.AppLogin, CreatedAt = at, Request = new JsonObject(),
        };
        lock (pipeline.GitHub.State.Gate)
        {
            pipeline.GitHub.State.Deployments.Add(deployment);
        }

        var ledger = pipeline.Services.GetRequiredService<IDeploymentLedger>();
        var approval = await ledger.ApproveAsync(new LedgerEntry
        {
            Repository = repository, Environment = "production", Sha = MergeSha, Ref = MergeSha, BaseBranch = "master", Source = LedgerSources.Merge,
            PullRequest = 2, RequestedBy = "Codertocat", Reason = "merged", Order = at, Payload = "{}", DeliveryId = "d-" + deployment.Id,
        }, CancellationToken.None);
        var created = await ledger.RecordCreatedAsync(approval, deployment.Id, CancellationToken.None);
        return await ledger.UpdateAsync(created with { State = LedgerState.Started, StartedAt = at }, CancellationToken.None);
    }
}
