using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using DeployFunctions.Storage;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Previews;

/// <summary>Where a pull request's preview stands.</summary>
public enum PreviewState
{
    /// <summary>Deployed, or being deployed: its head's deployment is the newest.</summary>
    Active,

    /// <summary>From a fork: nothing deploys until a writer comments <c>.preview</c> for its head.</summary>
    AwaitingApproval,

    /// <summary>Not deployed: the repository has as many previews as the operator allows.</summary>
    OverCap,

    /// <summary>The pull request closed (or went idle): the teardown is under way or being retried.</summary>
    Removing,

    /// <summary>Torn down (or given up on, and reported): nothing of it is left running.</summary>
    Removed,
}

/// <summary>
/// One pull request's preview: its environment, the head it shows, the deployment and the comment that say so. Written
/// only under the preview's lease (<see cref="LockKeys.Preview"/>) and only if nobody wrote it since it was read.
/// </summary>
public sealed record Preview
{
    public required string Repository { get; init; }
    public required long Number { get; init; }
    public required string Environment { get; init; }
    public required string Target { get; init; }
    public PreviewState State { get; init; }

    /// <summary>The head the preview shows or will show, and when it was pushed (the pull request's <c>updated_at</c>).</summary>
    public required string HeadSha { get; init; }

    public required DateTimeOffset HeadAt { get; init; }

    /// <summary>When the app last saw a push (or an open): the idle timer counts from it.</summary>
    public required DateTimeOffset LastPushAt { get; init; }

    /// <summary>The head comes from another repository (a fork): it deploys only as a writer's <c>.preview</c> allowed.</summary>
    public bool FromFork { get; init; }

    /// <summary>The fork's head a writer allowed, and who: only that commit deploys.</summary>
    public string? AllowedSha { get; init; }

    public string? AllowedBy { get; init; }

    /// <summary>The newest deployment the app created for it (older ones are superseded).</summary>
    public long? DeploymentId { get; init; }

    /// <summary>The preview's URL, from the repository's file or the provider's answer.</summary>
    public string? Url { get; init; }

    /// <summary>The one comment on the pull request that says where the preview stands, edited in place.</summary>
    public long? CommentId { get; init; }

    /// <summary>What the comment says of it now (deploying, live, failed, removed, ...).</summary>
    public string Status { get; init; } = "";

    /// <summary>When the pull request was closed (a push delivered later than this is older than the close).</summary>
    public DateTimeOffset? ClosedAt { get; init; }

    /// <summary>Why it is being removed (closed, merged, idle), and how many teardowns were tried.</summary>
    public string? RemovalReason { get; init; }

    public int TeardownAttempts { get; init; }

    /// <summary>The last teardown's failure; once past <c>Previews__TeardownAttempts</c>, reported once (the row is then removed).</summary>
    public string? TeardownError { get; init; }

    /// <summary>When it became <see cref="PreviewState.Removed"/>: the row is kept a while after (a late push is then recognised) and pruned.</summary>
    public DateTimeOffset? RemovedAt { get; init; }

    public ETag ETag { get; init; }

    /// <summary>Deploying, deployed, or waiting to be allowed or to fit under the cap: anything but being or having been removed.</summary>
    public bool IsOpen => State is PreviewState.Active or PreviewState.AwaitingApproval or PreviewState.OverCap;
}

/// <summary>Someone wrote the preview's row since it was read.</summary>
public sealed class PreviewConflictException(string message, Exception inner) : Exception(message, inner);

/// <summary>The previews' rows, in Azure Table storage: partition by repository, row by pull request number.</summary>
public interface IPreviewStore
{
    Task<Preview?> GetAsync(string repository, long number, CancellationToken cancellationToken);

    /// <summary>Inserts (no ETag) or replaces (its ETag) the row; <see cref="PreviewConflictException"/> when someone wrote it since.</summary>
    Task<Preview> SaveAsync(Preview preview, CancellationToken cancellationToken);

    /// <summary>The repository's previews that are not removed (the cap counts the active ones).</summary>
    Task<IReadOnlyList<Preview>> OfRepositoryAsync(string repository, CancellationToken cancellationToken);

    /// <summary>Every preview not yet removed, of every repository (the timer's round).</summary>
    IAsyncEnumerable<Preview> NotRemovedAsync(CancellationToken cancellationToken);

    /// <summary>Deletes the rows of previews removed before <paramref name="before"/>; returns how many.</summary>
    Task<int> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken);
}

public sealed class TablePreviewStore(TableServiceClient tables, IOptions<StorageNamesOptions> names) : IPreviewStore
{
    private readonly LazyTable table = new(tables, names.Value.PreviewTable);

