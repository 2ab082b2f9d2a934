using System.Text.Json.Nodes;
using DeployFunctions.Commands;
using DeployFunctions.Deployments;
using DeployFunctions.GitHub;
using DeployFunctions.Ledger;
using DeployFunctions.Policy;
using DeployFunctions.Providers;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Octokit;

namespace DeployFunctions.Tests.Deployments;

/// <summary>The runner's decisions and state transitions, with GitHub, the ledger, the lock and the provider substituted.</summary>
public sealed class DeploymentRunnerTests
{
    private const long Id = 145988746;
    private const string Sha = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
    private readonly IGitHubClientFactory clients = Substitute.For<IGitHubClientFactory>();
    private readonly IGitHubClient github = Substitute.For<IGitHubClient>();
    private readonly ILeaseLocks locks = Substitute.For<ILeaseLocks>();
    private readonly ILeaseLock held = Substitute.For<ILeaseLock>();
    private readonly IDeploymentLedger ledger = Substitute.For<IDeploymentLedger>();
    private readonly IDeploymentProvider provider = Substitute.For<IDeploymentProvider>();
    private readonly DeployOptions options = new() { Repositories = "*" };
    private readonly EnvironmentsOptions environments = new();
    private readonly List<LedgerEntry> writes = [];
    private readonly List<LedgerEntry> reported = [];
    private IDeploymentStatusClient Statuses => github.Repository.Deployment.Status;

    public DeploymentRunnerTests()
    {
        clients.CreateAsync(default, default, default).ReturnsForAnyArgs(github);
        locks.TryAcquireAsync(default!, default).ReturnsForAnyArgs(held);
        held.ConfirmAsync(default).ReturnsForAnyArgs(true);
        provider.Kind.Returns(ProviderKinds.Simulated);
        Statuses.GetAll("Codertocat", "Hello-World", Id).Returns([]);
        InLedger(Entry());
        ledger.UpdateAsync(default!, default).ReturnsForAnyArgs(call =>
        {
            // The runner's decisions go to writes; the note that a result's status reached GitHub to reported.
            (call.Arg<LedgerEntry>().Reported ? reported : writes).Add(call.Arg<LedgerEntry>());
            return call.Arg<LedgerEntry>();
        });
    }

    private readonly IEnvironmentLocks environmentLocks = Substitute.For<IEnvironmentLocks>();

    private DeploymentRunner Runner() => new(ledger, new DeployPolicy(Options.Create(options)), clients, locks, [provider],
        Options.Create(options), Options.Create(environments), TimeProvider.System, environmentLocks,
        Options.Create(new CommandOptions { LockWaitMinutes = 30, LockPollSeconds = 7 }));

    private void LockedBy(string holder) =>
        environmentLocks.BlockingAsync("Codertocat/Hello-World", "production", "Codertocat", Arg.Any<CancellationToken>())
            .Returns(new EnvironmentLock { Repository = "Codertocat/Hello-World", Environment = "production", Holder = holder, Since = DateTimeOffset.UtcNow });

    /// <summary>A runner under an operator freeze that holds production now; the repository has no file of its own.</summary>
    private DeploymentRunner FrozenRunner()
    {
        var freezes = new FreezeOptions();
        freezes.Windows.Add(new DeployFunctions.Config.FreezeWindow
        {
            Reason = "release freeze", From = DateTimeOffset.UtcNow.AddHours(-1), Until = DateTimeOffset.UtcNow.AddMinutes(2),
        });
        var policy = new DeployPolicy(Options.Create(options), Options.Create(environments), freezes: Options.Create(freezes));
        var files = Substitute.For<DeployFunctions.Config.IRepositoryConfigSource>();
        files.ReadAsync(default!, default!, default!, default).ReturnsForAnyArgs(new DeployFunctions.Config.ConfigRead.Missing());
        return new(ledger, policy, clients, locks, [provider], Options.Create(options), Options.Create(environments), TimeProvider.System,
            environmentLocks, Options.Create(new CommandOptions()), new DeployFunctions.Config.ConfigGate(files, policy));
    }

