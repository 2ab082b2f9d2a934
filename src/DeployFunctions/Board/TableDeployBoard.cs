using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using DeployFunctions.History;
using DeployFunctions.Ledger;
using DeployFunctions.Storage;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Board;

/// <summary>A page of environments and where the next one starts.</summary>
public sealed record BoardEnvironmentsPage(IReadOnlyList<BoardEnvironment> Environments, string? Continuation);

/// <summary>
/// The deploy board's summary rows, kept up to date as the app's deployment statuses arrive, so that the board and DORA's
/// four keys read a few rows instead of scanning history: one row per repository and environment (what is live, what is
/// running, the last results) and one per environment and day (the day's counts and durations).
/// </summary>
public interface IDeployBoard
{
    /// <summary>
    /// Takes in a status of one of the app's own deployments (<paramref name="entry"/> is its ledger row). Only the ledger's
    /// result counts: a final status counts once the ledger has the deployment's result, and then as the ledger says
    /// (anyone with write access can post a status; nobody but the app writes the ledger). Safe to repeat. Returns the
    /// result counted (the same one again on a repeat) and the deployments it made failed changes, or null when the status
    /// was not a result.
    /// </summary>
    Task<BoardUpdate?> RecordAsync(StatusRecord status, LedgerEntry entry, CancellationToken cancellationToken);

    /// <summary>Environments, in repository then environment order, optionally of one repository and/or environment name.</summary>
    Task<BoardEnvironmentsPage> EnvironmentsAsync(
        string? repository, string? environment, int limit, string? continuation, CancellationToken cancellationToken);

    /// <summary>What the board holds as live in the environment (one row read), or null when it holds nothing there.</summary>
    Task<BoardDeployment?> LiveAsync(string repository, string environment, CancellationToken cancellationToken);

    /// <summary>Whether anything of the app's was ever recorded for the environment.</summary>
    Task<bool> HasEnvironmentAsync(string repository, string environment, CancellationToken cancellationToken);

    /// <summary>The day totals of one environment name, of one repository or (null) of all, from <paramref name="first"/> to <paramref name="last"/> inclusive.</summary>
    Task<IReadOnlyList<DayTotals>> DaysAsync(string? repository, string environment, DateOnly first, DateOnly last, CancellationToken cancellationToken);
}

/// <summary>
/// Azure Table storage, one table (<c>BoardTable</c>). Environments: partition <c>env</c>, row
/// <c>&lt;repository&gt;|&lt;environment&gt;</c> (escaped), updated with its ETag. Results: partitions
/// <c>r|&lt;repository&gt;|&lt;environment&gt;</c> and <c>r|~all|&lt;environment&gt;</c>, row
/// <c>&lt;day&gt;|&lt;repository&gt;|&lt;deployment id&gt;</c>, inserted once. Days: <c>d|...</c> partitions of the same
/// shape, row <c>&lt;day&gt;</c>, recomputed from that day's results (so a repeat or a crash never counts twice).
/// </summary>
public sealed class TableDeployBoard(TableServiceClient tables, IOptions<StorageNamesOptions> names) : IDeployBoard
{
    /// <summary>How many results an environment's row keeps for its timeline.</summary>
    public const int RecentKept = 20;

    /// <summary>A success rolled back or reverted within this long after it went live counts as a failed change.</summary>
    public static readonly TimeSpan UndoWindow = TimeSpan.FromHours(24);

    private const string EnvironmentsPartition = "env";
    private const string AllRepositories = "~all";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly LazyTable lazy = new(tables, names.Value.BoardTable);

    public async Task<BoardUpdate?> RecordAsync(StatusRecord status, LedgerEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Noop || entry.DeploymentId != status.DeploymentId)
        {
            return null; // a dry run changes nothing and is no deployment to count
        }

