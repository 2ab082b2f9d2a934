using Azure;
using DeployFunctions.Commands;
using DeployFunctions.Deployments;
using DeployFunctions.GitHub;
using DeployFunctions.Ledger;
using DeployFunctions.Providers;
using DeployFunctions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;

namespace DeployFunctions.Maintenance;

/// <summary>
/// No deployment hangs in <c>queued</c> / <c>in_progress</c> forever, and none that is legitimately waiting is cut short.
/// Each run looks at the ledger's unfinished deployments. A legitimate wait is left alone: a run whose environment lease is
/// live (its holder is still at work, within its provider's timeout), a workflow run GitHub still lists as queued or in
/// progress, a created deployment the runner holds for a lock or a freeze (until that wait's end, recorded in the ledger,
/// plus the environment's limit). A workflow run that has completed settles its deployment from its conclusion. Anything
/// older than its limit (<c>Environments__&lt;name&gt;__WatchdogMinutes</c>) is claimed with a ledger write conditional on the
/// row's version (of two runs at once exactly one wins), then <c>error</c> is posted (the status log notifies it once, as every final state); the claim is its own
/// state (<c>TimedOut</c>), so a run that dies between the claim and the status is finished by the next run. A result
/// recorded whose status never reached GitHub is posted. Statuses someone else posted are never believed. Each entry fails
/// alone: one repository GitHub refuses does not stop the rest.
/// </summary>
public sealed partial class DeploymentWatchdog(
    IDeploymentLedger ledger,
    IGitHubClientFactory clients,
    ILeaseLocks leases,
    IOptions<EnvironmentsOptions> environments,
    IOptions<CommandOptions> commands,
    TimeProvider clock,
    ILogger<DeploymentWatchdog> logger)
{
    /// <summary>How many stuck deployments one run settles; the rest wait for the next run.</summary>
    public const int MaxPerRun = 50;

    /// <summary>
    /// How long a recorded result may wait for its status before the watchdog posts it (the runner and the report endpoint
    /// post at once, and retry): a minute, or the environment's watchdog limit when that is shorter.
    /// </summary>
    public static readonly TimeSpan ReportGrace = TimeSpan.FromMinutes(1);

    public async Task<WatchdogReport> RunAsync(CancellationToken cancellationToken)
    {
        var report = new WatchdogReport();
        await foreach (var entry in ledger.UnfinishedAsync(cancellationToken))
        {
            if (report.Settled >= MaxPerRun)
            {
                break;
            }

            await IsolatedAsync(entry, report, () => LookAtAsync(entry, report, cancellationToken));
        }

        await foreach (var entry in ledger.UnreportedAsync(cancellationToken))
        {
            var limit = TimeSpan.FromMinutes((environments.Value.Find(entry.Environment, entry.Target) ?? new EnvironmentOptions()).WatchdogMinutes);
            if (clock.GetUtcNow() - (entry.LastChanged ?? clock.GetUtcNow()) >= (limit < ReportGrace ? limit : ReportGrace))
            {
                await IsolatedAsync(entry, report, async () =>
                {
                    await DeploymentResults.PostAsync(await clients.CreateAsync(null, entry.Repository, cancellationToken), ledger, entry, cancellationToken);
                    report.Repaired++;
                });
            }
        }

        return report;
    }

    /// <summary>One entry's work; a GitHub or storage failure is logged and counted, and the run goes on.</summary>
    private async Task IsolatedAsync(LedgerEntry entry, WatchdogReport report, Func<Task> work)
    {
        try
        {
            await work();
        }
        catch (LedgerConflictException)
        {
            report.LostRaces++; // another run (or the runner) wrote the row first: it is theirs to report
        }
        catch (Exception exception) when (GitHubFailure.Classify(exception, clock.GetUtcNow()) is not null || exception is RequestFailedException)
        {
            report.Failed++;
            LogFailed(logger, entry.DeploymentId, entry.Repository, entry.Environment, exception.Message);
        }
    }

    private async Task LookAtAsync(LedgerEntry entry, WatchdogReport report, CancellationToken cancellationToken)
    {
        if (entry.DeploymentId is not { } id)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var limit = TimeSpan.FromMinutes((environments.Value.Find(entry.Environment, entry.Target) ?? new EnvironmentOptions()).WatchdogMinutes);
        var since = entry.StartedAt ?? entry.LastChanged ?? now;
        switch (entry.State)
        {
            case LedgerState.TimedOut:
                break; // a claim whose run died before its status: finish it

            case LedgerState.HandedOff when entry.RunId is { } runId:
                var run = await RunAsync(entry, runId);
                if (run is { Status: "completed" } &&
                    DeploymentResults.FromRun(entry, runId, run.Conclusion, run.HtmlUrl, environments.Value.Find(entry.Environment, entry.Target)?.For(entry.EnvironmentUrl, entry.Workflow).EnvironmentUrl) is { } settled)
                {
                    // The run ended and its workflow_run delivery never settled it (lost): settle it from the run.
                    var github = await clients.CreateAsync(null, entry.Repository, cancellationToken);
                    await DeploymentResults.PostAsync(github, ledger, await ledger.UpdateAsync(settled, cancellationToken), cancellationToken);
                    report.Reported++;
                    return;
                }

                if (run is not null || now - since < limit)
                {
                    return; // queued or in progress: the workflow's own timeouts bound it
                }

                break; // the run is gone (deleted): nothing will settle it

            case LedgerState.Started when await leases.IsHeldAsync(LockKeys.Environment(entry.Repository, entry.Environment), cancellationToken):
                return; // its runner holds the environment's lease: still at work, within its provider's timeout

            case LedgerState.Created:
                var deadline = entry.HeldUntil is { } heldUntil
                    ? (heldUntil > since ? heldUntil : since) + limit
                    : since + limit + TimeSpan.FromMinutes(commands.Value.LockWaitMinutes);
                if (now < deadline)
                {
                    return;
                }

                break;

            default:
                if (now - since < limit)
                {
                    return;
                }

                break;
        }

        await ErrorAsync(entry, id, limit, cancellationToken);
        report.Settled++;
    }

    /// <summary>Claims the deployment (a conditional write: of two runs, one wins), posts <c>error</c>, notifies, and settles it.</summary>
    private async Task ErrorAsync(LedgerEntry entry, long id, TimeSpan limit, CancellationToken cancellationToken)
    {
        var minutes = (int)Math.Round(limit.TotalMinutes);
        var description = entry.State == LedgerState.TimedOut && entry.ResultDescription is { } claimed
            ? claimed
            : $"No result within {minutes} minutes (DeployFunctions watchdog); redeploy to try again";
        var claim = entry.State == LedgerState.TimedOut
            ? entry
            : await ledger.UpdateAsync(entry with { State = LedgerState.TimedOut, ResultDescription = description }, cancellationToken);
        var github = await clients.CreateAsync(null, entry.Repository, cancellationToken);
        var (owner, name) = GitHubNames.Split(entry.Repository);
        await github.Repository.Deployment.Status.Create(owner, name, id, new NewDeploymentStatus(DeploymentState.Error)
        {
            Description = DeploymentMarker.Describe(description),
        });
        // No notification of its own: the error status comes back as a deployment_status event, and the status log notifies
        // it once like every final state (a second message for the same error was noise).
        await ledger.UpdateAsync(claim with { State = LedgerState.Errored, Reported = true }, cancellationToken);
        LogStuck(logger, id, entry.Repository, entry.Environment, entry.State, minutes);
    }

    /// <summary>The workflow run the deployment was handed to, as GitHub lists it now.</summary>
    private async Task<RunAnswer?> RunAsync(LedgerEntry entry, long runId)
    {
        var github = await clients.CreateAsync(null, entry.Repository, CancellationToken.None);
        var (owner, name) = GitHubNames.Split(entry.Repository);
        try
        {
            return await new ApiConnection(github.Connection).Get<RunAnswer>(new Uri(
                $"repos/{Uri.EscapeDataString(owner)}/{Uri.EscapeDataString(name)}/actions/runs/{runId}", UriKind.Relative));
        }
        catch (NotFoundException)
        {
            return null;
        }
    }

    /// <summary>The fields of GitHub's <c>workflow-run</c> the watchdog reads.</summary>
    private sealed class RunAnswer
    {
        public string? Status { get; set; }
        public string? Conclusion { get; set; }
        public string? HtmlUrl { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Watchdog: deployment {DeploymentId} of {Repository} to {Environment} was {State} with no result for {Minutes} minutes; reported error")]
    private static partial void LogStuck(ILogger logger, long deploymentId, string repository, string environment, LedgerState state, int minutes);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Watchdog: deployment {DeploymentId} of {Repository} to {Environment} could not be looked after this run: {Error}")]
    private static partial void LogFailed(ILogger logger, long? deploymentId, string repository, string environment, string error);
}

/// <summary>What one watchdog run did.</summary>
public sealed class WatchdogReport
{
    /// <summary>Stuck deployments it reported <c>error</c>.</summary>
    public int Settled { get; set; }

    /// <summary>Deployments whose workflow run had ended (or, recorded before runs were tracked, whose workflow had reported): settled.</summary>
    public int Reported { get; set; }

    /// <summary>Deployments another run or the runner wrote first.</summary>
    public int LostRaces { get; set; }

    /// <summary>Results whose status had not reached GitHub, posted now.</summary>
    public int Repaired { get; set; }

    /// <summary>Entries GitHub or storage failed on this run; the next run tries them again.</summary>
    public int Failed { get; set; }
}
