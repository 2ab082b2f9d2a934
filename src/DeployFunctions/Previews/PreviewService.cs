using System.Globalization;
using System.Net;
using System.Text.Json;
using DeployFunctions.Commands;
using DeployFunctions.Config;
using DeployFunctions.Deployments;
using DeployFunctions.GitHub;
using DeployFunctions.History;
using DeployFunctions.Ledger;
using DeployFunctions.Policy;
using DeployFunctions.Providers;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;

namespace DeployFunctions.Previews;

/// <summary>A head to preview: a push (opened, reopened, synchronize), or a writer's <c>.preview</c> of a fork's head.</summary>
public sealed record PreviewHead
{
    public required string Repository { get; init; }
    public required string DefaultBranch { get; init; }
    public required long Number { get; init; }
    public required string HeadSha { get; init; }

    /// <summary>The head lives in another repository (a fork).</summary>
    public required bool FromFork { get; init; }

    /// <summary>When it was pushed (the pull request's <c>updated_at</c> in the event), or when the writer commented <c>.preview</c>.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Who pushed or opened it (the event's sender), or the writer who allowed it.</summary>
    public required string By { get; init; }

    /// <summary>Set for a writer's <c>.preview</c>: the fork's head they allow.</summary>
    public bool Allowed { get; init; }

    public long? InstallationId { get; init; }
    public required string DeliveryId { get; init; }
}

