using DeployFunctions.Commands;
using DeployFunctions.GitHub;
using DeployFunctions.Policy;
using DeployFunctions.Storage;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Board;

/// <summary>A lock as the board shows it (who, why, since when, until when; the comment that took it).</summary>
public sealed record BoardLock(string Holder, string? Reason, DateTimeOffset Since, DateTimeOffset? Until, bool Global, string? CommentUrl);

/// <summary>A merge that waits (a lock, a freeze, checks), and why.</summary>
public sealed record BoardWaiting(string Sha, long PullRequest, string Reason, DateTimeOffset Since);

/// <summary>A freeze that holds the environment now (<see cref="Active"/>) or the next one to come.</summary>
public sealed record BoardFreeze(string Reason, DateTimeOffset? From, DateTimeOffset Until, bool Active);

/// <summary>One environment on the board: its summary row with the locks, waits and freezes that hold it now.</summary>
public sealed record BoardEnvironmentView
{
    public required string Repository { get; init; }
    public required string Environment { get; init; }
    public BoardDeployment? Live { get; init; }
    public BoardDeployment? Current { get; init; }
    public required IReadOnlyList<BoardDeployment> Recent { get; init; }
    public BoardLock? Lock { get; init; }
    public required IReadOnlyList<BoardWaiting> Waiting { get; init; }
    public BoardFreeze? Freeze { get; init; }
}

/// <summary>What <c>GET /api/board/data</c> answers.</summary>
public sealed record BoardData
{
    public required DateTimeOffset GeneratedAt { get; init; }

    /// <summary>GitHub's web address (github.com, or an Enterprise Server's), for links.</summary>
    public required string GitHubUrl { get; init; }

    public required IReadOnlyList<BoardEnvironmentView> Environments { get; init; }

    /// <summary>Pass back as <c>continuation</c> for the next page; null on the last.</summary>
    public string? Continuation { get; init; }

    /// <summary>The pull requests' preview environments, listed apart (on the first page only); they count in none of the four keys.</summary>
    public IReadOnlyList<BoardPreview> Previews { get; init; } = [];
}

/// <summary>One pull request's preview as the board shows it: what the app's own row says.</summary>
public sealed record BoardPreview(
    string Repository, long PullRequest, string Environment, string State, string Status, string Sha, string? Url, bool FromFork, DateTimeOffset LastPushAt);

