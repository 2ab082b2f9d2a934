using System.Net;
using System.Text.Json.Nodes;
using DeployFunctions.Deployments;
using DeployFunctions.GitHub;
using DeployFunctions.History;
using DeployFunctions.Ledger;
using DeployFunctions.Policy;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Octokit;

namespace DeployFunctions.Tests.Deployments;

/// <summary>The merged-pull-request handler's decisions, with GitHub, the ledger, the lock and notifications substituted.</summary>
public sealed class MergedPullRequestHandlerTests
{
    private static readonly DateTimeOffset Received = new(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);
    private readonly IGitHubClientFactory clients = Substitute.For<IGitHubClientFactory>();
    private readonly IGitHubClient github = Substitute.For<IGitHubClient>();
    private readonly ILeaseLocks locks = Substitute.For<ILeaseLocks>();
    private readonly ILeaseLock held = Substitute.For<ILeaseLock>();
    private readonly IDeploymentLedger ledger = Substitute.For<IDeploymentLedger>();
    private readonly INotifier notifier = Substitute.For<INotifier>();
    private readonly FakeTimeProvider clock = new(Received);
    private readonly DeployOptions options = new() { WaitForChecksMinutes = 60, ChecksRetrySeconds = 60, Repositories = "*" };

    public MergedPullRequestHandlerTests()
    {
        clients.CreateAsync(default, default, default).ReturnsForAnyArgs(github);
        locks.TryAcquireAsync(default!, default).ReturnsForAnyArgs(held);
        ledger.ApproveAsync(default!, default).ReturnsForAnyArgs(call => call.Arg<LedgerEntry>());
        ledger.UpdateApprovalAsync(default!, default).ReturnsForAnyArgs(call => call.Arg<LedgerEntry>());
        // The existing-deployment lookup goes through github.Connection; NSubstitute's recursive substitute answers
        // with an empty body there, i.e. "no deployment yet". The stand-in tests cover the lookup itself.
    }

    private MergedPullRequestHandler Handler() => new(new DeployPolicy(Options.Create(options)), ledger, clients, locks, notifier, Options.Create(options), clock);

    /// <summary>DERIVED from GitHub's closed example: merged into the default branch.</summary>
    private static QueuedDelivery Delivery(Action<JsonObject>? change = null)
    {
        var payload = WebhookExamples.DerivedMergedPullRequest();
        payload["pull_request"]!["base"]!["ref"] = "master";
        payload["pull_request"]!["labels"] = new JsonArray();
        change?.Invoke(payload);
        return new QueuedDelivery(new WebhookEnvelope
        {
            DeliveryId = "d-1", Event = "pull_request", Action = "closed", ReceivedAt = Received, Repository = "Codertocat/Hello-World",
        }, WebhookExamples.Bytes(payload));
    }

    private const string MergeSha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";

    private static LedgerEntry Approval() => new()
    {
        Repository = "Codertocat/Hello-World", Environment = "production", Sha = MergeSha, Ref = MergeSha, BaseBranch = "master",
        Source = LedgerSources.Merge, RequestedBy = "Codertocat", Reason = "merged", Order = Received, Payload = "{}", DeliveryId = "d-0",
    };

    private static Deployment Created(long id) => new(id, "", "", "", "", null, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "", "", "", "production", "production", false, true, "deploy");

    [Fact]
    public async Task A_no_from_the_policy_is_skipped_with_its_reason_and_touches_nothing()
    {
        var outcome = await Handler().HandleAsync(Delivery(p => p["pull_request"]!["base"]!["ref"] = "develop"), default);

        Assert.Contains("not the default branch", Assert.IsType<HandlerOutcome.Skipped>(outcome).Reason, StringComparison.Ordinal);
        await locks.DidNotReceiveWithAnyArgs().TryAcquireAsync(default!, default);
        await clients.DidNotReceiveWithAnyArgs().CreateAsync(default, default, default);
    }

