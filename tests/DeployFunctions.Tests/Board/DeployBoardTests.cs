using Azure.Data.Tables;
using DeployFunctions.Board;
using DeployFunctions.History;
using DeployFunctions.Ledger;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.Board;

/// <summary>
/// The board's summary rows on real Azurite Table storage: what is live, what runs, the four keys' day totals, and the
/// promises that make them true: the ledger decides a result (not whoever posted a status), a repeat counts once, two
/// results at once both count, a rollback or a revert makes what it undid a failed change.
/// </summary>
public sealed class DeployBoardTests : IClassFixture<Azurite>
{
    private readonly Azurite azurite;
    private readonly string tableName = "B" + Guid.NewGuid().ToString("N")[..12];
    private readonly TableDeployBoard board;

    public DeployBoardTests(Azurite azurite)
    {
        this.azurite = azurite;
        board = new TableDeployBoard(new TableServiceClient(azurite.ConnectionString), Options.Create(new StorageNamesOptions { BoardTable = tableName }));
    }

    private static readonly DateTimeOffset Noon = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Day = new(2026, 11, 23);


    private static LedgerEntry Entry(long id, LedgerState state, string source = LedgerSources.Merge, DateTimeOffset? mergedAt = null,
        string repository = "octo/app", string environment = "production", long pullRequest = 7) => new()
    {
        Repository = repository, Environment = environment, Sha = id.ToString("D40", System.Globalization.CultureInfo.InvariantCulture),
        Ref = "r", BaseBranch = "main", Source = source, PullRequest = pullRequest, RequestedBy = "alice", Reason = "merged",
        Order = mergedAt ?? Noon.AddHours(-2), Payload = "{}", DeliveryId = "d", DeploymentId = id, State = state,
        StartedAt = state is LedgerState.Created ? null : Noon.AddHours(-3),
    };

    private static StatusRecord Status(LedgerEntry entry, string state, DateTimeOffset at, long statusId = 1) => new()
    {
        Repository = entry.Repository, DeploymentId = entry.DeploymentId!.Value, StatusId = statusId, State = state,
        Environment = entry.Environment, Sha = entry.Sha, CreatedAt = at, Creator = "someone",
    };

    private async Task<BoardEnvironment> EnvironmentAsync(string repository = "octo/app", string environment = "production") =>
        Assert.Single((await board.EnvironmentsAsync(repository, environment, 10, null, default)).Environments);

    private async Task<DayTotals> TotalsAsync(string? repository = "octo/app", DateOnly? day = null) =>
        Assert.Single(await board.DaysAsync(repository, "production", day ?? Day, day ?? Day, default));

    [Fact]
    public async Task A_success_goes_live_with_its_lead_time_and_a_running_status_shows_as_now()
    {
        var running = Entry(1, LedgerState.Started);
        await board.RecordAsync(Status(running, "in_progress", Noon.AddMinutes(-1)), running, default);
        Assert.Equal("in_progress", (await EnvironmentAsync()).Current?.State);

        var done = running with { State = LedgerState.Succeeded };
        await board.RecordAsync(Status(done, "success", Noon, 2), done, default);

        var environment = await EnvironmentAsync();
        Assert.Null(environment.Current);
        Assert.Equal(1, environment.Live?.DeploymentId);
        Assert.Equal(Noon, environment.Live?.At);
        var totals = await TotalsAsync();
        Assert.Equal((1, 0), (totals.Succeeded, totals.Failed));
        Assert.Equal([7200L], totals.LeadSeconds);
        Assert.Equal(1, (await TotalsAsync(repository: null)).Succeeded); // the all-repositories day too
    }

