using System.Collections.Concurrent;
using Octokit.Caching;
using Octokit.Internal;

namespace DeployFunctions.GitHub;

/// <summary>
/// Octokit's conditional-request cache, for repository contents only (<c>.github/deployfunctions.yml</c>): the next read
/// sends <c>If-None-Match</c> with the cached ETag, and GitHub's 304 (which does not count against the rate limit) gives
/// back the cached file. Other requests pass through untouched. Bounded: the oldest entries go first.
/// </summary>
public sealed class ContentsResponseCache : IResponseCache
{
    public const int Capacity = 2000;
    private readonly ConcurrentDictionary<string, (CachedResponse.V1 Response, long Order)> entries = new(StringComparer.Ordinal);
    private long order;

    public Task<CachedResponse.V1> GetAsync(IRequest request) =>
        Task.FromResult(Key(request) is { } key && entries.TryGetValue(key, out var entry) ? entry.Response : null!);

    public Task SetAsync(IRequest request, CachedResponse.V1 cachedResponse)
    {
        if (Key(request) is { } key && cachedResponse is not null)
        {
            entries[key] = (cachedResponse, Interlocked.Increment(ref order));
            if (entries.Count > Capacity)
            {
                foreach (var oldest in entries.OrderBy(e => e.Value.Order).Take(entries.Count - Capacity).ToList())
                {
                    entries.TryRemove(oldest.Key, out _);
                }
            }
        }

        return Task.CompletedTask;
    }

    private static string? Key(IRequest request) =>
        request.Endpoint.OriginalString.Contains("/contents/", StringComparison.Ordinal)
            ? request.Endpoint.OriginalString + "?" + string.Join('&', request.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))
            : null;
}
