using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace GitHubStandIn;

public sealed record StandInRepository(string Owner, string Name, long Id, string DefaultBranch)
{
    public string FullName => $"{Owner}/{Name}";
}

public sealed class StandInDeployment
{
    public required long Id { get; init; }
    public required StandInRepository Repository { get; init; }
    public required string Sha { get; init; }
    public required string Ref { get; init; }
    public required string Task { get; init; }
    public required string Environment { get; init; }
    public string? Description { get; init; }
    public JsonNode? Payload { get; init; }
    public required string Creator { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The request body as the client sent it, for tests to assert on.</summary>
    public required JsonObject Request { get; init; }

    public List<StandInStatus> Statuses { get; } = [];
}

public sealed record StandInStatus(
    long Id, string State, string? Description, string? Environment, string? LogUrl, string? EnvironmentUrl, DateTimeOffset CreatedAt);

/// <summary>One request the stand-in received, as it arrived.</summary>
public sealed record RecordedRequest(
    string Method, string Path, string Query, string Body, string? Authorization, DateTimeOffset At, int Status);

/// <summary>A scripted answer for the next request matching <see cref="Method"/> and <see cref="PathSuffix"/>.</summary>
public sealed record Fault(string Method, string PathSuffix, int Status, string Body = "{}")
{
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Wait this long before answering (to exceed a client's timeout).</summary>
    public TimeSpan Delay { get; init; }
}

/// <summary>What the stand-in knows: repositories, deployments with their statuses, tokens, faults, requests.</summary>
public sealed class StandInState
{
    private long nextDeploymentId = 1000;
    private long nextStatusId = 5000;
    private long nextRepositoryId = 100;
    private readonly ConcurrentDictionary<string, StandInRepository> repositories = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<Fault> faults = new();
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private readonly ConcurrentDictionary<string, long> installationTokens = new();
    private readonly ConcurrentDictionary<string, long> repositoryInstallations = new(StringComparer.OrdinalIgnoreCase);

    public object Gate { get; } = new();
    public List<StandInDeployment> Deployments { get; } = [];

    public IReadOnlyCollection<RecordedRequest> Requests => requests;

    public StandInRepository Repository(string owner, string name, string defaultBranch = "main") =>
        repositories.GetOrAdd($"{owner}/{name}", _ => new StandInRepository(owner, name, Interlocked.Increment(ref nextRepositoryId), defaultBranch));

    public long NextDeploymentId() => Interlocked.Increment(ref nextDeploymentId);

    public long NextStatusId() => Interlocked.Increment(ref nextStatusId);

    public void AddFault(Fault fault) => faults.Enqueue(fault);

    public void Record(RecordedRequest request) => requests.Enqueue(request);

    public void ClearRequests() => requests.Clear();

    public int TokensIssued => installationTokens.Count;

    /// <summary>Installs the GitHub App on a repository (<c>owner/name</c>), as installation <paramref name="installationId"/>.</summary>
    public void InstallApp(string repository, long installationId) => repositoryInstallations[repository] = installationId;

    public long? InstallationOn(string repository) => repositoryInstallations.TryGetValue(repository, out var id) ? id : null;

    public string IssueInstallationToken(long installationId)
    {
        var token = "ghs_standin" + Guid.NewGuid().ToString("N");
        installationTokens[token] = installationId;
        return token;
    }

    /// <summary>The first queued fault for this request, removed; faults for other requests keep their place.</summary>
    public Fault? TakeFault(string method, string path)
    {
        lock (faults)
        {
            var all = faults.ToArray();
            var match = Array.FindIndex(all, f =>
                string.Equals(f.Method, method, StringComparison.OrdinalIgnoreCase) &&
                path.EndsWith(f.PathSuffix, StringComparison.Ordinal));
            if (match < 0)
            {
                return null;
            }

            faults.Clear();
            for (var i = 0; i < all.Length; i++)
            {
                if (i != match)
                {
                    faults.Enqueue(all[i]);
                }
            }

            return all[match];
        }
    }
}