    [Fact]
    public async Task A_final_status_counts_as_the_ledger_says_never_as_whoever_posted_it_says()
    {
        // Anyone with write access can post "success" on the app's deployment; the ledger recorded a failure.
        var failed = Entry(2, LedgerState.Failed);
        await board.RecordAsync(Status(failed, "success", Noon), failed, default);
        // And a "failure" posted while the ledger has no result yet counts for nothing.
        var running = Entry(3, LedgerState.Started);
        await board.RecordAsync(Status(running, "failure", Noon.AddMinutes(1)), running, default);

        var totals = await TotalsAsync();
        Assert.Equal((0, 1), (totals.Succeeded, totals.Failed));
        var environment = await EnvironmentAsync();
        Assert.Null(environment.Live);
        Assert.Equal("failure", Assert.Single(environment.Recent).State);
    }

    [Fact]
    public async Task A_repeated_status_counts_once_and_a_noop_never()
    {
        var done = Entry(4, LedgerState.Succeeded);
        for (var i = 0; i < 3; i++)
        {
            await board.RecordAsync(Status(done, "success", Noon, statusId: 10 + i), done, default);
        }

        var noop = Entry(5, LedgerState.Succeeded) with { Noop = true };
        await board.RecordAsync(Status(noop, "success", Noon.AddMinutes(5)), noop, default);

        Assert.Equal(1, (await TotalsAsync()).Succeeded);
        Assert.Equal(4, (await EnvironmentAsync()).Live?.DeploymentId);
        Assert.Single((await EnvironmentAsync()).Recent);
    }

    [Fact]
    public async Task Results_of_two_repositories_recorded_at_once_are_both_counted_in_the_all_repositories_day()
    {
        var entries = Enumerable.Range(0, 8).Select(i => Entry(100 + i, LedgerState.Succeeded, repository: $"octo/app{i}")).ToList();

        await Task.WhenAll(entries.Select(e => board.RecordAsync(Status(e, "success", Noon.AddSeconds(e.DeploymentId!.Value)), e, default)));

        Assert.Equal(8, (await TotalsAsync(repository: null)).Succeeded);
    }

    [Fact]
    public async Task A_success_after_a_failure_records_the_time_to_restore()
    {
        var failed = Entry(6, LedgerState.Errored);
        await board.RecordAsync(Status(failed, "error", Noon), failed, default);
        var fixedUp = Entry(7, LedgerState.Succeeded, source: LedgerSources.Command);
        await board.RecordAsync(Status(fixedUp, "success", Noon.AddMinutes(45)), fixedUp, default);

        var totals = await TotalsAsync();
        Assert.Equal([2700L], totals.RestoreSeconds);
        Assert.Empty(totals.LeadSeconds); // a command deploys before its merge: no merge-to-success time
        Assert.Null((await EnvironmentAsync()).FailingSince);
    }

    [Fact]
    public async Task A_rollback_makes_the_deployment_it_replaced_a_failed_change_but_not_one_older_than_the_window()
    {
        var old = Entry(8, LedgerState.Succeeded);
        await board.RecordAsync(Status(old, "success", Noon.AddDays(-2)), old, default);
        var rollbackOfOld = Entry(9, LedgerState.Succeeded, LedgerSources.Command) with { Rollback = true };
        await board.RecordAsync(Status(rollbackOfOld, "success", Noon.AddHours(-3)), rollbackOfOld, default); // 45 h later: outside
        var bad = Entry(10, LedgerState.Succeeded);
        await board.RecordAsync(Status(bad, "success", Noon), bad, default);
        var rollback = Entry(11, LedgerState.Succeeded, LedgerSources.Command) with { Rollback = true };
        var update = await board.RecordAsync(Status(rollback, "success", Noon.AddHours(1)), rollback, default);
        Assert.Equal([10L], update!.Undone);

        Assert.Equal(0, (await TotalsAsync(day: Day.AddDays(-2))).Undone);
        var today = await TotalsAsync();
        Assert.Equal((3, 1), (today.Succeeded, today.Undone));
        Assert.Equal(11, (await EnvironmentAsync()).Live?.DeploymentId);
    }

