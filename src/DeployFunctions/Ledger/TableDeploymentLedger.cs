using System.Globalization;
using Azure;
using Azure.Data.Tables;
using DeployFunctions.Storage;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Ledger;

/// <summary>
/// Azure Table storage. Partition: repository and environment (escaped, lower-case, so names differing only in case
/// share it). Rows: <c>merge-&lt;sha&gt;</c> for a merge's approval, <c>deployment-&lt;id&gt;</c> for a created deployment;
/// the two are written in one transaction when GitHub's id is known.
/// </summary>
public sealed class TableDeploymentLedger(TableServiceClient tables, IOptions<StorageNamesOptions> names) : IDeploymentLedger
{
    private const string DeploymentPrefix = "deployment-";
    private readonly TableClient table = tables.GetTableClient(names.Value.LedgerTable);
    private int created;

    public async Task<LedgerEntry?> FindMergeAsync(string repository, string environment, string sha, CancellationToken cancellationToken) =>
        await ReadAsync(PartitionKey(repository, environment), MergeRow(sha), cancellationToken);

    public async Task<LedgerEntry?> FindCommandAsync(string repository, string environment, long commentId, CancellationToken cancellationToken) =>
        await ReadAsync(PartitionKey(repository, environment), CommandRow(commentId), cancellationToken);

    public async Task<LedgerEntry> ApproveAsync(LedgerEntry approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        await EnsureTableAsync(cancellationToken);
        var entity = ToEntity(approval with { State = LedgerState.Creating }, ApprovalRow(approval));
        try
        {
            var response = await table.AddEntityAsync(entity, cancellationToken);
            return approval with { State = LedgerState.Creating, ETag = response.Headers.ETag ?? default };
        }
        catch (RequestFailedException exception) when (exception.Status == 409)
        {
            return await ReadAsync(entity.PartitionKey, entity.RowKey, cancellationToken)
                ?? throw new LedgerConflictException("The ledger approval vanished while it was being read.");
        }
    }

    public async Task<LedgerEntry> UpdateApprovalAsync(LedgerEntry approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        try
        {
            var response = await table.UpdateEntityAsync(ToEntity(approval, ApprovalRow(approval)), approval.ETag, TableUpdateMode.Replace, cancellationToken);
            return approval with { ETag = response.Headers.ETag ?? default };
        }
        catch (RequestFailedException exception) when (exception.Status is 409 or 412)
        {
            throw new LedgerConflictException($"The approval of {approval.Repository}@{approval.Sha} was changed by someone else.", exception);
        }
    }

    public async Task<LedgerEntry?> CreatingAsync(string repository, string environment, string sha, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var partition = PartitionKey(repository, environment);
        var creating = nameof(LedgerState.Creating);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and State eq {creating} and Sha eq {sha}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            return FromEntity(entity);
        }

