using DeployFunctions.GitHub;
using DeployFunctions.Ledger;
using DeployFunctions.Providers;
using Octokit;

namespace DeployFunctions.Deployments;

/// <summary>
/// A deployment's result, from the ledger to GitHub: only what the app recorded (its runner, a hook's signed report, the
/// workflow run it dispatched, its watchdog) is ever posted as the deployment's final status, and the ledger remembers that
/// it was posted, so a post that failed after the ledger write is repaired (by a retry or the watchdog) and one that
/// succeeded is not repeated.
/// </summary>
public static class DeploymentResults
{
    /// <summary>The ledger entry with a provider's result recorded.</summary>
    public static LedgerEntry With(LedgerEntry entry, ProviderResult result)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return result switch
        {
            ProviderResult.Succeeded s => entry with
            {
                State = LedgerState.Succeeded, ResultDescription = s.Description,
                ResultEnvironmentUrl = s.EnvironmentUrl?.ToString(), ResultLogUrl = s.LogUrl?.ToString() ?? entry.ResultLogUrl,
            },
            ProviderResult.Failed f => entry with { State = LedgerState.Failed, ResultDescription = f.Description, ResultLogUrl = f.LogUrl?.ToString() ?? entry.ResultLogUrl },
            ProviderResult.Errored e => entry with { State = LedgerState.Errored, ResultDescription = e.Description },
            ProviderResult.HandedOff h => entry with { State = LedgerState.HandedOff, ResultDescription = h.Description, RunId = h.RunId ?? entry.RunId, ResultLogUrl = h.LogUrl?.ToString() ?? entry.ResultLogUrl },
            ProviderResult.Accepted a => entry with
            {
                State = LedgerState.AwaitingReport, ReportUrl = a.StatusUrl?.ToString(), ResultLogUrl = a.LogUrl?.ToString(),
                ResultDescription = "Deploy hook accepted the deployment; waiting for its report",
            },
            _ => throw new InvalidOperationException("Unknown provider result."),
        };
    }

    /// <summary>
    /// The result of a workflow run the app dispatched: success when the run concluded <c>success</c>, else failure; the run's
    /// page is the log. Null when the entry has a final result already.
    /// </summary>
    public static LedgerEntry? FromRun(LedgerEntry entry, long runId, string? conclusion, string? runUrl, Uri? environmentUrl)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.IsFinal)
        {
            return null;
        }

        var log = Uri.TryCreate(runUrl, UriKind.Absolute, out var url) ? url : null;
        return With(entry with { RunId = runId }, conclusion == "success"
            ? new ProviderResult.Succeeded(entry.Noop ? null : environmentUrl, log, $"Workflow run {runId} succeeded")
            : new ProviderResult.Failed(log, $"Workflow run {runId} concluded {conclusion ?? "without a conclusion"}"));
    }

    /// <summary>Posts the final status the ledger holds (nothing for one not final) and records that it was posted.</summary>
    public static async Task<LedgerEntry> PostAsync(IGitHubClient github, IDeploymentLedger ledger, LedgerEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(github);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(entry);
        if (!entry.IsFinal || entry.DeploymentId is not { } id)
        {
            return entry;
        }

        var (owner, name) = GitHubNames.Split(entry.Repository);
        await github.Repository.Deployment.Status.Create(owner, name, id, new NewDeploymentStatus(State(entry))
        {
            // A dry run's success must not mark the environment's real deployment inactive.
            AutoInactive = entry.Noop ? false : null,
            EnvironmentUrl = entry.ResultEnvironmentUrl,
            LogUrl = entry.ResultLogUrl,
            Description = DeploymentMarker.Describe(entry.ResultDescription ?? entry.State.ToString()),
        });
        try
        {
            return await ledger.UpdateAsync(entry with { Reported = true }, cancellationToken);
        }
        catch (LedgerConflictException)
        {
            return entry with { Reported = true }; // written by someone else since: the status is on GitHub all the same
        }
    }

    /// <summary>The deployment state that tells GitHub a final ledger state.</summary>
    public static DeploymentState State(LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.State switch
        {
            LedgerState.Succeeded => DeploymentState.Success,
            LedgerState.Failed => DeploymentState.Failure,
            LedgerState.Superseded => DeploymentState.Inactive,
            _ => DeploymentState.Error,
        };
    }
}
