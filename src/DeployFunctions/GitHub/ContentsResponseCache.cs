using System.Collections.Concurrent;
using Octokit.Caching;
using Octokit.Internal;

namespace DeployFunctions.GitHub;

/// <summary>
/// Octokit's conditional-request cache, for the repository file only (<c>.github/deployfunctions.yml</c>: its contents, and
/// the list of the commits that changed it): the next read sends <c>If-None-Match</c> with the cached ETag, and GitHub's 304
/// (which does not count against the rate limit) gives back the cached answer. GitHub checks the credentials before it
/// answers 304, so one cache serves every installation. Other requests pass through untouched. Bounded: the oldest
/// entries go first.
/// </summary>
public sealed class ContentsResponseCache : IResponseCache
{
    public const int Capacity = 10_000;
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
                // A tenth at a time, so a full cache sorts once per thousand answers, not on every one.
                foreach (var oldest in entries.OrderBy(e => e.Value.Order).Take(entries.Count - Capacity * 9 / 10).ToList())
                {
                    entries.TryRemove(oldest.Key, out _);
                }
            }
        }

        return Task.CompletedTask;
    }

    private static string? Key(IRequest request)
    {
        // Octokit puts a request's query into its endpoint (a list's parameters) or into Parameters: both are part of the key.
        var endpoint = request.Endpoint.OriginalString;
        var path = endpoint.Split('?')[0];
        var parameters = string.Join('&', request.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        var cached = path.Contains("/contents/", StringComparison.Ordinal) ||
                     (path.EndsWith("/commits", StringComparison.Ordinal) &&
                      (endpoint.Contains("path=", StringComparison.Ordinal) || request.Parameters.ContainsKey("path")));
        return cached ? endpoint + "?" + parameters : null;
    }
}
