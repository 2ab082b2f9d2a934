using System.Globalization;
using System.Text;
using DeployFunctions.Board;
using DeployFunctions.Ledger;
using DeployFunctions.Policy;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Commands;

/// <summary><c>.lock</c>, <c>.unlock</c>, <c>.lock --details</c> and <c>.wcid</c>: environment locks every deploy path honours.</summary>
public sealed class LockCommands(
    DeployPolicy policy, IEnvironmentLocks environmentLocks, IDeploymentLedger ledger, IOptions<CommandOptions> commandOptions, TimeProvider clock,
    IDeployBoard? board = null)
{
    private readonly CommandOptions options = commandOptions.Value;

    internal async Task<CommandAnswer> LockAsync(ChatCommand command, CommandContext context, string? environment, CancellationToken cancellationToken)
    {
        var scope = command.Global ? null : environment ?? policy.DefaultEnvironmentFor(context.DefaultBranch);
        // One holder at a time for the whole repository: no environment lock under someone else's global lock, and no global
        // lock over someone else's environment lock (each would block the other's holder).
        if (await OthersAsync(context, scope, cancellationToken) is { } other)
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, I did not lock: {other.Describe()}.");
        }

        var wanted = new EnvironmentLock
        {
            Repository = context.Repository,
            Environment = scope,
            Holder = context.Commenter,
            Reason = command.Reason,
            Since = clock.GetUtcNow(),
            Until = command.For is { } length ? clock.GetUtcNow() + length : null,
            CommentUrl = context.CommentUrl,
            PullRequest = context.PullRequest,
        };
        var attempt = await environmentLocks.TryLockAsync(wanted, cancellationToken);
        if (attempt is LockAttempt.AlreadyYours { Lock.Sticky: false } deploying && await environmentLocks.ReleaseAsync(deploying.Lock, cancellationToken))
        {
            // The commenter's deployment holds it for now: '.lock' makes it theirs until they unlock it.
            attempt = await environmentLocks.TryLockAsync(wanted, cancellationToken);
        }

        if (attempt is LockAttempt.Taken taken && await OthersAsync(context, scope, cancellationToken) is { } raced)
        {
            // Taken at the same moment as a conflicting lock: give this one back, the other stands.
            await environmentLocks.ReleaseAsync(taken.Lock, cancellationToken);
            return CommandAnswer.Refuse($"@{context.Commenter}, I did not lock: {raced.Describe()}.");
        }

        var unlock = $"`{options.Prefix}unlock{(scope is null ? " --global" : $" {scope}")}`";
        return attempt switch
        {
            LockAttempt.Taken t => CommandAnswer.Done($"locked {t.Lock.Scope}",
                $"🔒 Locked {t.Lock.Scope} for @{context.Commenter}{(command.Reason is { } r ? $" (reason: {ChatCommand.Quote(r, 300)})" : "")}. " +
                $"Until {(t.Lock.Until is { } until ? $"{until:yyyy-MM-dd HH:mm} UTC (or {unlock})" : unlock)}, nobody else can deploy there, and merges wait. {Help.LockTip(options.Prefix)}"),
            LockAttempt.AlreadyYours mine => CommandAnswer.Done($"{mine.Lock.Scope} was locked by the commenter already",
                $"🔒 You hold this lock already: {mine.Lock.Describe()}."),
            LockAttempt.HeldByOther held => CommandAnswer.Refuse($"@{context.Commenter}, I did not lock: {held.Lock.Describe()}."),
            _ => throw new InvalidOperationException("Unknown lock attempt."),
        };
    }

    /// <summary>A lock someone else holds that conflicts with locking <paramref name="scope"/> (null: the global lock).</summary>
    private async Task<EnvironmentLock?> OthersAsync(CommandContext context, string? scope, CancellationToken cancellationToken) =>
        (await environmentLocks.ListAsync(context.Repository, cancellationToken))
            .FirstOrDefault(held => !held.IsHeldBy(context.Commenter) && (scope is null ? !held.IsGlobal : held.IsGlobal));

    internal async Task<CommandAnswer> UnlockAsync(CommandContext context, string? environment, bool global, CancellationToken cancellationToken)
    {
        var scope = global ? null : environment ?? policy.DefaultEnvironmentFor(context.DefaultBranch);
        var held = await environmentLocks.GetAsync(context.Repository, scope, cancellationToken);
        if (held is null)
        {
            return CommandAnswer.Done("nothing to unlock", $"🔓 {scope ?? "The global lock"} is not locked; nothing to do.");
        }

        var how = "as its holder";
        if (!held.IsHeldBy(context.Commenter))
        {
            if (!PermissionLevels.AtLeast(context.Permission, PermissionLevels.Admin))
            {
                return CommandAnswer.Refuse($"@{context.Commenter}, I did not unlock: {held.Describe()}; only they or an admin can unlock it.");
            }

            how = $"as an admin, overriding @{held.Holder}";
        }

        return await environmentLocks.ReleaseAsync(held, cancellationToken)
            ? CommandAnswer.Done($"unlocked {held.Scope}", $"🔓 Unlocked {held.Scope} ({how}). Waiting merges go ahead.")
            : CommandAnswer.Refuse("The lock changed while I was releasing it; look with `" + options.Prefix + "lock --details` and try again.");
    }

    internal async Task<CommandAnswer> DetailsAsync(CommandContext context, string? environment, bool global, CancellationToken cancellationToken)
    {
        var scope = global ? null : environment ?? policy.DefaultEnvironmentFor(context.DefaultBranch);
        var held = await environmentLocks.GetAsync(context.Repository, scope, cancellationToken);
        return CommandAnswer.Done("lock details", held is null ? $"🔓 {scope ?? "The global lock"} is not locked." : $"🔒 {held.Describe()}.");
    }

    /// <summary>
    /// <c>.wcid</c>: per environment, its lock, what is live (commit, pull request, who, when), what is deploying now, and what
    /// waits behind a lock or a freeze (merges not yet created, and created deployments held before running).
    /// </summary>
    internal async Task<CommandAnswer> WhatIsDeployingAsync(CommandContext context, IReadOnlyList<string> environments, CancellationToken cancellationToken)
    {
        var locks = await environmentLocks.ListAsync(context.Repository, cancellationToken);
        var waitingMerges = await environmentLocks.ListWaitingAsync(context.Repository, cancellationToken);
        var text = new StringBuilder("| environment | lock | live | deploying now | waiting |\n|---|---|---|---|---|\n");
        var global = locks.FirstOrDefault(l => l.IsGlobal);
        foreach (var environment in environments)
        {
            var held = locks.FirstOrDefault(l => string.Equals(l.Environment, environment, StringComparison.OrdinalIgnoreCase)) ?? global;
            var live = await LiveDeployment.FindAsync(ledger, board, context.Repository, environment, cancellationToken);
            var running = await ledger.RunningAsync(context.Repository, environment, cancellationToken)
                          ?? await ledger.AwaitingReportAsync(context.Repository, environment, cancellationToken);
            var waiting = waitingMerges.Where(w => string.Equals(w.Environment, environment, StringComparison.OrdinalIgnoreCase))
                .Select(w => $"merge of #{w.PullRequest} ({Short(w.Sha)}): {Cell(w.Reason)}")
                .Concat((await ledger.HeldAsync(context.Repository, environment, cancellationToken))
                    .Select(e => $"deployment {e.DeploymentId} of {Short(e.Sha)}{(e.PullRequest is { } number ? $" (#{number})" : "")}: {Cell(e.HeldFor ?? "")}"))
                .ToList();
            text.Append(CultureInfo.InvariantCulture,
                $"| `{environment}` | {(held is null ? "free" : $"🔒 @{held.Holder}{(held.IsGlobal ? " (global)" : "")}{(held.Sticky ? "" : " (deploying)")} since {held.Since:yyyy-MM-dd HH:mm} UTC{(held.Until is { } until ? $" until {until:HH:mm} UTC" : "")}{(held.Reason is { } r ? $": {ChatCommand.Quote(r, 100)}" : "")}")} | ");
            text.Append(live is null
                ? "nothing yet"
                : $"{Short(live.Sha)}{(live.PullRequest is { } pr ? $" (#{pr})" : "")} by @{live.RequestedBy}{(live.StartedAt is { } at ? $" at {at:yyyy-MM-dd HH:mm} UTC" : "")}");
            text.Append(" | ");
            text.Append(running is null
                ? "nothing"
                : $"deployment {running.DeploymentId} of {Short(running.Sha)} by @{running.RequestedBy} ({running.State.ToString().ToLowerInvariant()})");
            text.Append(CultureInfo.InvariantCulture, $" | {(waiting.Count == 0 ? "nothing" : string.Join("<br>", waiting))} |\n");
        }

        return CommandAnswer.Done("what is deploying", text.ToString());
    }

    private static string Short(string sha) => sha[..Math.Min(7, sha.Length)];

    /// <summary>Text fit for a table cell: no line breaks, no column separators.</summary>
    private static string Cell(string text) => text.ReplaceLineEndings(" ").Replace("|", "\\|", StringComparison.Ordinal);
}
