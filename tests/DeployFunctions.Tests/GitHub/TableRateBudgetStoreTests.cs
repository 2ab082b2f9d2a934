using DeployFunctions.GitHub;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.GitHub;

/// <summary>The shared rate budgets on a real Azurite table.</summary>
public sealed class TableRateBudgetStoreTests(Azurite azurite) : IClassFixture<Azurite>
{
    [Fact]
    public async Task A_write_that_knows_of_no_block_keeps_the_block_another_instance_wrote()
    {
        var tables = new Azure.Data.Tables.TableServiceClient(azurite.ConnectionString);
        var names = Options.Create(new StorageNamesOptions { LockTable = "t" + Guid.NewGuid().ToString("N")[..10] });
        var store = new TableRateBudgetStore(tables, names);
        var now = DateTimeOffset.UtcNow;
        var reset = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(1);

        Assert.Null(await store.ReadAsync("42-core", default));
        await store.WriteAsync("42-core", new RateBudget(3000, reset, now.AddSeconds(40), now), default);
        await store.WriteAsync("42-core", new RateBudget(2999, reset, null, now.AddMilliseconds(5)), default); // another instance's count

        var shared = await store.ReadAsync("42-core", default);
        Assert.Equal(2999, shared!.Remaining);
        Assert.Equal(reset, shared.Reset);
        Assert.Equal(now.AddSeconds(40), shared.BlockedUntil);
        Assert.Null(await store.ReadAsync("42-graphql", default));
    }
}
