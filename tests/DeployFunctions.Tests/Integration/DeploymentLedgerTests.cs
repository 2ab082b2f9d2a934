using Azure.Data.Tables;
using DeployFunctions.Ledger;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.Integration;

/// <summary>The ledger on real Azurite Table storage: approvals, the created-deployment transaction, versions, merge order.</summary>
public sealed class DeploymentLedgerTests(Azurite azurite) : IClassFixture<Azurite>
{
    private static readonly DateTimeOffset Monday = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private readonly TableDeploymentLedger ledger = new(
        new TableServiceClient(azurite.ConnectionString),
        Options.Create(new StorageNamesOptions { LedgerTable = "L" + Guid.NewGuid().ToString("N")[..12] }));

    private static LedgerEntry Approval(string sha, DateTimeOffset mergedAt, string environment = "production") => new()
    {
        Repository = "Octo/App", Environment = environment, Sha = sha, Ref = sha, BaseBranch = "main", Source = LedgerSources.Merge,
        PullRequest = 7, RequestedBy = "octocat", Reason = "merged", Order = mergedAt, Payload = """{"created_by":"deployfunctions"}""",
        DeliveryId = "d-" + sha[..4],
    };

    private async Task<LedgerEntry> CreatedAsync(string sha, DateTimeOffset mergedAt, long id)
    {
        var approval = await ledger.ApproveAsync(Approval(sha, mergedAt), default);
        return await ledger.RecordCreatedAsync(approval, id, default);
    }

    [Fact]
    public async Task An_approval_is_recorded_once_and_a_second_approval_of_the_same_merge_returns_the_first()
    {
        var first = await ledger.ApproveAsync(Approval(new string('a', 40), Monday), default);
        var second = await ledger.ApproveAsync(Approval(new string('a', 40), Monday) with { DeliveryId = "another" }, default);

        Assert.Equal(LedgerState.Creating, second.State);
        Assert.Equal(first.DeliveryId, second.DeliveryId);
    }

    [Fact]
    public async Task A_created_deployment_is_found_by_its_id_under_any_case_of_repository_and_environment()
    {
        await CreatedAsync(new string('a', 40), Monday, 1001);

        var found = await ledger.FindDeploymentAsync("octo/app", "PRODUCTION", 1001, default);

        Assert.NotNull(found);
        Assert.Equal(LedgerState.Created, found.State);
        Assert.Equal(new string('a', 40), found.Sha);
        Assert.Equal(1001, (await ledger.FindMergeAsync("Octo/App", "production", new string('a', 40), default))!.DeploymentId);
        Assert.Null(await ledger.FindDeploymentAsync("octo/app", "staging", 1001, default));
        Assert.Null(await ledger.FindDeploymentAsync("octo/app", "production", 1002, default));
    }

    [Fact]
    public async Task Recording_a_deployment_id_twice_for_one_approval_fails_instead_of_overwriting()
    {
        var approval = await ledger.ApproveAsync(Approval(new string('a', 40), Monday), default);
        await ledger.RecordCreatedAsync(approval, 1001, default);

        await Assert.ThrowsAsync<LedgerConflictException>(() => ledger.RecordCreatedAsync(approval, 1002, default));
        Assert.Null(await ledger.FindDeploymentAsync("octo/app", "production", 1002, default));
    }

    [Fact]
    public async Task An_update_from_a_stale_read_is_refused()
    {
        var created = await CreatedAsync(new string('a', 40), Monday, 1001);
        await ledger.UpdateAsync(created with { State = LedgerState.Started }, default);

        await Assert.ThrowsAsync<LedgerConflictException>(() => ledger.UpdateAsync(created with { State = LedgerState.Succeeded }, default));
        Assert.Equal(LedgerState.Started, (await ledger.FindDeploymentAsync("octo/app", "production", 1001, default))!.State);
    }

    [Fact]
    public async Task The_newer_deployment_that_ran_is_chosen_by_merge_order_not_by_id()
    {
        var older = await CreatedAsync(new string('a', 40), Monday, 2002);            // merged first, created last
        var newer = await CreatedAsync(new string('b', 40), Monday.AddMinutes(5), 2001);
        var newest = await CreatedAsync(new string('c', 40), Monday.AddMinutes(9), 2003);

        Assert.Null(await ledger.NewerThatRanAsync(older, default)); // nothing newer has run yet
        await ledger.UpdateAsync(newer with { State = LedgerState.Succeeded }, default);
        Assert.Equal(2001, (await ledger.NewerThatRanAsync(older, default))!.DeploymentId);
        Assert.Null(await ledger.NewerThatRanAsync(newer, default)); // the newest has not run
        await ledger.UpdateAsync(newest with { State = LedgerState.Started }, default);
        Assert.Equal(2003, (await ledger.NewerThatRanAsync(older, default))!.DeploymentId);
        Assert.Equal(2003, (await ledger.NewerThatRanAsync(newer, default))!.DeploymentId);
    }

    [Fact]
    public async Task Another_environment_never_supersedes()
    {
        var production = await CreatedAsync(new string('a', 40), Monday, 3001);
        var approval = await ledger.ApproveAsync(Approval(new string('b', 40), Monday.AddHours(1), "staging"), default);
        var staging = await ledger.RecordCreatedAsync(approval, 3002, default);
        await ledger.UpdateAsync(staging with { State = LedgerState.Succeeded }, default);

        Assert.Null(await ledger.NewerThatRanAsync(production, default));
    }
}
