using Azure.Storage.Blobs.Specialized;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.Integration;

/// <summary>The environment lock on real Azurite blob leases, under storage faults and against a second holder.</summary>
public sealed class LeaseLockTests(Azurite azurite) : IClassFixture<Azurite>
{
    // Azure's shortest lease (15 s), renewed often so a test sees several renewals.
    private static readonly LeaseTiming Fast = new(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
    private readonly StorageNamesOptions names = new() { LockContainer = "l" + Guid.NewGuid().ToString("N")[..12] };

    private BlobLeaseLocks Locks(StorageFaults? faults = null) =>
        new(faults?.Blobs(azurite) ?? azurite.Blobs(), Options.Create(names), Fast);

    [Fact]
    public async Task A_lock_renews_through_a_storage_blip_and_nobody_else_gets_it_while_its_first_lease_would_have_lapsed()
    {
        var faults = new StorageFaults();
        await using var held = await Locks(faults).TryAcquireAsync(LockKeys.Environment("octo/app", "production"), default);
        Assert.NotNull(held);

        // The first renewals fail for 4 s; the lease (15 s) must outlive that without the holder giving it up.
        faults.FailWhile = StorageFaults.IsRenewal;
        await Task.Delay(TimeSpan.FromSeconds(4));
        faults.FailWhile = _ => false;
        await Task.Delay(TimeSpan.FromSeconds(13)); // past the first lease's 15 s

        Assert.True(faults.Failed >= 2, $"renewals that met the fault: {faults.Failed}");
        Assert.False(held.Lost.IsCancellationRequested);
        Assert.Null(await Locks().TryAcquireAsync(LockKeys.Environment("octo/app", "production"), default));
        Assert.True(await held.ConfirmAsync(default));
    }

    [Fact]
    public async Task A_lock_whose_lease_is_broken_says_it_is_lost_at_once_and_can_no_longer_be_confirmed()
    {
        var key = LockKeys.Environment("octo/app", "production");
        await using var held = await Locks().TryAcquireAsync(key, default);
        Assert.NotNull(held);

        var blob = azurite.Blobs().GetBlobContainerClient(names.LockContainer).GetBlobClient(BlobLeaseLocks.BlobName(key));
        await blob.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);

        await Eventually.TrueAsync(() => held.Lost.IsCancellationRequested, "the holder noticed", TimeSpan.FromSeconds(5));
        Assert.False(await held.ConfirmAsync(default));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_lock_that_cannot_renew_for_as_long_as_its_lease_lasts_gives_itself_up_before_the_lease_lapses(bool unexpectedFault)
    {
        var faults = new StorageFaults();
        if (unexpectedFault)
        {
            faults.Fault = () => new ObjectDisposedException("transport"); // not a storage error type: still no renewal
        }

        await using var held = await Locks(faults).TryAcquireAsync(LockKeys.Environment("octo/app", "production"), default);
        Assert.NotNull(held);
        var acquired = DateTimeOffset.UtcNow;

        faults.FailWhile = StorageFaults.IsRenewal;
        await Eventually.TrueAsync(() => held.Lost.IsCancellationRequested, "the holder gave the lock up", TimeSpan.FromSeconds(20));

        Assert.True(DateTimeOffset.UtcNow - acquired < Fast.Duration, "given up only after the lease had lapsed");
    }

    [Fact]
    public async Task A_renewal_that_hangs_is_given_up_at_the_deadline_not_when_the_hung_call_returns()
    {
        var faults = new StorageFaults { Hang = TimeSpan.FromSeconds(40) }; // far longer than the lease
        await using var held = await Locks(faults).TryAcquireAsync(LockKeys.Environment("octo/app", "production"), default);
        Assert.NotNull(held);
        var acquired = DateTimeOffset.UtcNow;

        faults.FailWhile = StorageFaults.IsRenewal;
        await Eventually.TrueAsync(() => held.Lost.IsCancellationRequested, "the holder gave the lock up", TimeSpan.FromSeconds(25));

        Assert.True(DateTimeOffset.UtcNow - acquired < Fast.Duration, $"given up {DateTimeOffset.UtcNow - acquired} after it was taken, past its lease");
        Assert.False(await held.ConfirmAsync(default));
    }

    [Fact]
    public async Task Releasing_a_lock_never_throws_even_when_storage_refuses_everything()
    {
        var faults = new StorageFaults();
        var held = await Locks(faults).TryAcquireAsync(LockKeys.Environment("octo/app", "production"), default);
        Assert.NotNull(held);
        faults.FailWhile = _ => true;
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // a renewal meets the fault too

        var disposing = held.DisposeAsync().AsTask();

        await disposing; // throws here if dispose let the fault out
        Assert.True(disposing.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Environment_names_differing_only_in_case_share_one_lock()
    {
        await using var held = await Locks().TryAcquireAsync(LockKeys.Environment("Octo/App", "production"), default);
        Assert.NotNull(held);

        Assert.Null(await Locks().TryAcquireAsync(LockKeys.Environment("octo/app", "Production"), default));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../../merges/octo~2fapp/production")]
    [InlineData("production/../staging")]
    public async Task An_environment_name_cannot_reach_another_lock_through_path_segments(string environment)
    {
        Assert.DoesNotContain("/..", LockKeys.Environment("octo/app", environment), StringComparison.Ordinal);
        await using var other = await Locks().TryAcquireAsync(LockKeys.Environment("octo/app", "staging"), default);
        Assert.NotNull(other);

        await using var held = await Locks().TryAcquireAsync(LockKeys.Environment("octo/app", environment), default);

        Assert.NotNull(held);
        var names = new List<string>();
        await foreach (var blob in azurite.Blobs().GetBlobContainerClient(this.names.LockContainer).GetBlobsAsync())
        {
            names.Add(blob.Name);
        }

        Assert.All(names, name => Assert.StartsWith("environments/octo~2fapp/", name, StringComparison.Ordinal));
        Assert.Equal(2, names.Count);
    }
}
