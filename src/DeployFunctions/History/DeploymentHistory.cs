using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using DeployFunctions.Storage;

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
    /// <summary>Adds the status; false when a row for that status exists already (a repeat adds nothing).</summary>
    Task<bool> AddAsync(StatusRecord record, CancellationToken cancellationToken);

    /// <summary>The most recent statuses first, optionally for one repository and/or environment.</summary>
    Task<IReadOnlyList<StatusRecord>> RecentAsync(string? repository, string? environment, int limit, CancellationToken cancellationToken);
}

/// <summary>
/// Azure Table storage. Partition: the repository (<c>owner~name</c>, as '/' is not allowed in keys). Row: inverted
/// creation time then status id, so a partition reads newest first and a status has exactly one row.
/// </summary>
public sealed class TableDeploymentHistory(TableServiceClient tables, IOptions<StorageNamesOptions> names) : IDeploymentHistory
{
    private readonly TableClient table = tables.GetTableClient(names.Value.HistoryTable);
    private int created;

    public async Task<bool> AddAsync(StatusRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await EnsureTableAsync(cancellationToken);
        try
        {
            await table.AddEntityAsync(ToEntity(record), cancellationToken);
            return true;
        }
        catch (RequestFailedException exception) when (exception.Status == 409)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<StatusRecord>> RecentAsync(
        string? repository, string? environment, int limit, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var filters = new List<string>();
        if (!string.IsNullOrWhiteSpace(repository))
        {
            filters.Add(TableClient.CreateQueryFilter($"PartitionKey eq {PartitionKey(repository)}"));
        }

        if (!string.IsNullOrWhiteSpace(environment))
        {
            filters.Add(TableClient.CreateQueryFilter($"Environment eq {environment}"));
        }

        var results = new List<StatusRecord>();
        var query = table.QueryAsync<TableEntity>(filters.Count == 0 ? null : string.Join(" and ", filters), cancellationToken: cancellationToken);
        await foreach (var entity in query)
        {
            results.Add(FromEntity(entity));
            // One partition reads newest first; across partitions, read a bounded number and sort.
            if (results.Count >= (repository is null ? 10 * limit : limit))
            {
                break;
            }
        }

        return [.. results.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.StatusId).Take(limit)];
    }

    public static string PartitionKey(string repository) => repository.Replace('/', '~').ToLowerInvariant();

    public static string RowKey(DateTimeOffset createdAt, long statusId) =>
        string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.MaxValue.UtcTicks - createdAt.UtcTicks:D19}-{statusId:D19}");

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref created) == 0)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            Volatile.Write(ref created, 1);
        }
    }

    private static TableEntity ToEntity(StatusRecord record) => new(PartitionKey(record.Repository), RowKey(record.CreatedAt, record.StatusId))
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
