using System.Collections.Concurrent;

namespace GitHubStandIn;

/// <summary>What the stand-in knows: repositories, deployments with their statuses, tokens, faults, requests.</summary>
public sealed partial class StandInState
{
    private long nextDeploymentId = 1000;
    private long nextStatusId = 5000;
    private long nextRepositoryId = 100;
    private readonly ConcurrentDictionary<string, StandInRepository> repositories = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<Fault> faults = new();
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private readonly ConcurrentDictionary<string, long> installationTokens = new();
    private readonly ConcurrentDictionary<string, long> repositoryInstallations = new(StringComparer.OrdinalIgnoreCase);

    private long nextId = 70000;

    /// <summary>The login of the app's own bot: what any token not in <see cref="TokenLogins"/> acts as.</summary>
    public const string AppLogin = "deployfunctions-standin[bot]";

    /// <summary>The GitHub App's slug (<c>GET /app</c>); its bot is <c>&lt;slug&gt;[bot]</c>.</summary>
    public const string AppSlug = "deployfunctions-standin";

    /// <summary>People's tokens (<c>Authorization: token &lt;key&gt;</c>) and who they are; any other token is the app.</summary>
    public ConcurrentDictionary<string, string> TokenLogins { get; } = new(StringComparer.Ordinal);

    /// <summary>A file at one ref (branch name or commit), over <see cref="Files"/>; a null text: the file is missing there.</summary>
    public ConcurrentDictionary<(string Repository, string Ref, string Path), string?> FilesAt { get; } = new(IgnoreCase.RefPaths);

    /// <summary>REST requests refused for breaking GitHub's description (route, query or body), with the reasons.</summary>
    public ConcurrentQueue<(string Method, string Path, List<string> Errors)> SchemaRefusals { get; } = new();

    /// <summary>GraphQL queries refused for breaking GitHub's schema, with the reasons (a test fails on any).</summary>
    public ConcurrentQueue<(string Query, List<string> Errors)> GraphQLRefusals { get; } = new();

