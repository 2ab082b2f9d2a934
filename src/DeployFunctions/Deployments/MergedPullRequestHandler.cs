using System.Globalization;
using System.Net;
using System.Text.Json;
using DeployFunctions.Commands;
using DeployFunctions.Config;
using DeployFunctions.GitHub;
using DeployFunctions.History;
using DeployFunctions.Ledger;
using DeployFunctions.Policy;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;
using Octokit;
using Octokit.Webhooks.Events.PullRequest;

namespace DeployFunctions.Deployments;

/// <summary>
/// Merged pull request -> one GitHub deployment of the base repository at the merge commit. The approval is recorded
/// in the ledger before GitHub is asked, and GitHub's deployment id with it once known; exactly once in effect: under a
/// lock per (repository, environment, commit), an approval that has its deployment, or a deployment GitHub already
/// lists for that commit and environment (an answer lost on the way back), means there is nothing to create.
/// </summary>
public sealed class MergedPullRequestHandler(
    DeployPolicy policy,
    IDeploymentLedger ledger,
    IGitHubClientFactory clients,
    ILeaseLocks locks,
    INotifier notifier,
    IOptions<DeployOptions> options,
    TimeProvider clock,
    IEnvironmentLocks? environmentLocks = null,
    IOptions<CommandOptions>? commandOptions = null,
    ConfigGate? configGate = null,
    CommentMarks? marks = null) : IDeliveryHandler
{
    private readonly DeployOptions options = options.Value;
    private readonly CommandOptions commands = commandOptions?.Value ?? new CommandOptions();

    /// <summary>Notices are posted only with the locks and the configuration gate, both of which come with the marks.</summary>
    private CommentMarks Marks => marks ?? throw new InvalidOperationException("Comment marks are needed to post notices.");

    public bool CallsGitHub => true;

    public DeliveryQueueKind Queue => DeliveryQueueKind.PullRequests;

    public async Task<HandlerOutcome> HandleAsync(QueuedDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var merged = delivery.Read<PullRequestClosedEvent>();
        if (commands.UnlockOnMerge && environmentLocks is not null && merged is { PullRequest: { } closed, Repository: { } repository, Sender: { } sender } &&
            policy.AllowsRepository(repository.FullName))
        {
            await UnlockOnCloseAsync(delivery, repository.FullName, closed.Number, sender.Login, closed.ClosedAt ?? clock.GetUtcNow(), cancellationToken);
        }

        // With targets, the repository's file may move a merge to an environment of its own: it is read first, once (an
        // installation without targets reads it after the lease, as before).
        ConfigCheck? early = null;
        var github = merged.Repository is { } merging && configGate is not null && policy.HasTargets && policy.AllowsRepository(merging.FullName)
            ? await clients.CreateAsync(delivery.Envelope.InstallationId, merging.FullName, cancellationToken)
            : null;
        if (github is not null)
        {
            early = await configGate!.CheckAsync(github, merged.Repository!.FullName, merged.Repository.DefaultBranch ?? "main",
                merged.Repository.DefaultBranch ?? "main", cancellationToken);
        }

        DeploymentRequest request;
        switch (policy.Decide(merged, (early as ConfigCheck.Usable)?.Config))
        {
            case MergeDecision.DoNotDeploy no:
                return new HandlerOutcome.Skipped(no.Reason);
            case MergeDecision.Deploy deploy:
                request = deploy.Request;
                break;
            default:
                throw new InvalidOperationException("Unknown merge decision.");
        }

        // The app's settings decide the environment; a repository's file can only narrow them, never move it elsewhere.
        var what = $"{request.FullName}@{request.Sha[..Math.Min(7, request.Sha.Length)]} to {request.Environment} (pull request #{request.PullRequestNumber})";
        await using var held = await locks.TryAcquireAsync(LockKeys.Merge(request.FullName, request.Environment, request.Sha), cancellationToken);
        if (held is null)
        {
            return new HandlerOutcome.RetryLater(
                TimeSpan.FromSeconds(options.LockWaitSeconds), $"another delivery of {what} is being handled", IsFault: false);
        }

        var approval = await ledger.FindMergeAsync(request.FullName, request.Environment, request.Sha, cancellationToken);
        if (approval?.DeploymentId is { } recorded)
        {
            return new HandlerOutcome.Completed($"deployment {recorded} of {what} exists already; nothing created");
        }

        // The repository's own file, at its default branch (where a change needs the branch's own review, not a branch a pull
        // request's author chose), may narrow the app's settings. It is read on every attempt until the deployment exists: a
        // retry creates it with the same required contexts.
        github ??= await clients.CreateAsync(delivery.Envelope.InstallationId, request.FullName, cancellationToken);
        RepositoryConfig? config = null;
        var defaultBranch = merged.Repository!.DefaultBranch ?? request.BaseBranch;
        if (configGate is not null)
        {
            switch (early ?? await configGate.CheckAsync(github, request.FullName, defaultBranch, defaultBranch, cancellationToken))
            {
                case ConfigCheck.Refused refused:
                    await ConfigGate.ReportAsync(github, request.FullName, request.Sha, request.PullRequestNumber, refused, delivery.Envelope.ReceivedAt, Marks);
                    return new HandlerOutcome.Skipped($"{what} not deployed: {refused.Summary}");
                case ConfigCheck.Usable usable:
                    config = usable.Config;
                    break;
            }

            if (approval is null && policy.Decide(merged, config) is MergeDecision.DoNotDeploy narrowed)
            {
                return new HandlerOutcome.Skipped(narrowed.Reason);
            }
        }

        if (approval is null)
        {
            var hold = await WaitForLockAsync(github, request, delivery.Envelope, what, cancellationToken) ??
                       await WaitForFreezeAsync(github, request, config, delivery.Envelope, what);
            if (environmentLocks is not null)
            {
                // What waits is listed by .wcid until it goes ahead or gives up.
                await (hold is HandlerOutcome.RetryLater { IsFault: false } wait
                    ? environmentLocks.WaitingAsync(request.FullName, new WaitingMerge(request.Environment, request.Sha, request.PullRequestNumber,
                        wait.Reason.Replace($"{what} waits: ", "", StringComparison.Ordinal), delivery.Envelope.ReceivedAt), cancellationToken)
                    : environmentLocks.StopWaitingAsync(request.FullName, request.Environment, request.Sha, cancellationToken));
            }

            if (hold is not null)
            {
                return hold;
            }
        }

        var deployment = NewDeployment(request, delivery.Envelope, config);
        approval ??= await ledger.ApproveAsync(Approval(request, deployment, delivery.Envelope, config), cancellationToken);

        // Only after a create call whose answer never came back can GitHub hold a deployment of ours the ledger lacks; a
        // deployment anyone else made of this commit is never taken for it.
        if (approval.CreateSentAt is not null &&
            await OwnDeployments.FindAsync(github, clients, request.FullName, request.Sha, request.Environment, d => d.Task is null or "deploy", cancellationToken) is { } existing)
        {
            await ledger.RecordCreatedAsync(approval, existing, cancellationToken);
            return new HandlerOutcome.Completed($"deployment {existing} of {what} exists already; recorded, nothing created");
        }

        approval = await ledger.UpdateApprovalAsync(approval with { CreateSentAt = clock.GetUtcNow() }, cancellationToken);
        Deployment created;
        try
        {
            created = await github.Repository.Deployment.Create(request.Owner, request.Repository, deployment);
        }
        catch (ApiException conflict) when (conflict.StatusCode == HttpStatusCode.Conflict)
        {
            await ledger.UpdateApprovalAsync(approval with { CreateSentAt = null }, cancellationToken); // GitHub created nothing
            var outcome = await OnConflictAsync(conflict, delivery.Envelope, what, cancellationToken);
            if (environmentLocks is not null)
            {
                // A merge waiting for its commit's checks is listed by .wcid and the board, as one behind a lock is.
                await (outcome is HandlerOutcome.RetryLater { IsFault: false }
                    ? environmentLocks.WaitingAsync(request.FullName, new WaitingMerge(request.Environment, request.Sha, request.PullRequestNumber,
                        $"waiting for its commit's checks ({conflict.ApiError?.Message ?? conflict.Message})", delivery.Envelope.ReceivedAt), cancellationToken)
                    : environmentLocks.StopWaitingAsync(request.FullName, request.Environment, request.Sha, cancellationToken));
            }

            return outcome;
        }

        if (created is null || created.Id == 0)
        {
            // 202 "Auto-merged ... ": GitHub merged the default branch into the ref and created nothing. We send
            // auto_merge=false, so this is unexpected; try again rather than lose the deployment.
            await ledger.UpdateApprovalAsync(approval with { CreateSentAt = null }, cancellationToken);
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.ChecksRetrySeconds),
                $"GitHub created no deployment for {what} (202)", IsFault: true);
        }

        await ledger.RecordCreatedAsync(approval, created.Id, cancellationToken);
        if (environmentLocks is not null)
        {
            await environmentLocks.StopWaitingAsync(request.FullName, request.Environment, request.Sha, cancellationToken);
        }

        return new HandlerOutcome.Completed($"created deployment {created.Id} of {what}");
    }

    /// <summary>
    /// While someone other than the merger holds a lock on the environment (<c>.lock</c>), the merge waits, polling every
    /// <c>Commands__LockPollSeconds</c>, with one comment on the pull request saying for whom; after
    /// <c>Commands__LockWaitMinutes</c> it gives up, with a second comment. Null: not locked, go ahead.
    /// </summary>
    private async Task<HandlerOutcome?> WaitForLockAsync(
        IGitHubClient github, DeploymentRequest request, WebhookEnvelope envelope, string what, CancellationToken cancellationToken)
    {
        if (environmentLocks is null ||
            await environmentLocks.BlockingAsync(request.FullName, request.Environment, request.DeployUser, cancellationToken) is not { } locked)
        {
            return null;
        }

        var conversation = new PullRequestConversation(github, request.FullName, request.PullRequestNumber, Marks);
        var waitedOut = clock.GetUtcNow() >= envelope.ReceivedAt + TimeSpan.FromMinutes(commands.LockWaitMinutes);
        var key = $"{(waitedOut ? "lock-gave-up" : "lock-wait")}:{request.Environment}:{request.Sha}";
        var text = waitedOut
            ? $"⛔ The deployment of this merge ({request.Sha[..Math.Min(7, request.Sha.Length)]}) to {request.Environment} gave up after " +
              $"waiting {commands.LockWaitMinutes} minutes: {locked.Describe()}. It was not deployed; redeliver the merge's webhook to try again."
            : $"⏳ The deployment of this merge ({request.Sha[..Math.Min(7, request.Sha.Length)]}) to {request.Environment} waits: " +
              $"{locked.Describe()}. It goes ahead when the lock is released (`{commands.Prefix}unlock{(locked.IsGlobal ? " --global" : $" {request.Environment}")}`), " +
              $"or gives up after {commands.LockWaitMinutes} minutes.";
        // At least once, and once: the notice is posted (its own signed mark makes a repeat find it) before the table's mark
        // says so, which only spares the search on the next polls. A crash between the two posts nothing twice.
        if (!await environmentLocks.HasMarkAsync(request.FullName, key, cancellationToken))
        {
            await conversation.PostOnceAsync(key, envelope.ReceivedAt, text);
            await environmentLocks.TryMarkOnceAsync(request.FullName, key, cancellationToken);
        }

        return waitedOut
            ? new HandlerOutcome.Failed($"{what} was not deployed: {locked.Describe()}, still after {commands.LockWaitMinutes} minutes")
            : new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(commands.LockPollSeconds), $"{what} waits: {locked.Describe()}", IsFault: false);
    }

    /// <summary>
    /// <c>Commands__UnlockOnMerge</c>: the locks taken from a pull request end when it is merged or closed, with one comment on it
    /// saying which (a redelivery finds them gone, or the comment posted). Only the locks of the person who merged or closed
    /// it (GitHub's <c>sender</c>), which they could <c>.unlock</c> themselves: closing someone's pull request, or one's own,
    /// never releases another person's lock, and a deployment's own lock ends with the deployment.
    /// </summary>
    private async Task UnlockOnCloseAsync(
        QueuedDelivery delivery, string repository, long number, string closedBy, DateTimeOffset closedAt, CancellationToken cancellationToken)
    {
        var released = new List<EnvironmentLock>();
        foreach (var held in (await environmentLocks!.ListAsync(repository, cancellationToken))
                 .Where(l => l.PullRequest == number && l.Sticky && l.IsHeldBy(closedBy)))
        {
            if (await environmentLocks.ReleaseAsync(held, cancellationToken))
            {
                released.Add(held);
            }
        }

        if (released.Count == 0)
        {
            return;
        }

        var github = await clients.CreateAsync(delivery.Envelope.InstallationId, repository, cancellationToken);
        await new PullRequestConversation(github, repository, number, Marks).PostOnceAsync(
            "unlocked-on-close:" + number.ToString(CultureInfo.InvariantCulture), closedAt,
            $"🔓 @{closedBy} closed this pull request, so the locks they took here are released (Commands__UnlockOnMerge): " +
            string.Join(", ", released.Select(l => l.Scope)) + ". Waiting merges go ahead.");
    }

    public Task OnGiveUpAsync(QueuedDelivery delivery, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        return notifier.NotifyAsync(
            $"DeployFunctions did not deploy {delivery.Envelope.Repository} (delivery {delivery.Envelope.DeliveryId}): {reason}",
            cancellationToken);
    }

    /// <summary>
    /// With <c>auto_merge=false</c> GitHub merges nothing, so a 409 means the commit's statuses are not green yet; only
    /// GitHub's own merge message ("Conflict merging &lt;base&gt; into &lt;head&gt;") is a conflict that waiting cannot fix.
    /// </summary>
    private async Task<HandlerOutcome> OnConflictAsync(
        ApiException conflict, WebhookEnvelope envelope, string what, CancellationToken cancellationToken)
    {
        var message = conflict.ApiError?.Message ?? conflict.Message;
        if (message.StartsWith("Conflict merging ", StringComparison.Ordinal))
        {
            return new HandlerOutcome.Failed($"GitHub refused {what}: merge conflict ({message})");
        }

        // Commit statuses pending or failing: wait for CI, up to the deadline counted from the merge's delivery.
        var deadline = envelope.ReceivedAt + TimeSpan.FromMinutes(options.WaitForChecksMinutes);
        if (clock.GetUtcNow() >= deadline)
        {
            var reason = $"commit checks for {what} were still not green after {options.WaitForChecksMinutes} minutes ({message})";
            await notifier.NotifyAsync($"DeployFunctions gave up: {reason}", cancellationToken);
            return new HandlerOutcome.Failed(reason);
        }

        return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.ChecksRetrySeconds),
            $"waiting for commit checks of {what}: {message}", IsFault: false);
    }

    private NewDeployment NewDeployment(DeploymentRequest request, WebhookEnvelope envelope, RepositoryConfig? config)
    {
        var deployment = new NewDeployment(request.Sha)
        {
            Task = "deploy",
            AutoMerge = false,
            Environment = request.Environment,
            Description = DeploymentMarker.Describe(
                $"Pull request #{request.PullRequestNumber} merged by {request.DeployUser}: {request.PullRequestTitle}"),
            Payload = new Dictionary<string, string>
            {
                ["environment"] = request.Environment,
                ["deploy_user"] = request.DeployUser,
                ["pull_request"] = request.PullRequestNumber.ToString(CultureInfo.InvariantCulture),
                ["base_branch"] = request.BaseBranch,
                ["delivery"] = envelope.DeliveryId,
                [DeploymentMarker.Key] = DeploymentMarker.Value,
            },
        };
        policy.Narrow(deployment, request.Environment, config);
        return deployment;
    }

    /// <summary>
    /// A deploy freeze on the environment (app settings or the repository's file): the merge waits for its end, with one
    /// comment saying until when, or is skipped with a comment (<c>freeze_merges</c>, <c>Deploy__FreezeMerges</c>).
    /// </summary>
    private async Task<HandlerOutcome?> WaitForFreezeAsync(
        IGitHubClient github, DeploymentRequest request, RepositoryConfig? config, WebhookEnvelope envelope, string what)
    {
        if (policy.FreezeOn(request.Environment, config, clock.GetUtcNow(), request.Target) is not { } freeze)
        {
            return null;
        }

        var wait = policy.MergesWaitOutFreezes(request.Environment, config);
        var conversation = new PullRequestConversation(github, request.FullName, request.PullRequestNumber, Marks);
        await conversation.PostOnceAsync($"freeze:{request.Environment}:{request.Sha}", envelope.ReceivedAt, wait
            ? $"❄️ The deployment of this merge ({request.Sha[..Math.Min(7, request.Sha.Length)]}) waits: {freeze.Describe()}. It goes ahead when the freeze ends."
            : $"❄️ This merge ({request.Sha[..Math.Min(7, request.Sha.Length)]}) was not deployed: {freeze.Describe()}, and merges during a freeze are skipped here.");
        if (!wait)
        {
            return new HandlerOutcome.Skipped($"{what} not deployed: {freeze.Describe()}");
        }

        var remaining = freeze.Until - clock.GetUtcNow();
        return new HandlerOutcome.RetryLater(remaining < FreezePoll ? remaining + TimeSpan.FromSeconds(1) : FreezePoll,
            $"{what} waits: {freeze.Describe()}", IsFault: false);
    }

    /// <summary>How often a merge waiting out a freeze looks again (a freeze may be ended early by editing the file).</summary>
    public static readonly TimeSpan FreezePoll = TimeSpan.FromMinutes(5);

    private LedgerEntry Approval(DeploymentRequest request, NewDeployment deployment, WebhookEnvelope envelope, RepositoryConfig? config) => new()
    {
        Repository = request.FullName,
        Environment = request.Environment,
        Sha = request.Sha,
        Ref = request.Sha,
        BaseBranch = request.BaseBranch,
        Source = LedgerSources.Merge,
        Target = request.Target,
        EnvironmentUrl = DeployPolicy.EnvironmentUrlFor(request.Environment, request.FullName, config),
        Workflow = policy.WorkflowFor(request.Environment, request.FullName, config),
        PullRequest = request.PullRequestNumber,
        Reverts = request.Reverts,
        RequestedBy = request.DeployUser,
        Reason = $"pull request #{request.PullRequestNumber} merged into {request.BaseBranch} by {request.DeployUser}",
        Order = request.MergedAt,
        Payload = JsonSerializer.Serialize(deployment.Payload),
        DeliveryId = envelope.DeliveryId,
    };
}
