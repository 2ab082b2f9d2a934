using Azure;
using Azure.Data.Tables;
using DeployFunctions.Storage;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Commands;

/// <summary>
/// A sticky lock on one environment of a repository, or on all of them (global), held until <c>.unlock</c> or, when taken
/// with <c>--for</c>, until <see cref="Until"/> (then it is gone by itself).
/// </summary>
public sealed record EnvironmentLock
{
    public required string Repository { get; init; }

    /// <summary>The environment; null for the global lock (every environment of the repository).</summary>
    public string? Environment { get; init; }

    /// <summary>The GitHub login holding it.</summary>
    public required string Holder { get; init; }

    public string? Reason { get; init; }
    public required DateTimeOffset Since { get; init; }

    /// <summary>The comment that took it.</summary>
    public string? CommentUrl { get; init; }

    public long? PullRequest { get; init; }

    /// <summary>
    /// False for the lock a <c>.deploy</c> takes for its deployment: released when that deployment ends (branch-deploy's
    /// non-sticky lock). Every <c>.lock</c> is sticky.
    /// </summary>
    public bool Sticky { get; init; } = true;

    /// <summary>When the lock ends by itself (<c>.lock --for 2h</c>); null: it is held until unlocked.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>The row's version: a release succeeds only if the lock was not changed since it was read.</summary>
    public ETag ETag { get; init; }

    public bool IsGlobal => Environment is null;

    /// <summary>"production" or "every environment (global lock)".</summary>
    public string Scope => Environment ?? "every environment (global lock)";

    public bool IsHeldBy(string login) => string.Equals(Holder, login, StringComparison.OrdinalIgnoreCase);

    /// <summary>One line for replies and comments: who, what, since when, why, where.</summary>
    public string Describe() =>
        $"{Scope} is locked by @{Holder}{(Sticky ? "" : $" while deploying{(PullRequest is { } number ? $" #{number}" : "")}")} since {Since:yyyy-MM-dd HH:mm} UTC" +
        (Until is { } until ? $" until {until:yyyy-MM-dd HH:mm} UTC" : "") +
        (Reason is { Length: > 0 } ? $" (reason: {ChatCommand.Quote(Reason, 300)})" : "") +
        (CommentUrl is { } url ? $", [taken here]({url})" : "");
}

/// <summary>A merge waiting before its deployment is created: behind a lock or a freeze, since when.</summary>
public sealed record WaitingMerge(string Environment, string Sha, long PullRequest, string Reason, DateTimeOffset Since);


/// <summary>What <see cref="IEnvironmentLocks.TryLockAsync"/> found.</summary>
public abstract record LockAttempt(EnvironmentLock Lock)
{
    public sealed record Taken(EnvironmentLock Lock) : LockAttempt(Lock);

    public sealed record AlreadyYours(EnvironmentLock Lock) : LockAttempt(Lock);

    public sealed record HeldByOther(EnvironmentLock Lock) : LockAttempt(Lock);
}

/// <summary>
/// Environment locks, and marks that make a notice go out once. Every deploy path asks <see cref="BlockingAsync"/>.
/// </summary>
public interface IEnvironmentLocks
{
    /// <summary>Takes the lock if nobody holds it: of two at once, exactly one is <see cref="LockAttempt.Taken"/>.</summary>
    Task<LockAttempt> TryLockAsync(EnvironmentLock wanted, CancellationToken cancellationToken);

    /// <summary>The lock on this environment (null: the global lock), if held.</summary>
    Task<EnvironmentLock?> GetAsync(string repository, string? environment, CancellationToken cancellationToken);

    /// <summary>Every lock held on the repository.</summary>
    Task<IReadOnlyList<EnvironmentLock>> ListAsync(string repository, CancellationToken cancellationToken);

    /// <summary>Releases the lock as read; false when it was changed or released since.</summary>
    Task<bool> ReleaseAsync(EnvironmentLock held, CancellationToken cancellationToken);

    /// <summary>
    /// The lock that stops <paramref name="requester"/> deploying to <paramref name="environment"/>: the environment's or the
    /// global one, held by someone else. Null: free (or held by the requester, who may deploy).
    /// </summary>
    Task<EnvironmentLock?> BlockingAsync(string repository, string environment, string requester, CancellationToken cancellationToken);

    /// <summary>Remembers a merge that waits (for <c>.wcid</c>), until <see cref="StopWaitingAsync"/>.</summary>
    Task WaitingAsync(string repository, WaitingMerge waiting, CancellationToken cancellationToken);