    [Fact]
    public async Task A_merged_revert_marks_the_reverted_pull_requests_deployment_a_failed_change()
    {
        var reverted = Entry(12, LedgerState.Succeeded, pullRequest: 40);
        await board.RecordAsync(Status(reverted, "success", Noon), reverted, default);
        var other = Entry(13, LedgerState.Succeeded, pullRequest: 41);
        await board.RecordAsync(Status(other, "success", Noon.AddMinutes(10)), other, default);
        var revert = Entry(14, LedgerState.Succeeded, pullRequest: 42) with { Reverts = 40 };
        var update = await board.RecordAsync(Status(revert, "success", Noon.AddMinutes(20)), revert, default);
        Assert.Equal([12L], update!.Undone);

        Assert.Equal((3, 1), ((await TotalsAsync()).Succeeded, (await TotalsAsync()).Undone));
        var report = Dora.Compute("octo/app", "production", Day, Day, await board.DaysAsync("octo/app", "production", Day, Day, default));
        Assert.Equal(1 / 3.0, report.ChangeFailureRate.Value!.Value, 3);
    }

    [Fact]
    public async Task Environments_page_with_a_continuation_and_filter_by_repository_and_environment()
    {
        foreach (var (repository, environment, id) in new[] { ("octo/a", "production", 20L), ("octo/a", "staging", 21L), ("octo/b", "production", 22L) })
        {
            var entry = Entry(id, LedgerState.Succeeded, repository: repository, environment: environment);
            await board.RecordAsync(Status(entry, "success", Noon), entry, default);
        }

        var first = await board.EnvironmentsAsync(null, null, 2, null, default);
        Assert.Equal(2, first.Environments.Count);
        Assert.NotNull(first.Continuation);
        var second = await board.EnvironmentsAsync(null, null, 2, first.Continuation, default);
        Assert.Equal(["octo/b"], second.Environments.Select(e => e.Repository));
        Assert.Equal(["production", "staging"], (await board.EnvironmentsAsync("OCTO/A", null, 10, null, default)).Environments.Select(e => e.Environment));
        Assert.Equal(["octo/a", "octo/b"], (await board.EnvironmentsAsync(null, "Production", 10, null, default)).Environments.Select(e => e.Repository));
    }

    [Fact]
    public async Task What_a_status_says_never_reaches_the_board_only_what_the_ledger_recorded()
    {
        var done = Entry(30, LedgerState.Succeeded) with { ResultDescription = "deployed by the hook", ResultLogUrl = "https://ci.example.com/30" };
        var forged = Status(done, "success", Noon) with
        {
            Description = "<img src=x onerror=alert(1)>", LogUrl = "https://evil.example.com/", EnvironmentUrl = "javascript:alert(1)",
        };
        await board.RecordAsync(forged, done, default);
        // After the result, an "in_progress" anyone posts on the same deployment is not news.
        await board.RecordAsync(Status(done, "in_progress", Noon.AddHours(1), 2) with { Description = "deploying again (not really)" }, done, default);

        var environment = await EnvironmentAsync();
        Assert.Null(environment.Current);
        Assert.Equal("deployed by the hook", environment.Live?.Description);
        Assert.Equal("https://ci.example.com/30", environment.Live?.LogUrl);
        Assert.Null(environment.Live?.EnvironmentUrl);
    }

    [Fact]
    public async Task A_failure_that_never_ran_is_not_a_failed_change_and_an_old_failure_replayed_after_a_success_starts_no_outage()
    {
        var notRun = Entry(31, LedgerState.Errored) with { StartedAt = null, ResultDescription = "Not run: no hook URL" };
        await board.RecordAsync(Status(notRun, "error", Noon), notRun, default);
        Assert.Empty(await board.DaysAsync("octo/app", "production", Day, Day, default));

        var good = Entry(32, LedgerState.Succeeded);
        await board.RecordAsync(Status(good, "success", Noon.AddHours(2)), good, default);
        var old = Entry(33, LedgerState.Failed);
        await board.RecordAsync(Status(old, "failure", Noon.AddHours(1)), old, default); // arrives late

        Assert.Null((await EnvironmentAsync()).FailingSince);
        var next = Entry(34, LedgerState.Succeeded);
        await board.RecordAsync(Status(next, "success", Noon.AddHours(3)), next, default);
        Assert.Empty((await TotalsAsync()).RestoreSeconds);
    }