        var table = await lazy.GetAsync(cancellationToken);
        if (!IsFinal(status.State))
        {
            if (entry.IsFinal)
            {
                return null; // the ledger has its result: a later "in progress" (anyone may post one) is not news
            }

            await UpdateEnvironmentAsync(table, entry, current => current.Current is { } running && running.DeploymentId != entry.DeploymentId && running.At > status.CreatedAt
                ? null // a newer deployment's status is shown already
                : current with { Current = Shown(entry, status, status.State) }, cancellationToken);
            return null;
        }

        if (Counted(entry) is not { } succeeded)
        {
            // Not run (superseded, refused), or the ledger has no result yet: the status does not decide it. It is no longer running.
            await UpdateEnvironmentAsync(table, entry, current => current.Current?.DeploymentId == entry.DeploymentId
                ? current with { Current = null }
                : null, cancellationToken);
            return null;
        }

        var (result, applied) = await ResultAsync(table, entry, status, succeeded, cancellationToken);
        var shown = Shown(entry, status, succeeded ? "success" : entry.State == LedgerState.Failed ? "failure" : "error") with { At = result.FinishedAt };
        if (!applied)
        {
            // Decided by the result's own row, not by the environment's last 20: a status redelivered days later changes nothing.
            await UpdateEnvironmentAsync(table, entry, current =>
            {
                var clearCurrent = current.Current?.DeploymentId == entry.DeploymentId;
                if (current.Recent.Any(d => d.DeploymentId == entry.DeploymentId))
                {
                    return clearCurrent ? current with { Current = null } : null; // applied before a crash kept it from being marked
                }

                var newest = current.Live is null || current.Live.At <= shown.At;
                return current with
                {
                    Current = clearCurrent ? null : current.Current,
                    Live = succeeded && newest ? shown : current.Live,
                    Recent = [.. current.Recent.Append(shown).OrderByDescending(d => d.At).ThenByDescending(d => d.DeploymentId).Take(RecentKept)],
                    FailingSince = succeeded
                        ? (current.FailingSince is { } since && since <= shown.At ? null : current.FailingSince)
                        : current.FailingSince ?? (newest ? shown.At : null), // an old failure after a newer success starts nothing
                };
            }, cancellationToken);
            await MarkAppliedAsync(table, entry, cancellationToken);
        }

        var days = new HashSet<DateOnly> { Day(result.FinishedAt) };
        var undone = new List<long>();
        if (result.Undoes is { } replaced)
        {
            // Fixed when the result was first counted: applied again on every repeat, so a crash after the count loses nothing.
            await MarkUndoneAsync(table, entry.Repository, entry.Environment, replaced.DeploymentId, Day(replaced.At), days, cancellationToken);
            undone.Add(replaced.DeploymentId);
        }

        if (entry.Reverts is { } reverted && succeeded)
        {
            undone.AddRange(await MarkRevertedAsync(table, entry, reverted, result.FinishedAt, days, cancellationToken));
        }

        foreach (var day in days)
        {
            await RecountAsync(table, RepositoryKey(entry.Repository), entry.Environment, day, cancellationToken);
            await RecountAsync(table, AllRepositories, entry.Environment, day, cancellationToken);
        }

