using System.Net;
using DeployFunctions.GitHub;
using DeployFunctions.Ledger;
using DeployFunctions.Providers;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using Microsoft.Extensions.Logging;
using Octokit;

namespace DeployFunctions.Previews;

/// <summary>Removing a preview: the provider's teardown, <c>inactive</c> statuses, the environment deleted, the comment updated.</summary>
public sealed partial class PreviewService
{
    /// <summary>
    /// Removes the pull request's preview (closed, merged, idle): under the preview's lease and the environment's (no run is
    /// half-way), the provider is asked to destroy it, every deployment of the environment is marked <c>inactive</c> and the
    /// environment is deleted where the credentials may. A teardown that fails is tried again after
    /// <c>Previews__TeardownRetrySeconds</c>, and past <c>Previews__TeardownAttempts</c> it is reported once and left.
    /// </summary>
    /// <param name="expected">The row's version the caller decided on (the timer's round): a row changed since is left for the next round.</param>
    public async Task<HandlerOutcome> RemoveAsync(
        string repository, long number, string reason, DateTimeOffset? closedAt, long? installationId, CancellationToken cancellationToken,
        Azure.ETag? expected = null)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var what = $"the preview of {repository}#{number}";
        await using var held = await locks.TryAcquireAsync(LockKeys.Preview(repository, number), cancellationToken);
        if (held is null)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(1), $"{what} waits: another change to it is being handled", IsFault: false);
        }

        try
        {
            return await RemoveHeldAsync(repository, number, reason, closedAt, installationId, expected, what, cancellationToken);
        }
        catch (PreviewConflictException conflict)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(1), $"{what}: {conflict.Message}", IsFault: false);
        }
    }

    private async Task<HandlerOutcome> RemoveHeldAsync(
        string repository, long number, string reason, DateTimeOffset? closedAt, long? installationId, Azure.ETag? expected, string what,
        CancellationToken cancellationToken)
    {
        var preview = await store.GetAsync(repository, number, cancellationToken);
        if (preview is null)
        {
            // A close handled before its pull request's open (a delayed delivery): remembered, so the late open deploys nothing.
            if (closedAt is { } at)
            {
                await store.SaveAsync(new Preview
                {
                    Repository = repository, Number = number, Environment = "", Target = "", HeadSha = "", HeadAt = DateTimeOffset.MinValue,
                    LastPushAt = DateTimeOffset.MinValue, State = PreviewState.Removed, ClosedAt = at, RemovalReason = reason, RemovedAt = clock.GetUtcNow(),
                }, cancellationToken);
            }

            return new HandlerOutcome.Skipped($"{what}: there is none");
        }

        if (expected is { } version && preview.ETag != version)
        {
            return new HandlerOutcome.Skipped($"{what} changed since it was found due for removal; the next round looks again");
        }

        if (preview.State == PreviewState.Removed)
        {
            return new HandlerOutcome.Completed($"{what} was removed already");
        }

        // A close whose teardown is being retried must not remove the preview of the pull request reopened since.
        if (closedAt is { } closed && preview.IsOpen && preview.HeadAt > closed)
        {
            return new HandlerOutcome.Skipped($"{what}: the pull request was reopened or pushed to after this close");
        }

        // From here on the runner runs none of its deployments (the row is no longer open).
        preview = await store.SaveAsync(preview with
        {
            State = PreviewState.Removing,
            RemovalReason = preview.RemovalReason ?? reason,
            ClosedAt = closedAt ?? preview.ClosedAt,
        }, cancellationToken);

        await using var environment = await locks.TryAcquireAsync(LockKeys.Environment(repository, preview.Environment), cancellationToken);
        if (environment is null)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(deployOptions.Value.LockWaitSeconds),
                $"{what} waits: a deployment of {preview.Environment} is running", IsFault: false);
        }

        // A workflow run or an asynchronous hook may still be deploying it without the environment's lease: torn down now, it
        // would come back up after. It is waited for (the watchdog bounds the wait).
        if (await StillDeployingAsync(preview, cancellationToken) is { } running)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.TeardownRetrySeconds),
                $"{what} waits: deployment {running} is still being carried out", IsFault: false);
        }

        var github = await clients.CreateAsync(installationId, repository, cancellationToken);
        if (await TeardownAsync(github, preview, cancellationToken) is { } failure)
        {
            var attempts = preview.TeardownAttempts + 1;
            preview = preview with { TeardownAttempts = attempts, TeardownError = failure };
            if (attempts < options.TeardownAttempts)
            {
                await store.SaveAsync(preview, cancellationToken);
                return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.TeardownRetrySeconds),
                    $"{what}: the teardown failed (attempt {attempts} of {options.TeardownAttempts}): {failure}", IsFault: false);
            }

            // Past the limit: the row says so first (a repeat of this delivery then finds it removed), then the operator is told
            // once, and it is left for a person.
            await ShowAsync(github, preview with
            {
                State = PreviewState.Removed, RemovedAt = clock.GetUtcNow(),
                Status = $"⚠️ Could not be removed after {attempts} attempts ({failure}); the operator was told. It may still be running.",
            }, cancellationToken);
            await notifier.NotifyAsync($"DeployFunctions could not remove {what} ({preview.Environment}) after {attempts} attempts: {failure}. " +
                                       "It may still be running; remove it by hand.", cancellationToken);
            LogGaveUp(logger, repository, number, preview.Environment, attempts, failure);
            // Reported, so done: not a poisoned delivery (the poison watch would report it a second time, a replay would do nothing).
            return new HandlerOutcome.Completed($"{what} could not be removed after {attempts} attempts ({failure}); reported");
        }

        var (inactive, deleted) = await RetireAsync(github, preview, cancellationToken);
        await ShowAsync(github, preview with
        {
            State = PreviewState.Removed, TeardownError = null, RemovedAt = clock.GetUtcNow(), Status = Statuses.Removed(preview.RemovalReason ?? reason),
        }, cancellationToken);
        return new HandlerOutcome.Completed($"{what} removed ({preview.RemovalReason ?? reason}): torn down, {inactive} deployments inactive, " +
                                            (deleted ? $"environment {preview.Environment} deleted" : $"environment {preview.Environment} kept (the credentials may not delete it)"));
    }

    /// <summary>The preview's newest deployment, while a provider is still carrying it out (started, handed to a workflow, awaiting a hook's report).</summary>
    private async Task<long?> StillDeployingAsync(Preview preview, CancellationToken cancellationToken)
    {
        if (await ledger.AwaitingReportAsync(preview.Repository, preview.Environment, cancellationToken) is { DeploymentId: { } awaiting })
        {
            return awaiting;
        }

        return preview.DeploymentId is { } id &&
               await ledger.FindDeploymentAsync(preview.Repository, preview.Environment, id, cancellationToken) is { State: LedgerState.Started or LedgerState.HandedOff }
            ? id
            : null;
    }

    /// <summary>The provider's teardown of what was deployed; null when done (or nothing was), else why it failed.</summary>
    private async Task<string?> TeardownAsync(IGitHubClient github, Preview preview, CancellationToken cancellationToken)
    {
        if (preview.DeploymentId is not { } id ||
            await ledger.FindDeploymentAsync(preview.Repository, preview.Environment, id, cancellationToken) is not { } entry)
        {
            return null; // nothing of it ever deployed
        }

        var settings = (environments.Value.Find(entry.Environment, entry.Target) ?? new EnvironmentOptions()).For(entry.EnvironmentUrl, entry.Workflow);
        var provider = providers[settings.Provider ?? deployOptions.Value.DefaultProvider];
        var job = Deployments.DeploymentRunner.Job(entry, id, entry.Environment, entry.DeliveryId, entry.BaseBranch, settings, github) with
        {
            Action = DeploymentJob.Destroy,
        };
        try
        {
            return await provider.DeployAsync(job, cancellationToken) switch
            {
                ProviderResult.Failed failed => failed.Description,
                ProviderResult.Errored errored => errored.Description,
                _ => null, // done, accepted, or handed to the workflow run it dispatched
            };
        }
        catch (DeploymentProviderException exception)
        {
            return exception.Message;
        }
        catch (Exception exception) when (GitHubFailure.Classify(exception, clock.GetUtcNow()) is { } failure)
        {
            return $"GitHub refused the provider's call: {failure.Reason}";
        }
    }

    /// <summary>Every deployment of the environment marked <c>inactive</c>, then the environment deleted where the credentials may.</summary>
    private static async Task<(int Inactive, bool Deleted)> RetireAsync(IGitHubClient github, Preview preview, CancellationToken cancellationToken)
    {
        var (owner, name) = GitHubNames.Split(preview.Repository);
        var repo = $"repos/{Uri.EscapeDataString(owner)}/{Uri.EscapeDataString(name)}";
        var api = new ApiConnection(github.Connection);
        var listed = await api.GetAll<Deployments.ListedDeployment>(new Uri($"{repo}/deployments", UriKind.Relative),
            new Dictionary<string, string> { ["environment"] = preview.Environment }, new ApiOptions { PageSize = 100 });
        var inactive = 0;
        foreach (var deployment in listed.Where(d => string.Equals(d.Environment, preview.Environment, StringComparison.OrdinalIgnoreCase)))
        {
            await github.Repository.Deployment.Status.Create(owner, name, deployment.Id, new NewDeploymentStatus(DeploymentState.Inactive)
            {
                Description = Deployments.DeploymentMarker.Describe($"Preview removed ({preview.RemovalReason})"),
            });
            inactive++;
        }

        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var status = await github.Connection.Delete(new Uri($"{repo}/environments/{Uri.EscapeDataString(preview.Environment)}", UriKind.Relative));
            return (inactive, status == HttpStatusCode.NoContent);
        }
        catch (Exception exception) when (exception is ForbiddenException or NotFoundException or AuthorizationException)
        {
            // Deleting an environment needs administration rights the app may not have: the inactive deployments are enough.
            return (inactive, false);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Gave up removing the preview of {Repository}#{Number} ({Environment}) after {Attempts} attempts: {Reason}")]
    private static partial void LogGaveUp(ILogger logger, string repository, long number, string environment, int attempts, string reason);
}
