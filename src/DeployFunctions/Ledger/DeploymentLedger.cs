using System.Globalization;
using Azure;
using Azure.Data.Tables;
using DeployFunctions.Storage;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Ledger;

/// <summary>Where a ledger deployment stands. The runner moves it forward; a result, once recorded, is final.</summary>
public enum LedgerState
{
    /// <summary>Approved; GitHub is being asked to create the deployment (its id is not known yet).</summary>
    Creating,

    /// <summary>GitHub created it; it has not run.</summary>
    Created,

    /// <summary>A provider started on it; no result was recorded (yet).</summary>
    Started,

    Succeeded,
    Failed,
    Errored,

    /// <summary>A workflow carries it out and reports the result itself.</summary>
    HandedOff,

    /// <summary>A newer commit had already run in the environment: marked inactive, never run.</summary>
    Superseded,

    /// <summary>A run started and never recorded a result (the process died): reported as error, not run again.</summary>
    Interrupted,

    /// <summary>The policy said no when it was about to run.</summary>
    Refused,

    /// <summary>
    /// The watchdog claimed it (no result in time): its <c>error</c> status is being posted. A run that died here is
    /// finished by the next watchdog run; then it is <see cref="Errored"/>.
    /// </summary>
    TimedOut,

    /// <summary>An asynchronous deploy hook accepted it (202) and reports the result later (a signed callback, or its status URL).</summary>
    AwaitingReport,
}

/// <summary>One deployment the app decided to create, and what became of it.</summary>
public sealed record LedgerEntry
{
    public required string Repository { get; init; }
    public required string Environment { get; init; }
    public required string Sha { get; init; }

    /// <summary>The ref sent to GitHub (the commit itself).</summary>
    public required string Ref { get; init; }

    /// <summary>The branch the commit landed on; a dispatched workflow runs from it.</summary>
    public required string BaseBranch { get; init; }

    /// <summary>What asked for it: <c>merge</c> or <c>command</c> (see <see cref="LedgerSources"/>).</summary>
    public required string Source { get; init; }

    /// <summary>A command's comment id: its approval is keyed by it, so a redelivered command approves nothing new.</summary>
    public long? CommentId { get; init; }

    /// <summary>A command's comment, for replies and for people reading the deployment.</summary>
    public string? CommentUrl { get; init; }

    /// <summary>A command as written, e.g. <c>.deploy to staging</c>.</summary>
    public string? Command { get; init; }

    /// <summary>A dry run: the provider is told not to change anything; it never supersedes or is superseded.</summary>
    public bool Noop { get; init; }

    /// <summary>An admin's <c>.deploy --force</c>: deploy freezes do not hold it (locks still do).</summary>
    public bool Forced { get; init; }

    public long? PullRequest { get; init; }
    public required string RequestedBy { get; init; }

    /// <summary>Why the policy said yes.</summary>
    public required string Reason { get; init; }

    /// <summary>Its place among deployments of the environment: when the merge landed (GitHub's <c>merged_at</c>).</summary>
    public required DateTimeOffset Order { get; init; }

    /// <summary>The deployment payload the app sent (JSON); providers get this, never what an event claims.</summary>
    public required string Payload { get; init; }

    public required string DeliveryId { get; init; }
    public long? DeploymentId { get; init; }
    public LedgerState State { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public string? ResultDescription { get; init; }
    public string? ResultEnvironmentUrl { get; init; }
    public string? ResultLogUrl { get; init; }

    /// <summary>An asynchronous hook's status URL, polled until it reports a result.</summary>
    public string? ReportUrl { get; init; }

    /// <summary>
    /// When a create call was last sent to GitHub for this approval without a known answer: only then may a deployment found
    /// on GitHub (created by the app itself) be what that call made.
    /// </summary>
    public DateTimeOffset? CreateSentAt { get; init; }

    /// <summary>The workflow run a <c>github-actions</c> deployment was handed to (GitHub's answer to the dispatch).</summary>
    public long? RunId { get; init; }

    /// <summary>The final result is on GitHub as a deployment status (false: recorded, not yet posted).</summary>
    public bool Reported { get; init; }

    /// <summary>A legitimate wait the runner is holding a created deployment in (a lock, a freeze), and until when it may last.</summary>
    public string? HeldFor { get; init; }

    /// <summary>When <see cref="HeldFor"/> ends at the latest (a freeze's end, a lock wait's give-up time).</summary>
    public DateTimeOffset? HeldUntil { get; init; }

    /// <summary>The row's version: an update succeeds only if nobody wrote it since it was read.</summary>
    public ETag ETag { get; init; }

    /// <summary>When the row was last written (the table's own timestamp); not written by the app.</summary>
    public DateTimeOffset? LastChanged { get; init; }

    /// <summary>True once a provider has been started on it (or it has a result from running).</summary>
    public bool HasRun => State is LedgerState.Started or LedgerState.Succeeded or LedgerState.Failed or LedgerState.Errored
        or LedgerState.HandedOff or LedgerState.Interrupted or LedgerState.AwaitingReport;

    /// <summary>True when a result is recorded (what is left is to report it).</summary>
    public bool HasResult => State is LedgerState.Succeeded or LedgerState.Failed or LedgerState.Errored or LedgerState.HandedOff
        or LedgerState.Superseded or LedgerState.Interrupted or LedgerState.Refused or LedgerState.TimedOut;

    /// <summary>True when nothing more happens to it but the status that tells GitHub (a workflow's hand-off is not final).</summary>
    public bool IsFinal => State is LedgerState.Succeeded or LedgerState.Failed or LedgerState.Errored or LedgerState.Superseded
        or LedgerState.Interrupted or LedgerState.Refused;
}

/// <summary>Someone wrote the ledger row since it was read; read it again and decide again.</summary>
public sealed class LedgerConflictException : Exception
{
    public LedgerConflictException()
    {
    }

    public LedgerConflictException(string message)
        : base(message)
    {
    }

    public LedgerConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

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

    /// <summary>The newest deployment of the same environment that is later in merge order than this one and has run.</summary>
    Task<LedgerEntry?> NewerThatRanAsync(LedgerEntry deployment, CancellationToken cancellationToken);
}

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

    /// <summary>A merge's approval is keyed by its commit, a command's by its comment.</summary>
    private static string ApprovalRow(LedgerEntry approval) =>
        approval.Source == LedgerSources.Command
            ? CommandRow(approval.CommentId ?? throw new ArgumentException("A command's approval needs its comment id.", nameof(approval)))
            : MergeRow(approval.Sha);

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
        ["HeldUntil"] = entry.HeldUntil,
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
        HeldUntil = entity.GetDateTimeOffset("HeldUntil"),
        ETag = entity.ETag,
        LastChanged = entity.Timestamp,
    };
}


/// <summary>What asked for a ledger deployment.</summary>
public static class LedgerSources
{
    public const string Merge = "merge";

    /// <summary>A pull request comment (<c>.deploy</c>, <c>.noop</c>).</summary>
    public const string Command = "command";
}