    [Fact]
    public async Task A_merges_deployment_that_meets_a_freeze_begun_after_its_approval_waits_for_the_freeze_to_end()
    {
        Succeeds();

        var outcome = Assert.IsType<HandlerOutcome.RetryLater>(await FrozenRunner().HandleAsync(Delivery(), default));

        Assert.False(outcome.IsFault);
        Assert.InRange(outcome.Delay, TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(2.1)); // until the freeze ends, not a fixed poll
        Assert.Contains("production is frozen until", outcome.Reason, StringComparison.Ordinal);
        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        // The only write: the wait it is held in, until the freeze's end, so the watchdog lets it wait.
        var hold = Assert.Single(writes);
        Assert.Equal(LedgerState.Created, hold.State);
        Assert.Contains("production is frozen until", hold.HeldFor, StringComparison.Ordinal);
        Assert.InRange(hold.HeldUntil!.Value, DateTimeOffset.UtcNow.AddMinutes(1), DateTimeOffset.UtcNow.AddMinutes(2.1));
    }

    [Fact]
    public async Task A_commands_deployment_that_meets_a_freeze_is_refused_unless_it_was_forced()
    {
        Succeeds();
        InLedger(Entry() with { Source = LedgerSources.Command, CommentId = 7 });

        await FrozenRunner().HandleAsync(Delivery(), default);

        Assert.Equal(LedgerState.Refused, Assert.Single(writes).State);
        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);

