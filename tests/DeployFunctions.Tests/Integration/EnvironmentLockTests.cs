using Azure.Data.Tables;
using DeployFunctions.Commands;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.Integration;

/// <summary>Environment locks on a real Azurite table.</summary>
public sealed class EnvironmentLockTests(Azurite azurite) : IClassFixture<Azurite>
{
    private TableEnvironmentLocks Locks() => new(new TableServiceClient(azurite.ConnectionString),
        Options.Create(new StorageNamesOptions { LockTable = "t" + Guid.NewGuid().ToString("N")[..12] }));

    private static EnvironmentLock Wanted(string holder, string? environment = "production") => new()
    {
        Repository = "Octo/App", Environment = environment, Holder = holder, Since = DateTimeOffset.UtcNow,
    };

    [Fact]
    public async Task Of_ten_locks_at_once_exactly_one_is_taken()
    {
        var locks = Locks();

        var attempts = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => locks.TryLockAsync(Wanted($"user{i}"), CancellationToken.None)));

        var taken = Assert.Single(attempts.OfType<LockAttempt.Taken>());
        Assert.Equal(9, attempts.OfType<LockAttempt.HeldByOther>().Count());
        Assert.All(attempts, a => Assert.Equal(taken.Lock.Holder, a.Lock.Holder));
    }

    [Fact]
    public async Task A_lock_blocks_others_not_its_holder_and_names_differing_in_case_share_it()
    {
        var locks = Locks();
        await locks.TryLockAsync(Wanted("Bob", "Production"), CancellationToken.None);

        Assert.Null(await locks.BlockingAsync("octo/app", "production", "bob", CancellationToken.None));
        Assert.Equal("Bob", (await locks.BlockingAsync("octo/app", "PRODUCTION", "alice", CancellationToken.None))?.Holder);
        Assert.Null(await locks.BlockingAsync("octo/app", "staging", "alice", CancellationToken.None));
        Assert.IsType<LockAttempt.AlreadyYours>(await locks.TryLockAsync(Wanted("BOB"), CancellationToken.None));
    }

    [Fact]
    public async Task The_global_lock_blocks_every_environment()
    {
        var locks = Locks();
        await locks.TryLockAsync(Wanted("bob", environment: null), CancellationToken.None);

        Assert.True((await locks.BlockingAsync("octo/app", "staging", "alice", CancellationToken.None))?.IsGlobal);
        Assert.Null(await locks.BlockingAsync("octo/other", "staging", "alice", CancellationToken.None));
    }

    [Fact]
    public async Task A_release_of_a_lock_that_changed_since_it_was_read_fails()
    {
        var locks = Locks();
        var first = ((LockAttempt.Taken)await locks.TryLockAsync(Wanted("bob"), CancellationToken.None)).Lock;
        Assert.True(await locks.ReleaseAsync(first, CancellationToken.None));
        await locks.TryLockAsync(Wanted("carol"), CancellationToken.None);

        Assert.False(await locks.ReleaseAsync(first, CancellationToken.None)); // bob's old read must not release carol's lock
        Assert.Equal("carol", (await locks.GetAsync("octo/app", "production", CancellationToken.None))?.Holder);
    }

    [Fact]
    public async Task Of_two_releases_of_the_same_lock_only_one_says_it_released_it()
    {
        var locks = Locks();
        var held = ((LockAttempt.Taken)await locks.TryLockAsync(Wanted("bob"), CancellationToken.None)).Lock;

        var released = await Task.WhenAll(locks.ReleaseAsync(held, CancellationToken.None), locks.ReleaseAsync(held, CancellationToken.None));

        Assert.Equal(1, released.Count(r => r)); // the Tables SDK answers the second with a 404 response, not an exception
    }

    [Fact]
    public async Task A_mark_is_given_once_until_forgotten()
    {
        var locks = Locks();

        Assert.True(await locks.TryMarkOnceAsync("octo/app", "lock-wait:production:abc", CancellationToken.None));
        Assert.False(await locks.TryMarkOnceAsync("octo/app", "lock-wait:production:abc", CancellationToken.None));
        await locks.ForgetMarkAsync("octo/app", "lock-wait:production:abc", CancellationToken.None);
        Assert.True(await locks.TryMarkOnceAsync("octo/app", "lock-wait:production:abc", CancellationToken.None));
    }
}