    /// <summary>Forgets that the merge of <paramref name="sha"/> to <paramref name="environment"/> waits (it went ahead or gave up).</summary>
    Task StopWaitingAsync(string repository, string environment, string sha, CancellationToken cancellationToken);

    /// <summary>The merges of the repository waiting now, oldest first.</summary>
    Task<IReadOnlyList<WaitingMerge>> ListWaitingAsync(string repository, CancellationToken cancellationToken);

    /// <summary>True the first time it is called for this key (a notice to post once); false after.</summary>
    Task<bool> TryMarkOnceAsync(string repository, string key, CancellationToken cancellationToken);

    /// <summary>Forgets a mark whose notice could not be posted, so the next try posts it.</summary>
    Task ForgetMarkAsync(string repository, string key, CancellationToken cancellationToken);

    /// <summary>True when the mark for this key was set.</summary>
    Task<bool> HasMarkAsync(string repository, string key, CancellationToken cancellationToken);
}

/// <summary>
/// Azure Table storage: partition per repository (escaped, lower-case); row <c>lock-&lt;environment&gt;</c> or
/// <c>lock~global</c> (a name that no escaped environment can take), and <c>once-&lt;key&gt;</c> marks. Taking a lock is an
/// insert, so two at once give one winner; releasing is a delete conditional on the row's ETag.
/// </summary>
public sealed class TableEnvironmentLocks(TableServiceClient tables, IOptions<StorageNamesOptions> names, TimeProvider? clock = null) : IEnvironmentLocks
{
    private readonly TimeProvider clock = clock ?? TimeProvider.System;

    private const string GlobalRow = "lock~global";
    private readonly TableClient table = tables.GetTableClient(names.Value.LockTable);
    private int created;

