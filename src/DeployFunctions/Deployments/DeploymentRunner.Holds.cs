using DeployFunctions.Config;
using DeployFunctions.Ledger;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Octokit;

namespace DeployFunctions.Deployments;

/// <summary>What holds a created deployment back just before it runs: someone else's lock, or a deploy freeze.</summary>
public sealed partial class DeploymentRunner
{
    /// <summary>What holds a created deployment back: whether it waits (and polls when) or is refused, and until when at the latest.</summary>
    private sealed record Hold(bool Wait, string Reason, TimeSpan? Poll, DateTimeOffset Until);

    /// <summary>
    /// A lock someone other than the requester holds on the environment: wait for it up to <c>Commands__LockWaitMinutes</c>
    /// from the delivery, then refuse. A dry run (noop) changes nothing and is not held up.
    /// </summary>
    private async Task<Hold?> LockedAsync(LedgerEntry entry, WebhookEnvelope envelope, CancellationToken cancellationToken)
    {
        if (entry.Noop || environmentLocks is null ||
            await environmentLocks.BlockingAsync(entry.Repository, entry.Environment, entry.RequestedBy, cancellationToken) is not { } locked)
        {
            return null;
        }

        var until = envelope.ReceivedAt + TimeSpan.FromMinutes(commands.LockWaitMinutes);
        var wait = clock.GetUtcNow() < until;
        return new Hold(wait, wait ? locked.Describe() : $"{locked.Describe()}, still after {commands.LockWaitMinutes} minutes", null, until);
    }

    /// <summary>
    /// A deploy freeze that began after the deployment was approved (app settings, or the file at the default branch now): a
    /// merge that waits out freezes waits for its end; anything else is refused. A dry run and an admin's <c>--force</c> are
    /// not held. A file that became unusable refuses it: nothing deploys on a guess.
    /// </summary>
    private async Task<Hold?> FrozenAsync(IGitHubClient github, LedgerEntry entry, string defaultBranch, CancellationToken cancellationToken)
    {
        if (entry.Noop || entry.Forced)
        {
            return null;
        }

        RepositoryConfig? config = null;
        if (configGate is not null)
        {
            switch (await configGate.CheckAsync(github, entry.Repository, defaultBranch, defaultBranch, cancellationToken))
            {
                case ConfigCheck.Refused refused:
                    return new Hold(false, refused.Summary, null, clock.GetUtcNow());
                case ConfigCheck.Usable usable:
                    config = usable.Config;
                    break;
            }
        }

        if (policy.FreezeOn(entry.Environment, config, clock.GetUtcNow(), entry.Target) is not { } freeze)
        {
            return null;
        }

        var wait = entry.Source == LedgerSources.Merge && policy.MergesWaitOutFreezes(entry.Environment, config);
        var remaining = freeze.Until - clock.GetUtcNow();
        return new Hold(wait, freeze.Describe(),
            remaining < MergedPullRequestHandler.FreezePoll ? remaining + TimeSpan.FromSeconds(1) : MergedPullRequestHandler.FreezePoll, freeze.Until);
    }

    /// <summary>Records the legitimate wait the deployment is held in (once per change), so the watchdog lets it wait.</summary>
    private async Task HoldAsync(ILeaseLock held, LedgerEntry entry, Hold hold, CancellationToken cancellationToken)
    {
        if (entry.HeldFor != hold.Reason || entry.HeldUntil != hold.Until)
        {
            await RecordAsync(held, entry with { HeldFor = hold.Reason, HeldUntil = hold.Until }, cancellationToken);
        }
    }
}
