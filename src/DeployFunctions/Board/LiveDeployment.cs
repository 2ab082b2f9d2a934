using DeployFunctions.Ledger;

namespace DeployFunctions.Board;

/// <summary>What is live in an environment, for <c>.wcid</c> and a deployment confirmation's question.</summary>
public static class LiveDeployment
{
    /// <summary>
    /// The board's live deployment (one row), read back from the ledger (one row); without a board row (no status was
    /// counted there yet, or no <c>deployment_status</c> webhook reaches the app) the ledger's own answer, which reads every
    /// success of the environment.
    /// </summary>
    public static async Task<LedgerEntry?> FindAsync(
        IDeploymentLedger ledger, IDeployBoard? board, string repository, string environment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        if (board is not null && await board.LiveAsync(repository, environment, cancellationToken) is { } live &&
            await ledger.FindDeploymentAsync(repository, environment, live.DeploymentId, cancellationToken) is { State: LedgerState.Succeeded } entry)
        {
            return entry;
        }

        return await ledger.LiveAsync(repository, environment, cancellationToken);
    }
}