    public async Task<LockAttempt> TryLockAsync(EnvironmentLock wanted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        await EnsureTableAsync(cancellationToken);
        var entity = ToEntity(wanted);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var response = await table.AddEntityAsync(entity, cancellationToken);
                return new LockAttempt.Taken(wanted with { ETag = response.Headers.ETag ?? default });
            }
            catch (RequestFailedException exception) when (exception.Status == 409)
            {
                var held = await GetAsync(wanted.Repository, wanted.Environment, cancellationToken);
                if (held is null && attempt < 3)
                {
                    // Released between the insert and the read, or ended by itself: clear what expired (only as read), try again.
                    await ClearExpiredAsync(wanted.Repository, wanted.Environment, cancellationToken);
                    continue;
                }

                held ??= wanted;
                return held.IsHeldBy(wanted.Holder) ? new LockAttempt.AlreadyYours(held) : new LockAttempt.HeldByOther(held);
            }
        }
    }

    public async Task<EnvironmentLock?> GetAsync(string repository, string? environment, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(
            Partition(repository), Row(environment), cancellationToken: cancellationToken);
        return found.HasValue && found.Value is { } entity && FromEntity(entity) is var held && !Expired(held) ? held : null;
    }

    private bool Expired(EnvironmentLock held) => held.Until is { } until && until <= clock.GetUtcNow();

    private async Task ClearExpiredAsync(string repository, string? environment, CancellationToken cancellationToken)
    {
        var found = await table.GetEntityIfExistsAsync<TableEntity>(Partition(repository), Row(environment), cancellationToken: cancellationToken);
        if (found.HasValue && found.Value is { } entity && Expired(FromEntity(entity)))
        {
            await ReleaseAsync(FromEntity(entity), cancellationToken);
        }
    }

    public async Task<IReadOnlyList<EnvironmentLock>> ListAsync(string repository, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var partition = Partition(repository);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {"lock"} and RowKey lt {"lock\u007f"}");
        var locks = new List<EnvironmentLock>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (FromEntity(entity) is var held && !Expired(held))
            {
                locks.Add(held);
            }
        }

        return locks;
    }

    public async Task<bool> ReleaseAsync(EnvironmentLock held, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(held);
        try
        {
            // The SDK answers a row that is gone with a 404 response, not an exception: someone else released it first.
            var response = await table.DeleteEntityAsync(Partition(held.Repository), Row(held.Environment), held.ETag, cancellationToken);
            return response.Status != 404;
        }
        catch (RequestFailedException exception) when (exception.Status is 404 or 412)
        {
            return false;
        }
    }

    public async Task<EnvironmentLock?> BlockingAsync(
        string repository, string environment, string requester, CancellationToken cancellationToken)
    {
        foreach (var held in await ListAsync(repository, cancellationToken))
        {
            if (!held.IsHeldBy(requester) &&
                (held.IsGlobal || string.Equals(held.Environment, environment, StringComparison.OrdinalIgnoreCase)))
            {
                return held;
            }
        }

        return null;
    }

    public async Task<bool> TryMarkOnceAsync(string repository, string key, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            await table.AddEntityAsync(new TableEntity(Partition(repository), MarkRow(key)), cancellationToken);
            return true;
        }
        catch (RequestFailedException exception) when (exception.Status == 409)
        {
            return false;
        }
    }

    public async Task ForgetMarkAsync(string repository, string key, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(Partition(repository), MarkRow(key), ETag.All, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            // Already gone.
        }
    }

    public async Task<bool> HasMarkAsync(string repository, string key, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        return (await table.GetEntityIfExistsAsync<TableEntity>(Partition(repository), MarkRow(key), cancellationToken: cancellationToken)).HasValue;
    }

    public async Task WaitingAsync(string repository, WaitingMerge waiting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(waiting);
        await EnsureTableAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(Partition(repository), WaitRow(waiting.Environment, waiting.Sha))
        {
            ["Environment"] = waiting.Environment,
            ["Sha"] = waiting.Sha,
            ["PullRequest"] = waiting.PullRequest,
            ["Reason"] = waiting.Reason,
            ["Since"] = waiting.Since,
            ["Seen"] = clock.GetUtcNow(),
        }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task StopWaitingAsync(string repository, string environment, string sha, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            await table.DeleteEntityAsync(Partition(repository), WaitRow(environment, sha), ETag.All, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            // It never waited.
        }
    }

    public async Task<IReadOnlyList<WaitingMerge>> ListWaitingAsync(string repository, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(repository)} and RowKey ge {"wait-"} and RowKey lt {"wait."}");
        var waiting = new List<WaitingMerge>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (Waiting(entity) is { } merge)
            {
                waiting.Add(merge);
            }
        }

        return [.. waiting.OrderBy(w => w.Since)];
    }

    /// <summary>
    /// A merge that waits writes its row on every look (at most every 5 minutes); one not seen since went ahead, gave up or
    /// was refused on a path that did not say so, and is no longer listed.
    /// </summary>
    private WaitingMerge? Waiting(TableEntity entity) =>
        entity.GetDateTimeOffset("Seen") is not { } seen || clock.GetUtcNow() - seen > WaitingFreshFor
            ? null
            : new WaitingMerge(entity.GetString("Environment"), entity.GetString("Sha"), entity.GetInt64("PullRequest") ?? 0,
                entity.GetString("Reason"), entity.GetDateTimeOffset("Since") ?? DateTimeOffset.MinValue);

    /// <summary>How long a waiting merge's row counts after it was last written: twice the longest poll, and a margin.</summary>
    public static readonly TimeSpan WaitingFreshFor = TimeSpan.FromMinutes(11);

    private static string WaitRow(string environment, string sha) => "wait-" + StorageKey.Escape(environment) + "-" + StorageKey.Escape(sha);

    private static string Partition(string repository) => StorageKey.Escape(repository);

    private static string Row(string? environment) => environment is null ? GlobalRow : "lock-" + StorageKey.Escape(environment);

    private static string MarkRow(string key) => "once-" + StorageKey.Escape(key);

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref created) == 0)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            Volatile.Write(ref created, 1);
        }
    }

    private static TableEntity ToEntity(EnvironmentLock held) => new(Partition(held.Repository), Row(held.Environment))
    {
        ["Repository"] = held.Repository,
        ["Environment"] = held.Environment,
        ["Holder"] = held.Holder,
        ["Reason"] = held.Reason,
        ["Since"] = held.Since,
        ["CommentUrl"] = held.CommentUrl,
        ["PullRequest"] = held.PullRequest,
        ["Until"] = held.Until,
        ["Sticky"] = held.Sticky,
    };

    private static EnvironmentLock FromEntity(TableEntity entity) => new()
    {
        Repository = entity.GetString("Repository"),
        Environment = entity.GetString("Environment"),
        Holder = entity.GetString("Holder"),
        Reason = entity.GetString("Reason"),
        Since = entity.GetDateTimeOffset("Since") ?? DateTimeOffset.MinValue,
        CommentUrl = entity.GetString("CommentUrl"),
        PullRequest = entity.GetInt64("PullRequest"),
        Until = entity.GetDateTimeOffset("Until"),
        Sticky = entity.GetBoolean("Sticky") ?? true,
        ETag = entity.ETag,
    };
}
