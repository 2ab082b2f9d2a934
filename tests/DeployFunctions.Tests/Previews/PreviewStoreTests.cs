using Azure.Data.Tables;
using DeployFunctions.Previews;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.Previews;

/// <summary>The previews' rows on a real Azurite table: written only if unchanged since read, removed ones pruned after a while.</summary>
public sealed class PreviewStoreTests(Azurite azurite) : IClassFixture<Azurite>
{
    private readonly TablePreviewStore store = new(new TableServiceClient(azurite.ConnectionString),
        Options.Create(new StorageNamesOptions { PreviewTable = "p" + Guid.NewGuid().ToString("N")[..12] }));

    private static Preview Row(long number, PreviewState state = PreviewState.Active, DateTimeOffset? removedAt = null) => new()
    {
        Repository = "Octo/App", Number = number, Environment = $"pr-{number}", Target = "previews", State = state,
        HeadSha = new string('a', 40), HeadAt = DateTimeOffset.UnixEpoch, LastPushAt = DateTimeOffset.UnixEpoch, RemovedAt = removedAt,
    };

    [Fact]
    public async Task A_row_is_written_only_if_nobody_wrote_it_since_it_was_read()
    {
        var saved = await store.SaveAsync(Row(1), CancellationToken.None);
        var other = await store.GetAsync("octo/app", 1, CancellationToken.None);
        await store.SaveAsync(other! with { Status = "theirs" }, CancellationToken.None);

        await Assert.ThrowsAsync<PreviewConflictException>(() => store.SaveAsync(saved with { Status = "mine" }, CancellationToken.None));
        await Assert.ThrowsAsync<PreviewConflictException>(() => store.SaveAsync(Row(1), CancellationToken.None)); // a second insert
        Assert.Equal("theirs", (await store.GetAsync("OCTO/app", 1, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Removed_rows_are_pruned_after_the_cutoff_and_open_ones_never()
    {
        var now = DateTimeOffset.UtcNow;
        await store.SaveAsync(Row(1, PreviewState.Removed, now.AddDays(-40)), CancellationToken.None);
        await store.SaveAsync(Row(2, PreviewState.Removed, now.AddDays(-10)), CancellationToken.None);
        await store.SaveAsync(Row(3), CancellationToken.None);
        await store.SaveAsync(Row(4, PreviewState.Removing), CancellationToken.None);

        Assert.Equal(1, await store.PruneAsync(now.AddDays(-30), CancellationToken.None));

        Assert.Null(await store.GetAsync("octo/app", 1, CancellationToken.None));
        Assert.NotNull(await store.GetAsync("octo/app", 2, CancellationToken.None));
        var open = new List<long>();
        await foreach (var preview in store.NotRemovedAsync(CancellationToken.None))
        {
            open.Add(preview.Number);
        }

        Assert.Equal([3, 4], open.Order());
        Assert.Equal([3, 4], (await store.OfRepositoryAsync("octo/app", CancellationToken.None)).Select(p => p.Number).Order());
    }
}