        writes.Clear();
        InLedger(Entry() with { Source = LedgerSources.Command, CommentId = 7, Forced = true });
        await FrozenRunner().HandleAsync(Delivery(), default);
        await provider.ReceivedWithAnyArgs(1).DeployAsync(default!, default);
    }

    [Fact]
    public async Task A_created_deployment_waits_while_someone_else_locked_its_environment()
    {
        Succeeds();
        LockedBy("bob");

        var outcome = Assert.IsType<HandlerOutcome.RetryLater>(await Runner().HandleAsync(Delivery(), default));

        Assert.Equal((TimeSpan.FromSeconds(7), false), (outcome.Delay, outcome.IsFault));
        Assert.Contains("production is locked by @bob", outcome.Reason, StringComparison.Ordinal);
        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        var hold = Assert.Single(writes);
        Assert.Equal(LedgerState.Created, hold.State);
        Assert.Contains("production is locked by @bob", hold.HeldFor, StringComparison.Ordinal);
        Assert.InRange(hold.HeldUntil!.Value, DateTimeOffset.UtcNow.AddMinutes(29), DateTimeOffset.UtcNow.AddMinutes(30)); // Commands__LockWaitMinutes
    }

    [Fact]
    public async Task A_deployment_still_locked_out_after_the_wait_is_refused_with_an_error_status_and_never_run()
    {
        Succeeds();
        LockedBy("bob");
        var late = Delivery();
        late = late with { Envelope = late.Envelope with { ReceivedAt = DateTimeOffset.UtcNow.AddMinutes(-31) } };

        Assert.IsType<HandlerOutcome.Completed>(await Runner().HandleAsync(late, default));

        Assert.Equal(LedgerState.Refused, Assert.Single(writes).State);
        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Error && s.Description!.Contains("locked by @bob", StringComparison.Ordinal)));
        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
    }

    private static LedgerEntry Entry() => new()
    {
        Repository = "Codertocat/Hello-World", Environment = "production", Sha = Sha, Ref = Sha, BaseBranch = "master",
        Source = LedgerSources.Merge, PullRequest = 2, RequestedBy = "Codertocat", Reason = "merged",
        Order = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), Payload = """{"base_branch":"master","created_by":"deployfunctions"}""",
        DeliveryId = "d-0", DeploymentId = Id, State = LedgerState.Created,
    };

    private void InLedger(LedgerEntry? entry) =>
        ledger.FindDeploymentAsync("Codertocat/Hello-World", "production", Id, Arg.Any<CancellationToken>()).Returns(entry);

    /// <summary>GitHub's real deployment example; <paramref name="change"/> DERIVES variants of it.</summary>
    private static QueuedDelivery Delivery(Action<JsonObject>? change = null)
    {
        var payload = WebhookExamples.Get("deployment", "created");
        change?.Invoke(payload);
        return new QueuedDelivery(new WebhookEnvelope
        {
            DeliveryId = "d-1", Event = "deployment", Action = "created", ReceivedAt = DateTimeOffset.UtcNow, Repository = "Codertocat/Hello-World",
        }, WebhookExamples.Bytes(payload));
    }

    private static DeploymentStatus Status(DeploymentState state) =>
        new(1, "", "", state, null, null, "", "", "", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "");

    private void Succeeds() =>
        provider.DeployAsync(default!, default).ReturnsForAnyArgs(new ProviderResult.Succeeded(null, null, "ok"));

    [Fact]
    public async Task A_deployment_the_ledger_does_not_have_is_skipped_with_no_status_even_when_its_payload_claims_to_be_ours()
    {
        InLedger(null);
        environments.Environments["production"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated };

        var outcome = await Runner().HandleAsync(Delivery(p =>
            p["deployment"]!["payload"] = new JsonObject { ["created_by"] = "deployfunctions", ["base_branch"] = "master" }), default);

        Assert.Contains("not in DeployFunctions' ledger", Assert.IsType<HandlerOutcome.Skipped>(outcome).Reason, StringComparison.Ordinal);
        await clients.DidNotReceiveWithAnyArgs().CreateAsync(default, default, default);
        await locks.DidNotReceiveWithAnyArgs().TryAcquireAsync(default!, default);
        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
    }

    [Fact]
    public async Task A_deployment_event_for_another_commit_than_the_ledger_approved_is_not_run()
    {
        InLedger(Entry() with { Sha = new string('a', 40) });

        Assert.IsType<HandlerOutcome.Skipped>(await Runner().HandleAsync(Delivery(), default));

        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
    }

    [Fact]
    public async Task A_deployment_whose_approval_is_still_being_recorded_waits_for_the_ledger()
    {
        InLedger(null);
        ledger.CreatingAsync("Codertocat/Hello-World", "production", Sha, Arg.Any<CancellationToken>())
            .Returns(Entry() with { DeploymentId = null, State = LedgerState.Creating });
        clients.IdentityAsync(default).ReturnsForAnyArgs("Codertocat"); // the app's own login created it (the example's creator)

        var outcome = Assert.IsType<HandlerOutcome.RetryLater>(await Runner().HandleAsync(Delivery(), default));

        Assert.False(outcome.IsFault);
        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
    }

    [Fact]
    public async Task A_deployment_recorded_between_the_runners_two_ledger_reads_is_run_not_skipped()
    {
        // Read 1: no deployment row yet. Read 2: the approval is no longer 'creating' (the row and the approval were written
        // in one transaction just then). The deployment is the app's, and runs.
        ledger.FindDeploymentAsync("Codertocat/Hello-World", "production", Id, Arg.Any<CancellationToken>()).Returns(null, Entry(), Entry());
        ledger.CreatingAsync("Codertocat/Hello-World", "production", Sha, Arg.Any<CancellationToken>()).Returns((LedgerEntry?)null);
        Succeeds();

        Assert.IsType<HandlerOutcome.Completed>(await Runner().HandleAsync(Delivery(), default));

        await provider.ReceivedWithAnyArgs(1).DeployAsync(default!, default);
    }

    [Fact]
    public async Task What_runs_comes_from_the_ledger_not_from_the_events_payload()
    {
        Succeeds();

        await Runner().HandleAsync(Delivery(p => p["deployment"]!["payload"] = new JsonObject { ["base_branch"] = "attacker-branch" }), default);

        await provider.Received(1).DeployAsync(
            Arg.Is<DeploymentJob>(j => j.DefaultBranch == "master" && j.Sha == Sha && j.PayloadJson!.Contains("deployfunctions") &&
                                       !j.PayloadJson.Contains("attacker")),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Busy_environment_waits_without_counting_a_fault()
    {
        locks.TryAcquireAsync(default!, default).ReturnsForAnyArgs((ILeaseLock?)null);

        var outcome = Assert.IsType<HandlerOutcome.RetryLater>(await Runner().HandleAsync(Delivery(), default));

        Assert.False(outcome.IsFault);
        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
    }

    [Fact]
    public async Task The_lock_is_per_repository_and_environment_whatever_their_case()
    {
        Succeeds();
        InLedger(null);
        ledger.FindDeploymentAsync("Codertocat/Hello-World", "Production", Id, Arg.Any<CancellationToken>()).Returns(Entry());

        await Runner().HandleAsync(Delivery(p => p["deployment"]!["environment"] = "Production"), default);

        await locks.Received(1).TryAcquireAsync("environments/codertocat~2fhello-world/production", Arg.Any<CancellationToken>());
        await held.Received(1).DisposeAsync();
    }

    [Theory]
    [InlineData(LedgerState.Succeeded)]
    [InlineData(LedgerState.Failed)]
    [InlineData(LedgerState.Errored)]
    [InlineData(LedgerState.Superseded)]
    public async Task A_deployment_whose_final_result_is_recorded_and_reported_is_left_alone(LedgerState state)
    {
        InLedger(Entry() with { State = state, Reported = true });

        Assert.IsType<HandlerOutcome.Completed>(await Runner().HandleAsync(Delivery(), default));

        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        await Statuses.DidNotReceiveWithAnyArgs().Create(default!, default!, default, default!);
        await Statuses.DidNotReceive().GetAll(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<long>());
    }

    [Fact]
    public async Task A_recorded_result_whose_status_never_reached_GitHub_is_posted_and_not_run_again()
    {
        InLedger(Entry() with { State = LedgerState.Succeeded, ResultDescription = "Deployed", Reported = false });

        await Runner().HandleAsync(Delivery(), default);

        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id, Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Success));
        Assert.Empty(writes);
        Assert.Equal(LedgerState.Succeeded, Assert.Single(reported).State);
    }

    [Theory]
    [InlineData(DeploymentState.Success)]
    [InlineData(DeploymentState.Error)]
    [InlineData(DeploymentState.Inactive)]
    public async Task A_final_status_someone_else_posted_on_GitHub_never_stops_the_run(DeploymentState state)
    {
        Statuses.GetAll("Codertocat", "Hello-World", Id).Returns([Status(state)]); // anyone with write access can post one
        Succeeds();

        await Runner().HandleAsync(Delivery(), default);

        await provider.ReceivedWithAnyArgs(1).DeployAsync(default!, default);
        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id, Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Success));
    }

    [Fact]
    public async Task Success_records_started_before_the_provider_and_the_result_before_reporting_it()
    {
        provider.DeployAsync(default!, default).ReturnsForAnyArgs(
            new ProviderResult.Succeeded(new Uri("https://app.example.com/"), new Uri("https://ci.example.com/run/1"), "Deployed"));

        await Runner().HandleAsync(Delivery(), default);

        Received.InOrder(() =>
        {
            Statuses.Create("Codertocat", "Hello-World", Id, Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.InProgress));
            ledger.UpdateAsync(Arg.Is<LedgerEntry>(e => e.State == LedgerState.Started), Arg.Any<CancellationToken>());
            provider.DeployAsync(Arg.Any<DeploymentJob>(), Arg.Any<CancellationToken>());
            ledger.UpdateAsync(Arg.Is<LedgerEntry>(e => e.State == LedgerState.Succeeded && !e.Reported), Arg.Any<CancellationToken>());
            Statuses.Create("Codertocat", "Hello-World", Id, Arg.Is<NewDeploymentStatus>(s =>
                s.State == DeploymentState.Success && s.EnvironmentUrl == "https://app.example.com/" && s.LogUrl == "https://ci.example.com/run/1"));
            ledger.UpdateAsync(Arg.Is<LedgerEntry>(e => e.State == LedgerState.Succeeded && e.Reported), Arg.Any<CancellationToken>());
        });
    }

    [Fact]
    public async Task Provider_saying_no_is_failure()
    {
        provider.DeployAsync(default!, default).ReturnsForAnyArgs(new ProviderResult.Failed(null, "Deploy hook answered 500"));

        await Runner().HandleAsync(Delivery(), default);

        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Failure && s.Description == "Deploy hook answered 500"));
    }

    [Fact]
    public async Task Provider_unable_to_work_is_error()
    {
        provider.DeployAsync(default!, default).ThrowsAsyncForAnyArgs(new DeploymentProviderException("The deploy hook did not answer within 120 s"));

        await Runner().HandleAsync(Delivery(), default);

        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Error && s.Description!.Contains("did not answer")));
    }

    [Fact]
    public async Task A_result_recorded_by_an_earlier_attempt_is_reported_without_deploying_again()
    {
        InLedger(Entry() with { State = LedgerState.Succeeded, ResultDescription = "Deployed", ResultEnvironmentUrl = "https://app.example.com/" });

        await Runner().HandleAsync(Delivery(), default);

        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Success && s.EnvironmentUrl == "https://app.example.com/"));
    }

    [Fact]
    public async Task A_run_that_started_and_never_recorded_a_result_is_reported_interrupted_not_run_again()
    {
        InLedger(Entry() with { State = LedgerState.Started, StartedAt = DateTimeOffset.UtcNow.AddMinutes(-3) });

        await Runner().HandleAsync(Delivery(), default);

        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        Assert.Equal(LedgerState.Interrupted, Assert.Single(writes).State);
        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Error && s.Description!.StartsWith("Interrupted", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_interrupted_run_is_run_again_when_its_provider_is_idempotent()
    {
        InLedger(Entry() with { State = LedgerState.Started, StartedAt = DateTimeOffset.UtcNow.AddMinutes(-3) });
        provider.Idempotent.Returns(true);
        Succeeds();

        await Runner().HandleAsync(Delivery(), default);

        await provider.ReceivedWithAnyArgs(1).DeployAsync(default!, default);
    }

    [Fact]
    public async Task A_transient_GitHub_failure_inside_the_provider_puts_the_run_back_so_the_retry_runs_it_instead_of_calling_it_interrupted()
    {
        var badGateway = new ApiException("Server Error", System.Net.HttpStatusCode.BadGateway);
        provider.DeployAsync(default!, default).ThrowsAsyncForAnyArgs(badGateway);

        await Assert.ThrowsAsync<ApiException>(() => Runner().HandleAsync(Delivery(), default));

        Assert.Equal([LedgerState.Started, LedgerState.Created], writes.Select(w => w.State));
    }

    [Fact]
    public async Task A_permanent_GitHub_failure_inside_the_provider_is_the_runs_error()
    {
        provider.DeployAsync(default!, default).ThrowsAsyncForAnyArgs(new NotFoundException("Not Found", System.Net.HttpStatusCode.NotFound));

        await Runner().HandleAsync(Delivery(), default);

        Assert.Equal(LedgerState.Errored, writes[^1].State);
        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Error && s.Description!.Contains("404")));
    }

    [Fact]
    public async Task An_older_commit_than_one_that_already_ran_is_marked_inactive_and_never_run()
    {
        var newer = Entry() with { DeploymentId = Id + 1, Sha = new string('b', 40), State = LedgerState.Succeeded };
        ledger.NewerThatRanAsync(Arg.Is<LedgerEntry>(e => e.DeploymentId == Id), Arg.Any<CancellationToken>()).Returns(newer);

        var outcome = await Runner().HandleAsync(Delivery(), default);

        Assert.IsType<HandlerOutcome.Completed>(outcome);
        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        Assert.Equal(LedgerState.Superseded, Assert.Single(writes).State);
        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id, Arg.Is<NewDeploymentStatus>(s =>
            s.State == DeploymentState.Inactive && s.Description!.Contains($"superseded by deployment {Id + 1}", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task A_repository_removed_from_the_allowed_list_since_the_merge_is_not_run()
    {
        options.Repositories = "Codertocat/Other";

        await Runner().HandleAsync(Delivery(), default);

        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        Assert.Equal(LedgerState.Refused, Assert.Single(writes).State);
        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Error && s.Description!.Contains("Deploy__Repositories")));
    }

    [Fact]
    public async Task An_environment_whose_provider_lacks_its_settings_is_error_before_anything_is_announced()
    {
        options.DefaultProvider = ProviderKinds.Http;
        provider.Kind.Returns(ProviderKinds.Http);

        await Runner().HandleAsync(Delivery(), default);

        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        await Statuses.DidNotReceive().Create("Codertocat", "Hello-World", Id, Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.InProgress));
        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Error && s.Description!.Contains("Environments__production__Url")));
    }

    [Fact]
    public async Task Losing_the_lock_mid_run_cancels_the_provider_and_records_and_reports_nothing()
    {
        using var lost = new CancellationTokenSource();
        held.Lost.Returns(lost.Token);
        provider.DeployAsync(default!, default).ReturnsForAnyArgs(async call =>
        {
            await lost.CancelAsync();
            await Task.Delay(Timeout.Infinite, call.Arg<CancellationToken>());
            return (ProviderResult)new ProviderResult.Succeeded(null, null, "never");
        });

        var outcome = Assert.IsType<HandlerOutcome.RetryLater>(await Runner().HandleAsync(Delivery(), default));

        Assert.Contains("lock was lost", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal([LedgerState.Started], writes.Select(w => w.State));
        await Statuses.DidNotReceive().Create("Codertocat", "Hello-World", Id, Arg.Is<NewDeploymentStatus>(s => s.State != DeploymentState.InProgress));
    }

    [Fact]
    public async Task A_result_is_not_recorded_nor_reported_when_the_lock_cannot_be_confirmed_after_the_run()
    {
        Succeeds();
        held.ConfirmAsync(default).ReturnsForAnyArgs(true, false);

        Assert.IsType<HandlerOutcome.RetryLater>(await Runner().HandleAsync(Delivery(), default));

        Assert.Equal([LedgerState.Started], writes.Select(w => w.State));
        await Statuses.DidNotReceive().Create("Codertocat", "Hello-World", Id, Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Success));
    }

    [Fact]
    public async Task Handed_off_deployment_gets_in_progress_with_the_log_url_and_no_final_status()
    {
        provider.LogUrlFor(default!).ReturnsForAnyArgs(new Uri("https://github.com/Codertocat/Hello-World/actions/workflows/deploy.yml"));
        provider.DeployAsync(default!, default).ReturnsForAnyArgs(new ProviderResult.HandedOff("dispatched"));

        await Runner().HandleAsync(Delivery(), default);

        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id, Arg.Is<NewDeploymentStatus>(s =>
            s.State == DeploymentState.InProgress && s.LogUrl == "https://github.com/Codertocat/Hello-World/actions/workflows/deploy.yml"));
        await Statuses.ReceivedWithAnyArgs(1).Create(default!, default!, default, default!);
    }

    [Fact]
    public async Task Giving_up_leaves_a_ledger_deployment_in_error()
    {
        await Runner().OnGiveUpAsync(Delivery(), "still failing after 8 retries", default);

        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Error && s.Description!.Contains("gave up")));
    }

    [Fact]
    public async Task Giving_up_touches_neither_a_deployment_the_app_did_not_create_nor_one_that_has_a_result()
    {
        InLedger(null);
        await Runner().OnGiveUpAsync(Delivery(), "gave up", default);
        InLedger(Entry() with { State = LedgerState.Succeeded });
        await Runner().OnGiveUpAsync(Delivery(), "gave up", default);

        await Statuses.DidNotReceiveWithAnyArgs().Create(default!, default!, default, default!);
    }

    [Fact]
    public async Task Giving_up_on_a_delivery_whose_payload_is_lost_still_finds_its_deployment_by_the_envelope()
    {
        var lost = new QueuedDelivery(new WebhookEnvelope
        {
            DeliveryId = "d-1", Event = "deployment", Action = "created", ReceivedAt = DateTimeOffset.UtcNow,
            Repository = "Codertocat/Hello-World", DeploymentId = Id, Environment = "production", PayloadBlob = "payloads/gone.json",
        }, ReadOnlyMemory<byte>.Empty);

        await Runner().OnGiveUpAsync(lost, "the payload blob payloads/gone.json does not exist", default);

        await Statuses.Received(1).Create("Codertocat", "Hello-World", Id, Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Error));
    }
}
