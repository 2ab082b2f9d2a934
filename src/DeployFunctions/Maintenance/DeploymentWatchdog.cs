using DeployFunctions.Commands;
using DeployFunctions.Deployments;
using DeployFunctions.GitHub;
using DeployFunctions.History;
using DeployFunctions.Ledger;
using DeployFunctions.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;

namespace DeployFunctions.Maintenance;

/// <summary>
/// No deployment hangs in <c>queued</c> / <c>in_progress</c> forever. Each run looks at the ledger's unfinished
/// deployments older than their environment's limit (<c>Environments__&lt;name&gt;__WatchdogMinutes</c>, default 60; a
/// created one may also have been waiting for a lock, so it gets <c>Commands__LockWaitMinutes</c> more). It first asks
/// GitHub: a workflow may have reported. If no status is final it records <c>Errored</c> in the ledger (conditional on the
/// row's version, so of two runs at once exactly one wins), and only the winner posts <c>error</c> ("no result within N
/// minutes") and notifies. The claim is its own state (<c>TimedOut</c>), so a run that dies between the claim and the
/// status is finished by the next run, which finds the claim and no final status on GitHub.
/// </summary>
public sealed partial class DeploymentWatchdog(
    IDeploymentLedger ledger,
    IGitHubClientFactory clients,
    INotifier notifier,
    IOptions<EnvironmentsOptions> environments,
    IOptions<CommandOptions> commands,
    TimeProvider clock,
    ILogger<DeploymentWatchdog> logger)
{
    /// <summary>How many stuck deployments one run settles; the rest wait for the next run.</summary>
    public const int MaxPerRun = 50;

    public async Task<WatchdogReport> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var report = new WatchdogReport();
        await foreach (var entry in ledger.UnfinishedAsync(cancellationToken))
        {
            var limit = TimeSpan.FromMinutes((environments.Value.Find(entry.Environment) ?? new EnvironmentOptions()).WatchdogMinutes);
            var since = entry.StartedAt ?? entry.LastChanged ?? now;
            var allowed = entry.State == LedgerState.Created ? limit + TimeSpan.FromMinutes(commands.Value.LockWaitMinutes) : limit;
            if ((entry.State != LedgerState.TimedOut && now - since < allowed) || entry.DeploymentId is not { } id || report.Settled >= MaxPerRun)
            {
                continue;
            }

            var (owner, name) = GitHubNames.Split(entry.Repository);
            var github = await clients.CreateAsync(null, entry.Repository, cancellationToken);
            var latest = (await github.Repository.Deployment.Status.GetAll(owner, name, id)).FirstOrDefault(s => GitHubNames.IsFinalDeploymentState(s.State.StringValue));
            try
            {
                if (latest is not null)
                {
                    // Reported by someone else (a workflow), or by a run of ours that died before its last write: the
                    // ledger learns the result, nothing is posted.
                    await ledger.UpdateAsync(entry with
                    {
                        State = latest.State.StringValue switch { "success" => LedgerState.Succeeded, "failure" => LedgerState.Failed, "inactive" => LedgerState.Superseded, _ => LedgerState.Errored },
                        ResultDescription = latest.Description,
                    }, cancellationToken);
                    report.Reported++;
                    continue;
                }

                // Claim it first (a write conditional on the row's version: of two runs, one wins), then post, then settle.
                var minutes = (int)Math.Round(limit.TotalMinutes);
                var description = entry.State == LedgerState.TimedOut && entry.ResultDescription is { } claimed
                    ? claimed
                    : $"No result within {minutes} minutes (DeployFunctions watchdog); redeploy to try again";
                var claim = entry.State == LedgerState.TimedOut
                    ? entry
                    : await ledger.UpdateAsync(entry with { State = LedgerState.TimedOut, ResultDescription = description }, cancellationToken);
                await github.Repository.Deployment.Status.Create(owner, name, id, new NewDeploymentStatus(DeploymentState.Error)
                {
                    Description = DeploymentMarker.Describe(description),
                });
                await notifier.NotifyAsync(
                    $"Deployment {id} of {entry.Repository}@{entry.Sha[..Math.Min(7, entry.Sha.Length)]} to {entry.Environment}: error ({description})",
                    cancellationToken);
                await ledger.UpdateAsync(claim with { State = LedgerState.Errored }, cancellationToken);
                LogStuck(logger, id, entry.Repository, entry.Environment, entry.State, minutes);
                report.Settled++;
            }
            catch (LedgerConflictException)
            {
                report.LostRaces++; // another run (or the runner) wrote the row first: it is theirs to report
            }
        }

        return report;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Watchdog: deployment {DeploymentId} of {Repository} to {Environment} was {State} with no result for {Minutes} minutes; reported error")]
    private static partial void LogStuck(ILogger logger, long deploymentId, string repository, string environment, LedgerState state, int minutes);
}

/// <summary>What one watchdog run did.</summary>
public sealed class WatchdogReport
{
    /// <summary>Stuck deployments it reported <c>error</c>.</summary>
    public int Settled { get; set; }

    /// <summary>Deployments whose final status someone else had posted; the ledger learned it.</summary>
    public int Reported { get; set; }

    /// <summary>Deployments another run or the runner wrote first.</summary>
    public int LostRaces { get; set; }
}
