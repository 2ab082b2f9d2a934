using DeployFunctions.GitHub;
using DeployFunctions.Queues;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;

namespace DeployFunctions.Previews;

/// <summary>
/// The previews' timer (<c>PreviewSweepSchedule</c>, hourly): removes previews with no push for <c>Previews__IdleDays</c>, those
/// whose pull request is closed on GitHub though its <c>closed</c> delivery never arrived (the delivery sweeper's redelivery is
/// the first line; this is the second), and finishes teardowns a retry did not. One GitHub read per open preview.
/// </summary>
public sealed partial class PreviewSweeper(
    PreviewService previews,
    IPreviewStore store,
    IGitHubClientFactory clients,
    IOptions<PreviewOptions> options,
    TimeProvider clock,
    ILogger<PreviewSweeper> logger)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return 0;
        }

        var removed = 0;
        var list = new List<Preview>();
        await foreach (var preview in store.NotRemovedAsync(cancellationToken))
        {
            list.Add(preview);
        }

        foreach (var preview in list)
        {
            try
            {
                if (await WhyRemoveAsync(preview, cancellationToken) is not { } why)
                {
                    continue;
                }

                var outcome = await previews.OnceMoreIfBusyAsync(
                    () => previews.RemoveAsync(preview.Repository, preview.Number, why.Reason, why.ClosedAt, null, cancellationToken, preview.ETag), cancellationToken);
                LogSwept(logger, preview.Repository, preview.Number, why.Reason, outcome.Reason);
                removed += outcome is HandlerOutcome.Completed ? 1 : 0;
            }
            catch (Exception exception) when (exception is ApiException or Azure.RequestFailedException or HttpRequestException ||
                                              GitHubFailure.Classify(exception, clock.GetUtcNow()) is not null)
            {
                // One preview's trouble does not stop the round; the next round tries it again.
                LogFailed(logger, exception, preview.Repository, preview.Number);
            }
        }

        // Removed rows are kept a while (a late push or open is recognised as older than the close), then pruned, so the
        // table and this round's read stay the size of the open previews.
        var pruned = await store.PruneAsync(clock.GetUtcNow() - KeptAfterRemoval, cancellationToken);
        LogRound(logger, list.Count, removed, pruned);
        return removed;
    }

    /// <summary>How long a removed preview's row is kept.</summary>
    public static readonly TimeSpan KeptAfterRemoval = TimeSpan.FromDays(30);

    /// <summary>Why the preview should go now (and when its pull request closed), or null: it stays.</summary>
    private async Task<(string Reason, DateTimeOffset? ClosedAt)?> WhyRemoveAsync(Preview preview, CancellationToken cancellationToken)
    {
        if (preview.State == PreviewState.Removing)
        {
            return (preview.RemovalReason ?? "the pull request was closed", preview.ClosedAt);
        }

        var idle = TimeSpan.FromDays(options.Value.IdleDays);
        if (clock.GetUtcNow() - preview.LastPushAt > idle)
        {
            return ($"no push for {options.Value.IdleDays:0.#} days (Previews__IdleDays)", null);
        }

        var github = await clients.CreateAsync(null, preview.Repository, cancellationToken);
        var (owner, name) = GitHubNames.Split(preview.Repository);
        try
        {
            var pull = await github.PullRequest.Get(owner, name, (int)preview.Number);
            return pull.State.Value == ItemState.Closed
                ? (pull.Merged ? "the pull request was merged" : "the pull request was closed", pull.ClosedAt ?? clock.GetUtcNow())
                : null;
        }
        catch (NotFoundException)
        {
            return ("the pull request is gone", clock.GetUtcNow());
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Preview sweep: {Open} open previews looked at, {Removed} removed, {Pruned} old rows pruned")]
    private static partial void LogRound(ILogger logger, int open, int removed, int pruned);

    [LoggerMessage(Level = LogLevel.Information, Message = "Preview sweep: {Repository}#{Number} ({Why}): {Outcome}")]
    private static partial void LogSwept(ILogger logger, string repository, long number, string why, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Preview sweep: {Repository}#{Number} could not be checked or removed; tried again next round")]
    private static partial void LogFailed(ILogger logger, Exception exception, string repository, long number);
}
