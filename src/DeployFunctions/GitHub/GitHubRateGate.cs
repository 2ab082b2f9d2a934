using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Octokit;
using Octokit.Internal;

namespace DeployFunctions.GitHub;

/// <summary>A call this app did not send: GitHub's rate limit for these credentials is still in effect.</summary>
public sealed class GitHubRateLimitedException(TimeSpan wait, string reason) : Exception(reason)
{
    public TimeSpan Wait { get; } = wait;
}

/// <summary>One set of credentials' budget for one of GitHub's limits (<c>core</c> for REST, <c>graphql</c>), as last seen.</summary>
/// <param name="Remaining">GitHub's <c>x-ratelimit-remaining</c>, less the calls sent since; null until a response said.</param>
/// <param name="Reset">GitHub's <c>x-ratelimit-reset</c>: when the budget is full again.</param>
/// <param name="BlockedUntil">GitHub answered 403 or 429 for a limit: nothing is sent before this.</param>
/// <param name="ObservedAt">When a response last told it.</param>
public sealed record RateBudget(int? Remaining, DateTimeOffset? Reset, DateTimeOffset? BlockedUntil, DateTimeOffset ObservedAt);

/// <summary>Where instances share what they learned about a budget (a Table row per credentials and limit).</summary>
public interface IRateBudgetStore
{
    Task<RateBudget?> ReadAsync(string key, CancellationToken cancellationToken);

    Task WriteAsync(string key, RateBudget budget, CancellationToken cancellationToken);
}

/// <summary>
/// GitHub's rate limits, per set of credentials (a GitHub App installation, or the token) and limit, kept for every call and
/// shared by every instance: each response's <c>x-ratelimit-remaining</c> and <c>x-ratelimit-reset</c> are remembered; when the
/// budget is down to <see cref="Reserve"/>, or GitHub answered 403/429 for a limit, no call is sent until the reset (the
/// caller gets <see cref="GitHubRateLimitedException"/> and its message waits). GitHub blocks integrations that keep calling
/// while limited. Instances share the budget through <see cref="IRateBudgetStore"/>, read at most once a second and written
/// at once when GitHub refuses, else at most once a second, so ten instances do not each learn the limit alone. At most
/// <see cref="MaxConcurrent"/> calls per credentials are in flight in one instance (GitHub's secondary limit is on
/// concurrent requests). A storage failure never stops a call: the instance goes on with what it knows.
/// </summary>
public sealed partial class GitHubRateGate(TimeProvider clock, IRateBudgetStore? store = null, ILogger<GitHubRateGate>? log = null)
{
    private readonly ILogger logger = log ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<GitHubRateGate>.Instance;

    /// <summary>Calls kept back from the budget: what other instances may send before they hear of it.</summary>
    public const int Reserve = 50;

    /// <summary>Calls per credentials one instance sends at once.</summary>
    public const int MaxConcurrent = 16;

    /// <summary>How often an instance reads what the others learned.</summary>
    public static readonly TimeSpan ShareInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long after GitHub's <c>x-ratelimit-reset</c> a spent budget still counts as spent.</summary>
    public static readonly TimeSpan ResetMargin = TimeSpan.FromSeconds(1);

    /// <summary>The key of the token's credentials (no installation).</summary>
    private const long TokenKey = -1;

    private readonly ConcurrentDictionary<string, Budget> budgets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, SemaphoreSlim> inFlight = new();

    /// <summary>How many calls this instance held back for a limit (never sent).</summary>
    public long HeldBack => Interlocked.Read(ref heldBack);

    private long heldBack;

    public void Block(long? installationId, DateTimeOffset through)
    {
        var budget = BudgetOf(Key(installationId ?? TokenKey, "core"));
        lock (budget)
        {
            budget.BlockedUntil = budget.BlockedUntil > through ? budget.BlockedUntil : through;
        }
    }

    /// <summary>How long calls with these credentials must still wait, or null when they may go ahead.</summary>
    public TimeSpan? Wait(long? installationId, DateTimeOffset now) => WaitOf(BudgetOf(Key(installationId ?? TokenKey, "core")), now);

    /// <summary>Before a call: throws <see cref="GitHubRateLimitedException"/> when it must wait; else counts it and lets it go.</summary>
    public async Task<IDisposable> EnterAsync(long? installationId, string resource, CancellationToken cancellationToken)
    {
        var key = Key(installationId ?? TokenKey, resource);
        var budget = BudgetOf(key);
        await ShareInAsync(key, budget, cancellationToken);
        var now = clock.GetUtcNow();
        lock (budget)
        {
            if (WaitOf(budget, now) is { } wait)
            {
                Interlocked.Increment(ref heldBack);
                throw new GitHubRateLimitedException(wait, $"GitHub's {resource} rate limit for these credentials: " +
                    (budget.BlockedUntil > now ? "GitHub refused a call" : $"{budget.Remaining} calls left, {Reserve} kept back") +
                    $"; calls wait until {now + wait:HH:mm:ss} UTC");
            }

            budget.Remaining--;
        }

        var slots = inFlight.GetOrAdd(installationId ?? TokenKey, _ => new SemaphoreSlim(MaxConcurrent));
        await slots.WaitAsync(cancellationToken);
        return new Slot(slots);
    }

