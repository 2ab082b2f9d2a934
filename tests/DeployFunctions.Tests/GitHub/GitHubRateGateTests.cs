using System.Collections.Concurrent;
using System.Net;
using DeployFunctions.GitHub;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Octokit;

namespace DeployFunctions.Tests.GitHub;

/// <summary>The rate gate alone (one class): what GitHub's answers teach it, and what it lets through.</summary>
public sealed class GitHubRateGateTests
{
    private const long Installation = 42;
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private IResponse Answer(HttpStatusCode status, int remaining, TimeSpan resetIn, int? retryAfter = null, string body = "{}")
    {
        var headers = new Dictionary<string, string>
        {
            ["X-RateLimit-Remaining"] = remaining.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["X-RateLimit-Reset"] = (clock.GetUtcNow() + resetIn).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (retryAfter is { } seconds)
        {
            headers["Retry-After"] = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var response = Substitute.For<IResponse>();
        response.StatusCode.Returns(status);
        response.Headers.Returns(headers);
        response.Body.Returns(body);
        return response;
    }

    private static async Task CallAsync(GitHubRateGate gate, IResponse answer)
    {
        using (await gate.EnterAsync(Installation, "core", default))
        {
        }

        await gate.LearnAsync(Installation, "core", answer, default);
    }

    [Fact]
    public async Task Calls_go_while_the_budget_lasts_and_wait_for_the_reset_once_only_the_reserve_is_left()
    {
        var gate = new GitHubRateGate(clock);
        await CallAsync(gate, Answer(HttpStatusCode.OK, GitHubRateGate.Reserve + 2, TimeSpan.FromMinutes(10)));
        await CallAsync(gate, Answer(HttpStatusCode.OK, GitHubRateGate.Reserve + 1, TimeSpan.FromMinutes(10)));
        using (await gate.EnterAsync(Installation, "core", default))
        {
        }

        var held = await Assert.ThrowsAsync<GitHubRateLimitedException>(() => gate.EnterAsync(Installation, "core", default));

        Assert.InRange(held.Wait, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(2));
        Assert.Equal(1, gate.HeldBack);
        using (await gate.EnterAsync(Installation, "graphql", default)) // another limit, another budget
        {
        }

        clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(0.5)); // past GitHub's reset, within its second
        await Assert.ThrowsAsync<GitHubRateLimitedException>(() => gate.EnterAsync(Installation, "core", default));

        clock.Advance(TimeSpan.FromSeconds(1.5));
        using (await gate.EnterAsync(Installation, "core", default)) // the window reset
        {
        }
    }

    [Fact]
    public async Task A_304_does_not_spend_the_budget()
    {
        var gate = new GitHubRateGate(clock);
        await CallAsync(gate, Answer(HttpStatusCode.OK, GitHubRateGate.Reserve + 1, TimeSpan.FromMinutes(10)));
        for (var i = 0; i < 5; i++)
        {
            await CallAsync(gate, Answer(HttpStatusCode.NotModified, GitHubRateGate.Reserve + 1, TimeSpan.FromMinutes(10)));
        }

        using (await gate.EnterAsync(Installation, "core", default)) // the one call left before the reserve
        {
        }

        Assert.Equal(0, gate.HeldBack);
    }

    [Fact]
    public async Task A_secondary_limit_blocks_for_its_retry_after_and_a_primary_refusal_until_its_reset()
    {
        var gate = new GitHubRateGate(clock);
        await CallAsync(gate, Answer(HttpStatusCode.Forbidden, 4000, TimeSpan.FromMinutes(30), retryAfter: 20,
            body: """{"message":"You have exceeded a secondary rate limit."}"""));

        var secondary = await Assert.ThrowsAsync<GitHubRateLimitedException>(() => gate.EnterAsync(Installation, "core", default));
        Assert.Equal(TimeSpan.FromSeconds(20), secondary.Wait);
        Assert.Equal(TimeSpan.FromSeconds(20), gate.Wait(Installation, clock.GetUtcNow()));

        clock.Advance(TimeSpan.FromSeconds(21));
        await CallAsync(gate, Answer(HttpStatusCode.Forbidden, 0, TimeSpan.FromMinutes(5), body: """{"message":"API rate limit exceeded"}"""));

        var primary = await Assert.ThrowsAsync<GitHubRateLimitedException>(() => gate.EnterAsync(Installation, "core", default));
        Assert.InRange(primary.Wait, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task An_ordinary_403_is_not_a_rate_limit()
    {
        var gate = new GitHubRateGate(clock);
        await CallAsync(gate, Answer(HttpStatusCode.Forbidden, 4000, TimeSpan.FromMinutes(30), body: """{"message":"Resource not accessible by integration"}"""));

        using (await gate.EnterAsync(Installation, "core", default))
        {
        }

        Assert.Null(gate.Wait(Installation, clock.GetUtcNow()));
    }

    [Fact]
    public async Task What_one_instance_learns_another_knows_within_a_second_without_calling_GitHub()
    {
        var store = new MemoryStore();
        var first = new GitHubRateGate(clock, store);
        var second = new GitHubRateGate(clock, store);
        using (await second.EnterAsync(Installation, "core", default)) // read the store once: nothing there yet
        {
        }

        await CallAsync(first, Answer(HttpStatusCode.TooManyRequests, 3000, TimeSpan.FromMinutes(30), retryAfter: 40));

        using (await second.EnterAsync(Installation, "core", default)) // within the second: not read again
        {
        }

        clock.Advance(GitHubRateGate.ShareInterval);
        var held = await Assert.ThrowsAsync<GitHubRateLimitedException>(() => second.EnterAsync(Installation, "core", default));
        Assert.Equal(TimeSpan.FromSeconds(39), held.Wait);
        Assert.InRange(store.Reads, 2, 3);
    }

    [Fact]
    public async Task A_storage_failure_never_stops_a_call()
    {
        var store = Substitute.For<IRateBudgetStore>();
        store.ReadAsync(default!, default).ReturnsForAnyArgs<RateBudget?>(_ => throw new Azure.RequestFailedException(503, "storage is down"));
        store.WriteAsync(default!, default!, default).ReturnsForAnyArgs(_ => throw new Azure.RequestFailedException(503, "storage is down"));
        var gate = new GitHubRateGate(clock, store);

        await CallAsync(gate, Answer(HttpStatusCode.OK, 4000, TimeSpan.FromMinutes(30)));

        using (await gate.EnterAsync(Installation, "core", default))
        {
        }
    }

    [Fact]
    public async Task At_most_so_many_calls_per_credentials_are_in_flight_at_once()
    {
        var gate = new GitHubRateGate(clock);
        var slots = new List<IDisposable>();
        for (var i = 0; i < GitHubRateGate.MaxConcurrent; i++)
        {
            slots.Add(await gate.EnterAsync(Installation, "core", default));
        }

        var waiting = gate.EnterAsync(Installation, "core", default);
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        using (await gate.EnterAsync(Installation + 1, "core", default)) // other credentials are not held
        {
        }

        slots[0].Dispose();
        (await waiting).Dispose();
        slots.ForEach(s => s.Dispose());
    }

    /// <summary>A store in memory (the table's own behaviour is tested on Azurite).</summary>
    private sealed class MemoryStore : IRateBudgetStore
    {
        public ConcurrentDictionary<string, RateBudget> Rows { get; } = new();

        public int Reads;

        public Task<RateBudget?> ReadAsync(string key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Reads);
            return Task.FromResult(Rows.TryGetValue(key, out var row) ? row : null);
        }

        public Task WriteAsync(string key, RateBudget budget, CancellationToken cancellationToken)
        {
            Rows.AddOrUpdate(key, budget, (_, old) => budget with { BlockedUntil = budget.BlockedUntil ?? old.BlockedUntil });
            return Task.CompletedTask;
        }
    }
}