    [Fact]
    public async Task Another_delivery_of_the_same_merge_in_progress_means_wait_not_fault()
    {
        locks.TryAcquireAsync(default!, default).ReturnsForAnyArgs((ILeaseLock?)null);

        var outcome = Assert.IsType<HandlerOutcome.RetryLater>(await Handler().HandleAsync(Delivery(), default));

        Assert.False(outcome.IsFault);
        await clients.DidNotReceiveWithAnyArgs().CreateAsync(default, default, default);
    }

    [Fact]
    public async Task A_deployment_recorded_in_the_ledger_means_nothing_to_create()
    {
        ledger.FindMergeAsync("Codertocat/Hello-World", "production", MergeSha, Arg.Any<CancellationToken>())
            .Returns(Approval() with { DeploymentId = 1001, State = LedgerState.Created });

        var outcome = await Handler().HandleAsync(Delivery(), default);

        Assert.Contains("deployment 1001", Assert.IsType<HandlerOutcome.Completed>(outcome).Reason, StringComparison.Ordinal);
        await clients.DidNotReceiveWithAnyArgs().CreateAsync(default, default, default);
    }

    [Fact]
    public async Task The_approval_is_recorded_before_GitHub_is_asked_and_the_deployment_id_after()
    {
        github.Repository.Deployment.Create(default!, default!, default!).ReturnsForAnyArgs(Created(1001));

        await Handler().HandleAsync(Delivery(), default);

        await locks.Received(1).TryAcquireAsync(
            "merges/codertocat~2fhello-world/production/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", Arg.Any<CancellationToken>());
        NSubstitute.Received.InOrder(() =>
        {
            ledger.ApproveAsync(Arg.Is<LedgerEntry>(e => e.Sha == MergeSha && e.Environment == "production" && e.Source == "merge" &&
                                                         e.PullRequest == 2 && e.BaseBranch == "master" && e.Payload.Contains("\"created_by\"")),
                Arg.Any<CancellationToken>());
            github.Repository.Deployment.Create("Codertocat", "Hello-World", Arg.Any<NewDeployment>());
            ledger.RecordCreatedAsync(Arg.Is<LedgerEntry>(e => e.Sha == MergeSha), 1001, Arg.Any<CancellationToken>());
        });
    }