    /// <summary>After a call: what GitHub's answer says about the budget.</summary>
    public async Task LearnAsync(long? installationId, string resource, IResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var key = Key(installationId ?? TokenKey, resource);
        var budget = BudgetOf(key);
        var now = clock.GetUtcNow();
        var remaining = Number(response, "X-RateLimit-Remaining");
        var reset = Number(response, "X-RateLimit-Reset") is { } seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : (DateTimeOffset?)null;
        var refused = response.StatusCode is HttpStatusCode.TooManyRequests ||
                      (response.StatusCode is HttpStatusCode.Forbidden && (remaining == 0 || Header(response, "Retry-After") is not null ||
                                                                           (response.Body as string)?.Contains("rate limit", StringComparison.OrdinalIgnoreCase) == true));
        bool share;
        lock (budget)
        {
            if (response.StatusCode is HttpStatusCode.NotModified && budget.Remaining is not null)
            {
                budget.Remaining++; // a conditional request answered 304 does not count against the limit (GitHub's rule)
            }

            if (remaining is { } left && reset is { } until)
            {
                // A newer reset is a new window: its count replaces ours; within one window the lowest count is the truest.
                budget.Remaining = budget.Reset != until ? (int)left : Math.Min(budget.Remaining ?? int.MaxValue, (int)left);
                budget.Reset = until;
                budget.ObservedAt = now;
            }

            if (refused)
            {
                var blocked = Number(response, "Retry-After") is { } retry ? now + TimeSpan.FromSeconds(retry)
                    : remaining == 0 && reset is { } r && r > now ? r
                    : now + GitHubFailure.SecondaryLimitWait;
                budget.BlockedUntil = budget.BlockedUntil > blocked ? budget.BlockedUntil : blocked;
            }

            share = refused || now - budget.WrittenAt >= ShareInterval;
            if (share)
            {
                budget.WrittenAt = now;
            }
        }

        if (share && store is not null)
        {
            try
            {
                await store.WriteAsync(key, budget.Snapshot(), cancellationToken);
            }
            catch (Azure.RequestFailedException exception)
            {
                LogShareFailed(logger, key, exception.Message);
            }
        }
    }

    private async Task ShareInAsync(string key, Budget budget, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        lock (budget)
        {
            if (store is null || now - budget.ReadAt < ShareInterval)
            {
                return;
            }

            budget.ReadAt = now;
        }

        RateBudget? shared;
        try
        {
            shared = await store.ReadAsync(key, cancellationToken);
        }
        catch (Azure.RequestFailedException exception)
        {
            LogShareFailed(logger, key, exception.Message);
            return;
        }

        if (shared is null)
        {
            return;
        }

        lock (budget)
        {
            if (shared.BlockedUntil > budget.BlockedUntil || budget.BlockedUntil is null)
            {
                budget.BlockedUntil = shared.BlockedUntil ?? budget.BlockedUntil;
            }

            if (shared.Remaining is { } left && shared.Reset is { } reset && shared.ObservedAt > budget.ObservedAt)
            {
                budget.Remaining = budget.Reset != reset ? left : Math.Min(budget.Remaining ?? int.MaxValue, left);
                budget.Reset = reset;
                budget.ObservedAt = shared.ObservedAt;
            }
        }
    }

    private static TimeSpan? WaitOf(Budget budget, DateTimeOffset now)
    {
        lock (budget)
        {
            if (budget.BlockedUntil is { } blocked && blocked > now)
            {
                return blocked - now;
            }

            // GitHub's reset is a whole second, and clocks differ: the budget counts as spent until a second after it.
            return budget is { Remaining: { } left, Reset: { } reset } && left <= Reserve && reset + ResetMargin > now
                ? reset + ResetMargin - now
                : null;
        }
    }

    private Budget BudgetOf(string key) => budgets.GetOrAdd(key, _ => new Budget());

    private static string Key(long credentials, string resource) =>
        $"{(credentials == TokenKey ? "token" : credentials.ToString(CultureInfo.InvariantCulture))}-{resource}";

    private static long? Number(IResponse response, string header) =>
        long.TryParse(Header(response, header), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static string? Header(IResponse response, string name) =>
        response.Headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limit budget {Key} could not be shared through storage: {Error}")]
    private static partial void LogShareFailed(ILogger logger, string key, string error);

    private sealed class Budget
    {
        public int? Remaining { get; set; }
        public DateTimeOffset? Reset { get; set; }
        public DateTimeOffset? BlockedUntil { get; set; }
        public DateTimeOffset ObservedAt { get; set; } = DateTimeOffset.MinValue;
        public DateTimeOffset ReadAt { get; set; } = DateTimeOffset.MinValue;
        public DateTimeOffset WrittenAt { get; set; } = DateTimeOffset.MinValue;

        public RateBudget Snapshot()
        {
            lock (this)
            {
                return new RateBudget(Remaining, Reset, BlockedUntil, ObservedAt);
            }
        }
    }

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}

/// <summary>The app's HTTP client for one set of credentials, through the <see cref="GitHubRateGate"/>: every call, every handler and timer.</summary>
internal sealed class RateGatedHttpClient(IHttpClient inner, GitHubRateGate gate, long? installationId) : IHttpClient
{
    public async Task<IResponse> Send(IRequest request, CancellationToken cancellationToken, Func<object, object>? preprocessResponseBody = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var resource = request.Endpoint.OriginalString.EndsWith("graphql", StringComparison.Ordinal) ? "graphql" : "core";
        IResponse response;
        using (await gate.EnterAsync(installationId, resource, cancellationToken))
        {
            response = await inner.Send(request, cancellationToken, preprocessResponseBody);
        }

        await gate.LearnAsync(installationId, resource, response, cancellationToken);
        return response;
    }

    public void SetRequestTimeout(TimeSpan timeout) => inner.SetRequestTimeout(timeout);

    public void Dispose()
    {
        // The inner client is the factory's, shared by every set of credentials.
    }
}
