using Azure;
using Azure.Data.Tables;
using DeployFunctions.Storage;
using Microsoft.Extensions.Options;

namespace DeployFunctions.GitHub;

/// <summary>
/// Rate budgets in the lock table (<c>LockTable</c>), partition <c>~ratelimit</c>, one row per credentials and limit. A write
/// merges: a block another instance wrote is kept by a write that has none.
/// </summary>
public sealed class TableRateBudgetStore(TableServiceClient tables, IOptions<StorageNamesOptions> names) : IRateBudgetStore
{
    public const string Partition = "~ratelimit";
    private readonly LazyTable lazy = new(tables, names.Value.LockTable);

    public async Task<RateBudget?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        var table = await lazy.GetAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(Partition, key, cancellationToken: cancellationToken);
        if (!found.HasValue || found.Value is not { } row)
        {
            return null;
        }

        return new RateBudget(row.GetInt32("Remaining"), row.GetDateTimeOffset("Reset"), row.GetDateTimeOffset("BlockedUntil"),
            row.GetDateTimeOffset("ObservedAt") ?? DateTimeOffset.MinValue);
    }

    public async Task WriteAsync(string key, RateBudget budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(budget);
        var table = await lazy.GetAsync(cancellationToken);
        var row = new TableEntity(Partition, key) { ["ObservedAt"] = budget.ObservedAt };
        if (budget.Remaining is { } remaining && budget.Reset is { } reset)
        {
            (row["Remaining"], row["Reset"]) = (remaining, reset);
        }

        if (budget.BlockedUntil is { } blocked)
        {
            row["BlockedUntil"] = blocked;
        }

        await table.UpsertEntityAsync(row, TableUpdateMode.Merge, cancellationToken);
    }
}