    [Fact]
    public async Task The_ledger_order_is_when_the_pull_request_was_merged_not_when_it_arrived()
    {
        github.Repository.Deployment.Create(default!, default!, default!).ReturnsForAnyArgs(Created(1001));

        await Handler().HandleAsync(Delivery(p => p["pull_request"]!["merged_at"] = "2026-11-20T08:00:00Z"), default);

        await ledger.Received(1).ApproveAsync(
            Arg.Is<LedgerEntry>(e => e.Order == new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero)), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_conflict_whose_message_mentions_a_branch_named_emergency_waits_for_checks_instead_of_giving_up()
    {
        github.Repository.Deployment.Create(default!, default!, default!)
            .ThrowsAsyncForAnyArgs(new ApiException("Conflict: Commit status checks failed for emergency-fix.", HttpStatusCode.Conflict));

        var outcome = Assert.IsType<HandlerOutcome.RetryLater>(await Handler().HandleAsync(Delivery(), default));

        Assert.False(outcome.IsFault);
    }

    [Fact]
    public async Task GitHubs_merge_conflict_message_gives_up_at_once()
    {
        github.Repository.Deployment.Create(default!, default!, default!)
            .ThrowsAsyncForAnyArgs(new ApiException("Conflict merging main into feature.", HttpStatusCode.Conflict));

        Assert.Contains("merge conflict", Assert.IsType<HandlerOutcome.Failed>(await Handler().HandleAsync(Delivery(), default)).Reason,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Required_contexts_none_sends_an_empty_list()
    {
        options.RequiredContexts = "none";
        github.Repository.Deployment.Create(default!, default!, default!).ReturnsForAnyArgs(Created(1001));

        await Handler().HandleAsync(Delivery(), default);

        await github.Repository.Deployment.Received(1).Create("Codertocat", "Hello-World",
            Arg.Is<NewDeployment>(d => d.RequiredContexts != null && d.RequiredContexts.Count == 0 && d.AutoMerge == false));
    }

    [Fact]
    public async Task Accepted_without_a_deployment_202_is_retried_as_a_fault()
    {
        github.Repository.Deployment.Create(default!, default!, default!).ReturnsForAnyArgs(new Deployment());

        var outcome = Assert.IsType<HandlerOutcome.RetryLater>(await Handler().HandleAsync(Delivery(), default));

        Assert.True(outcome.IsFault);
        await ledger.DidNotReceiveWithAnyArgs().RecordCreatedAsync(default!, default, default);
    }

    [Fact]
    public async Task Pending_checks_wait_until_the_deadline()
    {
        github.Repository.Deployment.Create(default!, default!, default!)
            .ThrowsAsyncForAnyArgs(new ApiException("Conflict: Commit status checks failed for master.", HttpStatusCode.Conflict));
        clock.Advance(TimeSpan.FromMinutes(59));

        var outcome = Assert.IsType<HandlerOutcome.RetryLater>(await Handler().HandleAsync(Delivery(), default));

        Assert.False(outcome.IsFault);
        Assert.Equal(TimeSpan.FromSeconds(60), outcome.Delay);
        await notifier.DidNotReceiveWithAnyArgs().NotifyAsync(default!, default);
    }

    [Fact]
    public async Task Pending_checks_past_the_deadline_give_up_with_a_notification()
    {
        github.Repository.Deployment.Create(default!, default!, default!)
            .ThrowsAsyncForAnyArgs(new ApiException("Conflict: Commit status checks failed for master.", HttpStatusCode.Conflict));
        clock.Advance(TimeSpan.FromMinutes(61));

        var outcome = Assert.IsType<HandlerOutcome.Failed>(await Handler().HandleAsync(Delivery(), default));

        Assert.Contains("still not green after 60 minutes", outcome.Reason, StringComparison.Ordinal);
        await notifier.Received(1).NotifyAsync(Arg.Is<string>(t => t.Contains("gave up")), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_lock_wait_notice_is_posted_before_it_is_marked_so_a_crash_between_the_two_loses_nothing()
    {
        var environmentLocks = Substitute.For<DeployFunctions.Commands.IEnvironmentLocks>();
        environmentLocks.BlockingAsync(default!, default!, default!, default).ReturnsForAnyArgs(new DeployFunctions.Commands.EnvironmentLock
        {
            Repository = "Codertocat/Hello-World", Environment = "production", Holder = "bob", Since = Received,
        });
        github.Issue.Comment.GetAllForIssue(default!, default!, default(long), default(IssueCommentRequest)!, default(ApiOptions)!).ReturnsForAnyArgs([]);
        var handler = new MergedPullRequestHandler(new DeployPolicy(Options.Create(options)), ledger, clients, locks, notifier, Options.Create(options), clock,
            environmentLocks, Options.Create(new DeployFunctions.Commands.CommandOptions()), marks: new DeployFunctions.Commands.CommentMarks(Deliveries.Options()));

        Assert.IsType<HandlerOutcome.RetryLater>(await handler.HandleAsync(Delivery(), default));

        NSubstitute.Received.InOrder(() =>
        {
            github.Issue.Comment.Create("Codertocat", "Hello-World", Arg.Any<long>(), Arg.Is<string>(text => text.Contains("waits: production is locked by @bob", StringComparison.Ordinal)));
            environmentLocks.TryMarkOnceAsync("Codertocat/Hello-World", Arg.Any<string>(), Arg.Any<CancellationToken>());
        });
    }
}