    [Fact]
    public async Task A_rollback_marks_what_it_replaced_again_on_a_repeat_and_never_a_newer_deployment_or_the_same_commit()
    {
        var bad = Entry(40, LedgerState.Succeeded);
        await board.RecordAsync(Status(bad, "success", Noon), bad, default);
        var rollback = Entry(41, LedgerState.Succeeded, LedgerSources.Command) with { Rollback = true };
        await board.RecordAsync(Status(rollback, "success", Noon.AddHours(1)), rollback, default);
        Assert.Equal(1, (await TotalsAsync()).Undone);

        // As if the process had died before the mark: the rollback's status, delivered again, marks it again.
        var tables = new TableServiceClient(azurite.ConnectionString);
        var table = tables.GetTableClient(tableName);
        await foreach (var row in table.QueryAsync<TableEntity>(filter: "DeploymentId eq 40L"))
        {
            row["Undone"] = false;
            await table.UpdateEntityAsync(row, Azure.ETag.All);
        }

        var again = await board.RecordAsync(Status(rollback, "success", Noon.AddHours(1), 2), rollback, default);
        Assert.Equal([40L], again!.Undone);
        Assert.Equal(1, (await TotalsAsync()).Undone);

        // A rollback to the commit that is live (main's own merge) undoes nothing.
        var sameCommit = Entry(42, LedgerState.Succeeded, LedgerSources.Command) with { Rollback = true, Sha = rollback.Sha };
        var update = await board.RecordAsync(Status(sameCommit, "success", Noon.AddHours(2)), sameCommit, default);
        Assert.Empty(update!.Undone);
    }

    [Fact]
    public async Task A_status_redelivered_after_twenty_newer_results_changes_nothing()
    {
        var failed = Entry(50, LedgerState.Failed);
        await board.RecordAsync(Status(failed, "failure", Noon.AddHours(-1)), failed, default);
        for (var i = 0; i < TableDeployBoard.RecentKept + 1; i++)
        {
            var ok = Entry(51 + i, LedgerState.Succeeded);
            await board.RecordAsync(Status(ok, "success", Noon.AddMinutes(i)), ok, default);
        }

        await board.RecordAsync(Status(failed, "failure", Noon.AddHours(-1), 99), failed, default); // days later, the sweeper

        var environment = await EnvironmentAsync();
        Assert.Null(environment.FailingSince);
        Assert.DoesNotContain(environment.Recent, d => d.DeploymentId == 50);
        Assert.Equal(1, (await TotalsAsync()).Failed);
    }

    [Fact]
    public async Task A_pull_request_that_names_itself_as_reverted_undoes_nothing()
    {
        var revert = Entry(60, LedgerState.Succeeded, pullRequest: 44) with { Reverts = 44 };

        var update = await board.RecordAsync(Status(revert, "success", Noon), revert, default);

        Assert.Empty(update!.Undone);
        Assert.Equal(0, (await TotalsAsync()).Undone);
    }

    [Fact]
    public void Reverted_reads_githubs_revert_body_of_the_same_repository_only()
    {
        Assert.Equal(40, DeployFunctions.Policy.DeployPolicy.Reverted("Reverts octo/app#40\r\n\r\nmore", "octo/app"));
        Assert.Null(DeployFunctions.Policy.DeployPolicy.Reverted("Reverts other/app#40", "octo/app"));
        Assert.Null(DeployFunctions.Policy.DeployPolicy.Reverted("This reverts octo/app#40 in words", "octo/app"));
        Assert.Null(DeployFunctions.Policy.DeployPolicy.Reverted(null, "octo/app"));
    }
}
