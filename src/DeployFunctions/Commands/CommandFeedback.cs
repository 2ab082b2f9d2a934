using DeployFunctions.GitHub;
using DeployFunctions.Ledger;
using DeployFunctions.Providers;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Octokit;

namespace DeployFunctions.Commands;

/// <summary>
/// The reply to a <c>.deploy</c> / <c>.noop</c>, once its deployment has a final result: one comment with the outcome, the
/// deployment id and its URLs, and <c>rocket</c> or <c>confused</c> on the command. A final status event only prompts it; what
/// it says comes from the ledger alone (anyone with write access can post a status, with any URL in it): the runner's
/// result, a hook's signed report, or the conclusion of the workflow run the app dispatched.
/// </summary>
public sealed class CommandFeedback(
    IDeploymentLedger ledger, IGitHubClientFactory clients, ILeaseLocks leases, CommentMarks marks, ICommandProgress progress,
    IEnvironmentLocks environmentLocks)
{
    /// <summary>Null when there was nothing to answer; false when another delivery is answering it now (try later).</summary>
    public async Task<bool?> OnStatusAsync(WebhookEnvelope envelope, ReportedStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(status);
        if (!GitHubNames.IsFinalDeploymentState(status.State) ||
            await ledger.FindDeploymentAsync(status.Repository, status.Environment, status.DeploymentId, cancellationToken) is not
            { Source: LedgerSources.Command, CommentId: { } commentId, PullRequest: { } pullRequest } entry)
        {
            return null;
        }

        if (!entry.IsFinal)
        {
            // Anyone with write access can post a final status; only the app's own result (recorded in the ledger by its
            // runner, a hook's signed report, or the end of the workflow run it dispatched) answers the command.
            return null;
        }

        var outcome = Outcome.FromLedger(entry);

        await using var held = await leases.TryAcquireAsync(LockKeys.Comment(entry.Repository, commentId), cancellationToken);
        if (held is null)
        {
            return false;
        }

        // A redelivered status after the reply costs no GitHub call; only one after a reply that may have been lost searches.
        var stage = await progress.ReadAsync(entry.Repository, commentId, cancellationToken);
        if (stage is CommandStage.Replied)
        {
            return true;
        }

        // The deploy lock this command took (non-sticky) ends with its deployment, before the reply says so.
        var released = false;
        if (!entry.Noop && await environmentLocks.GetAsync(entry.Repository, entry.Environment, cancellationToken) is
            { Sticky: false } deployLock && deployLock.IsHeldBy(entry.RequestedBy ?? "") && deployLock.CommentUrl == entry.CommentUrl)
        {
            released = await environmentLocks.ReleaseAsync(deployLock, cancellationToken);
        }

        await progress.AdvanceAsync(entry.Repository, commentId, CommandStage.Replying, cancellationToken);
        var github = await clients.CreateAsync(envelope.InstallationId, entry.Repository, cancellationToken);
        var conversation = new PullRequestConversation(github, entry.Repository, pullRequest, marks);
        await conversation.PostOnceAsync(PullRequestConversation.ReplyKey(commentId), entry.Order, Text(entry, outcome, released), search: stage is CommandStage.Replying);
        await conversation.ReactAsync(commentId, outcome.State == "success" ? ReactionType.Rocket : ReactionType.Confused);
        await progress.AdvanceAsync(entry.Repository, commentId, CommandStage.Replied, cancellationToken);
        return true;
    }

    private static string Text(LedgerEntry entry, Outcome outcome, bool released)
    {
        var sha = entry.Sha[..Math.Min(7, entry.Sha.Length)];
        var headline = (outcome.State, entry.Noop) switch
        {
            ("success", true) => $"🧪 Noop of {sha} to {entry.Environment} finished: nothing was changed",
            ("success", false) => $"🚀 Deployed {sha} to {entry.Environment}",
            ("failure", _) => $"❌ The deployment of {sha} to {entry.Environment} failed",
            ("inactive", _) => $"⏭️ The deployment of {sha} to {entry.Environment} did not run",
            _ => $"⚠️ The deployment of {sha} to {entry.Environment} did not finish",
        };
        var lines = new List<string>
        {
            $"{headline} ({ChatCommand.Quote(entry.Command ?? "", ChatCommand.MaxParamsLength + 100)} by @{entry.RequestedBy}).",
            "",
            $"- deployment: {entry.DeploymentId} ({outcome.State})",
        };
        if (outcome.Description is { Length: > 0 } description)
        {
            lines.Add($"- details: {description}");
        }

        if (outcome.EnvironmentUrl is { Length: > 0 } environmentUrl)
        {
            lines.Add($"- environment: {environmentUrl}");
        }

        if (outcome.LogUrl is { Length: > 0 } logUrl)
        {
            lines.Add($"- log: {logUrl}");
        }

        if (DeploymentParams.Read(entry.Payload) is { } parameters)
        {
            lines.Add($"- parameters: {ChatCommand.Quote(parameters, ChatCommand.MaxParamsLength)}");
        }

        if (released)
        {
            lines.Add($"- 🔓 the deploy lock on {entry.Environment} is released");
        }

        return string.Join('\n', lines);
    }

    private sealed record Outcome(string State, string? Description, string? LogUrl, string? EnvironmentUrl)
    {
        public static Outcome FromLedger(LedgerEntry entry) => new(entry.State switch
        {
            LedgerState.Succeeded => "success",
            LedgerState.Failed => "failure",
            LedgerState.Superseded => "inactive",
            _ => "error",
        }, entry.ResultDescription, entry.ResultLogUrl, entry.ResultEnvironmentUrl);
    }
}

/// <summary>A deployment status as a <c>deployment_status</c> event reported it.</summary>
public sealed record ReportedStatus(
    string Repository, string Environment, long DeploymentId, string State, string? Description, string? LogUrl, string? EnvironmentUrl);