/// <summary>
/// Preview environments, one per pull request (<c>previews:</c> in the repository's file, <c>Previews__Enabled</c>): a
/// transient, non-production deployment (task <c>deploy:preview</c>) of each new head, carried out by the runner like any
/// other (locks, freezes, the watchdog, newest wins); one comment on the pull request, edited in place; on close, the
/// provider's teardown, <c>inactive</c> statuses and the environment deleted. A fork's head deploys only once a writer
/// allows that very commit. Every change to one preview happens under its lease (<see cref="LockKeys.Preview"/>).
/// </summary>
public sealed partial class PreviewService(
    IOptions<PreviewOptions> options,
    DeployPolicy policy,
    IPreviewStore store,
    IDeploymentLedger ledger,
    IGitHubClientFactory clients,
    ILeaseLocks locks,
    ConfigGate configGate,
    IEnumerable<IDeploymentProvider> providers,
    IOptions<DeployOptions> deployOptions,
    IOptions<EnvironmentsOptions> environments,
    CommentMarks marks,
    INotifier notifier,
    TimeProvider clock,
    ILogger<PreviewService> logger)
{
    public const string Task = "deploy:preview";

    private readonly PreviewOptions options = options.Value;
    private readonly Dictionary<string, IDeploymentProvider> providers = providers.ToDictionary(p => p.Kind, StringComparer.Ordinal);

    public bool Enabled => options.Enabled;

    /// <summary>A new head: deployed when the repository has previews, it is not a fork's (or a writer allowed it) and the cap allows.</summary>
    public async Task<HandlerOutcome> HeadAsync(PreviewHead head, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);
        var what = $"the preview of {head.Repository}#{head.Number}@{Short(head.HeadSha)}";
        if (!options.Enabled)
        {
            return new HandlerOutcome.Skipped("previews are off (Previews__Enabled)");
        }

        if (!policy.AllowsRepository(head.Repository))
        {
            return new HandlerOutcome.Skipped($"repository {head.Repository} is not in Deploy__Repositories");
        }

        var github = await clients.CreateAsync(head.InstallationId, head.Repository, cancellationToken);
        // The file at the default branch: a pull request's own branch never decides where or whether it deploys.
        RepositoryConfig? config = null;
        switch (await configGate.CheckAsync(github, head.Repository, head.DefaultBranch, head.DefaultBranch, cancellationToken))
        {
            case ConfigCheck.Refused refused:
                return new HandlerOutcome.Skipped($"{what} not deployed: {refused.Summary}");
            case ConfigCheck.Usable usable:
                config = usable.Config;
                break;
        }

        if (policy.PreviewFor(head.Repository, head.Number, config, out var why) is not { } plan)
        {
            return new HandlerOutcome.Skipped($"no preview: {why}");
        }

        await using var held = await locks.TryAcquireAsync(LockKeys.Preview(head.Repository, head.Number), cancellationToken);
        if (held is null)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(1), $"{what} waits: another change to it is being handled", IsFault: false);
        }

        try
        {
            return await HeadHeldAsync(github, head, plan, what, cancellationToken);
        }
        catch (Exception conflict) when (conflict is PreviewConflictException or LedgerConflictException)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(1), $"{what}: {conflict.Message}", IsFault: false);
        }
    }

    private async Task<HandlerOutcome> HeadHeldAsync(IGitHubClient github, PreviewHead head, PreviewPlan plan, string what, CancellationToken cancellationToken)
    {
        var preview = await store.GetAsync(head.Repository, head.Number, cancellationToken);
        if (head.Allowed)
        {
            if (preview is null || !preview.IsOpen)
            {
                return new HandlerOutcome.Skipped($"{what} was not allowed: no open preview of the pull request has been seen (push to it, or close and reopen it)");
            }

            // Only the head the app saw pushed before the comment: a push after it (seen or not yet) is not what the writer read.
            if (preview.HeadAt >= head.At || !string.Equals(preview.HeadSha, head.HeadSha, StringComparison.OrdinalIgnoreCase))
            {
                return new HandlerOutcome.Skipped($"{what} was not allowed: the pull request's head moved after the comment; review the new head and comment again");
            }
        }
        else if (preview is not null && (preview.HeadAt > head.At || (preview.ClosedAt is { } closed && head.At <= closed)))
        {
            return new HandlerOutcome.Skipped($"{what}: a newer head or the close is recorded already; an older push changes nothing");
        }
        else if (preview is { IsOpen: true } && preview.HeadAt == head.At && string.Equals(preview.HeadSha, head.HeadSha, StringComparison.OrdinalIgnoreCase) &&
                 (preview.State != PreviewState.Active || preview.DeploymentId is not null))
        {
            // The same push delivered again (a redelivery): its deployment exists, or it waits as before; the comment stays as it is.
            return new HandlerOutcome.Completed($"{what}: this push was handled already");
        }
        else if (preview is { IsOpen: true } && preview.HeadAt == head.At && !string.Equals(preview.HeadSha, head.HeadSha, StringComparison.OrdinalIgnoreCase) &&
                 !string.Equals(await LiveHeadAsync(github, head, cancellationToken), head.HeadSha, StringComparison.OrdinalIgnoreCase))
        {
            // Two pushes in one second (GitHub's times are whole seconds): only the pull request's live head wins.
            return new HandlerOutcome.Skipped($"{what}: pushed in the same second as the head the preview shows, and no longer the pull request's head");
        }

        var now = clock.GetUtcNow();
        var wasActive = preview is { State: PreviewState.Active };
        var reopened = preview is null || !preview.IsOpen;
        preview = reopened
            ? new Preview
            {
                Repository = head.Repository, Number = head.Number, Environment = plan.Environment, Target = plan.Target,
                HeadSha = head.HeadSha, HeadAt = head.At, LastPushAt = now, CommentId = preview?.CommentId, ETag = preview?.ETag ?? default,
            }
            : preview!;
        preview = preview with
        {
            Environment = plan.Environment, Target = plan.Target, Url = plan.Url, FromFork = head.FromFork,
            HeadSha = head.HeadSha, HeadAt = head.Allowed ? preview.HeadAt : head.At, LastPushAt = head.Allowed ? preview.LastPushAt : now,
            AllowedSha = head.Allowed ? head.HeadSha : preview.AllowedSha, AllowedBy = head.Allowed ? head.By : preview.AllowedBy,
        };

        if (head.FromFork && !string.Equals(preview.AllowedSha, head.HeadSha, StringComparison.OrdinalIgnoreCase))
        {
            preview = await ShowAsync(github, preview with { State = PreviewState.AwaitingApproval, Status = Statuses.AwaitingApproval }, cancellationToken);
            return new HandlerOutcome.Completed($"{what} waits: the head is a fork's, and a writer must allow it with .preview");
        }

        // A preview that becomes active counts against the cap: counted and saved under the repository's cap lease, so two
        // pull requests opened at once cannot both take the last place.
        await using (var cap = wasActive ? null : await locks.TryAcquireAsync(LockKeys.PreviewCap(head.Repository), cancellationToken))
        {
            if (!wasActive && cap is null)
            {
                return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(1), $"{what} waits: another preview of {head.Repository} is being counted", IsFault: false);
            }

            if (!wasActive &&
                (await store.OfRepositoryAsync(head.Repository, cancellationToken)).Count(p => p.Number != head.Number && p.State == PreviewState.Active) is var active &&
                active >= options.MaxPerRepository)
            {
                await ShowAsync(github, preview with { State = PreviewState.OverCap, Status = Statuses.OverCap(active) }, cancellationToken);
                return new HandlerOutcome.Skipped($"{what} not deployed: {head.Repository} has {active} previews already (Previews__MaxPerRepository)");
            }

            // Saved before the deployment exists: the runner takes only the head the row names, and until this head's deployment
            // is known the row names none (an older head's result then changes nothing).
            preview = await store.SaveAsync(preview with { State = PreviewState.Active, Status = Statuses.Deploying, DeploymentId = null }, cancellationToken);
        }

        var created = await CreateAsync(github, head, plan, what, cancellationToken);
        if (created is not long id)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(deployOptions.Value.ChecksRetrySeconds), $"GitHub created no deployment for {what}", IsFault: true);
        }

        await ShowAsync(github, preview with { DeploymentId = id, Status = Statuses.Deploying }, cancellationToken);
        return new HandlerOutcome.Completed($"created deployment {id} of {what} to {plan.Environment}");
    }

    /// <summary>
    /// Runs <paramref name="attempt"/>, and once more after its wait when that is short: another change held the preview's
    /// lease for a moment (a status being shown), and a caller with no queue retry of its own (a writer's command, the timer's
    /// round) should not give up on that.
    /// </summary>
    public async Task<HandlerOutcome> OnceMoreIfBusyAsync(Func<Task<HandlerOutcome>> attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var outcome = await attempt();
        if (outcome is HandlerOutcome.RetryLater { Delay: var delay } && delay <= TimeSpan.FromSeconds(5))
        {
            await System.Threading.Tasks.Task.Delay(delay, clock, cancellationToken);
            outcome = await attempt();
        }

        return outcome;
    }

    private static async Task<string> LiveHeadAsync(IGitHubClient github, PreviewHead head, CancellationToken cancellationToken)
    {
        var (owner, name) = GitHubNames.Split(head.Repository);
        cancellationToken.ThrowIfCancellationRequested();
        return (await github.PullRequest.Get(owner, name, (int)head.Number)).Head.Sha;
    }

    /// <summary>
    /// The deployment of the head, exactly once: approved in the ledger (keyed by commit and push time) before GitHub is asked,
    /// found again on GitHub (the app's own, of this task) only after a create whose answer was lost.
    /// </summary>
    private async Task<long?> CreateAsync(IGitHubClient github, PreviewHead head, PreviewPlan plan, string what, CancellationToken cancellationToken)
    {
        var payload = new Dictionary<string, string>
        {
            ["environment"] = plan.Environment,
            ["deploy_user"] = head.By,
            ["pull_request"] = head.Number.ToString(CultureInfo.InvariantCulture),
            // Which approval made it: a deployment found again after a lost answer must be this one, not an earlier one of the same commit.
            [ListedPayload.PreviewKey] = head.At.UtcTicks.ToString(CultureInfo.InvariantCulture),
            ["delivery"] = head.DeliveryId,
            [DeploymentMarker.Key] = DeploymentMarker.Value,
        };
        var approval = await ledger.ApproveAsync(new LedgerEntry
        {
            Repository = head.Repository,
            Environment = plan.Environment,
            Sha = head.HeadSha,
            Ref = head.HeadSha,
            BaseBranch = head.DefaultBranch,
            Source = LedgerSources.Preview,
            Target = plan.Target,
            EnvironmentUrl = plan.Url,
            Workflow = plan.Workflow,
            PullRequest = head.Number,
            RequestedBy = head.By,
            Reason = head.Allowed
                ? $"preview of pull request #{head.Number}, a fork's head allowed by {head.By}"
                : $"preview of pull request #{head.Number}, pushed by {head.By}",
            Order = head.At,
            Payload = JsonSerializer.Serialize(payload),
            DeliveryId = head.DeliveryId,
        }, cancellationToken);
        if (approval.DeploymentId is { } recorded)
        {
            return recorded;
        }

        if (approval.CreateSentAt is not null &&
            await OwnDeployments.FindAsync(github, clients, head.Repository, head.HeadSha, plan.Environment,
                d => d.Task == Task && d.Payload?.Preview == payload[ListedPayload.PreviewKey], cancellationToken) is { } existing)
        {
            await ledger.RecordCreatedAsync(approval, existing, cancellationToken);
            return existing;
        }

        approval = await ledger.UpdateApprovalAsync(approval with { CreateSentAt = clock.GetUtcNow() }, cancellationToken);
        var (owner, name) = GitHubNames.Split(head.Repository);
        Deployment created;
        try
        {
            created = await github.Repository.Deployment.Create(owner, name, new NewDeployment(head.HeadSha)
            {
                Task = Task,
                AutoMerge = false,
                Environment = plan.Environment,
                // A preview shows the head as pushed: it does not wait for the commit's checks.
                RequiredContexts = [],
                TransientEnvironment = true,
                ProductionEnvironment = false,
                Description = DeploymentMarker.Describe($"Preview of pull request #{head.Number}"),
                Payload = payload,
            });
        }
        catch (ApiException refused) when (refused.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity)
        {
            await ledger.UpdateApprovalAsync(approval with { CreateSentAt = null }, cancellationToken); // GitHub created nothing
            LogRefused(logger, what, refused.ApiError?.Message ?? refused.Message);
            return null;
        }

        if (created is null || created.Id == 0)
        {
            await ledger.UpdateApprovalAsync(approval with { CreateSentAt = null }, cancellationToken);
            return null;
        }

        await ledger.RecordCreatedAsync(approval, created.Id, cancellationToken);
        return created.Id;
    }

    /// <summary>
    /// What the runner may do with a preview deployment: null, run it; else why not (the pull request closed, or its head moved
    /// on, which supersedes it). Only the head the preview's row names runs, so an older push never overwrites a newer one.
    /// </summary>
    public async Task<(LedgerState State, string Reason)?> WhyNotRunAsync(LedgerEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.PullRequest is not { } number || await store.GetAsync(entry.Repository, number, cancellationToken) is not { } preview)
        {
            return (LedgerState.Refused, "Not run: the pull request has no preview (anymore)");
        }

        if (!preview.IsOpen)
        {
            return (LedgerState.Refused, $"Not run: the preview was removed ({preview.RemovalReason ?? "closed"})");
        }

        return string.Equals(preview.HeadSha, entry.Sha, StringComparison.OrdinalIgnoreCase) &&
               (!preview.FromFork || string.Equals(preview.AllowedSha, entry.Sha, StringComparison.OrdinalIgnoreCase))
            ? null
            : (LedgerState.Superseded, $"Superseded: the pull request's head is now {Short(preview.HeadSha)}; not run");
    }

    /// <summary>
    /// A status of one of the app's preview deployments arrived: the comment says what the ledger says of it (never what a
    /// status's text claims), and only for the preview's newest deployment. Unchanged: nothing is edited.
    /// </summary>
    public async Task<bool> OnResultAsync(LedgerEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.PullRequest is not { } number)
        {
            return true;
        }

        await using var held = await locks.TryAcquireAsync(LockKeys.Preview(entry.Repository, number), cancellationToken);
        if (held is null)
        {
            return false;
        }

        if (await store.GetAsync(entry.Repository, number, cancellationToken) is not { State: PreviewState.Active } preview ||
            preview.DeploymentId != entry.DeploymentId)
        {
            return true;
        }

        var status = entry.State switch
        {
            LedgerState.Succeeded => Statuses.Live,
            LedgerState.Failed or LedgerState.Errored or LedgerState.Interrupted or LedgerState.Refused or LedgerState.TimedOut =>
                Statuses.Failed(entry.ResultDescription ?? entry.State.ToString().ToLowerInvariant()),
            _ => Statuses.Deploying,
        };
        var url = entry.State == LedgerState.Succeeded ? entry.ResultEnvironmentUrl ?? entry.EnvironmentUrl ?? preview.Url : preview.Url;
        if (status == preview.Status && url == preview.Url)
        {
            return true;
        }

        try
        {
            var github = await clients.CreateAsync(null, entry.Repository, cancellationToken);
            await ShowAsync(github, preview with { Status = status, Url = url }, cancellationToken);
            return true;
        }
        catch (PreviewConflictException)
        {
            return false;
        }
    }

    /// <summary>The comment's key: one per pull request.</summary>
    private static string CommentKey(long number) => "preview:" + number.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Saves the row and shows it in the pull request's one comment: edited in place when it exists; else posted, with the row
    /// saying so first (a crash between the two finds the comment by its signed mark instead of posting a second).
    /// </summary>
    private async Task<Preview> ShowAsync(IGitHubClient github, Preview preview, CancellationToken cancellationToken)
    {
        var (owner, name) = GitHubNames.Split(preview.Repository);
        var body = marks.Mark(CommentKey(preview.Number)) + "\n" + Render(preview, clock.GetUtcNow());
        if (preview.CommentId is { } id)
        {
            preview = await store.SaveAsync(preview, cancellationToken);
            try
            {
                await github.Issue.Comment.Update(owner, name, id, body);
                return preview;
            }
            catch (NotFoundException)
            {
                preview = preview with { CommentId = null }; // someone deleted it: post a new one
            }
        }

        var posting = preview.ETag != default; // a row that existed may have had its comment posted by an attempt that died
        preview = await store.SaveAsync(preview, cancellationToken);
        var conversation = new PullRequestConversation(github, preview.Repository, preview.Number, marks);
        var comment = posting && await conversation.FindAsync(CommentKey(preview.Number), DateTimeOffset.UnixEpoch) is { } found
            ? found
            : null;
        if (comment is not null)
        {
            await github.Issue.Comment.Update(owner, name, comment.Id, body);
        }
        else
        {
            comment = await github.Issue.Comment.Create(owner, name, preview.Number, body);
        }

        return await store.SaveAsync(preview with { CommentId = comment.Id }, cancellationToken);
    }

    /// <summary>The comment: where the preview is, which commit, how it stands and since when. Only the app's own facts.</summary>
    public static string Render(Preview preview, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(preview);
        var lines = new List<string>
        {
            $"### 🔍 Preview `{preview.Environment}`",
            "",
            "| | |",
            "|---|---|",
            $"| Status | {preview.Status} |",
        };
        if (preview.Url is { } url && preview.State == PreviewState.Active)
        {
            lines.Add($"| URL | {url} |");
        }

        lines.Add($"| Commit | `{Short(preview.HeadSha)}`{(preview.FromFork ? " (from a fork" + (preview.AllowedBy is { } by && preview.AllowedSha == preview.HeadSha ? $", allowed by @{by})" : ")") : "")} |");
        lines.Add($"| Updated | {now.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC |");
        return string.Join('\n', lines);
    }

    /// <summary>What the comment says; a status is the app's own words, never a status someone else posted.</summary>
    internal static class Statuses
    {
        public const string Deploying = "⏳ Deploying";
        public const string Live = "✅ Live";
        public const string AwaitingApproval = "⏸️ Not deployed: this pull request comes from a fork, and its code would run with the preview's secrets. " +
                                                "Someone with write access can allow this commit with `.preview`.";

        public static string OverCap(int active) =>
            $"🚫 Not deployed: this repository has {active} previews already (the operator's Previews__MaxPerRepository). It deploys on the next push once one is removed.";

        public static string Failed(string reason) => $"❌ Failed: {reason}";

        public static string Removed(string reason) => $"🧹 Removed ({reason})";
    }

    private static string Short(string sha) => sha[..Math.Min(7, sha.Length)];

    [LoggerMessage(Level = LogLevel.Warning, Message = "GitHub refused to create {What}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string what, string reason);
}