/// <summary>Puts the board together: summary rows (one query), the shown repositories' locks and waiting merges, the operator's freezes.</summary>
public sealed class BoardReader(
    IDeployBoard board, IEnvironmentLocks locks, DeployPolicy policy, IOptions<GitHubOptions> github, TimeProvider clock, Previews.IPreviewStore? previews = null)
{
    public async Task<BoardData> ReadAsync(
        string? repository, string? environment, DateTimeOffset? since, DateTimeOffset? until, int limit, string? continuation,
        CancellationToken cancellationToken)
    {
        var page = await board.EnvironmentsAsync(repository, environment, limit, continuation, cancellationToken);
        var now = clock.GetUtcNow();
        var rows = page.Environments.ToList();

        // The locks and waiting merges of the repositories shown: two key-range reads per repository (a repository's lock
        // partition also holds every notice it ever posted once, so it is never scanned whole).
        var names = rows.Select(r => r.Repository).Concat(repository is null ? [] : [repository]).Distinct(StringComparer.OrdinalIgnoreCase);
        var held = await Task.WhenAll(names.Select(async name =>
            (Repository: name, Locks: await locks.ListAsync(name, cancellationToken), Waiting: await locks.ListWaitingAsync(name, cancellationToken))));

        // A lock or a waiting merge on an environment nothing was deployed to yet: shown too (on the first page).
        if (continuation is null)
        {
            var pending = held.SelectMany(h => h.Locks.Where(l => !l.IsGlobal).Select(l => (h.Repository, Environment: l.Environment!))
                    .Concat(h.Waiting.Select(w => (h.Repository, w.Environment))))
                .Where(p => Matches(p.Environment, environment))
                .DistinctBy(p => Key(p.Repository, p.Environment))
                .Where(p => !rows.Any(r => Key(r.Repository, r.Environment) == Key(p.Repository, p.Environment)))
                .ToList();
            foreach (var (name, env) in pending)
            {
                if (!await board.HasEnvironmentAsync(name, env, cancellationToken))
                {
                    rows.Add(new BoardEnvironment { Repository = name, Environment = env });
                }
            }
        }

        var views = rows.Select(e =>
        {
            var repositoryHeld = held.FirstOrDefault(h => string.Equals(h.Repository, e.Repository, StringComparison.OrdinalIgnoreCase));
            var lockHeld = (repositoryHeld.Locks ?? [])
                .Where(l => l.IsGlobal || string.Equals(l.Environment, e.Environment, StringComparison.OrdinalIgnoreCase))
                .OrderBy(l => l.IsGlobal)
                .FirstOrDefault();
            var frozen = policy.FreezeOn(e.Environment, null, now);
            var next = frozen is null ? policy.NextFreeze(e.Environment, now) : null;
            return new BoardEnvironmentView
            {
                Repository = e.Repository,
                Environment = e.Environment,
                Live = e.Live,
                Current = e.Current,
                Recent = [.. e.Recent.Where(d => (since is null || d.At >= since) && (until is null || d.At <= until))],
                Lock = lockHeld is null ? null : new BoardLock(lockHeld.Holder, lockHeld.Reason, lockHeld.Since, lockHeld.Until, lockHeld.IsGlobal, lockHeld.CommentUrl),
                Waiting = [.. (repositoryHeld.Waiting ?? [])
                    .Where(w => string.Equals(w.Environment, e.Environment, StringComparison.OrdinalIgnoreCase))
                    .Select(w => new BoardWaiting(w.Sha, w.PullRequest, w.Reason, w.Since))],
                Freeze = frozen is not null
                    ? new BoardFreeze(frozen.Reason, null, frozen.Until, Active: true)
                    : next is { } n ? new BoardFreeze(n.Reason, n.From, n.Until, Active: false) : null,
            };
        }).ToList();

        return new BoardData
        {
            GeneratedAt = now, GitHubUrl = WebUrl(github.Value.ApiBaseUrl), Environments = views, Continuation = page.Continuation,
            Previews = continuation is null ? await PreviewsAsync(repository, environment, cancellationToken) : [],
        };
    }

    /// <summary>The previews not removed: a repository's (one partition), or every repository's (their number is capped per repository).</summary>
    private async Task<IReadOnlyList<BoardPreview>> PreviewsAsync(string? repository, string? environment, CancellationToken cancellationToken)
    {
        if (previews is null)
        {
            return [];
        }

        var list = new List<Previews.Preview>();
        if (repository is not null)
        {
            list.AddRange(await previews.OfRepositoryAsync(repository, cancellationToken));
        }
        else
        {
            await foreach (var preview in previews.NotRemovedAsync(cancellationToken))
            {
                list.Add(preview);
            }
        }

        return [.. list.Where(p => Matches(p.Environment, environment))
            .OrderBy(p => p.Repository, StringComparer.OrdinalIgnoreCase).ThenByDescending(p => p.Number)
            .Select(p => new BoardPreview(p.Repository, p.Number, p.Environment, p.State.ToString(), p.Status, p.HeadSha,
                p.State == Previews.PreviewState.Active ? p.Url : null, p.FromFork, p.LastPushAt))];
    }

    private static string Key(string repository, string environment) => StorageKey.Join('|', repository, environment);

    private static bool Matches(string name, string? filter) => filter is null || string.Equals(name, filter, StringComparison.OrdinalIgnoreCase);

    /// <summary>GitHub's web address for an API address: api.github.com is github.com, an Enterprise Server's <c>/api/v3</c> is its host.</summary>
    public static string WebUrl(Uri api)
    {
        ArgumentNullException.ThrowIfNull(api);
        if (string.Equals(api.Host, "api.github.com", StringComparison.OrdinalIgnoreCase))
        {
            return "https://github.com";
        }

        var text = api.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return text.EndsWith("/api/v3", StringComparison.OrdinalIgnoreCase) ? text[..^"/api/v3".Length] : text;
    }
}