    /// <summary>Check runs by commit SHA.</summary>
    public ConcurrentDictionary<string, List<StandInCheckRun>> CheckRuns { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Workflow runs, oldest first: read and change them under <see cref="Gate"/>.</summary>
    public List<StandInWorkflowRun> WorkflowRuns { get; } = [];

    /// <summary>
    /// What a workflow's <c>run-name</c> makes of its inputs, by repository and workflow file (<c>{name}</c> is replaced by
    /// that input); a workflow not listed uses <see cref="DefaultRunName"/>, and a null entry has no run-name (the title is
    /// the workflow's name).
    /// </summary>
    public ConcurrentDictionary<(string Repository, string Workflow), string?> RunNames { get; } = new(IgnoreCase.Pairs);

    /// <summary>The <c>run-name</c> the example workflow in docs/providers.md sets.</summary>
    public const string DefaultRunName = "deployfunctions deployment {deployment_id}";

    /// <summary>
    /// False: workflow dispatches are answered 204 without the run's details even when asked for them, as a GitHub that
    /// predates <c>return_run_details</c> answers.
    /// </summary>
    public bool DispatchRunDetails { get; set; } = true;

    public void AddCheckRun(string sha, string name, string status, string? conclusion)
    {
        var runs = CheckRuns.GetOrAdd(sha, _ => []);
        lock (runs)
        {
            runs.Add(new StandInCheckRun(NextId(), name, status, conclusion));
        }
    }

    /// <summary>The text of a file at a ref, or null when it is missing there.</summary>
    public string? FileAt(string repository, string reference, string path) =>
        reference.Length > 0 && FilesAt.TryGetValue((repository, reference, path), out var atRef)
            ? atRef
            : Files.TryGetValue((repository, path), out var text) ? text : null;

    public object Gate { get; } = new();
    public List<StandInDeployment> Deployments { get; } = [];

    /// <summary>Pull requests, comments and reactions: read and change them under <see cref="Gate"/>.</summary>
    public List<StandInPullRequest> PullRequests { get; } = [];
    public List<StandInComment> Comments { get; } = [];
    public List<StandInReaction> Reactions { get; } = [];

    /// <summary>Repository permission (<c>role_name</c>) of collaborators, by <c>owner/name</c> and login; others get 404.</summary>
    public ConcurrentDictionary<(string Repository, string Login), string> Permissions { get; } = new(IgnoreCase.Pairs);

    /// <summary>Active team members, by organization, team slug and login.</summary>
    public ConcurrentDictionary<(string Org, string Team, string Login), bool> TeamMembers { get; } = new(IgnoreCase.Triples);

    /// <summary>Branch heads, by <c>owner/name</c> and branch.</summary>
    public ConcurrentDictionary<(string Repository, string Branch), string> Branches { get; } = new(IgnoreCase.Pairs);

    /// <summary>
    /// How many commits of a base branch a head commit lacks, as GitHub's compare answers (<c>behind_by</c>); a pair not
    /// listed is up to date.
    /// </summary>
    public ConcurrentDictionary<(string Repository, string Base, string Head), int> Behind { get; } = new(IgnoreCase.RefPaths);

    /// <summary>Pull requests the app asked GitHub to update with their base (<c>PUT .../pulls/{n}/update-branch</c>), with the head it expected.</summary>
    public ConcurrentQueue<(string Repository, long Number, string? ExpectedHeadSha)> BranchUpdates { get; } = new();

    public long NextId() => Interlocked.Increment(ref nextId);

    private readonly ConcurrentQueue<StandInDelivery> deliveries = new();
    private int redeliveries;

    public void RecordDelivery(StandInDelivery delivery) => deliveries.Enqueue(delivery);

    /// <summary>Every delivery attempt, oldest first.</summary>
    public List<StandInDelivery> DeliveryLog() => [.. deliveries];

    /// <summary>How many redeliveries were asked for (<c>POST .../deliveries/{id}/attempts</c>).</summary>
    public int Redeliveries => Volatile.Read(ref redeliveries);

    public void CountRedelivery() => Interlocked.Increment(ref redeliveries);

    private int rateLimitUsed;

    /// <summary>Requests counted against the primary rate limit: every answer but a 304 (GitHub does not count those).</summary>
    public int RateLimitUsed => Volatile.Read(ref rateLimitUsed);

    /// <summary>Requests that came with credentials GitHub had refused for a rate limit, before that limit's reset.</summary>
    public int RequestsBeforeReset => Volatile.Read(ref requestsBeforeReset);

    /// <summary>How many requests were refused for a rate limit (403).</summary>
    public int RateLimitRefusals => Volatile.Read(ref rateLimitRefusals);

    private int requestsBeforeReset;
    private int rateLimitRefusals;

    public void CountRequestBeforeReset() => Interlocked.Increment(ref requestsBeforeReset);

    public void CountRateLimitRefusal() => Interlocked.Increment(ref rateLimitRefusals);

    public void CountAgainstRateLimit() => Interlocked.Increment(ref rateLimitUsed);

    /// <summary>The lowest <c>x-ratelimit-remaining</c> answered (how close the app came to GitHub's primary limit).</summary>
    public int LowestRemaining => Volatile.Read(ref lowestRemaining);

    private int lowestRemaining = int.MaxValue;

    public void SawRemaining(int remaining)
    {
        for (var seen = Volatile.Read(ref lowestRemaining); remaining < seen; seen = Volatile.Read(ref lowestRemaining))
        {
            if (Interlocked.CompareExchange(ref lowestRemaining, remaining, seen) == seen)
            {
                return;
            }
        }
    }

    /// <summary>Files by <c>owner/name</c> and path (the same at every ref); remove one to make it missing.</summary>
    public ConcurrentDictionary<(string Repository, string Path), string> Files { get; } = new(IgnoreCase.Pairs);

    /// <summary>Answers to deployment protection rules: run id, environment, state, comment.</summary>
    public ConcurrentQueue<(long RunId, string Environment, string State, string Comment)> ProtectionAnswers { get; } = new();

    /// <summary>The combined status a commit reports (<c>success</c>, <c>pending</c>, <c>failure</c>), by SHA; unknown: no statuses.</summary>
    public ConcurrentDictionary<string, (string State, string Context)> CombinedStatuses { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Commit statuses created (<c>POST /repos/{owner}/{repo}/statuses/{sha}</c>).</summary>
    public ConcurrentQueue<(string Repository, string Sha, string State, string Context, string? Description)> CommitStatuses { get; } = new();

    /// <summary>Opens a pull request from <paramref name="headRef"/> (in <paramref name="fork"/>, else the repository) into <paramref name="baseRef"/>.</summary>
    public StandInPullRequest OpenPullRequest(
        StandInRepository repository, long number, string headSha, string author = "octocat", string headRef = "feature",
        string baseRef = "main", StandInRepository? fork = null, DateTimeOffset? at = null)
    {
        var pull = new StandInPullRequest
        {
            Repository = repository, Number = number, Title = $"Pull request {number}", Author = author, HeadSha = headSha,
            HeadRef = headRef, HeadRepository = fork ?? repository, BaseRef = baseRef, CreatedAt = at ?? DateTimeOffset.UtcNow,
        };
        lock (Gate)
        {
            PullRequests.Add(pull);
        }

        return pull;
    }

    public void Review(StandInPullRequest pull, string reviewer, string state)
    {
        lock (Gate)
        {
            pull.Reviews.Add(new StandInReview(NextId(), reviewer, state, pull.HeadSha, DateTimeOffset.UtcNow.AddSeconds(pull.Reviews.Count)));
        }
    }

    /// <summary>
    /// Each reviewer's latest review that approves or requests changes (a dismissed one counts for nothing), as GitHub's
    /// <c>latestOpinionatedReviews</c>; <paramref name="writersOnly"/>: only reviewers who can push to the repository.
    /// </summary>
    public List<StandInReview> LatestOpinionatedReviews(StandInPullRequest pull, bool writersOnly)
    {
        lock (Gate)
        {
            return [.. pull.Reviews
                .Where(r => r.State is "APPROVED" or "CHANGES_REQUESTED" or "DISMISSED")
                .GroupBy(r => r.User, StringComparer.OrdinalIgnoreCase)
                .Select(g => g.OrderBy(r => r.SubmittedAt).ThenBy(r => r.Id).Last())
                .Where(r => r.State != "DISMISSED")
                .Where(r => !writersOnly || (Permissions.TryGetValue((pull.Repository.FullName, r.User), out var role) && role is "write" or "maintain" or "admin"))];
        }
    }

    public StandInPullRequest? PullRequest(string repository, long number)
    {
        lock (Gate)
        {
            return PullRequests.FirstOrDefault(p => p.Number == number &&
                string.Equals(p.Repository.FullName, repository, StringComparison.OrdinalIgnoreCase));
        }
    }

    public StandInComment AddComment(StandInRepository repository, long number, string user, string userType, string body, DateTimeOffset at)
    {
        var comment = new StandInComment(NextId(), repository, number, user, userType, body, at);
        lock (Gate)
        {
            Comments.Add(comment);
        }

        return comment;
    }

    /// <summary>Every pull request of a repository.</summary>
    public List<StandInPullRequest> PullRequestsOf(string repository)
    {
        lock (Gate)
        {
            return [.. PullRequests.Where(p => string.Equals(p.Repository.FullName, repository, StringComparison.OrdinalIgnoreCase))];
        }
    }

    /// <summary>Every comment in a repository.</summary>
    public List<StandInComment> CommentsOf(string repository)
    {
        lock (Gate)
        {
            return [.. Comments.Where(c => string.Equals(c.Repository.FullName, repository, StringComparison.OrdinalIgnoreCase))];
        }
    }

    /// <summary>The comments on one issue or pull request, oldest first.</summary>
    public List<StandInComment> CommentsOn(string repository, long number)
    {
        lock (Gate)
        {
            return [.. Comments.Where(c => c.Number == number && string.Equals(c.Repository.FullName, repository, StringComparison.OrdinalIgnoreCase))];
        }
    }

    /// <summary>A person reacts to a comment (GitHub sends no webhook for reactions).</summary>
    public StandInReaction React(long commentId, string user, string content)
    {
        lock (Gate)
        {
            var reaction = new StandInReaction(NextId(), commentId, content, user, DateTimeOffset.UtcNow, "User");
            Reactions.Add(reaction);
            return reaction;
        }
    }

    public List<string> ReactionsOn(long commentId)
    {
        lock (Gate)
        {
            return [.. Reactions.Where(r => r.CommentId == commentId).OrderBy(r => r.Id).Select(r => r.Content)];
        }
    }

    public IReadOnlyCollection<RecordedRequest> Requests => requests;

    public StandInRepository Repository(string owner, string name, string defaultBranch = "main") =>
        repositories.GetOrAdd($"{owner}/{name}", _ => new StandInRepository(owner, name, Interlocked.Increment(ref nextRepositoryId), defaultBranch));

    /// <summary>A fork of a repository, owned by <paramref name="owner"/>.</summary>
    public StandInRepository ForkOf(string owner, string name) =>
        repositories.GetOrAdd($"{owner}/{name}", _ => new StandInRepository(owner, name, Interlocked.Increment(ref nextRepositoryId), "main") { Fork = true });

    public long NextDeploymentId() => Interlocked.Increment(ref nextDeploymentId);

    public long NextStatusId() => Interlocked.Increment(ref nextStatusId);

    public void AddFault(Fault fault) => faults.Enqueue(fault);

    public void Record(RecordedRequest request) => requests.Enqueue(request);

    public void ClearRequests() => requests.Clear();

    public int TokensIssued => installationTokens.Count;

    /// <summary>Installs the GitHub App on a repository (<c>owner/name</c>), as installation <paramref name="installationId"/>.</summary>
    public void InstallApp(string repository, long installationId) => repositoryInstallations[repository] = installationId;

    public long? InstallationOn(string repository) => repositoryInstallations.TryGetValue(repository, out var id) ? id : null;

    private readonly ConcurrentDictionary<long, bool> uninstalled = new();

    /// <summary>
    /// The App is uninstalled from installation <paramref name="installationId"/>: its tokens stop working (401) and no new
    /// one is issued (404), as GitHub does; repositories it covered have no installation until <see cref="InstallApp"/>.
    /// </summary>
    public void Uninstall(long installationId)
    {
        uninstalled[installationId] = true;
        foreach (var (repository, id) in repositoryInstallations)
        {
            if (id == installationId)
            {
                repositoryInstallations.TryRemove(repository, out _);
            }
        }
    }

    public bool IsUninstalled(long installationId) => uninstalled.ContainsKey(installationId);

    /// <summary>True when <paramref name="token"/> belongs to an installation the App was removed from.</summary>
    public bool IsRevoked(string token) => installationTokens.TryGetValue(token, out var id) && uninstalled.ContainsKey(id);

    public string IssueInstallationToken(long installationId)
    {
        var token = "ghs_standin" + Guid.NewGuid().ToString("N");
        installationTokens[token] = installationId;
        return token;
    }

    /// <summary>The first queued fault for this request, removed; faults for other requests keep their place.</summary>
    public Fault? TakeFault(string method, string path, string body = "")
    {
        lock (faults)
        {
            var all = faults.ToArray();
            var match = Array.FindIndex(all, f =>
                string.Equals(f.Method, method, StringComparison.OrdinalIgnoreCase) &&
                path.EndsWith(f.PathSuffix, StringComparison.Ordinal) &&
                (f.BodyContains is null || body.Contains(f.BodyContains, StringComparison.Ordinal)));
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