    public async Task<Preview?> GetAsync(string repository, long number, CancellationToken cancellationToken)
    {
        var client = await table.GetAsync(cancellationToken);
        var found = await client.GetEntityIfExistsAsync<TableEntity>(StorageKey.Escape(repository), Row(number), cancellationToken: cancellationToken);
        return found.HasValue && found.Value is { } entity ? FromEntity(entity) : null;
    }

    public async Task<Preview> SaveAsync(Preview preview, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(preview);
        var client = await table.GetAsync(cancellationToken);
        try
        {
            var response = preview.ETag == default
                ? await client.AddEntityAsync(ToEntity(preview), cancellationToken)
                : await client.UpdateEntityAsync(ToEntity(preview), preview.ETag, TableUpdateMode.Replace, cancellationToken);
            return preview with { ETag = response.Headers.ETag ?? default };
        }
        catch (RequestFailedException exception) when (exception.Status is 409 or 412)
        {
            throw new PreviewConflictException($"The preview of {preview.Repository}#{preview.Number} was changed by someone else.", exception);
        }
    }

    public async Task<IReadOnlyList<Preview>> OfRepositoryAsync(string repository, CancellationToken cancellationToken)
    {
        var client = await table.GetAsync(cancellationToken);
        var removed = nameof(PreviewState.Removed);
        var list = new List<Preview>();
        await foreach (var entity in client.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {StorageKey.Escape(repository)} and State ne {removed}"), cancellationToken: cancellationToken))
        {
            list.Add(FromEntity(entity));
        }

        return list;
    }

    public async IAsyncEnumerable<Preview> NotRemovedAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var client = await table.GetAsync(cancellationToken);
        var removed = nameof(PreviewState.Removed);
        await foreach (var entity in client.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"State ne {removed}"), cancellationToken: cancellationToken))
        {
            yield return FromEntity(entity);
        }
    }

    public async Task<int> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var client = await table.GetAsync(cancellationToken);
        var removed = nameof(PreviewState.Removed);
        var pruned = 0;
        await foreach (var entity in client.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"State eq {removed} and RemovedAt lt {before}"), select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            try
            {
                // Only the row as read: a pull request reopened since has written it again.
                await client.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, entity.ETag, cancellationToken);
                pruned++;
            }
            catch (RequestFailedException exception) when (exception.Status is 404 or 412)
            {
            }
        }

        return pruned;
    }

    private static string Row(long number) => number.ToString("D10", CultureInfo.InvariantCulture);

    private static TableEntity ToEntity(Preview p) => new(StorageKey.Escape(p.Repository), Row(p.Number))
    {
        ["Repository"] = p.Repository,
        ["Number"] = p.Number,
        ["Environment"] = p.Environment,
        ["Target"] = p.Target,
        ["State"] = p.State.ToString(),
        ["HeadSha"] = p.HeadSha,
        ["HeadAt"] = p.HeadAt,
        ["LastPushAt"] = p.LastPushAt,
        ["FromFork"] = p.FromFork,
        ["AllowedSha"] = p.AllowedSha,
        ["AllowedBy"] = p.AllowedBy,
        ["DeploymentId"] = p.DeploymentId,
        ["Url"] = p.Url,
        ["CommentId"] = p.CommentId,
        ["Status"] = p.Status,
        ["ClosedAt"] = p.ClosedAt,
        ["RemovalReason"] = p.RemovalReason,
        ["TeardownAttempts"] = p.TeardownAttempts,
        ["TeardownError"] = p.TeardownError,
        ["RemovedAt"] = p.RemovedAt,
    };

    private static Preview FromEntity(TableEntity e) => new()
    {
        Repository = e.GetString("Repository"),
        Number = e.GetInt64("Number") ?? 0,
        Environment = e.GetString("Environment"),
        Target = e.GetString("Target"),
        State = Enum.TryParse<PreviewState>(e.GetString("State"), out var state) ? state : PreviewState.Removing,
        HeadSha = e.GetString("HeadSha"),
        HeadAt = e.GetDateTimeOffset("HeadAt") ?? DateTimeOffset.MinValue,
        LastPushAt = e.GetDateTimeOffset("LastPushAt") ?? DateTimeOffset.MinValue,
        FromFork = e.GetBoolean("FromFork") ?? false,
        AllowedSha = e.GetString("AllowedSha"),
        AllowedBy = e.GetString("AllowedBy"),
        DeploymentId = e.GetInt64("DeploymentId"),
        Url = e.GetString("Url"),
        CommentId = e.GetInt64("CommentId"),
        Status = e.GetString("Status") ?? "",
        ClosedAt = e.GetDateTimeOffset("ClosedAt"),
        RemovalReason = e.GetString("RemovalReason"),
        TeardownAttempts = e.GetInt32("TeardownAttempts") ?? 0,
        TeardownError = e.GetString("TeardownError"),
        RemovedAt = e.GetDateTimeOffset("RemovedAt"),
        ETag = e.ETag,
    };
}
