namespace DeployFunctions.Ledger;

/// <summary>
/// The app's record of every deployment it decided to create. It is the only answer to "is this deployment ours?": the
/// runner runs nothing that is not in it.
/// </summary>
public interface IDeploymentLedger
{
    /// <summary>The approval for this commit and environment from a merge, if one was recorded.</summary>
    Task<LedgerEntry?> FindMergeAsync(string repository, string environment, string sha, CancellationToken cancellationToken);

    /// <summary>The approval a command comment gave, if one was recorded.</summary>
    Task<LedgerEntry?> FindCommandAsync(string repository, string environment, long commentId, CancellationToken cancellationToken);

    /// <summary>Records an approval (state <see cref="LedgerState.Creating"/>) before GitHub is asked; returns the stored one if it exists.</summary>
    Task<LedgerEntry> ApproveAsync(LedgerEntry approval, CancellationToken cancellationToken);

    /// <summary>Writes an approval's row (e.g. <see cref="LedgerEntry.CreateSentAt"/>) if nobody wrote it since it was read.</summary>
    Task<LedgerEntry> UpdateApprovalAsync(LedgerEntry approval, CancellationToken cancellationToken);

    /// <summary>An approval of this commit and environment (a merge's or a command's) whose deployment is still being created.</summary>
    Task<LedgerEntry?> CreatingAsync(string repository, string environment, string sha, CancellationToken cancellationToken);

    /// <summary>Remembers which deployment a workflow run carries out, so the run's events and protection rules find it.</summary>
    Task RecordRunAsync(LedgerEntry deployment, long runId, CancellationToken cancellationToken);

    /// <summary>The deployment a workflow run of <paramref name="repository"/> carries out, if the app dispatched it.</summary>
    Task<LedgerEntry?> FindRunAsync(string repository, long runId, CancellationToken cancellationToken);

    /// <summary>Deployments with a final result that was never posted to GitHub (the post failed after the ledger write).</summary>
    IAsyncEnumerable<LedgerEntry> UnreportedAsync(CancellationToken cancellationToken);

    /// <summary>The same, of one environment.</summary>
    IAsyncEnumerable<LedgerEntry> UnreportedAsync(string repository, string environment, CancellationToken cancellationToken);

    /// <summary>Records GitHub's deployment id for an approval, atomically with the deployment's own row.</summary>
    Task<LedgerEntry> RecordCreatedAsync(LedgerEntry approval, long deploymentId, CancellationToken cancellationToken);

    /// <summary>The ledger deployment with this id, or null when the app never created it.</summary>
    Task<LedgerEntry?> FindDeploymentAsync(string repository, string environment, long deploymentId, CancellationToken cancellationToken);

    /// <summary>Writes a deployment's new state if nobody wrote it since <see cref="LedgerEntry.ETag"/>; else <see cref="LedgerConflictException"/>.</summary>
    Task<LedgerEntry> UpdateAsync(LedgerEntry deployment, CancellationToken cancellationToken);

    /// <summary>
    /// Every deployment of every repository still without a final status: created, started, handed to a workflow,
    /// awaiting a hook's report, or claimed by the watchdog.
    /// </summary>
    IAsyncEnumerable<LedgerEntry> UnfinishedAsync(CancellationToken cancellationToken);

    /// <summary>The deployment of the environment a provider is working on now (started, no result), if any.</summary>
    Task<LedgerEntry?> RunningAsync(string repository, string environment, CancellationToken cancellationToken);

    /// <summary>The deployment of the environment an asynchronous hook is still carrying out (accepted, no report yet), if any.</summary>
    Task<LedgerEntry?> AwaitingReportAsync(string repository, string environment, CancellationToken cancellationToken);

    /// <summary>Deployments of the environment created and held back before running (a lock, a freeze), oldest first.</summary>
    Task<IReadOnlyList<LedgerEntry>> HeldAsync(string repository, string environment, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="sha"/> was deployed to the environment with success (a noop does not count).</summary>
    Task<bool> SucceededAsync(string repository, string environment, string sha, CancellationToken cancellationToken);

    /// <summary>What is live in the environment: its latest deployment (not a noop) that succeeded, if any.</summary>
    Task<LedgerEntry?> LiveAsync(string repository, string environment, CancellationToken cancellationToken);

    /// <summary>The newest deployment of the same environment that is later in merge order than this one and has run.</summary>
    Task<LedgerEntry?> NewerThatRanAsync(LedgerEntry deployment, CancellationToken cancellationToken);
}