        return null;
    }

    public async Task RecordRunAsync(LedgerEntry deployment, long runId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        await EnsureTableAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(RunPartition(deployment.Repository), RunRow(runId))
        {
            ["Environment"] = deployment.Environment,
            ["DeploymentId"] = deployment.DeploymentId,
        }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<LedgerEntry?> FindRunAsync(string repository, long runId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(RunPartition(repository), RunRow(runId), cancellationToken: cancellationToken);
        return found.HasValue && found.Value is { } index && index.GetString("Environment") is { } environment && index.GetInt64("DeploymentId") is { } id
            ? await FindDeploymentAsync(repository, environment, id, cancellationToken)
            : null;
    }

    public IAsyncEnumerable<LedgerEntry> UnreportedAsync(CancellationToken cancellationToken) =>
        UnreportedWhereAsync(TableClient.CreateQueryFilter($"RowKey ge {DeploymentPrefix} and RowKey lt {"deployment."} and Reported eq {false}"), cancellationToken);

    public IAsyncEnumerable<LedgerEntry> UnreportedAsync(string repository, string environment, CancellationToken cancellationToken) =>
        UnreportedWhereAsync(TableClient.CreateQueryFilter(
            $"PartitionKey eq {PartitionKey(repository, environment)} and RowKey ge {DeploymentPrefix} and RowKey lt {"deployment."} and Reported eq {false}"),
            cancellationToken);

    private async IAsyncEnumerable<LedgerEntry> UnreportedWhereAsync(
        string filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (FromEntity(entity) is { IsFinal: true } unreported)
            {
                yield return unreported;
            }
        }
    }

    public async Task<LedgerEntry> RecordCreatedAsync(LedgerEntry approval, long deploymentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        await EnsureTableAsync(cancellationToken);
        var recorded = approval with { DeploymentId = deploymentId, State = LedgerState.Created };
        var merge = ToEntity(recorded, ApprovalRow(approval));
        merge.ETag = approval.ETag;
        var deployment = ToEntity(recorded, DeploymentRow(deploymentId));
        try
        {
            var responses = await table.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, merge, approval.ETag),
                    new TableTransactionAction(TableTransactionActionType.Add, deployment),
                ], cancellationToken);
            return recorded with { ETag = responses.Value[1].Headers.ETag ?? default };
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 409 or 412)
        {
            throw new LedgerConflictException(
                $"The ledger changed while deployment {deploymentId} of {approval.Repository} was being recorded.", exception);
        }
    }

    public async Task<LedgerEntry?> FindDeploymentAsync(
        string repository, string environment, long deploymentId, CancellationToken cancellationToken) =>
        await ReadAsync(PartitionKey(repository, environment), DeploymentRow(deploymentId), cancellationToken);

    public async Task<LedgerEntry> UpdateAsync(LedgerEntry deployment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var id = deployment.DeploymentId ?? throw new ArgumentException("Only a created deployment's row is updated.", nameof(deployment));
        var entity = ToEntity(deployment, DeploymentRow(id));
        try
        {
            var response = await table.UpdateEntityAsync(entity, deployment.ETag, TableUpdateMode.Replace, cancellationToken);
            return deployment with { ETag = response.Headers.ETag ?? default };
        }
        catch (RequestFailedException exception) when (exception.Status is 409 or 412)
        {
            throw new LedgerConflictException($"Deployment {id} of {deployment.Repository} was updated by someone else.", exception);
        }
    }

    public async IAsyncEnumerable<LedgerEntry> UnfinishedAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var (created, started, handedOff) = (nameof(LedgerState.Created), nameof(LedgerState.Started), nameof(LedgerState.HandedOff));
        var (awaiting, timedOut) = (nameof(LedgerState.AwaitingReport), nameof(LedgerState.TimedOut));
        var filter = TableClient.CreateQueryFilter(
            $"RowKey ge {DeploymentPrefix} and RowKey lt {"deployment."} and (State eq {created} or State eq {started} or State eq {handedOff} or State eq {awaiting} or State eq {timedOut})");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return FromEntity(entity);
        }
    }

    public Task<LedgerEntry?> RunningAsync(string repository, string environment, CancellationToken cancellationToken) =>
        NewestInStateAsync(repository, environment, LedgerState.Started, cancellationToken);

    public Task<LedgerEntry?> AwaitingReportAsync(string repository, string environment, CancellationToken cancellationToken) =>
        NewestInStateAsync(repository, environment, LedgerState.AwaitingReport, cancellationToken);

    private async Task<LedgerEntry?> NewestInStateAsync(string repository, string environment, LedgerState state, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var partition = PartitionKey(repository, environment);
        var started = state.ToString();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {DeploymentPrefix} and RowKey lt {"deployment."} and State eq {started}");
        LedgerEntry? newest = null;
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var running = FromEntity(entity);
            if (newest is null || running.StartedAt > newest.StartedAt)
            {
                newest = running;
            }
        }

        return newest;
    }

    public async Task<IReadOnlyList<LedgerEntry>> HeldAsync(string repository, string environment, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var created = LedgerState.Created.ToString();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {PartitionKey(repository, environment)} and RowKey ge {DeploymentPrefix} and RowKey lt {"deployment."} and State eq {created} and HeldFor gt {""}");
        var held = new List<LedgerEntry>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            held.Add(FromEntity(entity));
        }

        return [.. held.OrderBy(e => e.Order)];
    }

    public async Task<bool> SucceededAsync(string repository, string environment, string sha, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var succeeded = LedgerState.Succeeded.ToString();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {PartitionKey(repository, environment)} and RowKey ge {DeploymentPrefix} and RowKey lt {"deployment."} and State eq {succeeded} and Sha eq {sha}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (FromEntity(entity) is { Noop: false })
            {
                return true;
            }
        }

        return false;
    }

    public async Task<LedgerEntry?> LiveAsync(string repository, string environment, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var succeeded = LedgerState.Succeeded.ToString();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {PartitionKey(repository, environment)} and RowKey ge {DeploymentPrefix} and RowKey lt {"deployment."} and State eq {succeeded}");
        LedgerEntry? live = null;
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (FromEntity(entity) is { Noop: false } entry && (live is null || IsLater(entry, live)))
            {
                live = entry;
            }
        }

        return live;
    }

    public async Task<LedgerEntry?> NewerThatRanAsync(LedgerEntry deployment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        await EnsureTableAsync(cancellationToken);
        var partition = PartitionKey(deployment.Repository, deployment.Environment);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {DeploymentPrefix} and RowKey lt {"deployment."} and Order ge {deployment.Order}");
        LedgerEntry? newest = null;
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var other = FromEntity(entity);
            if (other.DeploymentId == deployment.DeploymentId || other.Noop || !other.HasRun || !IsLater(other, deployment))
            {
                continue;
            }

            if (newest is null || IsLater(other, newest))
            {
                newest = other;
            }
        }

        return newest;
    }

    /// <summary>Merge order; deployment ids (GitHub's creation order) only break a tie.</summary>
    private static bool IsLater(LedgerEntry a, LedgerEntry b) =>
        a.Order != b.Order ? a.Order > b.Order : (a.DeploymentId ?? 0) > (b.DeploymentId ?? 0);

    public static string PartitionKey(string repository, string environment) => StorageKey.Join('|', repository, environment);

    private static string MergeRow(string sha) => "merge-" + StorageKey.Escape(sha);

    private static string CommandRow(long commentId) => string.Create(CultureInfo.InvariantCulture, $"command-{commentId}");

    /// <summary>
    /// A merge's approval is keyed by its commit, a command's by its comment, a preview's by its commit and its place in order
    /// (a redelivered push approves nothing new; the same commit reopened later is a new preview).
    /// </summary>
    private static string ApprovalRow(LedgerEntry approval) => approval.Source switch
    {
        LedgerSources.Command => CommandRow(approval.CommentId ?? throw new ArgumentException("A command's approval needs its comment id.", nameof(approval))),
        LedgerSources.Preview => string.Create(CultureInfo.InvariantCulture, $"preview-{StorageKey.Escape(approval.Sha)}-{approval.Order.UtcTicks:D19}"),
        _ => MergeRow(approval.Sha),
    };

    private static string DeploymentRow(long id) => string.Create(CultureInfo.InvariantCulture, $"{DeploymentPrefix}{id:D19}");

    /// <summary>The index of workflow runs: a partition no repository and environment can have (an escaped name has no <c>~r</c>).</summary>
    private static string RunPartition(string repository) => StorageKey.Escape(repository) + "|~runs";

    private static string RunRow(long runId) => string.Create(CultureInfo.InvariantCulture, $"run-{runId:D19}");

    private async Task<LedgerEntry?> ReadAsync(string partition, string row, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken);
        return found.HasValue && found.Value is { } entity ? FromEntity(entity) : null;
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref created) == 0)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            Volatile.Write(ref created, 1);
        }
    }

    private static TableEntity ToEntity(LedgerEntry entry, string row) => new(PartitionKey(entry.Repository, entry.Environment), row)
    {
        ["Repository"] = entry.Repository,
        ["Environment"] = entry.Environment,
        ["Sha"] = entry.Sha,
        ["Ref"] = entry.Ref,
        ["BaseBranch"] = entry.BaseBranch,
        ["Source"] = entry.Source,
        ["CommentId"] = entry.CommentId,
        ["CommentUrl"] = entry.CommentUrl,
        ["Command"] = entry.Command,
        ["Noop"] = entry.Noop,
        ["Forced"] = entry.Forced,
        ["PullRequest"] = entry.PullRequest,
        ["RequestedBy"] = entry.RequestedBy,
        ["Reason"] = entry.Reason,
        ["Order"] = entry.Order,
        ["Payload"] = entry.Payload,
        ["DeliveryId"] = entry.DeliveryId,
        ["DeploymentId"] = entry.DeploymentId,
        ["State"] = entry.State.ToString(),
        ["StartedAt"] = entry.StartedAt,
        ["ResultDescription"] = entry.ResultDescription,
        ["ResultEnvironmentUrl"] = entry.ResultEnvironmentUrl,
        ["ResultLogUrl"] = entry.ResultLogUrl,
        ["ReportUrl"] = entry.ReportUrl,
        ["CreateSentAt"] = entry.CreateSentAt,
        ["RunId"] = entry.RunId,
        ["Reported"] = entry.Reported,
        ["HeldFor"] = entry.HeldFor,
        ["Target"] = entry.Target,
        ["EnvironmentUrl"] = entry.EnvironmentUrl,
        ["Workflow"] = entry.Workflow,
        ["HeldUntil"] = entry.HeldUntil,
        ["Rollback"] = entry.Rollback,
        ["Reverts"] = entry.Reverts,
    };

    private static LedgerEntry FromEntity(TableEntity entity) => new()
    {
        Repository = entity.GetString("Repository"),
        Environment = entity.GetString("Environment"),
        Sha = entity.GetString("Sha"),
        Ref = entity.GetString("Ref"),
        BaseBranch = entity.GetString("BaseBranch"),
        Source = entity.GetString("Source"),
        CommentId = entity.GetInt64("CommentId"),
        CommentUrl = entity.GetString("CommentUrl"),
        Command = entity.GetString("Command"),
        Noop = entity.GetBoolean("Noop") ?? false,
        Forced = entity.GetBoolean("Forced") ?? false,
        PullRequest = entity.GetInt64("PullRequest"),
        RequestedBy = entity.GetString("RequestedBy"),
        Reason = entity.GetString("Reason"),
        Order = entity.GetDateTimeOffset("Order") ?? DateTimeOffset.MinValue,
        Payload = entity.GetString("Payload") ?? "{}",
        DeliveryId = entity.GetString("DeliveryId"),
        DeploymentId = entity.GetInt64("DeploymentId"),
        State = Enum.TryParse<LedgerState>(entity.GetString("State"), out var state) ? state : LedgerState.Refused,
        StartedAt = entity.GetDateTimeOffset("StartedAt"),
        ResultDescription = entity.GetString("ResultDescription"),
        ResultEnvironmentUrl = entity.GetString("ResultEnvironmentUrl"),
        ResultLogUrl = entity.GetString("ResultLogUrl"),
        ReportUrl = entity.GetString("ReportUrl"),
        CreateSentAt = entity.GetDateTimeOffset("CreateSentAt"),
        RunId = entity.GetInt64("RunId"),
        // Rows written before the flag existed were reported the old way: they count as reported.
        Reported = entity.GetBoolean("Reported") ?? true,
        HeldFor = entity.GetString("HeldFor"),
        Target = entity.GetString("Target"),
        EnvironmentUrl = entity.GetString("EnvironmentUrl"),
        Workflow = entity.GetString("Workflow"),
        HeldUntil = entity.GetDateTimeOffset("HeldUntil"),
        Rollback = entity.GetBoolean("Rollback") ?? false,
        Reverts = entity.GetInt64("Reverts"),
        ETag = entity.ETag,
        LastChanged = entity.Timestamp,
    };
}