        return new BoardUpdate(result, undone);
    }

    public async Task<BoardEnvironmentsPage> EnvironmentsAsync(
        string? repository, string? environment, int limit, string? continuation, CancellationToken cancellationToken)
    {
        var table = await lazy.GetAsync(cancellationToken);
        var filter = $"PartitionKey eq '{EnvironmentsPartition}'";
        if (!string.IsNullOrWhiteSpace(repository))
        {
            var key = RepositoryKey(repository);
            filter += TableClient.CreateQueryFilter($" and RowKey ge {key + "|"} and RowKey lt {key + "}"}");
        }

        if (!string.IsNullOrWhiteSpace(environment))
        {
            filter += TableClient.CreateQueryFilter($" and EnvironmentKey eq {StorageKey.Escape(environment)}");
        }

        await foreach (var page in table.QueryAsync<TableEntity>(filter, maxPerPage: limit, cancellationToken: cancellationToken)
                           .AsPages(continuation, limit))
        {
            return new BoardEnvironmentsPage([.. page.Values.Select(FromEntity)], page.ContinuationToken);
        }

        return new BoardEnvironmentsPage([], null);
    }

    public async Task<BoardDeployment?> LiveAsync(string repository, string environment, CancellationToken cancellationToken)
    {
        var table = await lazy.GetAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(
            EnvironmentsPartition, $"{RepositoryKey(repository)}|{StorageKey.Escape(environment)}", ["Live"], cancellationToken);
        return found.HasValue && found.Value?.GetString("Live") is { } live ? JsonSerializer.Deserialize<BoardDeployment>(live, Json) : null;
    }

    public async Task<bool> HasEnvironmentAsync(string repository, string environment, CancellationToken cancellationToken)
    {
        var table = await lazy.GetAsync(cancellationToken);
        var row = $"{RepositoryKey(repository)}|{StorageKey.Escape(environment)}";
        return (await table.GetEntityIfExistsAsync<TableEntity>(EnvironmentsPartition, row, ["RowKey"], cancellationToken)).HasValue;
    }

    public async Task<IReadOnlyList<DayTotals>> DaysAsync(
        string? repository, string environment, DateOnly first, DateOnly last, CancellationToken cancellationToken)
    {
        var table = await lazy.GetAsync(cancellationToken);
        var partition = DayPartition(string.IsNullOrWhiteSpace(repository) ? AllRepositories : RepositoryKey(repository), environment);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {DayKey(first)} and RowKey le {DayKey(last)}");
        var days = new List<DayTotals>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            days.Add(new DayTotals
            {
                Day = DateOnly.ParseExact(entity.RowKey, "yyyy-MM-dd", CultureInfo.InvariantCulture),
                Succeeded = entity.GetInt32("Succeeded") ?? 0,
                Failed = entity.GetInt32("Failed") ?? 0,
                Undone = entity.GetInt32("Undone") ?? 0,
                LeadSeconds = Numbers(entity.GetString("LeadSeconds")),
                RestoreSeconds = Numbers(entity.GetString("RestoreSeconds")),
            });
        }

        return days;
    }

    /// <summary>True: counts as a success; false: as a failure; null: not a result that counts (yet).</summary>
    private static bool? Counted(LedgerEntry entry) => entry.State switch
    {
        LedgerState.Succeeded => true,
        // A failure counts when something ran: "Not run: ..." (a provider misconfigured, the watchdog on one never started) changed nothing.
        LedgerState.Failed or LedgerState.Errored or LedgerState.Interrupted when entry.StartedAt is not null => false,
        _ => null,
    };

    private static bool IsFinal(string state) => state is "success" or "failure" or "error" or "inactive";

    /// <summary>
    /// The deployment as shown: the ledger's facts only. A status is anyone's with write access, so its description and
    /// URLs never reach the board; a running one shows its state and when.
    /// </summary>
    private static BoardDeployment Shown(LedgerEntry entry, StatusRecord status, string state) => new()
    {
        DeploymentId = entry.DeploymentId ?? status.DeploymentId,
        Sha = entry.Sha,
        PullRequest = entry.PullRequest,
        RequestedBy = entry.RequestedBy,
        Source = entry.Source,
        State = state,
        Description = Clip(entry.IsFinal ? entry.ResultDescription : entry.HeldFor, 200),
        At = status.CreatedAt,
        EnvironmentUrl = Link(entry.IsFinal ? entry.ResultEnvironmentUrl ?? entry.EnvironmentUrl : null),
        LogUrl = Link(entry.IsFinal ? entry.ResultLogUrl : null),
        Command = Clip(entry.Command, 200),
    };

    /// <summary>At most <paramref name="length"/> characters: an environment's row holds 20 of these within a table property's 64 KB.</summary>
    private static string? Clip(string? text, int length) => text is { Length: > 0 } && text.Length > length ? text[..(length - 1)] + "…" : text;

    private static string? Link(string? url) => url is { Length: <= 2048 } ? url : null;

    /// <summary>
    /// The deployment's result: fixed by the first final status (a row keyed by the deployment id, inserted once, which
    /// also fixes the deployment a rollback undid), read back by every later one, then written under its day in the
    /// repository's and the all-repositories partitions (upserts of the same values: safe to repeat after a crash).
    /// Returns the result and whether it was applied to the environment's row already.
    /// </summary>
    private static async Task<(DeploymentResult Result, bool Applied)> ResultAsync(
        TableClient table, LedgerEntry entry, StatusRecord status, bool succeeded, CancellationToken cancellationToken)
    {
        var repositoryKey = RepositoryKey(entry.Repository);
        var partition = ResultPartition(repositoryKey, entry.Environment);
        var id = entry.DeploymentId ?? status.DeploymentId;
        var marker = MarkerRow(id);
        var environment = await ReadEnvironmentAsync(table, entry, cancellationToken);
        var finished = status.CreatedAt;

        // A rollback undoes what was live before it, if that went live within the window before it (not the same commit).
        var replaced = entry.Rollback && succeeded && environment?.Live is { } live && live.DeploymentId != id &&
                       !string.Equals(live.Sha, entry.Sha, StringComparison.OrdinalIgnoreCase) &&
                       live.At <= finished && finished - live.At <= UndoWindow
            ? live
            : null;
        var row = new TableEntity(partition, marker)
        {
            ["Repository"] = entry.Repository,
            ["DeploymentId"] = id,
            ["PullRequest"] = entry.PullRequest,
            ["Succeeded"] = succeeded,
            ["FinishedAt"] = finished,
            ["LeadSeconds"] = succeeded && entry.Source == LedgerSources.Merge && finished >= entry.Order
                ? (long)(finished - entry.Order).TotalSeconds
                : null,
            ["RestoreSeconds"] = succeeded && environment?.FailingSince is { } since && since <= finished
                ? (long)(finished - since).TotalSeconds
                : null,
            ["UndoesId"] = replaced?.DeploymentId,
            ["UndoesAt"] = replaced?.At,
            ["Undone"] = false,
            ["Applied"] = false,
        };
        try
        {
            await table.AddEntityAsync(row, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 409)
        {
            row = (await table.GetEntityAsync<TableEntity>(partition, marker, cancellationToken: cancellationToken)).Value; // counted before
        }

        var result = FromResult(row);
        var dayRow = DayRow(TableDeployBoard.Day(result.FinishedAt), repositoryKey, id);
        foreach (var into in new[] { partition, ResultPartition(AllRepositories, entry.Environment) })
        {
            var copy = new TableEntity(row) { PartitionKey = into, RowKey = dayRow, ETag = default };
            copy.Remove("Undone"); // a merge: never clears a mark a rollback or a revert made
            copy.Remove("Applied");
            await table.UpsertEntityAsync(copy, TableUpdateMode.Merge, cancellationToken);
        }

        return (result, row.GetBoolean("Applied") == true);
    }

    private static async Task MarkAppliedAsync(TableClient table, LedgerEntry entry, CancellationToken cancellationToken) =>
        await table.UpdateEntityAsync(
            new TableEntity(ResultPartition(RepositoryKey(entry.Repository), entry.Environment), MarkerRow(entry.DeploymentId ?? 0)) { ["Applied"] = true },
            ETag.All, TableUpdateMode.Merge, cancellationToken);

    private static string MarkerRow(long deploymentId) => string.Create(CultureInfo.InvariantCulture, $"id|{deploymentId:D19}");

    private static string DayRow(DateOnly day, string repositoryKey, long deploymentId) =>
        string.Create(CultureInfo.InvariantCulture, $"{DayKey(day)}|{repositoryKey}|{deploymentId:D19}");

    private static async Task MarkUndoneAsync(
        TableClient table, string repository, string environment, long deploymentId, DateOnly day, HashSet<DateOnly> days, CancellationToken cancellationToken)
    {
        var repositoryKey = RepositoryKey(repository);
        var row = DayRow(day, repositoryKey, deploymentId);
        foreach (var partition in new[] { ResultPartition(repositoryKey, environment), ResultPartition(AllRepositories, environment) })
        {
            try
            {
                await table.UpdateEntityAsync(new TableEntity(partition, row) { ["Undone"] = true }, ETag.All, TableUpdateMode.Merge, cancellationToken);
            }
            catch (RequestFailedException exception) when (exception.Status == 404)
            {
                // Its result was never counted here (it went live before the board existed).
            }
        }

        days.Add(day);
    }

    private static async Task<IReadOnlyList<long>> MarkRevertedAsync(
        TableClient table, LedgerEntry revert, long pullRequest, DateTimeOffset at, HashSet<DateOnly> days, CancellationToken cancellationToken)
    {
        var repositoryKey = RepositoryKey(revert.Repository);
        var since = DayKey(Day(at - UndoWindow));
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {ResultPartition(repositoryKey, revert.Environment)} and RowKey ge {since} and RowKey lt {"a"} and PullRequest eq {pullRequest} and Succeeded eq true");
        var found = new List<(long Id, DateOnly Day)>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.GetDateTimeOffset("FinishedAt") is { } finished && at - finished <= UndoWindow && at >= finished &&
                row.GetInt64("DeploymentId") != revert.DeploymentId)
            {
                found.Add((row.GetInt64("DeploymentId") ?? 0, Day(finished)));
            }
        }

        foreach (var (id, day) in found)
        {
            await MarkUndoneAsync(table, revert.Repository, revert.Environment, id, day, days, cancellationToken);
        }

        return [.. found.Select(f => f.Id)];
    }

    /// <summary>Recomputes a day's totals from its result rows; written only if nobody wrote the day since it was read.</summary>
    private static async Task RecountAsync(TableClient table, string repositoryKey, string environment, DateOnly day, CancellationToken cancellationToken)
    {
        var partition = DayPartition(repositoryKey, environment);
        var key = DayKey(day);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var stored = await table.GetEntityIfExistsAsync<TableEntity>(partition, key, ["RowKey"], cancellationToken);
            var filter = TableClient.CreateQueryFilter(
                $"PartitionKey eq {ResultPartition(repositoryKey, environment)} and RowKey ge {key + "|"} and RowKey lt {key + "}"}");
            int succeeded = 0, failed = 0, undone = 0;
            List<long> lead = [], restore = [];
            await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                if (row.GetBoolean("Succeeded") == true)
                {
                    succeeded++;
                    undone += row.GetBoolean("Undone") == true ? 1 : 0;
                    if (row.GetInt64("LeadSeconds") is { } l)
                    {
                        lead.Add(l);
                    }

                    if (row.GetInt64("RestoreSeconds") is { } r)
                    {
                        restore.Add(r);
                    }
                }
                else
                {
                    failed++;
                }
            }

            var totals = new TableEntity(partition, key)
            {
                ["Succeeded"] = succeeded,
                ["Failed"] = failed,
                ["Undone"] = undone,
                ["LeadSeconds"] = string.Join(' ', lead),
                ["RestoreSeconds"] = string.Join(' ', restore),
            };
            try
            {
                if (stored.HasValue && stored.Value is { } existing)
                {
                    await table.UpdateEntityAsync(totals, existing.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await table.AddEntityAsync(totals, cancellationToken);
                }

                return;
            }
            catch (RequestFailedException exception) when (exception.Status is 409 or 412)
            {
                // Recounted by another status at the same time: read again, so the last write saw every row.
            }
        }

        throw new InvalidOperationException($"The totals of {environment} on {key} changed on every attempt; the status is retried.");
    }

    private static async Task<BoardEnvironment?> ReadEnvironmentAsync(TableClient table, LedgerEntry entry, CancellationToken cancellationToken)
    {
        var found = await table.GetEntityIfExistsAsync<TableEntity>(EnvironmentsPartition, EnvironmentRow(entry), cancellationToken: cancellationToken);
        return found.HasValue && found.Value is { } entity ? FromEntity(entity) : null;
    }

    /// <summary>Applies <paramref name="change"/> (null: nothing to change) to the environment's row, again on a conflict.</summary>
    private static async Task UpdateEnvironmentAsync(
        TableClient table, LedgerEntry entry, Func<BoardEnvironment, BoardEnvironment?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var found = await table.GetEntityIfExistsAsync<TableEntity>(EnvironmentsPartition, EnvironmentRow(entry), cancellationToken: cancellationToken);
            var stored = found.HasValue ? found.Value : null;
            var current = stored is null ? new BoardEnvironment { Repository = entry.Repository, Environment = entry.Environment } : FromEntity(stored);
            if (change(current) is not { } changed)
            {
                return;
            }

            try
            {
                var row = ToEntity(changed, EnvironmentRow(entry));
                if (stored is null)
                {
                    await table.AddEntityAsync(row, cancellationToken);
                }
                else
                {
                    await table.UpdateEntityAsync(row, stored.ETag, TableUpdateMode.Replace, cancellationToken);
                }

                return;
            }
            catch (RequestFailedException exception) when (exception.Status is 409 or 412)
            {
                // Another status of the environment was written since it was read: read it again and apply the change to that.
            }
        }

        throw new InvalidOperationException($"The board row of {entry.Repository} {entry.Environment} changed on every attempt; the status is retried.");
    }

    private static TableEntity ToEntity(BoardEnvironment environment, string row) => new(EnvironmentsPartition, row)
    {
        ["Repository"] = environment.Repository,
        ["Environment"] = environment.Environment,
        ["EnvironmentKey"] = StorageKey.Escape(environment.Environment),
        ["Live"] = environment.Live is null ? null : JsonSerializer.Serialize(environment.Live, Json),
        ["Current"] = environment.Current is null ? null : JsonSerializer.Serialize(environment.Current, Json),
        ["Recent"] = JsonSerializer.Serialize(environment.Recent, Json),
        ["FailingSince"] = environment.FailingSince,
    };

    private static BoardEnvironment FromEntity(TableEntity entity) => new()
    {
        Repository = entity.GetString("Repository"),
        Environment = entity.GetString("Environment"),
        Live = entity.GetString("Live") is { } live ? JsonSerializer.Deserialize<BoardDeployment>(live, Json) : null,
        Current = entity.GetString("Current") is { } current ? JsonSerializer.Deserialize<BoardDeployment>(current, Json) : null,
        Recent = entity.GetString("Recent") is { } recent ? JsonSerializer.Deserialize<List<BoardDeployment>>(recent, Json) ?? [] : [],
        FailingSince = entity.GetDateTimeOffset("FailingSince"),
    };

    private static DeploymentResult FromResult(TableEntity row) => new()
    {
        Repository = row.GetString("Repository"),
        DeploymentId = row.GetInt64("DeploymentId") ?? 0,
        PullRequest = row.GetInt64("PullRequest"),
        Succeeded = row.GetBoolean("Succeeded") == true,
        FinishedAt = row.GetDateTimeOffset("FinishedAt") ?? DateTimeOffset.MinValue,
        LeadSeconds = row.GetInt64("LeadSeconds"),
        RestoreSeconds = row.GetInt64("RestoreSeconds"),
        Undoes = row.GetInt64("UndoesId") is { } undoes && row.GetDateTimeOffset("UndoesAt") is { } at ? (undoes, at) : null,
    };

    private static long[] Numbers(string? text) => string.IsNullOrEmpty(text)
        ? []
        : [.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(n => long.Parse(n, CultureInfo.InvariantCulture))];

    private static string RepositoryKey(string repository) => StorageKey.Escape(repository);

    private static string EnvironmentRow(LedgerEntry entry) => $"{RepositoryKey(entry.Repository)}|{StorageKey.Escape(entry.Environment)}";

    private static string ResultPartition(string repositoryKey, string environment) => $"r|{repositoryKey}|{StorageKey.Escape(environment)}";

    private static string DayPartition(string repositoryKey, string environment) => $"d|{repositoryKey}|{StorageKey.Escape(environment)}";

    private static string DayKey(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly Day(DateTimeOffset at) => DateOnly.FromDateTime(at.UtcDateTime);
}
