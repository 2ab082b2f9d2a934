using System.Globalization;
using Azure;
using Azure.Data.Tables;
using DeployFunctions.Storage;
using Microsoft.Extensions.Options;

namespace DeployFunctions.History;

/// <summary>One deployment status, as kept in the history table.</summary>
public sealed record StatusRecord
{
    public required string Repository { get; init; }
    public required long DeploymentId { get; init; }
    public required long StatusId { get; init; }
    public required string State { get; init; }
    public required string Environment { get; init; }
    public string? Sha { get; init; }
    public string? Ref { get; init; }
    public string? Creator { get; init; }
    public string? Description { get; init; }
    public string? LogUrl { get; init; }
    public string? EnvironmentUrl { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public string? DeliveryId { get; init; }
}

public interface IDeploymentHistory
{
    /// <summary>
    /// Adds the status (a repeat adds nothing) and says whether its notification is still owed: true until
    /// <see cref="MarkNotifiedAsync"/> was called for it, so a process that died between the row and the notification
    /// notifies on the retry (at least once).
    /// </summary>
    Task<bool> AddAsync(StatusRecord record, CancellationToken cancellationToken);

    /// <summary>Records that the status's notification was sent.</summary>
    Task MarkNotifiedAsync(StatusRecord record, CancellationToken cancellationToken);

    /// <summary>The most recent statuses first, optionally for one repository and/or environment.</summary>
    Task<IReadOnlyList<StatusRecord>> RecentAsync(string? repository, string? environment, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// A page of statuses, newest first, created in [<paramref name="since"/>, <paramref name="until"/>] when given; the
    /// continuation reads the next page (null: the last).
    /// </summary>
    Task<HistoryPage> PageAsync(HistoryQuery query, CancellationToken cancellationToken);
}

/// <summary>What to read of the history.</summary>
public sealed record HistoryQuery(string? Repository, string? Environment, DateTimeOffset? Since, DateTimeOffset? Until, int Limit, string? Continuation);

/// <summary>A page of statuses and where the next one starts.</summary>
public sealed record HistoryPage(IReadOnlyList<StatusRecord> Statuses, string? Continuation);

/// <summary>
/// Azure Table storage. Partition: the repository (<c>owner~name</c>, as '/' is not allowed in keys). Row: inverted
/// creation time then inverted status id (GitHub's times have one-second resolution), so a partition reads newest
/// first and a status has exactly one row. Each row is
/// written a second time in the partition <c>~all</c>, which reads newest first across repositories.
/// </summary>
public sealed class TableDeploymentHistory(TableServiceClient tables, IOptions<StorageNamesOptions> names) : IDeploymentHistory
{
    private readonly TableClient table = tables.GetTableClient(names.Value.HistoryTable);
    private int created;

    /// <summary>The partition that holds every repository's rows, newest first.</summary>
    public const string AllRepositories = "~all";

    public async Task<bool> AddAsync(StatusRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await EnsureTableAsync(cancellationToken);
        var entity = ToEntity(record, PartitionKey(record.Repository));
        bool owed;
        try
        {
            await table.AddEntityAsync(entity, cancellationToken);
            owed = true;
        }
        catch (RequestFailedException exception) when (exception.Status == 409)
        {
            var stored = await table.GetEntityAsync<TableEntity>(entity.PartitionKey, entity.RowKey, ["Notified"], cancellationToken);
            owed = stored.Value.GetBoolean("Notified") != true;
        }

        try
        {
            await table.AddEntityAsync(ToEntity(record, AllRepositories), cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 409)
        {
            // A repeat: the cross-repository row exists too.
        }

        return owed;
    }

    public async Task MarkNotifiedAsync(StatusRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var update = new TableEntity(PartitionKey(record.Repository), RowKey(record.CreatedAt, record.StatusId)) { ["Notified"] = true };
        await table.UpdateEntityAsync(update, ETag.All, TableUpdateMode.Merge, cancellationToken);
    }

    public async Task<IReadOnlyList<StatusRecord>> RecentAsync(
        string? repository, string? environment, int limit, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var partition = string.IsNullOrWhiteSpace(repository) ? AllRepositories : PartitionKey(repository);
        var filter = string.IsNullOrWhiteSpace(environment)
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Environment eq {environment}");

        // One partition, read in key order: newest first.
        var results = new List<StatusRecord>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(limit, 1000), cancellationToken: cancellationToken))
        {
            results.Add(FromEntity(entity));
            if (results.Count >= limit)
            {
                break;
            }
        }

        return results;
    }

    public async Task<HistoryPage> PageAsync(HistoryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await EnsureTableAsync(cancellationToken);
        var partition = string.IsNullOrWhiteSpace(query.Repository) ? AllRepositories : PartitionKey(query.Repository);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
        if (!string.IsNullOrWhiteSpace(query.Environment))
        {
            filter += TableClient.CreateQueryFilter($" and Environment eq {query.Environment}");
        }

        // Rows are keyed by inverted time: the newest has the smallest key.
        if (query.Until is { } until)
        {
            filter += TableClient.CreateQueryFilter($" and RowKey ge {Inverted(until)}");
        }

        if (query.Since is { } since)
        {
            filter += TableClient.CreateQueryFilter($" and RowKey lt {Inverted(since) + "."}");
        }

        await foreach (var page in table.QueryAsync<TableEntity>(filter, maxPerPage: query.Limit, cancellationToken: cancellationToken)
                           .AsPages(query.Continuation, query.Limit))
        {
            return new HistoryPage([.. page.Values.Select(FromEntity)], page.ContinuationToken);
        }

        return new HistoryPage([], null);
    }

    private static string Inverted(DateTimeOffset at) =>
        string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks:D19}");

    public static string PartitionKey(string repository) => repository.Replace('/', '~').ToLowerInvariant();

    public static string RowKey(DateTimeOffset createdAt, long statusId) =>
        string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.MaxValue.UtcTicks - createdAt.UtcTicks:D19}-{long.MaxValue - statusId:D19}");

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref created) == 0)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            Volatile.Write(ref created, 1);
        }
    }

    private static TableEntity ToEntity(StatusRecord record, string partition) => new(partition, RowKey(record.CreatedAt, record.StatusId))
    {
        ["Repository"] = record.Repository,
        ["DeploymentId"] = record.DeploymentId,
        ["StatusId"] = record.StatusId,
        ["State"] = record.State,
        ["Environment"] = record.Environment,
        ["Sha"] = record.Sha,
        ["Ref"] = record.Ref,
        ["Creator"] = record.Creator,
        ["Description"] = record.Description,
        ["LogUrl"] = record.LogUrl,
        ["EnvironmentUrl"] = record.EnvironmentUrl,
        ["CreatedAt"] = record.CreatedAt,
        ["DeliveryId"] = record.DeliveryId,
    };

    private static StatusRecord FromEntity(TableEntity entity) => new()
    {
        Repository = entity.GetString("Repository"),
        DeploymentId = entity.GetInt64("DeploymentId") ?? 0,
        StatusId = entity.GetInt64("StatusId") ?? 0,
        State = entity.GetString("State"),
        Environment = entity.GetString("Environment"),
        Sha = entity.GetString("Sha"),
        Ref = entity.GetString("Ref"),
        Creator = entity.GetString("Creator"),
        Description = entity.GetString("Description"),
        LogUrl = entity.GetString("LogUrl"),
        EnvironmentUrl = entity.GetString("EnvironmentUrl"),
        CreatedAt = entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        DeliveryId = entity.GetString("DeliveryId"),
    };
}
